/**
 * Matrix products that stay fast on every backend. tfjs-backend-wasm 4.22 runs a matmul with a
 * transposed operand 10-20x slower than a plain one (measured: 1-2 vs ~20 GFLOP/s), and
 * autodiff emits exactly those for the weight gradients. On wasm we transpose explicitly instead.
 */
import * as tf from '@tensorflow/tfjs-core';

/** The native TensorFlow backend (tfjs-node), as far as the kernels below use it. */
interface NativeBackend {
  binding: Record<
    'TF_ATTR_TYPE' | 'TF_ATTR_INT' | 'TF_ATTR_FLOAT' | 'TF_ATTR_BOOL' | 'TF_ATTR_STRING' | 'TF_FLOAT' | 'TF_INT32',
    number
  >;
  executeSingleOutput(
    name: string,
    attrs: { name: string; type: number; value: unknown }[],
    inputs: tf.TensorInfo[],
  ): tf.TensorInfo;
}

/**
 * Attributes of a native op besides its float32 type T: int lists, strings, booleans, floats
 * (`{ float }`) and the int32 index type of reductions (`'int32'` under the name Tidx).
 */
type NativeAttrs = Record<string, number[] | string | boolean | { float: number }>;

/**
 * TensorFlow ops that tfjs-node does not expose (tfjs runs log-softmax as six kernels, has no ReLU
 * gradient op, no dilated convolution, no Euclidean norm and no bias gradient), registered as
 * kernels of the 'tensorflow' backend under names of our own, so that tfjs's engine tracks,
 * disposes and profiles them like any other kernel. Their type attribute T is float32: float
 * tensors only (a reduction's axes are int32).
 */
const NATIVE_OPS = ['LogSoftmax', 'LeakyReluGrad', 'Conv2D', 'EuclideanNorm', 'Sum', 'BiasAddGrad'] as const;
type NativeOp = (typeof NATIVE_OPS)[number];
for (const op of NATIVE_OPS) {
  if (tf.getKernel(`TextVae${op}`, 'tensorflow')) continue;
  tf.registerKernel({
    kernelName: `TextVae${op}`,
    backendName: 'tensorflow',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const b = backend as unknown as NativeBackend;
      const { binding } = b;
      const list = [{ name: 'T', type: binding.TF_ATTR_TYPE, value: binding.TF_FLOAT as unknown }];
      for (const [name, value] of Object.entries((attrs ?? {}) as NativeAttrs)) {
        if (name === 'Tidx') list.push({ name, type: binding.TF_ATTR_TYPE, value: binding.TF_INT32 });
        else if (typeof value === 'string') list.push({ name, type: binding.TF_ATTR_STRING, value });
        else if (typeof value === 'boolean') list.push({ name, type: binding.TF_ATTR_BOOL, value });
        else if (Array.isArray(value)) list.push({ name, type: binding.TF_ATTR_INT, value });
        else list.push({ name, type: binding.TF_ATTR_FLOAT, value: value.float });
      }
      return b.executeSingleOutput(op, list, Object.values(inputs) as tf.TensorInfo[]);
    },
  });
}

/** Runs one of NATIVE_OPS (tensorflow backend only) on its inputs, in TensorFlow's order. */
function native(op: NativeOp, inputs: tf.Tensor[], attrs: NativeAttrs = {}): tf.Tensor {
  const named: tf.NamedTensorMap = {};
  inputs.forEach((x, i) => (named[`x${i}`] = x));
  return tf.engine().runKernel(`TextVae${op}`, named, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
}

/** Sum over the last axis, kept as size 1, without the cast tfjs-node runs before its reductions. */
function sumLastAxis(x: tf.Tensor): tf.Tensor {
  return native('Sum', [x, tf.scalar(-1, 'int32')], { Tidx: 'int32', keep_dims: true });
}

/**
 * The gradients of Add and Sub as tfjs's own, less the reshape each input's gradient gets even
 * where its shape is the output's: on tensorflow that reshape is a kernel call, 86 of them in a
 * training step (residual, bias and gradient-accumulation adds). A clone (no kernel) keeps the two
 * inputs' gradients distinct tensors, which tfjs's backpropagation disposes one by one.
 */
function broadcastGrad(dy: tf.Tensor, shape: number[], outShape: number[], negate: boolean): tf.Tensor {
  const axes = tf.backend_util.getReductionAxes(shape, outShape);
  let res = axes.length > 0 ? tf.sum(dy, axes) : dy;
  if (negate) res = tf.neg(res);
  return tf.util.arraysEqual(res.shape, shape) ? (res === dy ? tf.clone(res) : res) : tf.reshape(res, shape);
}

/**
 * Puts these gradients in tfjs's registry. initBackend calls it once a backend is set, after
 * tfjs-node's copy of tfjs has registered its own (which would replace any registered earlier).
 */
export function registerLeanGradients(): void {
  for (const [kernelName, negate] of [
    ['Add', false],
    ['Sub', true],
  ] as const) {
    tf.registerGradient({
      kernelName,
      inputsToSave: ['a', 'b'],
      gradFunc: (dy, saved) => {
        const [a, b] = saved;
        const outShape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
        const g = dy as tf.Tensor;
        return {
          a: () => broadcastGrad(g, a.shape, outShape, false),
          b: () => broadcastGrad(g, b.shape, outShape, negate),
        };
      },
    });
  }
}

function plainProductsOnly(): boolean {
  return tf.getBackend() === 'wasm';
}

/** a [N, K] x b [K, M] with gradients computed by untransposed products. */
// customGrad's typing does not model the trailing save function, hence the cast.
const wasmFriendlyMatMul = tf.customGrad(((a: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
  save([a, b]);
  return {
    value: tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D),
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
      const [sa, sb] = saved as [tf.Tensor2D, tf.Tensor2D];
      const g = dy as tf.Tensor2D;
      return [tf.matMul(g, tf.transpose(sb)), tf.matMul(tf.transpose(sa), g)];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (a: tf.Tensor2D, b: tf.Tensor2D) => tf.Tensor2D;

export function matMul(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return plainProductsOnly() ? wasmFriendlyMatMul(a, b) : tf.matMul(a, b);
}

/** a [N, K] x b^T, where b is [M, K] (the tied output embedding). */
export function matMulTransposed(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return plainProductsOnly() ? wasmFriendlyMatMul(a, tf.transpose(b)) : tf.matMul(a, b, false, true);
}

/**
 * ReLU whose gradient, dy where y > 0 and 0 elsewhere, is one kernel: TensorFlow's LeakyReluGrad
 * with slope 0 (its ReluGrad, the same values but for the sign of a zero, ran three times slower on [2080, 256], 0.5 against
 * 1.5 ms). tfjs-node builds the stock gradient's Step from six kernels (isNaN, greater, two fills,
 * two selects), 7 % of a training step (scripts/profile-step.ts); dy · sign(y) took two.
 */
const cheapGradRelu = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
  const y = tf.relu(x);
  save([y]);
  return {
    value: y,
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => [
      native('LeakyReluGrad', [dy as tf.Tensor, saved[0]], { alpha: { float: 0 } }),
    ],
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as <T extends tf.Tensor>(x: T) => T;

export function relu<T extends tf.Tensor>(x: T): T {
  return tf.getBackend() === 'tensorflow' ? cheapGradRelu(x) : tf.relu(x);
}

const RMS_EPSILON = 1e-5;

/** The reductions an RMS norm needs, which each backend runs with its own kernels. */
interface RmsReductions {
  /** mean(x², last axis), kept as size 1. */
  meanSquares(x: tf.Tensor): tf.Tensor;
  /** mean(t, last axis), kept as size 1. */
  rowMean(t: tf.Tensor): tf.Tensor;
  /** Σ over every row of t [..., D] -> [D]: the gain's gradient. */
  columnSum(t: tf.Tensor): tf.Tensor;
}

/**
 * x · rsqrt(mean(x², last axis) + 1e-5) · gain, with a hand-written gradient: autodiff of these
 * ops takes about twice the kernels (mean's gradient alone fills and divides a tensor of x's size).
 */
function rmsNormOp(k: RmsReductions): <T extends tf.Tensor>(x: T, gain: tf.Tensor1D) => T {
  return tf.customGrad(((x: tf.Tensor, gain: tf.Tensor, save: tf.GradSaveFunc) => {
    const r = tf.rsqrt(tf.add(k.meanSquares(x), RMS_EPSILON));
    const n = tf.mul(x, r);
    save([n, r, gain]);
    return {
      value: tf.mul(n, gain),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [sn, sr, sg] = saved;
        const g = dy as tf.Tensor;
        const dn = tf.mul(g, sg);
        // d/dx of x·r: r·(dn − n·mean(dn·n)).
        const dx = tf.mul(sr, tf.sub(dn, tf.mul(sn, k.rowMean(tf.mul(dn, sn)))));
        return [dx, k.columnSum(tf.mul(g, sn))];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as <T extends tf.Tensor>(
    x: T,
    gain: tf.Tensor1D,
  ) => T;
}

/** Plain tfjs ops: the forward pass is the same ops as ever, so outputs do not change. */
const rmsNormWithGrad = rmsNormOp({
  meanSquares: (x) => tf.mean(tf.square(x), -1, true),
  rowMean: (t) => tf.mean(t, -1, true),
  columnSum: (t) => tf.sum(tf.reshape(t, [-1, t.shape[t.shape.length - 1]]), 0),
});

/**
 * The same norm on tensorflow, in fewer and cheaper kernels: mean(x²) from TensorFlow's
 * EuclideanNorm, one pass that reads x, where Square, a Cast and Mean wrote and read it again;
 * the backward pass's row sums without the Cast tfjs-node puts before Mean, and the gain's
 * gradient (a column sum) by BiasAddGrad, about three times quicker than Sum over rows. Values
 * agree with rmsNormWithGrad up to float rounding (mean(x²) is the square of a rounded root).
 */
const nativeRmsNorm = rmsNormOp({
  meanSquares: (x) => {
    const norm = native('EuclideanNorm', [x, tf.scalar(-1, 'int32')], { Tidx: 'int32', keep_dims: true });
    return tf.mul(tf.square(norm), 1 / x.shape[x.shape.length - 1]);
  },
  rowMean: (t) => tf.mul(sumLastAxis(t), 1 / t.shape[t.shape.length - 1]),
  columnSum: (t) => native('BiasAddGrad', [t], { data_format: 'NHWC' }),
});

export function rmsNorm<T extends tf.Tensor>(x: T, gain: tf.Tensor1D): T {
  return tf.getBackend() === 'tensorflow' ? nativeRmsNorm(x, gain) : rmsNormWithGrad(x, gain);
}

/**
 * log p(target) per row of logits [N, V]: log-softmax, then the target's entry. The gradient,
 * dy·(onehot − softmax), is three passes over [N, V]; autodiff of the same ops takes about seven.
 * The forward pass is the ops the objective always used, so its values do not change.
 */
export function targetLogProbs(logits: tf.Tensor2D, targets: tf.Tensor1D): tf.Tensor1D {
  const vocab = logits.shape[1];
  // oneHot is built as int32 and cast: tfjs-backend-wasm 4.22 writes wrong values for a float32 oneHot.
  const oneHot = tf.cast(tf.oneHot(targets, vocab), 'float32');
  const f = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
    const logp = tf.logSoftmax(x);
    save([logp, oneHot]);
    return {
      value: tf.sum(tf.mul(logp, oneHot), 1),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [sl, sh] = saved;
        return [tf.mul(tf.sub(sh, tf.exp(sl)), tf.reshape(dy as tf.Tensor, [-1, 1]))];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (x: tf.Tensor2D) => tf.Tensor1D;
  return f(logits);
}

/** The tied output layer's log p(target) per row, and its logits (see tiedTargetLogProbs). */
export interface TiedOutput {
  /** log softmax(logits)[target] per row [N]. */
  logp: tf.Tensor1D;
  /** h·embᵀ + bias [N, V]: for metrics; on tensorflow no gradient flows through them. */
  logits: tf.Tensor2D;
}

/**
 * The tied output layer and log p(target) in one: logits = h·embᵀ + bias [N, V], then each row's
 * log-softmax at its target. On tensorflow the log-softmax is TensorFlow's own kernel, and the
 * gradient never forms the [N, V] gradient of the logits, dy·(onehot − P) with P = softmax: row
 * scaling commutes with the products, so dh = dy·(emb[target] − P·emb),
 * demb = Σ_{rows of a target} dy·h − Pᵀ·(dy·h) and dbias = Σ_{rows of a target} dy − Pᵀ·dy.
 * Against targetLogProbs this saves the one-hot, the log-softmax's six kernels and three passes
 * over [N, V] in the backward pass.
 */
export function tiedTargetLogProbs(
  h: tf.Tensor2D,
  emb: tf.Tensor2D,
  bias: tf.Tensor1D,
  targets: tf.Tensor1D,
): TiedOutput {
  if (tf.getBackend() !== 'tensorflow') {
    const logits = tf.add(matMulTransposed(h, emb), bias) as tf.Tensor2D;
    return { logp: targetLogProbs(logits, targets), logits };
  }
  const [N] = h.shape;
  const V = emb.shape[0];
  // Row i's target in the flattened [N·V] log-probabilities.
  const flatTargets = tf.add(tf.mul(tf.range(0, N, 1, 'int32'), tf.scalar(V, 'int32')), targets);
  // The forward pass runs in a scope of its own: the logits leave it kept, and are handed to the
  // caller's scope below.
  let kept: tf.Tensor2D | undefined;
  const f = tf.customGrad(((x: tf.Tensor, e: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
    const D = x.shape[1] as number;
    // The bias as one more column of the product, [x, 1]·[e, b]ᵀ: a pass over [N, V] fewer, and in
    // the backward pass the bias's gradient comes with the embedding's from one product.
    const x1 = tf.concat([x, tf.ones([N, 1])], 1) as tf.Tensor2D;
    const e1 = tf.concat([e, tf.reshape(b, [V, 1])], 1) as tf.Tensor2D;
    const logits = tf.matMul(x1, e1, false, true) as tf.Tensor2D;
    kept = tf.keep(logits);
    const logp = native('LogSoftmax', [logits]);
    save([logp, x1, e]);
    return {
      value: tf.gather(tf.reshape(logp, [-1]), flatTargets),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [sl, sx1, se] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
        const g = dy as tf.Tensor1D;
        const p = tf.exp(sl);
        const column = tf.reshape(g, [-1, 1]);
        const dx = tf.mul(column, tf.sub(tf.gather(se, targets), tf.matMul(p, se)));
        // [dy·x, dy]: its last column gives the bias's gradient.
        const gx1 = tf.mul(sx1, column);
        const de1 = tf.sub(tf.unsortedSegmentSum(gx1, targets, V), tf.matMul(p, gx1, true, false));
        return [dx, tf.slice(de1, [0, 0], [V, D]), tf.reshape(tf.slice(de1, [0, D], [V, 1]), [V])];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (
    x: tf.Tensor2D,
    e: tf.Tensor2D,
    b: tf.Tensor1D,
  ) => tf.Tensor1D;
  const logp = f(h, emb, bias);
  const logits = tf.clone(kept as tf.Tensor2D);
  kept?.dispose();
  return { logp, logits };
}

/**
 * The taps of a convolution as one matrix: row (b, t) holds h[b, t + offsets[k]] for every k (zero
 * outside 0..T-1), side by side. One pad and one gather, where shifting each tap costs a slice, a
 * pad and then a concat of them all.
 */
function gatherTaps(h: tf.Tensor3D, offsets: number[]): tf.Tensor2D {
  const [B, T, D] = h.shape;
  const front = Math.max(0, ...offsets.map((o) => -o));
  const back = Math.max(0, ...offsets);
  const index = new Int32Array(T * offsets.length);
  for (let t = 0; t < T; t++) offsets.forEach((o, k) => (index[t * offsets.length + k] = t + front + o));
  const padded =
    front || back
      ? tf.pad(h, [
          [0, 0],
          [front, back],
          [0, 0],
        ])
      : h;
  return tf.reshape(tf.gather(padded, tf.tensor1d(index, 'int32'), 1), [B * T, offsets.length * D]);
}

/** The same taps by shifting each one (slice + pad) and concatenating: what autodiff differentiates on wasm and cpu. */
export function sliceTaps(h: tf.Tensor3D, offsets: number[]): tf.Tensor2D {
  const [B, T, D] = h.shape;
  const taps = offsets.map((o) => {
    if (o === 0) return h;
    if (Math.abs(o) >= T) return tf.zeros([B, T, D]);
    const kept = tf.slice(h, [0, Math.max(0, o), 0], [B, T - Math.abs(o), D]);
    return tf.pad(kept, [[0, 0], o < 0 ? [-o, 0] : [0, o], [0, 0]]);
  });
  return tf.reshape(tf.concat(taps, 2), [B * T, offsets.length * D]);
}

/**
 * Σ_k x[b, t + offsets[k]] · blocks[k] (zero outside 0..T-1): x [B, T, C], blocks [K, C, O] ->
 * [B, T, O]. Where the offsets are evenly spaced around 0 (every layer of the model), that is
 * TensorFlow's dilated Conv2D over time, which reads the shifted rows of x in place; otherwise the
 * taps are gathered and multiplied.
 */
function convolveTaps(x: tf.Tensor3D, blocks: tf.Tensor3D, offsets: number[]): tf.Tensor3D {
  const [B, T, C] = x.shape;
  const [K, , O] = blocks.shape;
  const order = offsets.map((_, k) => k).sort((a, b) => offsets[a] - offsets[b]);
  const first = offsets[order[0]];
  const last = offsets[order[K - 1]];
  const step = K > 1 ? offsets[order[1]] - first : 1;
  const even = step > 0 && order.every((k, j) => offsets[k] === first + j * step);
  if (!even || first > 0 || last < 0) {
    const taps = gatherTaps(x, offsets);
    return tf.reshape(tf.matMul(taps, tf.reshape(blocks, [K * C, O]) as tf.Tensor2D), [B, T, O]);
  }
  // Conv2D's filter tap j reads x at t + j·step − (−first): the j-th smallest offset.
  const sorted = order.every((k, j) => k === j) ? blocks : tf.gather(blocks, order);
  const out = native('Conv2D', [tf.reshape(x, [B, 1, T, C]), tf.reshape(sorted, [1, K, C, O])], {
    strides: [1, 1, 1, 1],
    dilations: [1, 1, step, 1],
    padding: 'EXPLICIT',
    explicit_paddings: [0, 0, 0, 0, -first, last, 0, 0],
    data_format: 'NHWC',
  });
  return tf.reshape(out, [B, T, O]);
}

/**
 * A convolution over time: h [B, T, D], w [K·D, E] (tap k's block is rows k·D..(k+1)·D) -> [B, T, E],
 * where output (b, t) = Σ_k h[b, t + offsets[k]] · w_k: the taps gathered side by side, one
 * product. (TensorFlow's dilated Conv2D in the forward pass too, reading h in place, made a step 5 %
 * slower on the quiet machine: oneDNN reorders its weights at every call.) On tensorflow its
 * gradient is hand-written: dh is the same kind of convolution with the offsets negated, over dy
 * with the blocks w_kᵀ (convolveTaps); dw = tapsᵀ · dy. Autodiff instead splits dtaps and shifts
 * every piece back.
 */
export function tapsConv(h: tf.Tensor3D, w: tf.Tensor2D, offsets: number[]): tf.Tensor3D {
  const [B, T, D] = h.shape;
  const K = offsets.length;
  const E = w.shape[1];
  if (tf.getBackend() !== 'tensorflow') return tf.reshape(matMul(sliceTaps(h, offsets), w), [B, T, E]);
  const f = tf.customGrad(((x: tf.Tensor, weights: tf.Tensor, save: tf.GradSaveFunc) => {
    const taps = gatherTaps(x as tf.Tensor3D, offsets);
    save([taps, weights]);
    return {
      value: tf.reshape(tf.matMul(taps, weights as tf.Tensor2D), [B, T, E]),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [st, sw] = saved as [tf.Tensor2D, tf.Tensor2D];
        const g = dy as tf.Tensor3D;
        const blocksT = tf.transpose(tf.reshape(sw, [K, D, E]), [0, 2, 1]) as tf.Tensor3D;
        return [
          convolveTaps(
            g,
            blocksT,
            offsets.map((o) => -o),
          ),
          tf.matMul(st, tf.reshape(g, [B * T, E]) as tf.Tensor2D, true, false),
        ];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (x: tf.Tensor3D, w: tf.Tensor2D) => tf.Tensor3D;
  return f(h, w);
}
