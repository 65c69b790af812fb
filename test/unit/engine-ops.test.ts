/**
 * The training step's hand-written gradients (src/core/ops.ts) against tfjs's autodiff of the same
 * functions: same forward values, same gradients. Runs on the default backend (TEXTVAE_BACKEND, else auto).
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';

import { matMul, relu, rmsNorm, sliceTaps, tapsConv, targetLogProbs, tiedTargetLogProbs } from '../../src/core/ops';
import { Random } from '../../src/core/random';
import { setupBackend } from '../helpers/engine';

before(async () => {
  await setupBackend();
});

/** Largest |a − b| relative to the largest |b|. */
function relativeError(a: tf.Tensor, b: tf.Tensor): number {
  const x = a.dataSync();
  const y = b.dataSync();
  assert.deepEqual(a.shape, b.shape);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < y.length; i++) {
    diff = Math.max(diff, Math.abs(x[i] - y[i]));
    scale = Math.max(scale, Math.abs(y[i]));
  }
  return diff / scale;
}

function randomTensor(rng: Random, shape: number[], scale = 1): tf.Tensor {
  return tf.tensor(
    rng.normals(
      shape.reduce((a, b) => a * b, 1),
      scale,
    ),
    shape,
  );
}

/** Value and gradients of sum(f(inputs) · weights) with respect to every input. */
function valueAndGrads(f: (...xs: tf.Tensor[]) => tf.Tensor, inputs: tf.Tensor[], weights: tf.Tensor) {
  const value = f(...inputs);
  const grads = tf.grads((...xs: tf.Tensor[]) => tf.sum(tf.mul(f(...xs), weights)))(inputs);
  return { value, grads };
}

test('rmsNorm: the values of the plain ops (up to float rounding), and the same gradients for x and gain', () => {
  const rng = new Random(3);
  const plain = (x: tf.Tensor, gain: tf.Tensor) =>
    tf.mul(tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), 1e-5))), gain);
  for (const shape of [
    [7, 16],
    [3, 5, 16],
  ]) {
    tf.tidy(() => {
      const x = randomTensor(rng, shape, 2);
      const gain = tf.add(randomTensor(rng, [16], 0.5), 1);
      const w = randomTensor(rng, shape);
      const ours = valueAndGrads((a, g) => rmsNorm(a, g as tf.Tensor1D), [x, gain], w);
      const ref = valueAndGrads(plain, [x, gain], w);
      // On tensorflow mean(x²) is the square of TensorFlow's Euclidean norm, rounded differently.
      assert.ok(
        relativeError(ours.value, ref.value) < 1e-6,
        `forward, shape [${shape}]: ${relativeError(ours.value, ref.value)}`,
      );
      assert.ok(
        relativeError(ours.grads[0], ref.grads[0]) < 1e-5,
        `d/dx, shape [${shape}]: ${relativeError(ours.grads[0], ref.grads[0])}`,
      );
      assert.ok(
        relativeError(ours.grads[1], ref.grads[1]) < 1e-5,
        `d/dgain, shape [${shape}]: ${relativeError(ours.grads[1], ref.grads[1])}`,
      );
    });
  }
});

test('relu: the same values and gradient as tf.relu, zero where the input is not positive', () => {
  const rng = new Random(4);
  tf.tidy(() => {
    // Exact zeros too: the gradient there is 0, as tf.relu's.
    const x = tf.mul(randomTensor(rng, [6, 10]), tf.cast(tf.greater(randomTensor(rng, [6, 10]), -0.5), 'float32'));
    const w = randomTensor(rng, [6, 10]);
    const ours = valueAndGrads((a) => relu(a), [x], w);
    const ref = valueAndGrads((a) => tf.relu(a), [x], w);
    assert.deepEqual(ours.value.dataSync(), ref.value.dataSync());
    assert.deepEqual(ours.grads[0].dataSync(), ref.grads[0].dataSync());
  });
});

test("targetLogProbs: each row's log-softmax at its target, with the same gradient as autodiff of those ops", () => {
  const rng = new Random(5);
  tf.tidy(() => {
    const logits = randomTensor(rng, [9, 13], 3);
    const targets = tf.tensor1d(
      Array.from({ length: 9 }, () => rng.int(13)),
      'int32',
    );
    const w = randomTensor(rng, [9]);
    const plain = (x: tf.Tensor) => tf.sum(tf.mul(tf.logSoftmax(x), tf.cast(tf.oneHot(targets, 13), 'float32')), 1);
    const ours = valueAndGrads((x) => targetLogProbs(x as tf.Tensor2D, targets), [logits], w);
    const ref = valueAndGrads(plain, [logits], w);
    assert.deepEqual(ours.value.dataSync(), ref.value.dataSync());
    assert.ok(relativeError(ours.grads[0], ref.grads[0]) < 1e-5);
    // Probabilities: every row's values are below 0, and the gradient's rows sum to 0.
    assert.ok(ours.value.dataSync().every((v) => v < 0));
    for (const s of tf.sum(ours.grads[0], 1).dataSync()) assert.ok(Math.abs(s) < 1e-5);
  });
});

test('tiedTargetLogProbs: log-softmax of h·embᵀ + bias at each target, with the gradients of autodiff of the plain ops', () => {
  const rng = new Random(7);
  const [N, D, V] = [11, 6, 13];
  tf.tidy(() => {
    const h = randomTensor(rng, [N, D], 2);
    const emb = randomTensor(rng, [V, D]);
    const bias = randomTensor(rng, [V], 0.5);
    // Repeated targets: the embedding's and bias's gradients sum over the rows of a target.
    const targets = tf.tensor1d(
      Array.from({ length: N }, (_, i) => (i % 4 === 0 ? 2 : rng.int(V))),
      'int32',
    );
    const w = randomTensor(rng, [N]);
    const plainLogits = (x: tf.Tensor, e: tf.Tensor, b: tf.Tensor) => tf.add(tf.matMul(x, e, false, true), b);
    const plain = (x: tf.Tensor, e: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(tf.logSoftmax(plainLogits(x, e, b)), tf.cast(tf.oneHot(targets, V), 'float32')), 1);
    const fused = (x: tf.Tensor, e: tf.Tensor, b: tf.Tensor) =>
      tiedTargetLogProbs(x as tf.Tensor2D, e as tf.Tensor2D, b as tf.Tensor1D, targets).logp;
    const ours = valueAndGrads(fused, [h, emb, bias], w);
    const ref = valueAndGrads(plain, [h, emb, bias], w);
    assert.ok(relativeError(ours.value, ref.value) < 1e-6, 'forward');
    ['d/dh', 'd/demb', 'd/dbias'].forEach((name, i) =>
      assert.ok(
        relativeError(ours.grads[i], ref.grads[i]) < 1e-5,
        `${name}: ${relativeError(ours.grads[i], ref.grads[i])}`,
      ),
    );
    // The logits for metrics are the plain ones (on tensorflow the bias is a column of the product).
    const { logits } = tiedTargetLogProbs(h as tf.Tensor2D, emb as tf.Tensor2D, bias as tf.Tensor1D, targets);
    assert.ok(relativeError(logits, plainLogits(h, emb, bias)) < 1e-6, 'logits');
  });
});

test("tapsConv: each output is the sum over taps of h at its offset (zero outside) times that tap's block, with the same gradients as autodiff", () => {
  const rng = new Random(6);
  const [B, T, D, E] = [2, 7, 4, 5];
  // Causal (decoder), centred (encoder), offsets reaching past the sequence, unevenly spaced (the
  // gradient gathers taps) and evenly spaced beyond it (TensorFlow's dilated Conv2D).
  for (const offsets of [
    [0, -2, -4],
    [-3, 0, 3],
    [0, -8, 9],
    [0, -8, -16],
  ]) {
    tf.tidy(() => {
      const h = randomTensor(rng, [B, T, D]) as tf.Tensor3D;
      const w = randomTensor(rng, [offsets.length * D, E]) as tf.Tensor2D;
      const dy = randomTensor(rng, [B, T, E]);
      const ours = valueAndGrads((x, k) => tapsConv(x as tf.Tensor3D, k as tf.Tensor2D, offsets), [h, w], dy);
      const ref = valueAndGrads(
        (x, k) => tf.reshape(matMul(sliceTaps(x as tf.Tensor3D, offsets), k as tf.Tensor2D), [B, T, E]),
        [h, w],
        dy,
      );
      assert.deepEqual(ours.value.dataSync(), ref.value.dataSync(), `forward, offsets ${offsets}`);
      assert.ok(relativeError(ours.grads[0], ref.grads[0]) < 1e-5, `d/dh, offsets ${offsets}`);
      assert.ok(relativeError(ours.grads[1], ref.grads[1]) < 1e-5, `d/dw, offsets ${offsets}`);
      // Against the definition, in plain arithmetic.
      const hv = h.arraySync() as number[][][];
      const wv = w.arraySync() as number[][];
      const out = ours.value.arraySync() as number[][][];
      for (let b = 0; b < B; b++)
        for (let t = 0; t < T; t++)
          for (let e = 0; e < E; e++) {
            let sum = 0;
            offsets.forEach((o, k) => {
              if (t + o >= 0 && t + o < T) for (let d = 0; d < D; d++) sum += hv[b][t + o][d] * wv[k * D + d][e];
            });
            assert.ok(Math.abs(out[b][t][e] - sum) < 1e-4, `(${b}, ${t}, ${e}) offsets ${offsets}`);
          }
    });
  }
});

test('add and sub: gradients with and without broadcasting, a tensor added to itself, in plain arithmetic', () => {
  const rng = new Random(8);
  tf.tidy(() => {
    const a = randomTensor(rng, [2, 3]);
    const b = randomTensor(rng, [3]);
    const c = randomTensor(rng, [2, 3]);
    const w = randomTensor(rng, [2, 3]);
    const wv = w.arraySync() as number[][];
    const colSums = [0, 1, 2].map((j) => wv[0][j] + wv[1][j]);
    const close = (got: tf.Tensor, want: number[] | number[][], what: string) =>
      (got.arraySync() as number[]).flat().forEach((v, i) => assert.ok(Math.abs(v - want.flat()[i]) < 1e-6, what));
    // (a + b) − c, then a + a: a's gradient collects from two uses, as in a residual stream.
    const f = (x: tf.Tensor, y: tf.Tensor, z: tf.Tensor) =>
      tf.add(tf.sum(tf.mul(tf.sub(tf.add(x, y), z), w)), tf.sum(tf.mul(tf.add(x, x), w)));
    const [da, db, dc] = tf.grads(f)([a, b, c]);
    assert.deepEqual(da.shape, [2, 3]);
    assert.deepEqual(db.shape, [3]);
    close(
      da,
      wv.map((row) => row.map((v) => 3 * v)),
      'd/da = 3w',
    );
    close(db, colSums, 'd/db = column sums of w');
    close(
      dc,
      wv.map((row) => row.map((v) => -v)),
      'd/dc = −w',
    );
    // Broadcasting the other way: b − a.
    const [db2] = tf.grads((y: tf.Tensor) => tf.sum(tf.mul(tf.sub(y, a), w)))([b]);
    close(db2, colSums, 'd/db of b − a');
    const [da2] = tf.grads((x: tf.Tensor) => tf.sum(tf.mul(tf.sub(b, x), w)))([a]);
    close(
      da2,
      wv.map((row) => row.map((v) => -v)),
      'd/da of b − a',
    );
  });
});
