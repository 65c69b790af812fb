/**
 * The text VAE, written against tfjs-core ops only so it runs on every backend.
 *
 * Encoder: token embeddings (+ positions, if configured) -> residual non-causal convolutions
 * (dilated, if configured) -> masked mean+max pool, or attention pooling by learned queries -> (mu, logvar).
 * Decoder: token embeddings + positions -> residual causal dilated convolutions, each layer biased
 * by a projection of z (so z conditions every layer, not only the first step) and, if configured,
 * attending to z projected into memory slots (so each position can read the part of z it needs) -> tied softmax.
 *
 * Convolutions are written as "taps side by side, one matmul" (tapsConv in ops.ts): tfjs has no
 * gradient for dilated conv2d, and a single [N, K*D] x [K*D, D] matmul is the fastest op on the wasm backend.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ModelConfig, NamedWeights } from './types';
import { Random } from './random';
import { matMul, matMulTransposed, relu, rmsNorm, tapsConv, tiedTargetLogProbs, type TiedOutput } from './ops';
import { BOS, EOS, MASK, PAD } from './tokenizer';

export const DEFAULT_CONFIG: ModelConfig = {
  variant: 'vae',
  vocabSize: 2048,
  maxTokens: 64,
  modelDim: 256,
  latentDim: 32,
  encoderLayers: 2,
  decoderDilations: [1, 2, 4, 8, 16],
  kernelSize: 3,
};

/** Every weight's expected shape: the bundle loader checks against this. */
export function weightShapes(c: ModelConfig): Record<string, number[]> {
  const D = c.modelDim;
  const K = c.kernelSize;
  const pooled = pooledWidth(c);
  const shapes: Record<string, number[]> = {
    embed: [c.vocabSize, D],
    position: [c.maxTokens + 1, D],
    'enc.mu.w': [pooled, c.latentDim],
    'enc.mu.b': [c.latentDim],
    'enc.logvar.w': [pooled, c.latentDim],
    'enc.logvar.b': [c.latentDim],
    'dec.z.w': [c.latentDim, c.decoderDilations.length * D],
    'dec.z.b': [c.decoderDilations.length * D],
    'out.norm': [D],
    'out.b': [c.vocabSize],
    // Statistics of training codes: the sampling distribution for 'ae' and 'sparse'.
    'latent.mean': [c.latentDim],
    'latent.std': [c.latentDim],
    // Quantisation steps of tvae2 codes (latentStats.ts), only for models that write them.
    ...(c.codeScheme === 'precision' ? { 'latent.step': [c.latentDim] } : {}),
  };
  if (c.poolSlots) shapes['enc.pool.q'] = [c.poolSlots, D];
  if (c.memorySlots) {
    shapes['dec.mem.w'] = [c.latentDim, c.memorySlots * D];
    shapes['dec.mem.b'] = [c.memorySlots * D];
  }
  for (let i = 0; i < c.encoderLayers; i++) {
    shapes[`enc.${i}.w`] = [K * D, D];
    shapes[`enc.${i}.b`] = [D];
    shapes[`enc.${i}.norm`] = [D];
  }
  c.decoderDilations.forEach((_, i) => {
    shapes[`dec.${i}.w`] = [K * D, D];
    shapes[`dec.${i}.b`] = [D];
    shapes[`dec.${i}.norm`] = [D];
    if (c.memorySlots) {
      shapes[`dec.${i}.mk`] = [D, D];
      shapes[`dec.${i}.mv`] = [D, D];
    }
  });
  return shapes;
}

/** Width of the encoder's pooled summary: mean and max, or one vector per attention slot. */
function pooledWidth(c: ModelConfig): number {
  return (c.poolSlots ?? 2) * c.modelDim;
}

export function parameterCount(c: ModelConfig): number {
  return Object.values(weightShapes(c)).reduce((n, s) => n + s.reduce((a, b) => a * b, 1), 0);
}

export function initialWeights(c: ModelConfig, seed: number): NamedWeights {
  const rng = new Random(seed);
  const out: NamedWeights = {};
  for (const [name, shape] of Object.entries(weightShapes(c))) {
    const size = shape.reduce((a, b) => a * b, 1);
    let data: Float32Array;
    if (name.endsWith('.norm') || name === 'latent.std' || name === 'latent.step')
      data = new Float32Array(size).fill(1);
    else if (shape.length === 1 || name === 'latent.mean') data = new Float32Array(size);
    else if (name === 'embed' || name === 'position') data = rng.normals(size, 0.05);
    else {
      // Scaled so residual branches start small; keeps deep stacks stable without warm-up tricks.
      const fanIn = shape[0];
      const gain =
        name.startsWith('enc.logvar') || name.startsWith('dec.z') || name.endsWith('.mv') || name === 'dec.mem.w'
          ? 0.1
          : 1;
      data = rng.normals(size, gain / Math.sqrt(fanIn));
    }
    out[name] = { shape, data };
  }
  return out;
}

export interface EncodeOutput extends tf.TensorContainerObject {
  mu: tf.Tensor2D;
  logvar: tf.Tensor2D;
}

/** A batch of examples as padded int arrays. */
export interface Batch {
  /** Encoder input: tokens, PAD after the end. [B, T] */
  tokens: Int32Array;
  /** Decoder input: BOS + tokens (with dropout applied), PAD after. [B, T+1] */
  decoderInput: Int32Array;
  /** Decoder target: tokens + EOS, PAD after. [B, T+1] */
  targets: Int32Array;
  batchSize: number;
  /** Padded token length T (without BOS/EOS). */
  length: number;
  /** UTF-8 bytes of each example's text, for bits per byte. */
  bytes: number[];
}

export function makeBatch(
  examples: number[][],
  byteCounts: number[],
  maxTokens: number,
  dropout = 0,
  rng?: Random,
): Batch {
  const B = examples.length;
  const T = Math.max(1, Math.min(maxTokens, Math.max(...examples.map((e) => e.length))));
  const tokens = new Int32Array(B * T).fill(PAD);
  const decoderInput = new Int32Array(B * (T + 1)).fill(PAD);
  const targets = new Int32Array(B * (T + 1)).fill(PAD);
  examples.forEach((ex, b) => {
    const n = Math.min(ex.length, T);
    decoderInput[b * (T + 1)] = BOS;
    for (let t = 0; t < n; t++) {
      tokens[b * T + t] = ex[t];
      targets[b * (T + 1) + t] = ex[t];
      const dropped = dropout > 0 && rng !== undefined && rng.next() < dropout;
      decoderInput[b * (T + 1) + t + 1] = dropped ? MASK : ex[t];
    }
    targets[b * (T + 1) + n] = EOS;
  });
  return { tokens, decoderInput, targets, batchSize: B, length: T, bytes: byteCounts };
}

/** Train-time dropout on every layer's residual branch; `seed` gives each call its own reproducible mask. */
export interface Dropout {
  rate: number;
  seed: () => number;
}

let nextModelId = 0;

export class TextVaeModel {
  readonly config: ModelConfig;
  readonly vars: Record<string, tf.Variable>;

  constructor(config: ModelConfig, weights?: NamedWeights, seed = 1) {
    this.config = config;
    const init = weights ?? initialWeights(config, seed);
    nextModelId++;
    this.vars = {};
    for (const [name, shape] of Object.entries(weightShapes(config))) {
      const w = init[name];
      if (!w) throw new Error(`missing weight ${name}`);
      if (w.shape.join(',') !== shape.join(','))
        throw new Error(`weight ${name} has shape [${w.shape}], expected [${shape}]`);
      const initial = tf.tensor(w.data, shape, 'float32');
      // Unique names: several models (e.g. the active one and a candidate) may coexist.
      this.vars[name] = tf.variable(initial, true, `textvae/${name}/${nextModelId}`);
      initial.dispose();
    }
  }

  /** Trainable variables (everything but the latent statistics). */
  trainableVariables(): tf.Variable[] {
    return Object.entries(this.vars)
      .filter(([name]) => !name.startsWith('latent.'))
      .map(([, v]) => v);
  }

  async exportWeights(): Promise<NamedWeights> {
    const out: NamedWeights = {};
    for (const [name, v] of Object.entries(this.vars)) {
      out[name] = { shape: v.shape.slice(), data: new Float32Array(await v.data()) };
    }
    return out;
  }

  dispose(): void {
    for (const v of Object.values(this.vars)) v.dispose();
  }

  private rmsNorm(x: tf.Tensor, gain: tf.Tensor): tf.Tensor {
    return rmsNorm(x, gain as tf.Tensor1D);
  }

  private embed(ids: tf.Tensor2D): tf.Tensor3D {
    const [B, T] = ids.shape;
    return tf.reshape(tf.gather(this.vars.embed, tf.reshape(ids, [-1])), [B, T, this.config.modelDim]);
  }

  /**
   * The shared body of a convolution layer: taps [N, K*D] with the residual [N, D], or h [B, T, D]
   * with the time offsets of its taps (see tapsConv), h being the residual -> normalised residual
   * output, [N, D] or [B, T, D] (on tensorflow each reshape is a kernel call, in both passes).
   */
  private convLayer<T extends tf.Tensor2D | tf.Tensor3D>(
    prefix: string,
    taps: tf.Tensor2D | { h: tf.Tensor3D; offsets: number[] },
    residual: T,
    addBiases: (u: tf.Tensor, b: tf.Tensor) => tf.Tensor = tf.add,
    dropout?: Dropout,
  ): T {
    const w = this.vars[`${prefix}.w`] as tf.Tensor2D;
    const product = taps instanceof tf.Tensor ? matMul(taps, w) : tapsConv(taps.h, w, taps.offsets);
    let branch = relu(addBiases(product, this.vars[`${prefix}.b`]));
    if (dropout && dropout.rate > 0) branch = tf.dropout(branch, dropout.rate, undefined, dropout.seed());
    return this.rmsNorm(tf.add(residual, branch), this.vars[`${prefix}.norm`]) as T;
  }

  /** q(z|x): posterior mean and log-variance. tokens: [B, T] with PAD after the end. */
  encode(tokens: tf.Tensor2D, dropout?: Dropout): EncodeOutput {
    const c = this.config;
    const [B, T] = tokens.shape;
    const D = c.modelDim;
    const mask = tf.reshape(tf.cast(tf.notEqual(tokens, PAD), 'float32'), [B, T, 1]);
    let embedded: tf.Tensor = this.embed(tokens);
    if (c.encoderPositions) embedded = tf.add(embedded, tf.slice(this.vars.position, [0, 0], [T, D]));
    let h = tf.mul(embedded, mask) as tf.Tensor3D;
    const half = Math.floor(c.kernelSize / 2);
    for (let i = 0; i < c.encoderLayers; i++) {
      const dilation = c.encoderDilations?.[i] ?? 1;
      const offsets = Array.from({ length: c.kernelSize }, (_, k) => (k - half) * dilation);
      h = tf.mul(this.convLayer(`enc.${i}`, { h, offsets }, h, undefined, dropout), mask) as tf.Tensor3D;
    }
    const pooled = c.poolSlots ? this.attentionPool(h, mask) : this.meanMaxPool(h, mask);
    const mu = tf.add(matMul(pooled, this.vars['enc.mu.w'] as tf.Tensor2D), this.vars['enc.mu.b']) as tf.Tensor2D;
    if (c.variant !== 'vae') {
      // Deterministic codes; 'sparse' uses ReLU so the L1 penalty can make exact zeros.
      return { mu: c.variant === 'sparse' ? tf.relu(mu) : mu, logvar: tf.zerosLike(mu) };
    }
    // Clamp keeps exp(logvar) finite early in training.
    const logvar = tf.clipByValue(
      tf.add(matMul(pooled, this.vars['enc.logvar.w'] as tf.Tensor2D), this.vars['enc.logvar.b']),
      -12,
      6,
    ) as tf.Tensor2D;
    return { mu, logvar };
  }

  private meanMaxPool(h: tf.Tensor3D, mask: tf.Tensor): tf.Tensor2D {
    const count = tf.maximum(tf.sum(mask, 1), 1);
    const meanPool = tf.div(tf.sum(h, 1), count);
    // Padding positions get a large negative value so they never win the max.
    const maxPool = tf.max(tf.add(h, tf.mul(tf.sub(mask, 1), 1e4)), 1);
    return tf.concat([meanPool, maxPool], 1) as tf.Tensor2D;
  }

  /** Each learned query takes a softmax-weighted average of the positions: [B, slots * D]. */
  private attentionPool(h: tf.Tensor3D, mask: tf.Tensor): tf.Tensor2D {
    const [B, T, D] = h.shape;
    const S = this.config.poolSlots ?? 1;
    const scores = tf.reshape(
      matMulTransposed(tf.reshape(h, [B * T, D]) as tf.Tensor2D, this.vars['enc.pool.q'] as tf.Tensor2D),
      [B, T, S],
    );
    // [B, S, T], padding pushed out of the softmax.
    const masked = tf.transpose(tf.add(tf.mul(scores, 1 / Math.sqrt(D)), tf.mul(tf.sub(mask, 1), 1e4)), [0, 2, 1]);
    const pooled = tf.matMul(tf.softmax(masked), h);
    return tf.reshape(pooled, [B, S * D]);
  }

  /** z's memory as each decoder layer reads it: keys and values [B, slots, D] per layer (none without memory). */
  private memory(z: tf.Tensor2D): MemoryKeysValues {
    const c = this.config;
    if (!c.memorySlots) return { keys: [], values: [] };
    const B = z.shape[0];
    const D = c.modelDim;
    const slots = tf.add(matMul(z, this.vars['dec.mem.w'] as tf.Tensor2D), this.vars['dec.mem.b']);
    const flat = tf.reshape(slots, [B * c.memorySlots, D]) as tf.Tensor2D;
    const read = (w: string) => tf.reshape(matMul(flat, this.vars[w] as tf.Tensor2D), [B, c.memorySlots!, D]);
    return {
      keys: c.decoderDilations.map((_, i) => read(`dec.${i}.mk`) as tf.Tensor3D),
      values: c.decoderDilations.map((_, i) => read(`dec.${i}.mv`) as tf.Tensor3D),
    };
  }

  /** Attention from the layer input h [B, T, D] to layer i's memory: the read-out [B, T, D]. */
  private readMemory(h: tf.Tensor3D, memory: MemoryKeysValues, i: number): tf.Tensor3D {
    const scores = tf.mul(tf.matMul(h, memory.keys[i], false, true), 1 / Math.sqrt(this.config.modelDim));
    return tf.matMul(tf.softmax(scores), memory.values[i]);
  }

  /** Per-layer z biases: [B, L, D]. */
  private zBiases(z: tf.Tensor2D): tf.Tensor3D {
    const L = this.config.decoderDilations.length;
    const zb = tf.add(matMul(z, this.vars['dec.z.w'] as tf.Tensor2D), this.vars['dec.z.b']);
    return tf.reshape(zb, [z.shape[0], L, this.config.modelDim]);
  }

  /** p(x|z) teacher-forced: decoder input [B, T1] -> logits [B, T1, V]. */
  decodeLogits(z: tf.Tensor2D, decoderInput: tf.Tensor2D, dropout?: Dropout): tf.Tensor3D {
    const h = this.decoderHidden(z, decoderInput, dropout);
    const [B, T1, D] = h.shape;
    return tf.reshape(this.outputLogits(tf.reshape(h, [B * T1, D]) as tf.Tensor2D), [B, T1, this.config.vocabSize]);
  }

  /**
   * Teacher-forced log p(target) at each of the B·T1 positions of decoder input [B, T1], targets
   * [B·T1], with the logits [B·T1, V] for metrics: what the objective needs, in one fused op.
   */
  decodeTargetLogProbs(z: tf.Tensor2D, decoderInput: tf.Tensor2D, targets: tf.Tensor1D, dropout?: Dropout): TiedOutput {
    const h = this.decoderHidden(z, decoderInput, dropout);
    const [B, T1, D] = h.shape;
    const normed = this.rmsNorm(tf.reshape(h, [B * T1, D]), this.vars['out.norm']) as tf.Tensor2D;
    return tiedTargetLogProbs(normed, this.vars.embed as tf.Tensor2D, this.vars['out.b'] as tf.Tensor1D, targets);
  }

  private decoderHidden(z: tf.Tensor2D, decoderInput: tf.Tensor2D, dropout?: Dropout): tf.Tensor3D {
    const c = this.config;
    const T1 = decoderInput.shape[1];
    const D = c.modelDim;
    if (T1 > c.maxTokens + 1) throw new Error(`decoder input of ${T1} tokens exceeds ${c.maxTokens + 1}`);
    const pos = tf.slice(this.vars.position, [0, 0], [T1, D]);
    let h = tf.add(this.embed(decoderInput), pos) as tf.Tensor3D;
    // One split, not a slice per layer (whose gradients would each pad back to [B, L, D]).
    const zbs = tf.split(this.zBiases(z), c.decoderDilations.length, 1);
    const memory = this.memory(z);
    c.decoderDilations.forEach((d, i) => {
      // z's bias [B, 1, D] is broadcast over time rather than tiled, and the layer's own bias is
      // added to it first: one pass over [B, T1, D] for both.
      let zBias: tf.Tensor = zbs[i];
      if (memory.keys.length) zBias = tf.add(zBias, this.readMemory(h, memory, i));
      const addBiases = (u: tf.Tensor, b: tf.Tensor) => tf.add(u, tf.add(zBias, b));
      h = this.convLayer(
        `dec.${i}`,
        { h, offsets: Array.from({ length: c.kernelSize }, (_, k) => -k * d) },
        h,
        addBiases,
        dropout,
      );
    });
    return h;
  }

  private outputLogits(h: tf.Tensor2D): tf.Tensor2D {
    const normed = this.rmsNorm(h, this.vars['out.norm']) as tf.Tensor2D;
    return tf.add(matMulTransposed(normed, this.vars.embed as tf.Tensor2D), this.vars['out.b']) as tf.Tensor2D;
  }

  /**
   * Incremental decoding: keeps each layer's past activations so a step costs one position,
   * not the whole prefix. Equivalent to decodeLogits (tested).
   */
  startDecoding(z: tf.Tensor2D): IncrementalDecoder {
    return new IncrementalDecoder(this, z);
  }

  /** @internal used by IncrementalDecoder */
  stepInternal(history: tf.Tensor2D[][], cond: Conditioning, tokens: tf.Tensor1D, t: number): tf.Tensor2D {
    const c = this.config;
    const B = tokens.shape[0];
    const D = c.modelDim;
    const pos = tf.slice(this.vars.position, [t, 0], [1, D]);
    let h = tf.add(tf.gather(this.vars.embed, tokens), pos) as tf.Tensor2D;
    c.decoderDilations.forEach((d, i) => {
      history[i].push(h);
      const taps: tf.Tensor2D[] = [];
      for (let k = 0; k < c.kernelSize; k++) {
        const idx = t - k * d;
        taps.push(idx >= 0 ? history[i][idx] : tf.zeros([B, D]));
      }
      let bias: tf.Tensor = tf.reshape(tf.slice(cond.zb, [0, i, 0], [B, 1, D]), [B, D]);
      if (cond.keys.length) bias = tf.add(bias, tf.reshape(this.readMemory(tf.reshape(h, [B, 1, D]), cond, i), [B, D]));
      h = this.convLayer(`dec.${i}`, tf.concat(taps, 1) as tf.Tensor2D, h, (u, b) => tf.add(tf.add(u, b), bias));
    });
    return this.outputLogits(h);
  }

  conditioningInternal(z: tf.Tensor2D): Conditioning {
    return { zb: this.zBiases(z), ...this.memory(z) };
  }
}

interface MemoryKeysValues extends tf.TensorContainerObject {
  keys: tf.Tensor3D[];
  values: tf.Tensor3D[];
}

/** What a code gives the decoder, computed once per sequence. */
interface Conditioning extends MemoryKeysValues {
  zb: tf.Tensor3D;
}

function conditioningTensors(c: Conditioning): tf.Tensor[] {
  return [c.zb, ...c.keys, ...c.values];
}

export class IncrementalDecoder {
  private readonly history: tf.Tensor2D[][];
  private cond: Conditioning;
  private step = 0;

  constructor(
    private readonly model: TextVaeModel,
    z: tf.Tensor2D,
  ) {
    this.cond = tf.tidy(() => model.conditioningInternal(z));
    this.history = model.config.decoderDilations.map(() => []);
  }

  /** Feeds one token per sequence; returns log-probabilities [B, V] for the next token. */
  next(tokens: Int32Array): tf.Tensor2D {
    const t = this.step++;
    if (t > this.model.config.maxTokens) throw new Error('decoder ran past maxTokens');
    return tf.tidy(() => {
      const before = this.history.map((h) => h.length);
      const logits = this.model.stepInternal(this.history, this.cond, tf.tensor1d(tokens, 'int32'), t);
      // Keep the new history entries alive beyond this tidy.
      this.history.forEach((h, i) => {
        for (let j = before[i]; j < h.length; j++) tf.keep(h[j]);
      });
      return tf.logSoftmax(logits);
    });
  }

  /** Reorders the batch (beam search): row i of the new state is row `rows[i]` of the old. */
  reorder(rows: Int32Array): void {
    const idx = tf.tensor1d(rows, 'int32');
    for (const layer of this.history) {
      for (let j = 0; j < layer.length; j++) {
        const old = layer[j];
        layer[j] = tf.keep(tf.gather(old, idx));
        old.dispose();
      }
    }
    const old = this.cond;
    const pick = <T extends tf.Tensor>(t: T): T => tf.keep(tf.gather(t, idx));
    this.cond = { zb: pick(old.zb), keys: old.keys.map(pick), values: old.values.map(pick) };
    conditioningTensors(old).forEach((t) => t.dispose());
    idx.dispose();
  }

  dispose(): void {
    for (const layer of this.history) for (const h of layer) h.dispose();
    conditioningTensors(this.cond).forEach((t) => t.dispose());
  }
}
