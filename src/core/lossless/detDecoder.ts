/**
 * The VAE's decoder as a language model, computed in plain JavaScript doubles with one fixed order of
 * operations, so that the coder sees the same probabilities, bit for bit, on every backend and every
 * machine (tfjs kernels differ in their last bits between backends). It mirrors
 * TextVaeModel.stepInternal: embeddings + positions, causal dilated convolutions biased by z, RMS
 * norms, tied softmax. Each sequence has its own z: the prior's centre, or a quantised code.
 *
 * Several blocks advance in lockstep: one pass over each weight matrix serves every block.
 */
import type { ModelConfig, NamedWeights } from '../types';
import { FIRST_BYTE_ID } from '../tokenizer';
import { expNeg } from './detMath';
import { TOTAL } from './rangeCoder';

const EPS = 1e-5;

interface Layer {
  dilation: number;
  w: Float32Array; // [K*D, D]
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
    this.layers = config.decoderDilations.map((dilation, i) => ({
      dilation,
      w: get(`dec.${i}.w`),
      b: get(`dec.${i}.b`),
      norm: get(`dec.${i}.norm`),
      ring: (this.K - 1) * dilation + 1,
    }));
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
  private t = 0;
  private readonly rings: Float64Array[];
  private readonly h: Float64Array;
  private readonly taps: Float64Array;
  private readonly acc: Float64Array;
  private readonly logits: Float64Array;

  readonly blocks: number;

  constructor(
    private readonly m: DeterministicDecoder,
    private readonly zb: Float64Array[],
  ) {
    const blocks = (this.blocks = zb.length);
    const { D, K, symbols } = m;
    this.rings = m.layers.map((l) => new Float64Array(blocks * l.ring * D));
    this.h = new Float64Array(blocks * D);
    this.taps = new Float64Array(blocks * K * D);
    this.acc = new Float64Array(blocks * D);
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
    const taps = this.taps;
    const acc = this.acc;
    m.layers.forEach((layer, li) => {
      const ring = this.rings[li];
      const R = layer.ring;
      // Remember this layer's input, then gather taps t, t-d, t-2d ... (zeros before the start).
      for (let b = 0; b < n; b++) {
        const slot = (b * R + (t % R)) * D;
        for (let j = 0; j < D; j++) ring[slot + j] = h[b * D + j];
      }
      let live = 0; // taps 0..live-1 exist
      for (let k = 0; k < K && t - k * layer.dilation >= 0; k++) live = k + 1;
      for (let b = 0; b < n; b++) {
        for (let k = 0; k < live; k++) {
          const src = (b * R + ((t - k * layer.dilation) % R)) * D;
          const dst = b * KD + k * D;
          for (let j = 0; j < D; j++) taps[dst + j] = ring[src + j];
        }
      }
      acc.fill(0, 0, n * D);
      const w = layer.w;
      const rows = live * D;
      for (let q = 0; q < rows; q++) {
        const wo = q * D;
        for (let b = 0; b < n; b++) {
          const a = taps[b * KD + q];
          if (a === 0) continue;
          const ao = b * D;
          for (let j = 0; j < D; j++) acc[ao + j] += a * w[wo + j];
        }
      }
      const zo = li * D;
      for (let b = 0; b < n; b++) {
        const zb = this.zb[b];
        for (let j = 0; j < D; j++) {
          const u = acc[b * D + j] + layer.b[j] + zb[zo + j];
          acc[b * D + j] = h[b * D + j] + (u > 0 ? u : 0);
        }
        rmsNorm(acc, b * D, D, layer.norm, h, b * D);
      }
    });
    for (let b = 0; b < n; b++) rmsNorm(h, b * D, D, m.outNorm, acc, b * D);
    for (let b = 0; b < n; b++) this.distribution(acc, b * D, b);
  }

  /** Tied softmax over the non-special tokens, quantised to integer frequencies (each >= 1) summing to TOTAL. */
  private distribution(x: Float64Array, off: number, row: number): void {
    const m = this.m;
    const { D, symbols } = m;
    const logits = this.logits;
    let max = -Infinity;
    let best = 0;
    for (let s = 0; s < symbols; s++) {
      const e = (s + FIRST_BYTE_ID) * D;
      let d0 = 0,
        d1 = 0,
        d2 = 0,
        d3 = 0;
      let j = 0;
      for (; j + 3 < D; j += 4) {
        d0 += x[off + j] * m.embed[e + j];
        d1 += x[off + j + 1] * m.embed[e + j + 1];
        d2 += x[off + j + 2] * m.embed[e + j + 2];
        d3 += x[off + j + 3] * m.embed[e + j + 3];
      }
      for (; j < D; j++) d0 += x[off + j] * m.embed[e + j];
      const l = d0 + d1 + (d2 + d3) + m.outB[s + FIRST_BYTE_ID];
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
    const scale = (TOTAL - symbols) / sum;
    const cum = this.cum;
    const base = row * (symbols + 1);
    let total = 0;
    for (let s = 0; s < symbols; s++) total += 1 + Math.floor(logits[s] * scale);
    // Rounding leaves a few counts over (or, at worst, under): the likeliest token absorbs them.
    const extra = TOTAL - total;
    cum[base] = 0;
    for (let s = 0; s < symbols; s++) {
      const f = 1 + Math.floor(logits[s] * scale) + (s === best ? extra : 0);
      cum[base + s + 1] = cum[base + s] + f;
    }
  }
}
