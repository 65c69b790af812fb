/**
 * Fine-tuning (train({ from })): a new run that starts from a bundle's weights and keeps its
 * tokenizer and architecture, refuses changes to them clearly, never writes to the parent and
 * records the parent's fingerprint.
 */
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { TextVae } from '../../src/core/textVae';
import { loadBundle, readManifest, saveBundle } from '../../src/core/bundle';
import { FINE_TUNE_DEFAULTS, fineTuneConfig, train, type TrainOptions } from '../../src/core/train';
import { learningRateAt } from '../../src/core/optimizer';
import type { MetricsLine } from '../../src/core/types';
import { DEFAULT_CONFIG } from '../../src/core/model';
import { SENTENCES, TINY_DOC, setupBackend, sharedTiny, type TinyRun } from '../helpers/engine';
import { makeTempDir } from '../helpers/tmp';
import { sentenceMetrics } from '../../src/core/similarity';

let parent: TinyRun;

/** sha256 of every file of a folder, by name: equal before and after means nothing was written. */
function folderHashes(dir: string): Record<string, string> {
  return Object.fromEntries(
    fs
      .readdirSync(dir)
      .sort()
      .map((n) => [
        n,
        createHash('sha256')
          .update(fs.readFileSync(path.join(dir, n)))
          .digest('hex'),
      ]),
  );
}

function fineTune(options: Partial<TrainOptions>): ReturnType<typeof train> {
  return train({
    train: ['Completely different words about ships, harbours and tides.\n\nThe tide turns at noon.'],
    val: [],
    out: path.join(makeTempDir('textvae-finetune-'), 'model'),
    from: parent.dir,
    seed: 5,
    batchSize: 6,
    maxSteps: 10,
    logEvery: 5,
    ...options,
  });
}

before(async () => {
  await setupBackend();
  // The six sentences, learnt well enough to come back exactly from their codes.
  parent = await sharedTiny({ maxSteps: 160, config: { variant: 'ae' } });
});

describe('train({ from })', () => {
  test('keeps the tokenizer and config, records the parent fingerprint and leaves the parent untouched', async () => {
    const before = folderHashes(parent.dir);
    const result = await fineTune({});
    assert.equal(result.steps, 10);
    assert.deepEqual(folderHashes(parent.dir), before, 'the parent bundle was modified');
    assert.equal(
      fs.readFileSync(path.join(result.out, 'tokenizer.json'), 'utf8'),
      fs.readFileSync(path.join(parent.dir, 'tokenizer.json'), 'utf8'),
    );
    assert.equal(
      fs.readFileSync(path.join(result.out, 'config.json'), 'utf8'),
      fs.readFileSync(path.join(parent.dir, 'config.json'), 'utf8'),
    );
    const training = (await readManifest(result.out)).training as {
      step: number;
      parent?: { fingerprint: string; name?: string; dir?: string };
    };
    assert.equal(training.parent?.fingerprint, parent.result.fingerprint);
    assert.equal(training.parent?.name, path.basename(parent.dir));
    assert.equal(training.parent?.dir, undefined, 'no absolute path of the trainer leaks into the bundle');
    assert.equal(training.step, 10, 'a fine-tuning run counts its own steps');
    assert.notEqual(result.fingerprint, parent.result.fingerprint);
  });

  test("starts from the parent's weights: a few tiny steps keep its exact reconstructions", async () => {
    // From scratch, ten steps reconstruct nothing; from the parent they keep what it learnt.
    const result = await fineTune({ train: [TINY_DOC], learningRate: 1e-6 });
    const vae = await TextVae.load(result.out);
    try {
      const codes = await vae.encodeToCodes(TINY_DOC);
      assert.equal(codes.length, SENTENCES.length);
      assert.equal(await vae.decodeCodes(codes, { strategy: 'greedy' }), TINY_DOC);
    } finally {
      vae.dispose();
    }
  });

  test('an architecture setting that differs from the parent is refused, naming it, and nothing is written', async () => {
    const out = path.join(makeTempDir('textvae-finetune-'), 'model');
    const config = (await loadBundle(parent.dir)).config;
    await assert.rejects(fineTune({ out, config: { modelDim: config.modelDim * 2, variant: 'vae' } }), (err: Error) => {
      assert.match(err.message, /keeps the parent model's architecture/);
      assert.match(err.message, new RegExp(`modelDim ${config.modelDim * 2} \\(the parent has ${config.modelDim}\\)`));
      assert.match(err.message, /variant "vae" \(the parent has "ae"\)/);
      return true;
    });
    assert.equal(fs.existsSync(out), false);
    // Repeating the parent's own settings is fine.
    const same = await fineTune({ config: { modelDim: config.modelDim, variant: 'ae' }, maxSteps: 1 });
    assert.equal(same.steps, 1);
  });

  test('a parent whose weights do not fit its config is refused with the tensor and both shapes', async () => {
    const bundle = await loadBundle(parent.dir);
    const [name, w] = Object.entries(bundle.weights).find(([n]) => n === 'embed')!;
    const broken = path.join(makeTempDir('textvae-finetune-'), 'broken');
    await saveBundle(broken, {
      config: bundle.config,
      tokenizer: bundle.tokenizer,
      weights: {
        ...bundle.weights,
        [name]: { shape: [w.shape[0] - 1, w.shape[1]], data: w.data.subarray(w.shape[1]) },
      },
    });
    await assert.rejects(
      fineTune({ from: broken }),
      new RegExp(
        `broken: weight embed has shape \\[${w.shape[0] - 1},${w.shape[1]}\\], expected \\[${w.shape.join(',')}\\]`,
      ),
    );
    // A config whose vocabulary is not the tokenizer's: every shape agrees with config.json, the tokenizer does not.
    const vocab = bundle.config.vocabSize + 3;
    const grown = path.join(makeTempDir('textvae-finetune-'), 'grown');
    const weights = { ...bundle.weights };
    for (const n of ['embed', 'out.b']) {
      const t = bundle.weights[n];
      const shape = [vocab, ...t.shape.slice(1)];
      weights[n] = { shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) };
    }
    await saveBundle(grown, { config: { ...bundle.config, vocabSize: vocab }, tokenizer: bundle.tokenizer, weights });
    await assert.rejects(
      fineTune({ from: grown }),
      new RegExp(`tokenizer.json has ${bundle.config.vocabSize} tokens but config.json says vocabSize ${vocab}`),
    );
  });

  test('resuming a fine-tuning checkpoint keeps its parent and the fine-tuning schedule', async () => {
    const first = await fineTune({ maxSteps: 4 });
    const metrics: MetricsLine[] = [];
    const resumed = await train({
      train: [TINY_DOC],
      val: [],
      out: path.join(makeTempDir('textvae-finetune-'), 'model'),
      resume: first.out,
      batchSize: 6,
      maxSteps: 6,
      logEvery: 1,
      onMetrics: (m) => metrics.push(m),
    });
    assert.equal(resumed.steps, 6);
    const training = (await readManifest(resumed.out)).training as { parent?: { fingerprint: string } };
    assert.equal(training.parent?.fingerprint, parent.result.fingerprint);
    // Step 5 of the resumed run: the fine-tuning rate warming up again from step 4.
    assert.equal(
      metrics[0].learning_rate,
      learningRateAt(4, FINE_TUNE_DEFAULTS.learningRate, FINE_TUNE_DEFAULTS.warmupSteps, 6, 4),
    );
  });

  test('the output folder may not be the parent, and from and resume do not mix', async () => {
    const before = folderHashes(parent.dir);
    await assert.rejects(fineTune({ out: parent.dir }), /must differ from the model fine-tuned from/);
    await assert.rejects(fineTune({ resume: parent.dir }), /either a model to fine-tune from or a checkpoint/);
    assert.deepEqual(folderHashes(parent.dir), before);
  });
});

test('roundTrip and sentenceMetrics: a model that reconstructs its training sentences scores exact 1', async () => {
  const vae = await TextVae.load(parent.dir);
  try {
    const chunks = vae.chunk(TINY_DOC);
    const rows = await vae.roundTrip(chunks, { strategy: 'greedy' });
    assert.deepEqual(
      rows.map((r) => r.output),
      chunks,
    );
    assert.ok(
      rows.every((r) => r.codes.length === 1 && r.codes[0].startsWith(`tvae1:${vae.fingerprint.slice(0, 8)}:`)),
    );
    const m = sentenceMetrics(rows);
    assert.deepEqual(
      { sentences: m.sentences, exact: m.exact, char_similarity: m.char_similarity, word_f1: m.word_f1 },
      { sentences: SENTENCES.length, exact: 1, char_similarity: 1, word_f1: 1 },
    );
    // 16 latent dimensions: 2 + 16 + 4 bytes, 30 base64url characters per code.
    const expected = chunks.reduce((s, c) => s + 30 / c.trim().length, 0) / chunks.length;
    assert.ok(Math.abs(m.code_chars_per_text_char - expected) < 1e-12);
  } finally {
    vae.dispose();
  }
});

test('fineTuneConfig: the parent config, unless a requested field differs', () => {
  const parentConfig = { ...DEFAULT_CONFIG, encoderLayers: 2 };
  assert.deepEqual(fineTuneConfig(parentConfig, {}), parentConfig);
  assert.deepEqual(fineTuneConfig(parentConfig, { latentDim: 32, vocabSize: undefined }), parentConfig);
  // Absent encoder options mean the old defaults: dilation 1 everywhere, no positions.
  assert.deepEqual(fineTuneConfig(parentConfig, { encoderDilations: [1, 1], encoderPositions: false }), parentConfig);
  assert.throws(
    () => fineTuneConfig(parentConfig, { decoderDilations: [1, 2], latentDim: 8 }),
    /latentDim 8 \(the parent has 32\).*|decoderDilations \[1,2\] \(the parent has \[1,2,4,8,16\]\)/,
  );
  assert.throws(
    () => fineTuneConfig(parentConfig, { encoderPositions: true }),
    /encoderPositions true \(the parent has false\)/,
  );
});
