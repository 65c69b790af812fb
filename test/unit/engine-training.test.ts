/**
 * Real (tiny) training runs through train(): learning, exact reconstruction from codes after loading
 * the saved bundle, tensor leaks, determinism, cancellation, resume and the variants' metrics.
 * Runs on the default backend (TEXTVAE_BACKEND, else auto).
 */
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';

import { TextVae } from '../../src/core/textVae';
import { readManifest } from '../../src/core/bundle';
import { Adam, learningRateAt } from '../../src/core/optimizer';
import { SENTENCES, TINY_CONFIG, TINY_DOC, setupBackend, sharedTiny, trainTiny, type TinyRun } from '../helpers/engine';
import { makeTempDir } from '../helpers/tmp';

/** Runs `make` once, on first use, and shares the promise. */
function once<T>(make: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | null = null;
  return () => (p ??= make());
}

const LATENT = TINY_CONFIG.latentDim!;
/** Enough steps for the tiny model to memorise the six sentences (it needs about 120). */
const LEARN_STEPS = 160;

const aeRun = once(() => sharedTiny({ maxSteps: LEARN_STEPS, config: { variant: 'ae' } }));
const vaeRun = once(() =>
  sharedTiny({ maxSteps: LEARN_STEPS, logEvery: 10, val: [TINY_DOC], config: { variant: 'vae' } }),
);
const loadedVae = once(async () => TextVae.load((await vaeRun()).dir));

interface TrainingFacts {
  step: number;
  finished: boolean;
}

async function trainingFacts(dir: string): Promise<TrainingFacts> {
  return (await readManifest(dir)).training as TrainingFacts;
}

/** Encodes the document, checks there is one chunk per sentence, and decodes every code alone. */
async function assertExactReconstruction(dir: string): Promise<void> {
  const vae = await TextVae.load(dir);
  try {
    const chunks = vae.chunk(TINY_DOC);
    assert.equal(chunks.length, SENTENCES.length, 'precondition: one chunk per sentence');
    const codes = await vae.encodeToCodes(TINY_DOC);
    assert.equal(codes.length, chunks.length);
    for (let i = 0; i < codes.length; i++) {
      assert.match(codes[i], /^tvae1:[0-9a-f]{8}:/);
      assert.equal(
        await vae.decodeCodes([codes[i]], { strategy: 'greedy' }),
        chunks[i],
        `sentence ${i} from ${codes[i]}`,
      );
    }
    assert.equal(await vae.decodeCodes(codes), TINY_DOC);
    // The codes carry the information: every sentence has its own code.
    assert.equal(new Set(codes.map((c) => c.split(':')[2])).size, codes.length);
  } finally {
    vae.dispose();
  }
}

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
    // the KL term is on, adding their two moment estimates each. Anything else would be a leak.
    assert.equal(annealed[0] - pretraining[0], 2 * 2);
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
  test('the same seed twice gives bit-identical weights; another seed does not', async () => {
    const opts = { maxSteps: 40, logEvery: 20, config: { variant: 'vae' as const } };
    const a = await trainTiny({ ...opts, seed: 21 });
    const b = await trainTiny({ ...opts, seed: 21 });
    const c = await trainTiny({ ...opts, seed: 22 });
    const bin = (r: TinyRun) => fs.readFileSync(path.join(r.dir, 'weights.bin'));
    assert.ok(bin(a).equals(bin(b)), 'weights.bin differs between two runs with seed 21');
    assert.equal(a.result.fingerprint, b.result.fingerprint);
    assert.deepEqual(
      a.metrics.map((m) => m.loss),
      b.metrics.map((m) => m.loss),
    );
    assert.ok(!bin(a).equals(bin(c)), 'seed 22 gave the same weights as seed 21');
    assert.notEqual(a.result.fingerprint, c.result.fingerprint);
  });

  test('dropout: seeded runs stay bit-identical, dropout changes training, and the model still learns the sentences', async () => {
    const opts = { maxSteps: LEARN_STEPS, config: { variant: 'ae' as const }, dropout: 0.1 };
    const a = await trainTiny(opts);
    const b = await trainTiny({ ...opts, maxSteps: 40, logEvery: 20 });
    const b2 = await trainTiny({ ...opts, maxSteps: 40, logEvery: 20 });
    const bin = (r: TinyRun) => fs.readFileSync(path.join(r.dir, 'weights.bin'));
    assert.ok(bin(b).equals(bin(b2)), 'two seeded runs with dropout differ');
    assert.notEqual(a.metrics[0].loss, (await aeRun()).metrics[0].loss, 'dropout 0.1 trained exactly like no dropout');
    assert.equal(
      ((await readManifest(a.dir)).training as { dropout?: number }).dropout,
      0.1,
      'the manifest records the rate',
    );
    // Evaluation runs without dropout, so the memorised sentences come back exactly.
    await assertExactReconstruction(a.dir);
  });

  test('cancelling through an AbortSignal stops the run and leaves a loadable bundle', async () => {
    const controller = new AbortController();
    const run = await trainTiny({
      maxSteps: 100_000,
      logEvery: 10,
      signal: controller.signal,
      onMetrics: (m) => {
        if (m.step >= 20) controller.abort();
      },
    });
    assert.equal(run.result.cancelled, true);
    assert.equal(run.result.steps, 20, 'stops at the first step boundary after the abort');
    assert.ok(
      run.logs.some((l) => l.startsWith('cancelled; saved')),
      run.logs.join('\n'),
    );
    const t = await trainingFacts(run.dir);
    assert.equal(t.step, 20);
    assert.equal(t.finished, false);
    const vae = await TextVae.load(run.dir);
    assert.equal(vae.fingerprint, run.result.fingerprint);
    assert.equal((await vae.encodeToCodes(SENTENCES[0])).length, 1);
    vae.dispose();
  });

  test('an abort before the first step still saves a loadable bundle', async () => {
    const controller = new AbortController();
    controller.abort();
    const run = await trainTiny({ maxSteps: 100, signal: controller.signal });
    assert.equal(run.result.cancelled, true);
    assert.equal(run.result.steps, 0);
    const vae = await TextVae.load(run.dir);
    vae.dispose();
  });

  test('resume continues from the saved step with the saved weights and tokenizer', async () => {
    const base = await aeRun();
    const out = path.join(makeTempDir('textvae-resume-'), 'model');
    const run = await trainTiny({ resume: base.dir, maxSteps: LEARN_STEPS + 20, logEvery: 10 }, out);
    assert.ok(
      run.logs.some((l) => l.includes(`at step ${LEARN_STEPS}`)),
      run.logs.join('\n'),
    );
    assert.deepEqual(
      run.metrics.map((m) => m.step),
      [LEARN_STEPS + 10, LEARN_STEPS + 20],
    );
    assert.equal(run.result.steps, LEARN_STEPS + 20);
    assert.equal((await trainingFacts(out)).step, LEARN_STEPS + 20);
    // A fresh model starts near ln(vocab) ≈ 5.7 nats per token; the resumed one keeps what it learnt.
    assert.ok(run.metrics[0].loss < 1, `loss right after resuming: ${run.metrics[0].loss}`);
    // Adam restarts with empty moments, so the learning rate warms up again (20 steps in trainTiny).
    assert.equal(
      run.metrics[0].learning_rate,
      learningRateAt(LEARN_STEPS + 9, 3e-3, 20, LEARN_STEPS + 20, LEARN_STEPS),
    );
    assert.deepEqual(
      JSON.parse(fs.readFileSync(path.join(out, 'tokenizer.json'), 'utf8')),
      JSON.parse(fs.readFileSync(path.join(base.dir, 'tokenizer.json'), 'utf8')),
    );
    assert.deepEqual(
      JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8')),
      JSON.parse(fs.readFileSync(path.join(base.dir, 'config.json'), 'utf8')),
    );
    await assertExactReconstruction(out);
  });

  test("the 'sparse' variant reports sparsity > 0 (and more than 'ae')", async () => {
    const sparse = await trainTiny({ maxSteps: 60, logEvery: 30, val: [TINY_DOC], config: { variant: 'sparse' } });
    const ae = await aeRun();
    assert.ok(sparse.result.final.sparsity > 0, `sparsity ${sparse.result.final.sparsity}`);
    assert.ok(sparse.metrics.every((m) => m.sparsity > 0));
    assert.ok(sparse.result.final.sparsity > ae.result.final.sparsity);
    assert.equal(sparse.result.final.kl_bits_per_byte, 0);
    // Codes of a sparse model are non-negative (ReLU), so its prior samples are too.
    const vae = await TextVae.load(sparse.dir);
    for (const z of await vae.encode(TINY_DOC)) assert.ok(z.every((v) => v >= 0));
    for (const z of await vae.priorSamples(5, 1)) assert.ok(z.every((v) => v >= 0));
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
