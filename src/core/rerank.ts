/**
 * Reranking beam candidates by re-encoding: a candidate that is faithful to the code z should encode
 * back to z. Each candidate x' is scored log p(x'|z) + weight · log q(z|x'), where q(·|x') is the
 * encoder's diagonal Gaussian posterior for x'. Pure arithmetic: the engine supplies the numbers.
 */

export interface RerankCandidate {
  /** Decoder log-likelihood of the candidate given z, in nats (the beam's summed score). */
  logp: number;
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
  return candidate.logp + weight * reencodeLogDensity(z, candidate.mu, candidate.logvar);
}

/** Index of the best candidate; ties keep the earlier one (the beam's own order). */
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
