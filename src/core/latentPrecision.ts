/**
 * Latent code scheme 2 ("precision"): each dimension is quantised with its own step, which follows
 * how precisely the encoder pins that dimension down (the mean posterior std over training examples,
 * times a factor), and the grid indices are range-coded under a discretised Gaussian model of the
 * aggregate posterior (the spread of posterior means over training examples). A code's length is
 * then about the information it carries: a dimension the encoder leaves at the prior costs ~0 bits,
 * a sharp one costs log2(spread / step) + 2 bits or so.
 *
 * Every probability is computed with + − × ÷ and expNeg only (detMath.ts), so the tables are the
 * same bits on every machine and a code made on one decodes on another. Pure: runs in a webview.
 */
import { expNeg } from './lossless/detMath';
import { RangeDecoder, RangeDecoderError, RangeEncoder, TOTAL } from './lossless/rangeCoder';

/** The grid reaches this many aggregate standard deviations either side; beyond it an escape codes the rest. */
const TAIL = 5;
/** Largest grid half-width (so every symbol keeps a frequency of at least 1 of TOTAL). */
const KMAX = 4096;
/** Frequency of each of the two escape symbols (2^-12: an outlier costs ~12 bits plus its excess). */
const ESCAPE_FREQ = 16;
/** Escaped excess beyond the grid is coded in Elias gamma with at most this many bits. */
const MAX_EXCESS_BITS = 24;

/**
 * erfc(x) for x >= 0, absolute error below 1.5e-7 (Abramowitz & Stegun 7.1.26), with expNeg, so
 * the same bits everywhere. Accurate enough here: frequencies are integers out of 2^16.
 */
function erfcPos(x: number): number {
  const t = 1 / (1 + 0.3275911 * x);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return poly * expNeg(-x * x);
}

/** Cumulative frequencies of one dimension: [escape-low, k = -K..K, escape-high]. */
interface Table {
  K: number;
  cum: Int32Array;
}

function buildTable(ratio: number): Table {
  // ratio = aggregate std / step: the spread in grid steps.
  const K = Math.max(1, Math.min(KMAX, Math.ceil(TAIL * ratio)));
  const n = 2 * K + 1;
  // Mass of bin k under N(0, ratio^2), by symmetry from k >= 0: Phi((k+1/2)/r) - Phi((k-1/2)/r).
  const half = new Float64Array(K + 1);
  const scale = 1 / (ratio * Math.SQRT2);
  for (let k = 0; k <= K; k++) {
    const hi = erfcPos((k + 0.5) * scale);
    half[k] = k === 0 ? 1 - hi : Math.max(0, 0.5 * (erfcPos((k - 0.5) * scale) - hi));
  }
  let sum = 0;
  for (let j = 0; j < n; j++) sum += half[Math.abs(j - K)];
  const avail = TOTAL - 2 * ESCAPE_FREQ - n;
  const f = new Int32Array(n + 2);
  f[0] = ESCAPE_FREQ;
  f[n + 1] = ESCAPE_FREQ;
  let used = 2 * ESCAPE_FREQ;
  for (let j = 0; j < n; j++) {
    f[j + 1] = 1 + Math.floor((half[Math.abs(j - K)] * avail) / sum);
    used += f[j + 1];
  }
  f[K + 1] += TOTAL - used;
  const cum = new Int32Array(n + 3);
  for (let j = 0; j < n + 2; j++) cum[j + 1] = cum[j] + f[j];
  return { K, cum };
}

/** Thrown for bytes that are no scheme-2 code of this model (latentCode.ts reports it as corrupt). */
export class PrecisionCodeError extends Error {}

/**
 * Quantiser and entropy coder of standardised latent vectors u = (z - latent.mean) / latent.std,
 * whose aggregate distribution the coder models as N(0, 1) in every dimension. `steps[i]` is
 * dimension i's quantisation step in those units (latent.step / latent.std).
 */
export class LatentQuantiser {
  readonly dims: number;
  private readonly step: Float64Array;
  private readonly tables: (Table | undefined)[];

  constructor(steps: ArrayLike<number>) {
    this.dims = steps.length;
    if (this.dims < 1) throw new Error('a latent quantiser needs at least one dimension');
    this.step = Float64Array.from(steps);
    this.step.forEach((s, i) => {
      if (!(s > 0) || !Number.isFinite(s)) throw new Error(`quantisation step ${i} is ${s}; steps must be positive`);
    });
    this.tables = new Array(this.dims);
  }

  private table(i: number): Table {
    return (this.tables[i] ??= buildTable(1 / this.step[i]));
  }

  /** Grid indices of a standardised latent vector: round(u / step). */
  indices(z: ArrayLike<number>): Int32Array {
    if (z.length !== this.dims) throw new RangeError(`latent vector has ${z.length} dimensions; expected ${this.dims}`);
    const limit = KMAX + 2 ** MAX_EXCESS_BITS - 2;
    return Int32Array.from({ length: this.dims }, (_, i) => {
      const v = Number(z[i]);
      if (!Number.isFinite(v)) throw new RangeError(`dimension ${i} is ${v}; only finite numbers can be encoded`);
      return Math.max(-limit, Math.min(limit, Math.round(v / this.step[i])));
    });
  }

  /** The standardised latent vector a code stands for: k * step. */
  values(k: Int32Array): Float32Array {
    return Float32Array.from(k, (q, i) => q * this.step[i]);
  }

  /** Range-coded indices. */
  encode(k: Int32Array): Uint8Array {
    const enc = new RangeEncoder();
    for (let i = 0; i < this.dims; i++) {
      const { K, cum } = this.table(i);
      const q = k[i];
      if (Math.abs(q) <= K) {
        const j = q + K + 1;
        enc.encode(cum[j], cum[j + 1] - cum[j]);
        continue;
      }
      const j = q < 0 ? 0 : 2 * K + 2;
      enc.encode(cum[j], cum[j + 1] - cum[j]);
      // Elias gamma of excess + 1 in fair bits: L ones, a zero, then the L low bits.
      const e = Math.abs(q) - K;
      let L = 0;
      while (2 ** (L + 1) <= e) L++;
      for (let b = 0; b < L; b++) enc.encode(TOTAL / 2, TOTAL / 2);
      enc.encode(0, TOTAL / 2);
      for (let b = L - 1; b >= 0; b--) enc.encode(Math.floor(e / 2 ** b) % 2 ? TOTAL / 2 : 0, TOTAL / 2);
    }
    return enc.finish();
  }

  /** Inverse of encode. Throws PrecisionCodeError for bytes that encode would never write. */
  decode(bytes: Uint8Array): Int32Array {
    try {
      return this.decodeOrThrow(bytes);
    } catch (err) {
      if (err instanceof RangeDecoderError) throw new PrecisionCodeError(err.message);
      throw err;
    }
  }

  private decodeOrThrow(bytes: Uint8Array): Int32Array {
    const dec = new RangeDecoder(bytes);
    const bit = (): number => {
      const b = dec.target() >= TOTAL / 2 ? 1 : 0;
      dec.consume(b * (TOTAL / 2), TOTAL / 2);
      return b;
    };
    const k = new Int32Array(this.dims);
    for (let i = 0; i < this.dims; i++) {
      const { K, cum } = this.table(i);
      const t = dec.target();
      let lo = 0,
        hi = cum.length - 2;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (cum[mid] <= t) lo = mid;
        else hi = mid - 1;
      }
      dec.consume(cum[lo], cum[lo + 1] - cum[lo]);
      if (lo !== 0 && lo !== 2 * K + 2) {
        k[i] = lo - K - 1;
        continue;
      }
      let L = 0;
      while (bit() === 1) if (++L > MAX_EXCESS_BITS) throw new PrecisionCodeError('escape too long');
      let e = 1;
      for (let b = 0; b < L; b++) e = e * 2 + bit();
      k[i] = (lo === 0 ? -1 : 1) * (K + e);
    }
    // Only the exact bytes encode writes are a code: anything else was damaged on the way.
    const again = this.encode(k);
    if (again.length !== bytes.length || again.some((b, i) => b !== bytes[i])) {
      throw new PrecisionCodeError('bytes are not the coding of any latent vector');
    }
    return k;
  }

  /** Ideal length in bits of coding `k` (without the range coder's final bytes). */
  bits(k: Int32Array): number {
    let total = 0;
    for (let i = 0; i < this.dims; i++) {
      const { K, cum } = this.table(i);
      const q = k[i];
      const j = Math.abs(q) <= K ? q + K + 1 : q < 0 ? 0 : 2 * K + 2;
      total += Math.log2(TOTAL / (cum[j + 1] - cum[j]));
      if (Math.abs(q) > K) total += 2 * Math.floor(Math.log2(Math.abs(q) - K) + 1e-9) + 1;
    }
    return total;
  }
}
