/**
 * Real (tiny) training runs through train(): learning, exact reconstruction from codes after loading
 * the saved bundle, tensor leaks, determinism, cancellation, resume and the variants' metrics.
 * Runs on the default backend (TEXTVAE_BACKEND, else auto).
 */
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';

import { TextVae } from '../../src/core/textVae';
import { Adam, learningRateAt } from '../../src/core/optimizer';
import {
  LEARN_STEPS,
  SENTENCES,
  TINY_CONFIG,
  TINY_DOC,
  assertExactReconstruction,
  once,
  setupBackend,
  sharedTiny,
  trainTiny,
  trainingFacts,
} from '../helpers/engine';

const LATENT = TINY_CONFIG.latentDim!;

const aeRun = once(() => sharedTiny({ maxSteps: LEARN_STEPS, config: { variant: 'ae' } }));
const vaeRun = once(() =>
  sharedTiny({ maxSteps: LEARN_STEPS, logEvery: 10, val: [TINY_DOC], config: { variant: 'vae' } }),
);
const loadedVae = once(async () => TextVae.load((await vaeRun()).dir));

before(async () => {
  await setupBackend();
});

describe('training a tiny model', () => {
  test("'ae' learns six sentences and reconstructs each exactly from its code", async () => {
    const run = await aeRun();
    assert.equal(run.result.steps, LEARN_STEPS);
    assert.equal(run.result.cancelled, false);
    assert.ok(
      run.metrics[0].loss > 4 * run.metrics.at(-1)!.loss,
      `loss ${run.metrics[0].loss} -> ${run.metrics.at(-1)!.loss}`,
    );
    assert.equal(run.result.final.token_accuracy, 1);
    assert.equal(run.result.final.kl_bits_per_byte, 0, "'ae' has no KL term");
    const t = await trainingFacts(run.dir);
    assert.equal(t.step, LEARN_STEPS);
    assert.equal(t.finished, true);
    await assertExactReconstruction(run.dir);
  });

  test("'vae' learns six sentences and reconstructs each exactly from its (posterior mean) code", async () => {
    const run = await vaeRun();
    assert.equal(run.result.steps, LEARN_STEPS);
    await assertExactReconstruction(run.dir);
  });

  test("a 'vae' run reports KL > 0, active units in (0, latentDim] and a bounded mutual information", async () => {
    const { result, metrics } = await vaeRun();
    const f = result.final;
    assert.ok(f.kl_bits_per_byte > 0 && f.kl_nats > 0, `KL ${f.kl_bits_per_byte} bits/byte`);
    assert.ok(f.active_units > 0 && f.active_units <= LATENT, `active units ${f.active_units}`);
    assert.ok(Number.isInteger(f.active_units));
    // With N texts, I(x; z) under their aggregate posterior is at most log N nats.
    assert.ok(
      f.mutual_information > 0 && f.mutual_information <= Math.log(SENTENCES.length) + 1e-3,
      `MI ${f.mutual_information}`,
    );
    assert.ok(Math.abs(f.bits_per_byte - (f.recon_bits_per_byte + f.kl_bits_per_byte)) < 1e-9);
    const last = metrics.at(-1)!;
    assert.ok(last.val_kl_bits_per_byte > 0 && last.kl_bits_per_byte > 0);
    assert.ok(last.active_units > 0 && last.active_units <= LATENT);
    // KL annealing: the weight starts at 0 (AE pretraining), never decreases and ends at 1.
    assert.equal(metrics[0].beta, 0, `first logged beta ${metrics[0].beta} at step ${metrics[0].step}`);
    for (let i = 1; i < metrics.length; i++) assert.ok(metrics[i].beta >= metrics[i - 1].beta);
    assert.equal(last.beta, 1);
  });

  test('tf.memory().numTensors stays the same from one metrics line to the next', async () => {
    const { metrics } = await vaeRun();
    const pretraining = metrics.filter((m) => m.beta === 0).map((m) => m.tensors);
    const annealed = metrics.filter((m) => m.beta > 0).map((m) => m.tensors);
    assert.ok(
      pretraining.length >= 1 && annealed.length >= 4,
      `${pretraining.length} + ${annealed.length} metrics lines`,
    );
    const same = (xs: number[]) => xs.every((x) => x === xs[0]);
    assert.ok(same(pretraining) && same(annealed), `tensors per line: ${metrics.map((m) => m.tensors).join(', ')}`);
    // Adam creates its state lazily: the log-variance head (weight and bias) gets gradients only once
    // the KL term is on, and its moments then form a group of their own: one flat m, one flat v
    // (on tensorflow; elsewhere each variable is a group). Anything else would be a leak.
    assert.equal(annealed[0] - pretraining[0], tf.getBackend() === 'tensorflow' ? 2 : 2 * 2);
  });

  test('encode, decode, sample, interpolate and evaluate leave no tensors behind', async () => {
    const vae = await loadedVae();
    // Warm up once: a backend may create lasting helpers on first use.
    await vae.decodeCodes(await vae.encodeToCodes(SENTENCES[0]));
    const before = tf.memory().numTensors;
    for (let i = 0; i < 2; i++) {
      const codes = await vae.encodeToCodes(TINY_DOC);
      await vae.decodeCodes(codes, { strategy: 'greedy' });
      await vae.decodeCodes(codes.slice(0, 2), { strategy: 'beam', beamWidth: 3 });
      await vae.encode(SENTENCES[1], { sample: true, seed: 5 });
      await vae.sample(3, { seed: i });
      await vae.reconstruct(SENTENCES[2]);
      await vae.interpolate(SENTENCES[0], SENTENCES[3], 3);
      await vae.evaluateTexts([TINY_DOC]);
      assert.equal(tf.memory().numTensors, before, `after round ${i + 1}`);
    }
  });

  test('seeded sample() is deterministic: same seed same texts, another seed other texts', async () => {
    const vae = await loadedVae();
    const a = await vae.sample(4, { seed: 11, temperature: 1 });
    const b = await vae.sample(4, { seed: 11, temperature: 1 });
    const c = await vae.sample(4, { seed: 12, temperature: 1 });
    assert.equal(a.length, 4);
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
  });
});

describe('training runs', () => {
  test('an abort before the first step still saves a loadable bundle', async () => {
    const controller = new AbortController();
    controller.abort();
    const run = await trainTiny({ maxSteps: 100, signal: controller.signal });
    assert.equal(run.result.cancelled, true);
    assert.equal(run.result.steps, 0);
    const vae = await TextVae.load(run.dir);
    vae.dispose();
  });

  test('a run needs a bound and some text', async () => {
    await assert.rejects(trainTiny({ maxSteps: undefined }), /give a bound/);
    await assert.rejects(trainTiny({ train: [] }), /no training text/);
  });
});

test('learning rate: warm-up, cosine to 10%, and a fresh warm-up after resuming that never exceeds the schedule', () => {
  const base = 2e-3;
  assert.equal(learningRateAt(0, base, 100, 1000), base / 100);
  assert.equal(learningRateAt(99, base, 100, 1000), base);
  assert.ok(Math.abs(learningRateAt(1000, base, 100, 1000) - base * 0.1) < 1e-12);
  // Resumed at step 500: the rate restarts at base/100 and climbs until it meets the cosine.
  assert.equal(learningRateAt(500, base, 100, 1000, 500), base / 100);
  assert.equal(learningRateAt(549, base, 100, 1000, 500), base / 2);
  for (let step = 500; step <= 1000; step += 10) {
    assert.ok(learningRateAt(step, base, 100, 1000, 500) <= learningRateAt(step, base, 100, 1000) + 1e-15);
  }
  assert.equal(learningRateAt(700, base, 100, 1000, 500), learningRateAt(700, base, 100, 1000));
});

test('Adam: a variable that first gets a gradient late still moves about one learning rate on its first update', () => {
  // The log-variance head gets no gradient during AE pretraining; its bias correction must start at its own first step.
  const adam = new Adam({ clipNorm: 1e9 });
  const early = tf.variable(tf.zeros([4]));
  const late = tf.variable(tf.zeros([4]));
  for (let i = 0; i < 200; i++)
    tf.tidy(() => adam.apply([early, late], { [early.name]: tf.ones([4]) }, 0.01).dispose());
  tf.tidy(() =>
    adam.apply([early, late], { [early.name]: tf.ones([4]), [late.name]: tf.fill([4], 0.3) }, 0.01).dispose(),
  );
  for (const x of late.dataSync())
    assert.ok(Math.abs(Math.abs(x) - 0.01) < 1e-4, `first update of the late variable: ${x}`);
  adam.dispose();
  early.dispose();
  late.dispose();
});

/** Adam as the textbook writes it, per variable, in float64: the reference for the tfjs one. */
class ReferenceAdam {
  private readonly state = new Map<string, { m: Float64Array; v: Float64Array; t: number }>();
  constructor(private readonly clipNorm: number) {}
  step(params: Record<string, Float64Array>, grads: Record<string, Float64Array>, lr: number): number {
    const names = Object.keys(grads);
    const norm = Math.sqrt(names.reduce((s, n) => s + grads[n].reduce((a, g) => a + g * g, 0), 0));
    const scale = this.clipNorm / Math.max(norm, this.clipNorm);
    for (const n of names) {
      const st = this.state.get(n) ?? {
        m: new Float64Array(params[n].length),
        v: new Float64Array(params[n].length),
        t: 0,
      };
      this.state.set(n, st);
      st.t++;
      for (let i = 0; i < params[n].length; i++) {
        const g = grads[n][i] * scale;
        st.m[i] = 0.9 * st.m[i] + 0.1 * g;
        st.v[i] = 0.999 * st.v[i] + 0.001 * g * g;
        params[n][i] -= (lr * (st.m[i] / (1 - 0.9 ** st.t))) / (Math.sqrt(st.v[i] / (1 - 0.999 ** st.t)) + 1e-8);
      }
    }
    return norm;
  }
}

test('Adam matches the per-variable textbook update, with clipping, a late variable and one that skips steps', () => {
  const shapes: Record<string, number[]> = { a: [3, 4], b: [5], c: [2, 2], d: [7] };
  // Which variables get a gradient at each step: c joins late, d drops out for two steps and comes back.
  const schedule = [
    ['a', 'b', 'd'],
    ['a', 'b', 'd'],
    ['a', 'b', 'c'],
    ['a', 'b', 'c'],
    ['a', 'b', 'c', 'd'],
    ['b', 'd'],
  ];
  const adam = new Adam({ clipNorm: 1.5 });
  const ref = new ReferenceAdam(1.5);
  let seed = 1;
  const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1;
  const vars: Record<string, tf.Variable> = {};
  const params: Record<string, Float64Array> = {};
  for (const [n, shape] of Object.entries(shapes)) {
    const init = Float32Array.from({ length: shape.reduce((x, y) => x * y, 1) }, rand);
    vars[n] = tf.variable(tf.tensor(init, shape));
    params[n] = Float64Array.from(init);
  }
  let clipped = 0;
  schedule.forEach((names, step) => {
    const grads: Record<string, tf.Tensor> = {};
    const grads64: Record<string, Float64Array> = {};
    for (const n of names) {
      const g = Float32Array.from({ length: params[n].length }, () => rand() * (step % 2 ? 2 : 0.1));
      grads[vars[n].name] = tf.tensor(g, shapes[n]);
      grads64[n] = Float64Array.from(g);
    }
    const expectedNorm = ref.step(params, grads64, 0.01);
    if (expectedNorm > 1.5) clipped++;
    const norm = adam.apply(Object.values(vars), grads, 0.01);
    assert.ok(Math.abs(norm.dataSync()[0] - expectedNorm) < 1e-5 * expectedNorm, `norm at step ${step}`);
    tf.dispose([norm, ...Object.values(grads)]);
    for (const n of Object.keys(shapes)) {
      const got = vars[n].dataSync();
      for (let i = 0; i < got.length; i++)
        assert.ok(
          Math.abs(got[i] - params[n][i]) < 1e-6,
          `${n}[${i}] after step ${step}: ${got[i]} vs ${params[n][i]}`,
        );
    }
  });
  assert.ok(clipped > 0 && clipped < schedule.length, 'some steps clip, some do not');
  adam.dispose();
  for (const v of Object.values(vars)) v.dispose();
});
