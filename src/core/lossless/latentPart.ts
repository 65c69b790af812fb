/**
 * The latent part of a block: z quantised on a coarse grid and coded under the prior. Measured on
 * held-out python-docs chunks (docs/lossless.md): a step of 1.25 prior standard deviations minimises
 * z's cost plus the tokens' cost; finer grids cost more bits than they save.
 */
import type { ModelConfig } from '../types';
import { expNeg } from './detMath';
import { TOTAL } from './rangeCoder';

/** Grid step, in prior standard deviations (exact in binary). */
export const LATENT_STEP = 1.25;
/** Grid values run from -QMAX to QMAX (|z| <= 5). */
export const QMAX = 4;

/** Cumulative frequencies of a discretised N(0, 1) on the grid: 2*QMAX+2 entries, each value >= 1. */
export const Q_CUM: Int32Array = (() => {
  const n = 2 * QMAX + 1;
  // x * x, not x ** 2: exponentiation is only approximately specified in JavaScript.
  const p = Array.from({ length: n }, (_, i) => {
    const x = (i - QMAX) * LATENT_STEP;
    return expNeg(-0.5 * x * x);
  });
  const sum = p.reduce((a, b) => a + b, 0);
  const f = p.map((v) => 1 + Math.floor((v * (TOTAL - n)) / sum));
  f[QMAX] += TOTAL - f.reduce((a, b) => a + b, 0);
  const cum = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) cum[i + 1] = cum[i] + f[i];
  return cum;
})();

/** Where z is centred and how it is scaled: the prior for a VAE, the training codes' spread otherwise. */
export interface LatentFrame {
  mean: Float32Array;
  std: Float32Array;
}

export function latentFrame(config: ModelConfig, mean: Float32Array, std: Float32Array): LatentFrame {
  if (config.variant === 'vae') {
    return { mean: new Float32Array(config.latentDim), std: new Float32Array(config.latentDim).fill(1) };
  }
  return { mean, std: std.map((s) => Math.max(s, 1e-3)) };
}

/** Grid indices (offset by QMAX, so 0..2*QMAX) of a posterior mean. Encoder side only. */
export function quantiseLatent(mu: ArrayLike<number>, frame: LatentFrame): Int32Array {
  return Int32Array.from({ length: frame.mean.length }, (_, j) => {
    const q = Math.round((mu[j] - frame.mean[j]) / frame.std[j] / LATENT_STEP);
    return Math.max(-QMAX, Math.min(QMAX, Number.isFinite(q) ? q : 0)) + QMAX;
  });
}

/** z of grid indices, computed the same way on every machine. */
export function latentOf(q: Int32Array, frame: LatentFrame): Float64Array {
  return Float64Array.from(q, (k, j) => frame.mean[j] + frame.std[j] * ((k - QMAX) * LATENT_STEP));
}

/** Ideal cost in bits of coding `q` (for the encoder's choice). */
export function latentBits(q: Int32Array): number {
  let bits = 0;
  for (const k of q) bits += Math.log2(TOTAL / (Q_CUM[k + 1] - Q_CUM[k]));
  return bits;
}

/** Cost in bits of grid index k of one dimension. */
function indexBits(k: number): number {
  return Math.log2(TOTAL / (Q_CUM[k + 1] - Q_CUM[k]));
}

/**
 * Grid points near `q` worth trying, by a first-order guess of how each changes bits(z) + bits(x|z):
 * `gradient` is d(−log₂ p(x|z))/dz at q's z. The `count` single-step moves guessed best, then all
 * moves guessed to gain taken together (one per dimension), where that is more than one. Moves stay
 * on the grid; a move guessed to lose is still proposed among the best `count` (the guess is rough).
 */
export function proposeGridMoves(
  q: Int32Array,
  gradient: ArrayLike<number>,
  frame: LatentFrame,
  count: number,
): Int32Array[] {
  const moves: { gain: number; dim: number; step: number }[] = [];
  for (let j = 0; j < q.length; j++)
    for (const step of [-1, 1]) {
      const k = q[j] + step;
      if (k < 0 || k > 2 * QMAX) continue;
      const change = gradient[j] * step * LATENT_STEP * frame.std[j] + indexBits(k) - indexBits(q[j]);
      moves.push({ gain: -change, dim: j, step });
    }
  moves.sort((a, b) => b.gain - a.gain || a.dim - b.dim || a.step - b.step);
  const out = moves.slice(0, count).map(({ dim, step }) => {
    const c = Int32Array.from(q);
    c[dim] += step;
    return c;
  });
  const together = Int32Array.from(q);
  const moved = new Set<number>();
  for (const { gain, dim, step } of moves)
    if (gain > 0 && !moved.has(dim)) {
      moved.add(dim);
      together[dim] += step;
    }
  if (moved.size > 1) out.push(together);
  return out;
}
