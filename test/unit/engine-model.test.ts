/**
 * The model in isolation (no training): incremental decoding, weight shapes, batch layout,
 * interpolation and token sampling. Runs on the default backend (TEXTVAE_BACKEND, else auto).
 */
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';

import { DEFAULT_CONFIG, TextVaeModel, makeBatch, parameterCount, weightShapes } from '../../src/core/model';
import { bannedNextTokens, endsWithRepeatedWord, lerp, sampleToken, slerp } from '../../src/core/textVae';
import { Random } from '../../src/core/random';
import { BOS, EOS, FIRST_BYTE_ID, MASK, PAD } from '../../src/core/tokenizer';
import type { ModelConfig } from '../../src/core/types';
import { setupBackend } from '../helpers/engine';

const CONFIG: ModelConfig = {
  variant: 'vae',
  vocabSize: 320,
  maxTokens: 32,
  modelDim: 48,
  latentDim: 12,
  encoderLayers: 2,
  decoderDilations: [1, 2, 4, 8],
  kernelSize: 3,
};

/** The same model with attention pooling and z as decoder memory. */
const MEMORY_CONFIG: ModelConfig = { ...CONFIG, poolSlots: 3, memorySlots: 4 };
const BIAS_CONFIG = CONFIG;

/** Random non-special token ids. */
function randomTokens(rng: Random, n: number, vocab: number): number[] {
  return Array.from({ length: n }, () => FIRST_BYTE_ID + rng.int(vocab - FIRST_BYTE_ID));
}

/** Row-wise log-softmax of [rows, V] logits, in float64. */
function logSoftmaxRows(logits: Float32Array, V: number): Float64Array {
  const out = new Float64Array(logits.length);
  for (let r = 0; r < logits.length / V; r++) {
    let max = -Infinity;
    for (let v = 0; v < V; v++) max = Math.max(max, logits[r * V + v]);
    let sum = 0;
    for (let v = 0; v < V; v++) sum += Math.exp(logits[r * V + v] - max);
    const lse = max + Math.log(sum);
    for (let v = 0; v < V; v++) out[r * V + v] = logits[r * V + v] - lse;
  }
  return out;
}

function norm(x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * x[i];
  return Math.sqrt(s);
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

before(async () => {
  await setupBackend();
});

for (const [label, CONFIG] of [
  ['bias only', BIAS_CONFIG],
  ['with memory', MEMORY_CONFIG],
] as const) {
  describe(`incremental decoder (${label})`, () => {
    /** Teacher-forced log-probabilities [B, T1, V] for the given decoder inputs. */
    async function teacherForced(model: TextVaeModel, z: tf.Tensor2D, inputs: number[][]): Promise<Float64Array> {
      const B = inputs.length;
      const T1 = inputs[0].length;
      const logits = tf.tidy(() => model.decodeLogits(z, tf.tensor2d(inputs.flat(), [B, T1], 'int32')));
      const data = (await logits.data()) as Float32Array;
      logits.dispose();
      return logSoftmaxRows(data, model.config.vocabSize);
    }

    test('matches teacher-forced decodeLogits (log-softmax) at every step, to 1e-4', async () => {
      const rng = new Random(11);
      const model = new TextVaeModel(CONFIG, undefined, 3);
      const B = 3;
      const T1 = CONFIG.maxTokens + 1; // the longest input the decoder accepts: taps reach far back
      const V = CONFIG.vocabSize;
      const inputs = Array.from({ length: B }, () => [BOS, ...randomTokens(rng, T1 - 1, V)]);
      const z = tf.tensor2d(rng.normals(B * CONFIG.latentDim), [B, CONFIG.latentDim]);
      const full = await teacherForced(model, z, inputs);
      const decoder = model.startDecoding(z);
      let worst = 0;
      let stepVsNext = 0;
      for (let t = 0; t < T1; t++) {
        const lp = decoder.next(Int32Array.from(inputs, (row) => row[t]));
        assert.deepEqual(lp.shape, [B, V]);
        const row = await lp.data();
        lp.dispose();
        for (let b = 0; b < B; b++) {
          const ref = full.subarray((b * T1 + t) * V, (b * T1 + t + 1) * V);
          worst = Math.max(worst, maxAbsDiff(row.subarray(b * V, (b + 1) * V), ref));
          if (t + 1 < T1) {
            // Sensitivity: the next position's distribution is clearly different.
            stepVsNext = Math.max(
              stepVsNext,
              maxAbsDiff(row.subarray(b * V, (b + 1) * V), full.subarray((b * T1 + t + 1) * V, (b * T1 + t + 2) * V)),
            );
          }
        }
      }
      assert.ok(worst <= 1e-4, `max |incremental - teacher forced| = ${worst}`);
      assert.ok(stepVsNext > 1e-2, `positions should differ (got ${stepVsNext}); the comparison would be vacuous`);
      assert.throws(() => decoder.next(new Int32Array(B).fill(EOS)), /maxTokens/);
      decoder.dispose();
      z.dispose();
      model.dispose();
    });

    test('the output depends on z and on earlier tokens, never on later ones', async () => {
      const rng = new Random(5);
      const model = new TextVaeModel(CONFIG, undefined, 4);
      const T1 = 12;
      const base = [BOS, ...randomTokens(rng, T1 - 1, CONFIG.vocabSize)];
      const changed = base.slice();
      changed[6] = base[6] === 100 ? 101 : 100;
      const zv = rng.normals(CONFIG.latentDim);
      const z = tf.tensor2d([...zv, ...zv], [2, CONFIG.latentDim]);
      const lp = await teacherForced(model, z, [base, changed]);
      const V = CONFIG.vocabSize;
      for (let t = 0; t < T1; t++) {
        const d = maxAbsDiff(lp.subarray(t * V, (t + 1) * V), lp.subarray((T1 + t) * V, (T1 + t + 1) * V));
        if (t < 6) assert.ok(d < 1e-5, `position ${t} sees a later token (diff ${d})`);
        else assert.ok(d > 1e-3, `position ${t} ignores token 6 (diff ${d})`);
      }
      const z2 = tf.tensor2d([...zv, ...rng.normals(CONFIG.latentDim)], [2, CONFIG.latentDim]);
      const lp2 = await teacherForced(model, z2, [base, base]);
      assert.ok(
        maxAbsDiff(lp2.subarray(0, V), lp2.subarray(T1 * V, (T1 + 1) * V)) > 1e-3,
        'the first step depends on z',
      );
      tf.dispose([z, z2]);
      model.dispose();
    });

    test('reorder permutes the cached state like a reordered teacher-forced batch', async () => {
      const rng = new Random(9);
      const model = new TextVaeModel(CONFIG, undefined, 5);
      const V = CONFIG.vocabSize;
      const T1 = 8;
      const inputs = [0, 1].map(() => [BOS, ...randomTokens(rng, T1 - 1, V)]);
      const zv = rng.normals(2 * CONFIG.latentDim);
      const z = tf.tensor2d(zv, [2, CONFIG.latentDim]);
      // Reference: row 0 follows sequence 1 and row 1 follows sequence 0 from position 4 on.
      const full = await teacherForced(model, z, inputs);
      const decoder = model.startDecoding(z);
      for (let t = 0; t < 4; t++) decoder.next(Int32Array.from(inputs, (r) => r[t])).dispose();
      decoder.reorder(Int32Array.from([1, 0]));
      const lp = decoder.next(Int32Array.from([inputs[1][4], inputs[0][4]]));
      const row = await lp.data();
      lp.dispose();
      assert.ok(maxAbsDiff(row.subarray(0, V), full.subarray((1 * T1 + 4) * V, (1 * T1 + 5) * V)) <= 1e-4);
      assert.ok(maxAbsDiff(row.subarray(V, 2 * V), full.subarray((0 * T1 + 4) * V, (0 * T1 + 5) * V)) <= 1e-4);
      decoder.dispose();
      z.dispose();
      model.dispose();
    });

    test('decoding leaves no tensors behind', async () => {
      const model = new TextVaeModel(CONFIG, undefined, 6);
      const z = tf.tensor2d(new Random(1).normals(2 * CONFIG.latentDim), [2, CONFIG.latentDim]);
      const before = tf.memory().numTensors;
      const decoder = model.startDecoding(z);
      for (let t = 0; t < 10; t++) decoder.next(Int32Array.from([BOS + t, FIRST_BYTE_ID + t])).dispose();
      decoder.reorder(Int32Array.from([1, 1]));
      decoder.next(Int32Array.from([5, 6])).dispose();
      decoder.dispose();
      tf.tidy(() => {
        model.decodeLogits(z, tf.tensor2d([BOS, 7, BOS, 8], [2, 2], 'int32'));
        model.encode(tf.tensor2d([7, 8, 9, PAD, 7, 8, 9, 10], [2, 4], 'int32'));
      });
      assert.equal(tf.memory().numTensors, before);
      z.dispose();
      model.dispose();
    });
  });
}

describe('weights', () => {
  const configs: ModelConfig[] = [
    CONFIG,
    { ...CONFIG, variant: 'ae', encoderLayers: 1, decoderDilations: [1, 3], kernelSize: 2, latentDim: 5 },
    { ...CONFIG, variant: 'sparse', modelDim: 40, kernelSize: 5, maxTokens: 8 },
  ];

  test('weightShapes lists exactly the variables, with their shapes', () => {
    for (const c of configs) {
      const model = new TextVaeModel(c, undefined, 1);
      const shapes = weightShapes(c);
      assert.deepEqual(Object.keys(model.vars).sort(), Object.keys(shapes).sort());
      for (const [name, v] of Object.entries(model.vars)) assert.deepEqual(v.shape, shapes[name], name);
      const total = Object.values(model.vars).reduce((n, v) => n + v.size, 0);
      assert.equal(parameterCount(c), total);
      // Every decoder layer has its own slice of the z projection.
      assert.deepEqual(shapes['dec.z.w'], [c.latentDim, c.decoderDilations.length * c.modelDim]);
      assert.deepEqual(shapes[`dec.${c.decoderDilations.length - 1}.w`], [c.kernelSize * c.modelDim, c.modelDim]);
      // The latent statistics are state, not parameters.
      const trainable = new Set(model.trainableVariables());
      assert.ok(!trainable.has(model.vars['latent.mean']) && !trainable.has(model.vars['latent.std']));
      assert.equal(trainable.size, Object.keys(shapes).length - 2);
      model.dispose();
    }
  });

  test('the default configuration is the documented size', () => {
    // Counted by hand from the architecture (embeddings, heads, z projection, conv layers), not from a run.
    const D = DEFAULT_CONFIG.modelDim,
      K = DEFAULT_CONFIG.kernelSize,
      L = DEFAULT_CONFIG.decoderDilations.length;
    const expected =
      DEFAULT_CONFIG.vocabSize * D +
      (DEFAULT_CONFIG.maxTokens + 1) * D +
      2 * (2 * D * DEFAULT_CONFIG.latentDim + DEFAULT_CONFIG.latentDim) +
      DEFAULT_CONFIG.latentDim * L * D +
      L * D +
      D +
      DEFAULT_CONFIG.vocabSize +
      2 * DEFAULT_CONFIG.latentDim +
      (DEFAULT_CONFIG.encoderLayers + L) * (K * D * D + 2 * D);
    assert.equal(parameterCount(DEFAULT_CONFIG), expected);
  });

  test('constructing from weights checks names and shapes, and keeps the values', async () => {
    const a = new TextVaeModel(CONFIG, undefined, 2);
    const weights = await a.exportWeights();
    const b = new TextVaeModel(CONFIG, weights);
    const wb = await b.exportWeights();
    for (const name of Object.keys(weights)) assert.deepEqual(wb[name].data, weights[name].data, name);
    const c = new TextVaeModel(CONFIG, undefined, 3);
    assert.notDeepEqual(
      (await c.exportWeights())['dec.0.w'].data,
      weights['dec.0.w'].data,
      'seeds give different weights',
    );
    const missing = { ...weights };
    delete missing['dec.z.w'];
    assert.throws(() => new TextVaeModel(CONFIG, missing), /missing weight dec\.z\.w/);
    const wrong = {
      ...weights,
      'enc.mu.b': { shape: [CONFIG.latentDim + 1], data: new Float32Array(CONFIG.latentDim + 1) },
    };
    assert.throws(() => new TextVaeModel(CONFIG, wrong), /enc\.mu\.b has shape/);
    for (const m of [a, b, c]) m.dispose();
  });

  test('dispose releases every tensor the model created', () => {
    const before = tf.memory();
    const model = new TextVaeModel(CONFIG, undefined, 1);
    model.dispose();
    const after = tf.memory();
    assert.equal(after.numTensors, before.numTensors, 'tensors left after dispose');
    assert.equal(after.numBytes, before.numBytes, 'bytes left after dispose');
  });
});

describe('encoder options', () => {
  const codeOf = (model: TextVaeModel, tokens: number[]) =>
    tf.tidy(() =>
      model
        .encode(tf.tensor2d(tokens, [1, tokens.length], 'int32'))
        .mu.dataSync()
        .slice(),
    );
  const sentence = [40, 41, 42, 43, 44, 45];

  test('configs from before encoder dilations and positions behave as dilation 1, no positions', async () => {
    const plain = new TextVaeModel(CONFIG, undefined, 4);
    const explicit = new TextVaeModel(
      { ...CONFIG, encoderDilations: [1, 1], encoderPositions: false },
      await plain.exportWeights(),
    );
    assert.deepEqual(codeOf(explicit, sentence), codeOf(plain, sentence));
    const dilated = new TextVaeModel({ ...CONFIG, encoderDilations: [1, 2] }, await plain.exportWeights());
    assert.ok(maxAbsDiff(codeOf(dilated, sentence), codeOf(plain, sentence)) > 1e-4, 'a dilation changes the code');
    for (const m of [plain, explicit, dilated]) m.dispose();
  });

  test('without positions a text shifted behind padding gets the same code; with positions it does not', async () => {
    // Mean+max pooling of position-free convolutions cannot tell where a text sits: positions can.
    const shifted = [PAD, PAD, ...sentence];
    const padded = [...sentence, PAD, PAD];
    const plain = new TextVaeModel(CONFIG, undefined, 5);
    assert.ok(maxAbsDiff(codeOf(plain, shifted), codeOf(plain, padded)) < 1e-5);
    const positional = new TextVaeModel({ ...CONFIG, encoderPositions: true }, await plain.exportWeights());
    assert.ok(maxAbsDiff(codeOf(positional, shifted), codeOf(positional, padded)) > 1e-4);
    // Trailing padding still changes nothing: positions count from the first token.
    assert.ok(maxAbsDiff(codeOf(positional, padded), codeOf(positional, sentence)) < 1e-5);
    plain.dispose();
    positional.dispose();
  });
});

describe('makeBatch', () => {
  test('lays out BOS, tokens, EOS and PAD', () => {
    const examples = [[10, 11, 12], [20], [30, 31, 32, 33, 34, 35]];
    const maxTokens = 5; // the last example is cut to 5 tokens
    const b = makeBatch(examples, [3, 1, 9], maxTokens);
    const T = 5;
    assert.equal(b.batchSize, 3);
    assert.equal(b.length, T);
    assert.deepEqual(b.bytes, [3, 1, 9]);
    assert.deepEqual(Array.from(b.tokens), [10, 11, 12, PAD, PAD, 20, PAD, PAD, PAD, PAD, 30, 31, 32, 33, 34]);
    assert.deepEqual(Array.from(b.decoderInput), [
      BOS,
      10,
      11,
      12,
      PAD,
      PAD,
      BOS,
      20,
      PAD,
      PAD,
      PAD,
      PAD,
      BOS,
      30,
      31,
      32,
      33,
      34,
    ]);
    assert.deepEqual(Array.from(b.targets), [
      10,
      11,
      12,
      EOS,
      PAD,
      PAD,
      20,
      EOS,
      PAD,
      PAD,
      PAD,
      PAD,
      30,
      31,
      32,
      33,
      34,
      EOS,
    ]);
  });

  test('the padded length is the longest example, at least 1', () => {
    assert.equal(makeBatch([[5, 6], [7]], [0, 0], 64).length, 2);
    const empty = makeBatch([[]], [0], 64);
    assert.equal(empty.length, 1);
    assert.deepEqual(Array.from(empty.decoderInput), [BOS, PAD]);
    assert.deepEqual(Array.from(empty.targets), [EOS, PAD]);
  });

  test('token dropout replaces decoder inputs with MASK only, never BOS, at the rate asked', () => {
    const rng = new Random(123);
    const B = 64,
      T = 32;
    const examples = Array.from({ length: B }, (_, i) => randomTokens(rng, 8 + (i % (T - 7)), 400));
    const clean = makeBatch(
      examples,
      examples.map(() => 0),
      T,
    );
    for (const rate of [0.1, 0.25, 0.5]) {
      const batch = makeBatch(
        examples,
        examples.map(() => 0),
        T,
        rate,
        new Random(rate * 1000),
      );
      assert.deepEqual(batch.tokens, clean.tokens, 'the encoder input is never dropped');
      assert.deepEqual(batch.targets, clean.targets, 'the targets are never dropped');
      let positions = 0,
        masked = 0;
      for (let b = 0; b < B; b++) {
        const n = examples[b].length;
        assert.equal(batch.decoderInput[b * (T + 1)], BOS, 'BOS is never dropped');
        for (let t = 1; t <= T; t++) {
          const got = batch.decoderInput[b * (T + 1) + t];
          const want = clean.decoderInput[b * (T + 1) + t];
          if (t > n) {
            assert.equal(got, PAD, 'padding stays padding');
            continue;
          }
          positions++;
          if (got === MASK) masked++;
          else assert.equal(got, want, 'a kept token is unchanged');
        }
      }
      const observed = masked / positions;
      // Within four binomial standard deviations of the rate asked (about ±0.05 at rate 0.5 here).
      const tolerance = 4 * Math.sqrt((rate * (1 - rate)) / positions);
      assert.ok(
        Math.abs(observed - rate) < tolerance,
        `rate ${rate}: observed ${observed.toFixed(3)} over ${positions} tokens (±${tolerance.toFixed(3)})`,
      );
    }
  });

  test('no dropout without a generator or with rate 0', () => {
    const examples = [[10, 11, 12, 13]];
    const plain = makeBatch(examples, [4], 8);
    assert.deepEqual(makeBatch(examples, [4], 8, 0.9).decoderInput, plain.decoderInput);
    assert.deepEqual(makeBatch(examples, [4], 8, 0, new Random(1)).decoderInput, plain.decoderInput);
  });

  test('dropout is reproducible from the seed', () => {
    const examples = Array.from({ length: 8 }, (_, i) => Array.from({ length: 20 }, (_, t) => 10 + i + t));
    const a = makeBatch(
      examples,
      examples.map(() => 0),
      20,
      0.3,
      new Random(77),
    );
    const b = makeBatch(
      examples,
      examples.map(() => 0),
      20,
      0.3,
      new Random(77),
    );
    const c = makeBatch(
      examples,
      examples.map(() => 0),
      20,
      0.3,
      new Random(78),
    );
    assert.deepEqual(a.decoderInput, b.decoderInput);
    assert.notDeepEqual(a.decoderInput, c.decoderInput);
  });
});

describe('interpolation', () => {
  const rng = new Random(31);
  const a = rng.normals(16);
  const b = rng.normals(16);

  test('lerp and slerp hit both endpoints', () => {
    for (const f of [lerp, slerp]) {
      assert.ok(maxAbsDiff(f(a, b, 0), a) < 1e-6, `${f.name}(0)`);
      assert.ok(maxAbsDiff(f(a, b, 1), b) < 1e-5, `${f.name}(1)`);
    }
  });

  test('lerp is the straight line', () => {
    const mid = lerp(a, b, 0.5);
    assert.ok(
      maxAbsDiff(
        mid,
        Float32Array.from(a, (v, i) => (v + b[i]) / 2),
      ) < 1e-6,
    );
    const quarter = lerp(a, b, 0.25);
    assert.ok(
      maxAbsDiff(
        quarter,
        Float32Array.from(a, (v, i) => 0.75 * v + 0.25 * b[i]),
      ) < 1e-6,
    );
  });

  test('slerp keeps the norm of equal-norm endpoints and moves at a constant angle', () => {
    const r = 3;
    const ua = Float32Array.from(a, (v) => (v * r) / norm(a));
    const ub = Float32Array.from(b, (v) => (v * r) / norm(b));
    const angle = (x: Float32Array, y: Float32Array) => {
      let d = 0;
      for (let i = 0; i < x.length; i++) d += x[i] * y[i];
      return Math.acos(Math.max(-1, Math.min(1, d / (norm(x) * norm(y)))));
    };
    const omega = angle(ua, ub);
    for (const t of [0.1, 0.25, 0.5, 0.9]) {
      const p = slerp(ua, ub, t);
      assert.ok(Math.abs(norm(p) - r) < 1e-4, `|slerp(${t})| = ${norm(p)}`);
      assert.ok(Math.abs(angle(ua, p) - t * omega) < 1e-4, `angle at ${t}`);
      // A straight line cuts the corner: its midpoint is shorter.
      if (t === 0.5) assert.ok(norm(lerp(ua, ub, t)) < r - 1e-3);
    }
  });

  test('slerp falls back to lerp for parallel or zero vectors', () => {
    const twice = Float32Array.from(a, (v) => 2 * v);
    assert.ok(maxAbsDiff(slerp(a, twice, 0.3), lerp(a, twice, 0.3)) < 1e-6);
    const zero = new Float32Array(16);
    const p = slerp(zero, b, 0.5);
    assert.ok(p.every(Number.isFinite));
    assert.ok(maxAbsDiff(p, lerp(zero, b, 0.5)) < 1e-6);
  });
});

describe('sampleToken', () => {
  /** A normalised log-distribution with a clear but not overwhelming mode. */
  function logDist(rng: Random, V: number): Float64Array {
    const logits = Float64Array.from({ length: V }, () => rng.normal());
    let max = -Infinity;
    for (const v of logits) max = Math.max(max, v);
    const lse = max + Math.log(logits.reduce((s, v) => s + Math.exp(v - max), 0));
    return logits.map((v) => v - lse);
  }
  const argMax = (row: ArrayLike<number>) => {
    let best = 0;
    for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
    return best;
  };

  test('a tiny top-p always picks the argmax', () => {
    const rng = new Random(4);
    for (let i = 0; i < 50; i++) {
      const row = logDist(rng, 300);
      for (const temperature of [0.5, 1, 2]) assert.equal(sampleToken(row, temperature, 1e-6, rng), argMax(row));
    }
  });

  test('a seeded generator makes sampling deterministic; another seed differs', () => {
    const row = logDist(new Random(8), 300);
    const draw = (seed: number) => {
      const r = new Random(seed);
      return Array.from({ length: 200 }, () => sampleToken(row, 1, 0.95, r));
    };
    assert.deepEqual(draw(42), draw(42));
    assert.notDeepEqual(draw(42), draw(43));
  });

  test('samples follow the distribution, and top-p keeps to the nucleus', () => {
    const p = [0.5, 0.3, 0.15, 0.05];
    const row = p.map(Math.log);
    const rng = new Random(1);
    const n = 20_000;
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < n; i++) counts[sampleToken(row, 1, 1, rng)]++;
    // Standard deviation of each frequency is at most 0.0036 here.
    counts.forEach((c, i) => assert.ok(Math.abs(c / n - p[i]) < 0.015, `token ${i}: ${c / n} vs ${p[i]}`));
    // top-p 0.7: the nucleus is {0, 1} (0.5 + 0.3 reaches 0.7), renormalised to 5/8 and 3/8.
    const nucleus = [0, 0, 0, 0];
    for (let i = 0; i < n; i++) nucleus[sampleToken(row, 1, 0.7, rng)]++;
    assert.equal(nucleus[2] + nucleus[3], 0);
    assert.ok(Math.abs(nucleus[0] / n - 0.625) < 0.015, `${nucleus[0] / n}`);
    // A low temperature sharpens towards the mode.
    let mode = 0;
    for (let i = 0; i < 2000; i++) if (sampleToken(row, 0.1, 1, rng) === 0) mode++;
    assert.ok(mode / 2000 > 0.98, `${mode / 2000}`);
  });
});

test('bannedNextTokens forbids exactly the tokens that would repeat an n-gram', () => {
  // ids: 5 6 7 5 6 -> with n = 3 the context is (5, 6), seen before followed by 7.
  assert.deepEqual([...bannedNextTokens([5, 6, 7, 5, 6], 3)], [7]);
  assert.deepEqual([...bannedNextTokens([5, 6, 7, 5, 6], 2)].sort(), [7]);
  assert.deepEqual([...bannedNextTokens([1, 2, 3], 3)], []);
  assert.deepEqual([...bannedNextTokens([9], 3)], []);
  assert.deepEqual([...bannedNextTokens([4, 4, 4], 2)], [4]);
});

test('endsWithRepeatedWord catches a stutter at the end of a sample, and only that', () => {
  for (const stutter of ['The the', 'in the the', 'platforms platforms', 'it, it', 'Über über', 'x = 1; then then'])
    assert.ok(endsWithRepeatedWord(stutter), stutter);
  for (const fine of [
    'the theory', // a longer word that starts with the previous one
    'time.time', // code, not a repeated word
    'the cat the', // the repeat is not adjacent
    'the the cat', // an earlier stutter is not this token's doing
    'the',
    '',
    'a1 a1', // the "words" continue a token with digits
  ])
    assert.ok(!endsWithRepeatedWord(fine), fine);
});
