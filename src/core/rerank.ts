/**
 * Reranking beam candidates by re-encoding: a candidate that is faithful to the code z should encode
 * back to z. Each candidate x' is scored by the beam's own score (its length-normalised
 * log p(x'|z)) + weight · log q(z|x'), where q(·|x') is the encoder's diagonal Gaussian posterior for
 * x'. Weight 0 is the plain beam's choice. Pure arithmetic: the engine supplies the numbers.
 */

/** The beam's score of a finished candidate: log p(x|z) over (tokens + 1)^0.7, so length is not penalised. */
export function lengthNormalised(logp: number, tokens: number): number {
  return logp / Math.pow(tokens + 1, 0.7);
}

export interface RerankCandidate {
  /** The beam's score of the candidate: lengthNormalised(log p(x'|z), tokens). */
  score: number;
  /** The candidate's re-encoding: posterior mean and log-variance. */
  mu: ArrayLike<number>;
  logvar: ArrayLike<number>;
}

/** log q(z|x') up to the constant −(d/2)·log 2π: how likely the code is under the candidate's posterior. */
export function reencodeLogDensity(z: ArrayLike<number>, mu: ArrayLike<number>, logvar: ArrayLike<number>): number {
  if (mu.length !== z.length || logvar.length !== z.length)
    throw new Error(`re-encoding has ${mu.length} dimensions; the code has ${z.length}`);
  let s = 0;
  for (let j = 0; j < z.length; j++) {
    const d = z[j] - mu[j];
    s -= 0.5 * (d * d * Math.exp(-logvar[j]) + logvar[j]);
  }
  return s;
}

export function rerankScore(candidate: RerankCandidate, z: ArrayLike<number>, weight: number): number {
  return candidate.score + weight * reencodeLogDensity(z, candidate.mu, candidate.logvar);
}

/** Index of the best candidate; ties keep the earlier one. */
export function pickReranked(candidates: readonly RerankCandidate[], z: ArrayLike<number>, weight: number): number {
  if (candidates.length === 0) throw new Error('no candidates to rerank');
  let best = 0;
  let bestScore = -Infinity;
  candidates.forEach((c, i) => {
    const s = rerankScore(c, z, weight);
    if (s > bestScore) [best, bestScore] = [i, s];
  });
  return best;
}
