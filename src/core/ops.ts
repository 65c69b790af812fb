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
