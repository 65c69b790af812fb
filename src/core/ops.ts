/**
 * Matrix products that stay fast on every backend. tfjs-backend-wasm 4.22 runs a matmul with a
 * transposed operand 10-20x slower than a plain one (measured: 1-2 vs ~20 GFLOP/s), and
 * autodiff emits exactly those for the weight gradients. On wasm we transpose explicitly instead.
 */
import * as tf from '@tensorflow/tfjs-core';

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
 * ReLU whose gradient is dy · sign(y): one kernel. tfjs-node builds the stock gradient's Step from
 * six kernels (isNaN, greater, two fills, two selects), 7 % of a training step (scripts/profile-step.ts).
 */
const cheapGradRelu = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
  const y = tf.relu(x);
  save([y]);
  return {
    value: y,
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => [tf.mul(dy as tf.Tensor, tf.sign(saved[0]))],
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as <T extends tf.Tensor>(x: T) => T;

export function relu<T extends tf.Tensor>(x: T): T {
  return tf.getBackend() === 'tensorflow' ? cheapGradRelu(x) : tf.relu(x);
}

const RMS_EPSILON = 1e-5;

/**
 * x · rsqrt(mean(x², last axis) + 1e-5) · gain, with a hand-written gradient: autodiff of these
 * ops takes about twice the kernels (mean's gradient alone fills and divides a tensor of x's size).
 * The forward pass is the same ops as ever, so outputs do not change.
 */
const rmsNormWithGrad = tf.customGrad(((x: tf.Tensor, gain: tf.Tensor, save: tf.GradSaveFunc) => {
  const r = tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), RMS_EPSILON));
  const n = tf.mul(x, r);
  save([n, r, gain]);
  return {
    value: tf.mul(n, gain),
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
      const [sn, sr, sg] = saved;
      const g = dy as tf.Tensor;
      const dn = tf.mul(g, sg);
      // d/dx of x·r: r·(dn − n·mean(dn·n)).
      const dx = tf.mul(sr, tf.sub(dn, tf.mul(sn, tf.mean(tf.mul(dn, sn), -1, true))));
      const dGain = tf.sum(tf.reshape(tf.mul(g, sn), [-1, sg.shape[0]]), 0);
      return [dx, dGain];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as <T extends tf.Tensor>(x: T, gain: tf.Tensor1D) => T;

export function rmsNorm<T extends tf.Tensor>(x: T, gain: tf.Tensor1D): T {
  return rmsNormWithGrad(x, gain);
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
 * A convolution over time: h [B, T, D], w [K·D, E] (tap k's block is rows k·D..(k+1)·D) -> [B·T, E],
 * where output (b, t) = Σ_k h[b, t + offsets[k]] · w_k. On tensorflow its gradient is hand-written:
 * dh is the same kind of product with the offsets negated (the taps of dy times the blocks w_kᵀ),
 * dw = tapsᵀ · dy; autodiff instead splits dtaps and shifts every piece back.
 */
export function tapsConv(h: tf.Tensor3D, w: tf.Tensor2D, offsets: number[]): tf.Tensor2D {
  if (tf.getBackend() !== 'tensorflow') return matMul(sliceTaps(h, offsets), w);
  const [B, T, D] = h.shape;
  const K = offsets.length;
  const E = w.shape[1];
  const f = tf.customGrad(((x: tf.Tensor, weights: tf.Tensor, save: tf.GradSaveFunc) => {
    const taps = gatherTaps(x as tf.Tensor3D, offsets);
    save([taps, weights]);
    return {
      value: tf.matMul(taps, weights as tf.Tensor2D),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [st, sw] = saved as [tf.Tensor2D, tf.Tensor2D];
        const g = dy as tf.Tensor2D;
        const back = gatherTaps(
          tf.reshape(g, [B, T, E]),
          offsets.map((o) => -o),
        );
        const blocksT = tf.reshape(tf.transpose(tf.reshape(sw, [K, D, E]), [0, 2, 1]), [K * E, D]) as tf.Tensor2D;
        return [tf.reshape(tf.matMul(back, blocksT), [B, T, D]), tf.matMul(st, g, true, false)];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (x: tf.Tensor3D, w: tf.Tensor2D) => tf.Tensor2D;
  return f(h, w);
}
