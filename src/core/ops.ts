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
