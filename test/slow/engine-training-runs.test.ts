/**
 * The slower training runs (npm run test:slow, part of npm test; fine-tuning has its own files
 * here): determinism, dropout, cancelling, resuming and the sparse variant, each a fresh run of
 * train() on the default backend.
 */
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { TextVae } from '../../src/core/textVae';
import { readManifest } from '../../src/core/bundle';
import { learningRateAt } from '../../src/core/optimizer';
import {
  LEARN_STEPS,
  SENTENCES,
  TINY_DOC,
  assertExactReconstruction,
  once,
  setupBackend,
  sharedTiny,
  trainTiny,
  trainingFacts,
  type TinyRun,
} from '../helpers/engine';
import { makeTempDir } from '../helpers/tmp';

/** The six sentences learnt by an 'ae' model: the same run as test/unit/engine-training.test.ts uses. */
const aeRun = once(() => sharedTiny({ maxSteps: LEARN_STEPS, config: { variant: 'ae' } }));

before(async () => {
  await setupBackend();
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
});
