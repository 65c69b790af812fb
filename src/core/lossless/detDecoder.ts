/**
 * The VAE's decoder as a language model whose probabilities are the same, bit for bit, on every
 * backend and machine (tfjs kernels differ in their last bits between backends). It mirrors
 * TextVaeModel.stepInternal: embeddings + positions, causal dilated convolutions biased by z (and,
 * with memorySlots, by each layer's attention read-out of z's memory slots), RMS norms, tied
 * softmax. Each sequence has its own z: the prior's centre, or a quantised code.
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

/** An integer weight matrix prepared by the IntMatMul, with its per-column scales. */
interface QuantisedMatrix {
  w: unknown;
  scale: Float64Array;
}

interface Layer {
  dilation: number;
  w: unknown; // integer [K*D, D], prepared by the IntMatMul
  wScale: Float64Array; // [D]
  b: Float32Array; // [D]
  norm: Float32Array; // [D]
  ring: number; // history slots kept: (K-1)*dilation + 1
  /** Memory key and value projections [D, D] (models with memorySlots). */
  mk?: QuantisedMatrix;
  mv?: QuantisedMatrix;
}

/** What one sequence's z gives the decoder, computed once: z's biases and, with memory, each layer's keys and values. */
export interface Conditioning {
  /** z·W + b for every layer: [layers * D]. */
  zb: Float64Array;
  /** Per layer, [memorySlots * D]; empty without memory. */
  keys: Float64Array[];
  values: Float64Array[];
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
  private readonly memW?: Float32Array;
  private readonly memB?: Float32Array;
  private readonly priorZ: Float64Array;
  /** The conditioning of the prior's centre, made on first use. */
  private prior?: Conditioning;

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
    this.priorZ = priorCentre(config, get('latent.mean'));
    const KD = this.K * this.D;
    const convLevels = levels(KD);
    const D = this.D;
    // Memory projections are products of D-long rows, quantised like the convolutions.
    const square = (name: string): QuantisedMatrix => {
      const { q, scale } = quantiseColumns(get(name), D, D, levels(D));
      return { w: matmul.prepare(q, D, D), scale };
    };
    if (config.memorySlots) {
      this.memW = get('dec.mem.w');
      this.memB = get('dec.mem.b');
    }
    this.layers = config.decoderDilations.map((dilation, i) => {
      const { q, scale } = quantiseColumns(get(`dec.${i}.w`), KD, D, convLevels);
      return {
        dilation,
        w: matmul.prepare(q, KD, D),
        wScale: scale,
        b: get(`dec.${i}.b`),
        norm: get(`dec.${i}.norm`),
        ring: (this.K - 1) * dilation + 1,
        ...(config.memorySlots ? { mk: square(`dec.${i}.mk`), mv: square(`dec.${i}.mv`) } : {}),
      };
    });
    const S = this.symbols;
    const transposed = new Float32Array(D * S);
    for (let s = 0; s < S; s++)
      for (let j = 0; j < D; j++) transposed[j * S + s] = this.embed[(s + FIRST_BYTE_ID) * D + j];
    const out = quantiseColumns(transposed, D, S, levels(D));
    this.out = matmul.prepare(out.q, D, S);
    this.outScale = out.scale;
  }

  dispose(): void {
    for (const l of this.layers) for (const w of [l.w, l.mk?.w, l.mv?.w]) if (w !== undefined) this.matmul.release?.(w);
    this.matmul.release?.(this.out);
  }

  /** State for sequences decoded together, one per z (null: the prior's centre). */
  batch(zs: (Float64Array | null)[]): Lockstep {
    const given = zs.filter((z): z is Float64Array => z !== null);
    const made = this.conditioning(given);
    if (given.length < zs.length) this.prior ??= this.conditioning([this.priorZ])[0];
    let next = 0;
    return new Lockstep(
      this,
      zs.map((z) => (z ? made[next++] : this.prior!)),
    );
  }

  /** The conditioning of each z; the memory's products for all of them together. */
  conditioning(zs: ArrayLike<number>[]): Conditioning[] {
    const out = zs.map((z) => ({
      zb: affine(z, this.zw, this.zbias),
      keys: [] as Float64Array[],
      values: [] as Float64Array[],
    }));
    const M = this.config.memorySlots;
    if (!M || !this.memW || !this.memB || zs.length === 0) return out;
    const D = this.D;
    const rows = zs.length * M;
    // z's slots [rows, D], each row quantised on its own, as the convolutions' taps are.
    const slots = new Float64Array(rows * D);
    zs.forEach((z, r) => slots.set(affine(z, this.memW!, this.memB!), r * M * D));
    const q = new Float32Array(rows * D);
    const rowScale = new Float64Array(rows);
    for (let r = 0; r < rows; r++) rowScale[r] = quantiseRow(slots, r * D, D, levels(D), q, r * D);
    const project = (p: QuantisedMatrix, into: (c: Conditioning) => Float64Array[]) => {
      const prod = this.matmul.multiply(q, rows, p.w);
      out.forEach((c, r) => {
        const kv = new Float64Array(M * D);
        for (let s = 0; s < M; s++) {
          const row = r * M + s;
          for (let j = 0; j < D; j++) kv[s * D + j] = prod[row * D + j] * rowScale[row] * p.scale[j];
        }
        into(c).push(kv);
      });
    };
    for (const layer of this.layers) {
      project(layer.mk!, (c) => c.keys);
      project(layer.mv!, (c) => c.values);
    }
    return out;
  }
}

/** b + z·W for W [z.length, b.length], in a fixed order. */
function affine(z: ArrayLike<number>, w: Float32Array, b: Float32Array): Float64Array {
  const n = b.length;
  const out = Float64Array.from(b);
  for (let j = 0; j < z.length; j++) {
    const zj = z[j];
    if (zj === 0) continue;
    for (let c = 0; c < n; c++) out[c] += zj * w[j * n + c];
  }
  return out;
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
  /** Memory read-out of one row [D], and its attention weights [memorySlots]. */
  private readonly read: Float64Array;
  private readonly attention: Float64Array;

  constructor(
    private readonly m: DeterministicDecoder,
    private readonly cond: Conditioning[],
  ) {
    const blocks = (this.blocks = cond.length);
    const { D, K, symbols } = m;
    this.rings = m.layers.map((l) => new Float64Array(blocks * l.ring * D));
    this.h = new Float64Array(blocks * D);
    this.taps = new Float32Array(blocks * K * D);
    this.tmp = new Float64Array(blocks * D);
    this.rowScale = new Float64Array(blocks);
    this.logits = new Float64Array(symbols);
    this.cum = new Int32Array(blocks * (symbols + 1));
    this.read = new Float64Array(D);
    this.attention = new Float64Array(m.config.memorySlots ?? 0);
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
      const read = this.read;
      for (let b = 0; b < n; b++) {
        const cond = this.cond[b];
        const zb = cond.zb;
        const s = rowScale[b];
        if (cond.keys.length) this.readMemory(h, b * D, cond.keys[li], cond.values[li]);
        for (let j = 0; j < D; j++) {
          const bias = cond.keys.length ? zb[zo + j] + read[j] : zb[zo + j];
          const u = prod[b * D + j] * s * layer.wScale[j] + layer.b[j] + bias;
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

  /**
   * readMemory() of the model for the layer input h[off..off+D): softmax over the slots of
   * h·key/√D, then the weighted sum of the values, into this.read. Doubles in a fixed order.
   */
  private readMemory(h: Float64Array, off: number, keys: Float64Array, values: Float64Array): void {
    const { D } = this.m;
    const w = this.attention;
    const M = w.length;
    const inv = 1 / Math.sqrt(D);
    let max = -Infinity;
    for (let s = 0; s < M; s++) {
      let dot = 0;
      for (let j = 0; j < D; j++) dot += h[off + j] * keys[s * D + j];
      w[s] = dot * inv;
      if (w[s] > max) max = w[s];
    }
    let sum = 0;
    for (let s = 0; s < M; s++) sum += w[s] = expNeg(w[s] - max);
    const read = this.read;
    read.fill(0);
    for (let s = 0; s < M; s++) {
      const ws = w[s] / sum;
      for (let j = 0; j < D; j++) read[j] += ws * values[s * D + j];
    }
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
