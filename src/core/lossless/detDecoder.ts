/**
 * The VAE's decoder as a language model whose probabilities are the same, bit for bit, on every
 * backend and machine (tfjs kernels differ in their last bits between backends). It mirrors
 * TextVaeModel.stepInternal: embeddings + positions, causal dilated convolutions biased by z, RMS
 * norms, tied softmax. Each sequence has its own z: the prior's centre, or a quantised code.
 *
 * Matrix products are integer products: weights are quantised per output column once, activations
 * per row at each step, to at most `levels(K)` steps either side of 0, so that every partial sum
 * of a K-long product is an integer below 2^24. A float32 matmul (any backend, any summation order,
 * fused or not) then gives the exact result, as does the plain JavaScript one: IntMatMul may be
 * either. Everything else is JavaScript doubles in a fixed order (only + − × ÷ and sqrt).
 *
 * Several blocks advance in lockstep: one pass over each weight matrix serves every block.
 */
import type { ModelConfig, NamedWeights } from '../types';
import { FIRST_BYTE_ID } from '../tokenizer';
import { expNeg } from './detMath';
import { TOTAL } from './rangeCoder';

const EPS = 1e-5;

/** Exact integer matrix products: a [n, k] × w [k, m], every value an integer, |partial sums| < 2^24. */
export interface IntMatMul {
  /** Registers an integer-valued weight matrix [k, m] (row-major) once; returns its handle. */
  prepare(w: Float32Array, k: number, m: number): unknown;
  multiply(a: Float32Array, n: number, w: unknown): Float32Array;
  /** Frees a prepared matrix. */
  release?(w: unknown): void;
}

/** Plain JavaScript products (sums of integers in doubles: exact). */
export const JS_INT_MATMUL: IntMatMul = {
  // Float32Array.from below: the sums are integers below 2^24, exact in float32 too.
  prepare: (w, k, m) => ({ w, k, m }),
  multiply(a, n, handle) {
    const { w, k, m } = handle as { w: Float32Array; k: number; m: number };
    const out = new Float64Array(n * m);
    for (let q = 0; q < k; q++) {
      const wo = q * m;
      for (let b = 0; b < n; b++) {
        const x = a[b * k + q];
        if (x === 0) continue;
        const o = b * m;
        for (let j = 0; j < m; j++) out[o + j] += x * w[wo + j];
      }
    }
    return Float32Array.from(out);
  },
};

/** Largest integer magnitude for both operands of a k-long product whose sums stay below 2^24. */
export function levels(k: number): number {
  return Math.floor(Math.sqrt((2 ** 24 - 1) / k));
}

/** Per-column quantisation of w [k, m]: integers q and scales with w ≈ q * scale. */
function quantiseColumns(
  w: ArrayLike<number>,
  k: number,
  m: number,
  top: number,
): { q: Float32Array; scale: Float64Array } {
  const scale = new Float64Array(m);
  for (let i = 0; i < k; i++) for (let j = 0; j < m; j++) scale[j] = Math.max(scale[j], Math.abs(w[i * m + j]));
  for (let j = 0; j < m; j++) scale[j] = scale[j] > 0 ? scale[j] / top : 1;
  const q = new Float32Array(k * m);
  for (let i = 0; i < k; i++) for (let j = 0; j < m; j++) q[i * m + j] = Math.round(w[i * m + j] / scale[j]);
  return { q, scale };
}

/** Quantises x[off..off+len) to integers in out (same offset scheme); returns the scale (0 for a zero row). */
function quantiseRow(
  x: Float64Array,
  off: number,
  len: number,
  top: number,
  out: Float32Array,
  outOff: number,
): number {
  let max = 0;
  for (let j = 0; j < len; j++) max = Math.max(max, Math.abs(x[off + j]));
  const scale = max / top;
  for (let j = 0; j < len; j++) out[outOff + j] = scale > 0 ? Math.round(x[off + j] / scale) : 0;
  return scale;
}

interface Layer {
  dilation: number;
  w: unknown; // integer [K*D, D], prepared by the IntMatMul
  wScale: Float64Array; // [D]
  b: Float32Array; // [D]
  norm: Float32Array; // [D]
  ring: number; // history slots kept: (K-1)*dilation + 1
}

export class DeterministicDecoder {
  readonly symbols: number;
  readonly maxTokens: number;
  readonly D: number;
  readonly K: number;
  readonly V: number;
  readonly layers: Layer[];
  readonly embed: Float32Array;
  /** The tied output embedding, transposed to [D, symbols], integer, prepared by the IntMatMul. */
  readonly out: unknown;
  readonly outScale: Float64Array;
  readonly position: Float32Array;
  readonly outNorm: Float32Array;
  readonly outB: Float32Array;

  private readonly zw: Float32Array;
  private readonly zbias: Float32Array;
  /** z's bias at the prior's centre: [layers * D]. */
  private readonly priorBias: Float64Array;

  constructor(
    readonly config: ModelConfig,
    weights: NamedWeights,
    readonly matmul: IntMatMul = JS_INT_MATMUL,
  ) {
    const get = (name: string): Float32Array => {
      const w = weights[name];
      if (!w) throw new Error(`lossless coder: missing weight ${name}`);
      return w.data;
    };
    this.D = config.modelDim;
    this.K = config.kernelSize;
    this.V = config.vocabSize;
    this.maxTokens = config.maxTokens;
    this.symbols = this.V - FIRST_BYTE_ID;
    this.embed = get('embed');
    this.position = get('position');
    this.outNorm = get('out.norm');
    this.outB = get('out.b');
    this.zw = get('dec.z.w');
    this.zbias = get('dec.z.b');
    this.priorBias = this.zBias(priorCentre(config, get('latent.mean')));
    const KD = this.K * this.D;
    const convLevels = levels(KD);
    this.layers = config.decoderDilations.map((dilation, i) => {
      const { q, scale } = quantiseColumns(get(`dec.${i}.w`), KD, this.D, convLevels);
      return {
        dilation,
        w: matmul.prepare(q, KD, this.D),
        wScale: scale,
        b: get(`dec.${i}.b`),
        norm: get(`dec.${i}.norm`),
        ring: (this.K - 1) * dilation + 1,
      };
    });
    const S = this.symbols;
    const D = this.D;
    const transposed = new Float32Array(D * S);
    for (let s = 0; s < S; s++)
      for (let j = 0; j < D; j++) transposed[j * S + s] = this.embed[(s + FIRST_BYTE_ID) * D + j];
    const out = quantiseColumns(transposed, D, S, levels(D));
    this.out = matmul.prepare(out.q, D, S);
    this.outScale = out.scale;
  }

  dispose(): void {
    for (const l of this.layers) this.matmul.release?.(l.w);
    this.matmul.release?.(this.out);
  }

  /** State for sequences decoded together, one per z (null: the prior's centre). */
  batch(zs: (Float64Array | null)[]): Lockstep {
    return new Lockstep(
      this,
      zs.map((z) => (z ? this.zBias(z) : this.priorBias)),
    );
  }

  /** z·W + b for every layer, [layers * D], in a fixed order. */
  zBias(z: ArrayLike<number>): Float64Array {
    const n = this.zbias.length;
    const out = Float64Array.from(this.zbias);
    for (let j = 0; j < this.config.latentDim; j++) {
      const zj = z[j];
      if (zj === 0) continue;
      for (let c = 0; c < n; c++) out[c] += zj * this.zw[j * n + c];
    }
    return out;
  }
}

/** The prior's centre: 0 for a VAE (prior N(0, I)); the training codes' mean for 'ae' and 'sparse'. */
function priorCentre(config: ModelConfig, mean: Float32Array): Float64Array {
  if (config.variant === 'vae') return new Float64Array(config.latentDim);
  return Float64Array.from(mean, (v) => (config.variant === 'sparse' ? Math.max(0, v) : v));
}

/** Squared-mean normalisation times a gain, in place: x * gain / sqrt(mean(x^2) + eps). */
function rmsNorm(x: Float64Array, off: number, D: number, gain: Float32Array, out: Float64Array, outOff: number): void {
  let ss = 0;
  for (let j = 0; j < D; j++) ss += x[off + j] * x[off + j];
  const inv = 1 / Math.sqrt(ss / D + EPS);
  for (let j = 0; j < D; j++) out[outOff + j] = x[off + j] * inv * gain[j];
}

export class Lockstep {
  /** Per active row, cumulative frequencies over symbols (token id - FIRST_BYTE_ID): S+1 entries. */
  readonly cum: Int32Array;
  readonly blocks: number;
  private t = 0;
  private readonly rings: Float64Array[];
  private readonly h: Float64Array;
  private readonly taps: Float32Array;
  private readonly tmp: Float64Array;
  private readonly rowScale: Float64Array;
  private readonly logits: Float64Array;

  constructor(
    private readonly m: DeterministicDecoder,
    private readonly zb: Float64Array[],
  ) {
    const blocks = (this.blocks = zb.length);
    const { D, K, symbols } = m;
    this.rings = m.layers.map((l) => new Float64Array(blocks * l.ring * D));
    this.h = new Float64Array(blocks * D);
    this.taps = new Float32Array(blocks * K * D);
    this.tmp = new Float64Array(blocks * D);
    this.rowScale = new Float64Array(blocks);
    this.logits = new Float64Array(symbols);
    this.cum = new Int32Array(blocks * (symbols + 1));
  }

  get step(): number {
    return this.t;
  }

  /**
   * Feeds the input token of rows 0..n-1 (BOS at step 0, then the previous token) and fills `cum`
   * with each row's distribution of the next token. Rows at or past n are left behind for good.
   */
  next(tokens: Int32Array, n: number): void {
    const m = this.m;
    const { D, K } = m;
    const t = this.t++;
    if (t >= m.maxTokens) throw new Error('lossless coder: block longer than the model allows');
    const h = this.h;
    const pos = t * D;
    for (let b = 0; b < n; b++) {
      const e = tokens[b] * D;
      for (let j = 0; j < D; j++) h[b * D + j] = m.embed[e + j] + m.position[pos + j];
    }
    const KD = K * D;
    const top = levels(KD);
    const { taps, tmp, rowScale } = this;
    m.layers.forEach((layer, li) => {
      const ring = this.rings[li];
      const R = layer.ring;
      // Remember this layer's input, then gather taps t, t-d, t-2d ... (zeros before the start).
      for (let b = 0; b < n; b++) {
        const slot = (b * R + (t % R)) * D;
        for (let j = 0; j < D; j++) ring[slot + j] = h[b * D + j];
      }
      for (let b = 0; b < n; b++) {
        // One scale for the row's taps: the largest magnitude among them.
        let max = 0;
        for (let k = 0; k < K && t - k * layer.dilation >= 0; k++) {
          const src = (b * R + ((t - k * layer.dilation) % R)) * D;
          for (let j = 0; j < D; j++) max = Math.max(max, Math.abs(ring[src + j]));
        }
        const scale = max / top;
        rowScale[b] = scale;
        for (let k = 0; k < K; k++) {
          const dst = b * KD + k * D;
          if (t - k * layer.dilation < 0 || scale === 0) {
            taps.fill(0, dst, dst + D);
            continue;
          }
          const src = (b * R + ((t - k * layer.dilation) % R)) * D;
          for (let j = 0; j < D; j++) taps[dst + j] = Math.round(ring[src + j] / scale);
        }
      }
      const prod = m.matmul.multiply(taps.subarray(0, n * KD), n, layer.w);
      const zo = li * D;
      for (let b = 0; b < n; b++) {
        const zb = this.zb[b];
        const s = rowScale[b];
        for (let j = 0; j < D; j++) {
          const u = prod[b * D + j] * s * layer.wScale[j] + layer.b[j] + zb[zo + j];
          tmp[b * D + j] = h[b * D + j] + (u > 0 ? u : 0);
        }
        rmsNorm(tmp, b * D, D, layer.norm, h, b * D);
      }
    });
    const outTop = levels(D);
    for (let b = 0; b < n; b++) {
      rmsNorm(h, b * D, D, m.outNorm, tmp, b * D);
      rowScale[b] = quantiseRow(tmp, b * D, D, outTop, taps, b * D);
    }
    const prod = m.matmul.multiply(taps.subarray(0, n * D), n, m.out);
    for (let b = 0; b < n; b++) this.distribution(prod, b, rowScale[b]);
  }

  /** Tied softmax over the non-special tokens, quantised to integer frequencies (each >= 1) summing to TOTAL. */
  private distribution(prod: Float32Array, row: number, scale: number): void {
    const m = this.m;
    const { symbols } = m;
    const logits = this.logits;
    let max = -Infinity;
    let best = 0;
    const off = row * symbols;
    for (let s = 0; s < symbols; s++) {
      const l = prod[off + s] * scale * m.outScale[s] + m.outB[s + FIRST_BYTE_ID];
      logits[s] = l;
      if (l > max) {
        max = l;
        best = s;
      }
    }
    let sum = 0;
    for (let s = 0; s < symbols; s++) {
      const p = expNeg(logits[s] - max);
      logits[s] = p;
      sum += p;
    }
    const perMass = (TOTAL - symbols) / sum;
    const cum = this.cum;
    const base = row * (symbols + 1);
    let total = 0;
    for (let s = 0; s < symbols; s++) total += 1 + Math.floor(logits[s] * perMass);
    // Rounding leaves a few counts over (or, at worst, under): the likeliest token absorbs them.
    const extra = TOTAL - total;
    cum[base] = 0;
    for (let s = 0; s < symbols; s++) {
      const f = 1 + Math.floor(logits[s] * perMass) + (s === best ? extra : 0);
      cum[base + s + 1] = cum[base + s] + f;
    }
  }
}
