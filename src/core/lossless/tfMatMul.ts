/**
 * The coder's integer products on the active tfjs backend: float32 matmuls of integer-valued
 * tensors whose partial sums stay below 2^24 are exact on every backend, so this gives the same
 * numbers as JS_INT_MATMUL, only faster.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { IntMatMul } from './detDecoder';
import { LosslessCoder, type ModelSource } from './codec';
import { defaultSearchSweeps } from '../choices';

export const TF_INT_MATMUL: IntMatMul = {
  prepare: (w, k, m) => tf.keep(tf.tensor2d(w, [k, m], 'float32')),
  multiply(a, n, handle) {
    const w = handle as tf.Tensor2D;
    const product = tf.tidy(() => tf.matMul(tf.tensor2d(a, [n, w.shape[0]], 'float32'), w));
    const out = product.dataSync() as Float32Array;
    product.dispose();
    return out;
  },
  release: (handle) => (handle as tf.Tensor).dispose(),
};

/**
 * The lossless coder of a loaded model, with the model's encoder for z, tfjs for the products, and
 * the active backend's default search.
 */
export async function losslessCoderFor(source: ModelSource): Promise<LosslessCoder> {
  const coder = await LosslessCoder.fromModel(source, TF_INT_MATMUL);
  coder.searchSweeps = defaultSearchSweeps(tf.getBackend());
  return coder;
}
