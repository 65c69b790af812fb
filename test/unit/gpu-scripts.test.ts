/**
 * The GPU training path's two ends that run here: the dataset export (it must hold exactly the
 * engine's examples) and the import (it must refuse weights whose loss the engine does not reproduce).
 * The PyTorch trainer in between needs torch: it checks itself against the engine by its parity step,
 * and test/slow/gpu-ddp.test.ts runs it on the CPU, as one process and as two under torchrun.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';

import { REPO } from '../helpers/cli';
import { runGpuScript } from '../helpers/gpu';
import { SENTENCES, setupBackend } from '../helpers/engine';
import { makeTempDir, writeFiles } from '../helpers/tmp';
import { Tokenizer } from '../../src/core/tokenizer';
import { TextVaeModel, makeBatch } from '../../src/core/model';
import { elboOptions, objective } from '../../src/core/objective';
import { loadBundle, saveBundle } from '../../src/core/bundle';
import type { ModelConfig } from '../../src/core/types';

function readRows(dir: string, split: string, maxTokens: number): { rows: number[][]; bytes: number[] } {
  const toks = fs.readFileSync(path.join(dir, `${split}.tokens`));
  const bytes = fs.readFileSync(path.join(dir, `${split}.bytes`));
  const rows: number[][] = [];
  for (let i = 0; i < toks.length / 2 / maxTokens; i++) {
    const row: number[] = [];
    for (let j = 0; j < maxTokens; j++) {
      const t = toks.readUInt16LE((i * maxTokens + j) * 2);
      if (t !== 0) row.push(t);
    }
    rows.push(row);
  }
  return { rows, bytes: Array.from({ length: bytes.length / 4 }, (_, i) => bytes.readUInt32LE(i * 4)) };
}

let dataDir = '';
let corpus: Record<string, string> = {};

before(async () => {
  await setupBackend();
  // Eight small documents: at val fraction 0.25 some are held out by the hash of their path.
  corpus = Object.fromEntries(
    Array.from({ length: 8 }, (_, i) => [
      `docs/part${i}.txt`,
      `${SENTENCES[i % 6]}\n\n${SENTENCES[(i + 1) % 6]} (${i})\n`,
    ]),
  );
  const src = writeFiles(makeTempDir('textvae-gpu-src-'), corpus);
  dataDir = path.join(makeTempDir('textvae-gpu-data-'), 'data');
  const r = runGpuScript('export-dataset.ts', ['--data', src, '--out', dataDir, '--val-fraction', '0.25']);
  assert.equal(r.status, 0, r.stderr);
});

test('the exported dataset holds the corpus as the engine tokenises it: every row decodes to its text and byte count', () => {
  const meta = JSON.parse(fs.readFileSync(path.join(dataDir, 'dataset.json'), 'utf8'));
  assert.equal(meta.format, 'textvae-dataset');
  const tokenizer = Tokenizer.fromJSON(JSON.parse(fs.readFileSync(path.join(dataDir, 'tokenizer.json'), 'utf8')));
  const train = readRows(dataDir, 'train', meta.config.maxTokens);
  const val = readRows(dataDir, 'val', meta.config.maxTokens);
  assert.equal(train.rows.length, meta.train.examples);
  assert.equal(val.rows.length, meta.val.examples);
  assert.ok(meta.train.examples > 0 && meta.val.examples > 0, 'both parts are non-empty');
  const decoded = [...train.rows, ...val.rows].map((r) => tokenizer.decode(r));
  [...train.bytes, ...val.bytes].forEach((b, i) => assert.equal(Buffer.byteLength(decoded[i]), b));
  // Every sentence of the corpus is in exactly one part, and held-out text never reaches training.
  const trainText = decoded.slice(0, train.rows.length).join('\n');
  const valText = decoded.slice(train.rows.length).join('\n');
  for (const [, text] of Object.entries(corpus)) {
    const marker = text.match(/\(\d\)/)![0];
    assert.ok(trainText.includes(marker) !== valText.includes(marker), `${marker} is in exactly one part`);
  }
  assert.equal(meta.splitMethod, 'files');
  assert.equal(meta.heldOutFiles, Object.keys(corpus).filter((_, i) => valText.includes(`(${i})`)).length);
});

test('an export whose parity model has another tokenizer is refused and leaves the earlier export as it was', () => {
  const before = fs.readFileSync(path.join(dataDir, 'dataset.json'), 'utf8');
  const src = writeFiles(makeTempDir('textvae-gpu-src2-'), corpus);
  const r = runGpuScript('export-dataset.ts', [
    '--data',
    src,
    '--out',
    dataDir,
    '--val-fraction',
    '0.25',
    '--parity-model',
    path.join(REPO, 'models', 'default'),
  ]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /was trained with another tokenizer: parity needs the same corpus, split and seed/);
  assert.equal(fs.readFileSync(path.join(dataDir, 'dataset.json'), 'utf8'), before);
  assert.ok(!fs.existsSync(path.join(dataDir, 'parity')));
});

test('import writes a loadable bundle when the engine reproduces the trainer loss, and refuses (leaving the old bundle) when not', async () => {
  const meta = JSON.parse(fs.readFileSync(path.join(dataDir, 'dataset.json'), 'utf8'));
  const tokenizer = JSON.parse(fs.readFileSync(path.join(dataDir, 'tokenizer.json'), 'utf8'));
  const config: ModelConfig = {
    ...meta.config,
    modelDim: 32,
    latentDim: 8,
    encoderLayers: 2,
    encoderDilations: [1, 2],
    encoderPositions: true,
    decoderDilations: [1, 2],
  };
  // A "trainer output": weights in the bundle format plus the trainer's figures on the first validation rows.
  const runDir = path.join(makeTempDir('textvae-gpu-run-'), 'run');
  const model = new TextVaeModel(config, undefined, 9);
  await saveBundle(runDir, { config, tokenizer, weights: await model.exportWeights() });
  const { rows, bytes } = readRows(dataDir, 'val', config.maxTokens);
  const batch = makeBatch(rows, bytes, config.maxTokens);
  const [recon, kl, correct, targetTokens] = tf.tidy(() => {
    const o = objective(model, batch, elboOptions());
    return [o.reconNats, o.klNats, o.correct(), o.targetTokens].map((t) => t.dataSync()[0]);
  });
  model.dispose();
  const writeResult = (reconNats: number) =>
    fs.writeFileSync(
      path.join(runDir, 'result.json'),
      JSON.stringify({
        steps: 10,
        elapsed_s: 1,
        chosen: 'final',
        device: 'test',
        torch: 'none',
        backend: 'torch-cpu',
        args: {},
        val: {},
        check: { examples: rows.length, recon_nats: reconNats, kl_nats: kl, correct, target_tokens: targetTokens },
      }),
    );

  const out = path.join(makeTempDir('textvae-gpu-out-'), 'model');
  writeResult(recon);
  const ok = runGpuScript('import-model.ts', ['--run', runDir, '--data', dataDir, '--out', out]);
  assert.equal(ok.status, 0, ok.stderr);
  const bundle = await loadBundle(out);
  assert.deepEqual(bundle.config.encoderDilations, [1, 2]);
  assert.equal(bundle.config.encoderPositions, true);
  const fingerprint = bundle.fingerprint;

  const again = runGpuScript('import-model.ts', ['--run', runDir, '--data', dataDir, '--out', out]);
  assert.equal(again.status, 1);
  assert.match(
    again.stderr,
    /--out .*model already holds a model: choose a new folder, or add --overwrite to replace it/,
  );

  writeResult(recon * 1.01);
  const bad = runGpuScript('import-model.ts', ['--run', runDir, '--data', dataDir, '--out', out, '--overwrite']);
  assert.equal(bad.status, 1);
  assert.match(
    bad.stderr,
    /import-model: the engine's loss \([\d.]+ nats\) differs from the trainer's \([\d.]+\): not importing/,
  );
  assert.equal((await loadBundle(out)).fingerprint, fingerprint, 'the earlier bundle is untouched');
});
