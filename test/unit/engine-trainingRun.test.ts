/**
 * A training run on a corpus (core/trainingRun.ts), as the CLI and the worker start one: the
 * config from the caller's choices, the held-out split and one provenance record.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { defaultCodeScheme, modelConfigFrom, trainOnDocuments } from '../../src/core/trainingRun';
import { describeSplit, normalizeTrainingFacts } from '../../src/core/provenance';
import { CorpusError } from '../../src/core/corpus';
import { TextVae } from '../../src/core/textVae';
import { SENTENCES, setupBackend } from '../helpers/engine';
import { makeTempDir, writeFiles } from '../helpers/tmp';

before(async () => {
  await setupBackend();
});

test('new vae models write precision codes; other variants, fine-tuning and resuming keep theirs', () => {
  assert.equal(defaultCodeScheme({}, {}), 'precision');
  assert.equal(defaultCodeScheme({ variant: 'vae' }, {}), 'precision');
  assert.equal(defaultCodeScheme({ variant: 'ae' }, {}), undefined);
  assert.equal(defaultCodeScheme({}, { from: 'parent' }), undefined);
  assert.equal(defaultCodeScheme({}, { resume: 'checkpoint' }), undefined);
  assert.equal(defaultCodeScheme({ codeScheme: 'int8' }, {}), 'int8');
  assert.equal(defaultCodeScheme({ codeScheme: 'precision' }, { from: 'parent' }), 'precision');
  assert.deepEqual(modelConfigFrom({ codeScheme: 'int8' }), {});
  assert.deepEqual(modelConfigFrom({ codeScheme: 'precision' }), { codeScheme: 'precision' });
});

test('modelConfigFrom keeps only the choices made; encoder dilations set the encoder depth', () => {
  assert.deepEqual(modelConfigFrom({}), {});
  assert.deepEqual(
    modelConfigFrom({ variant: 'ae', modelDim: 64, encoderDilations: [1, 2, 4], encoderPositions: false }),
    {
      variant: 'ae',
      modelDim: 64,
      encoderDilations: [1, 2, 4],
      encoderLayers: 3,
    },
  );
});

test('describeSplit says what is trained on and what is held out', () => {
  assert.equal(describeSplit(12, { method: 'files', heldOutFiles: 1 }), '12 documents: 11 for training, 1 held out');
  assert.equal(
    describeSplit(1, { method: 'paragraphs', heldOutFiles: 0 }),
    '1 document: 1 for training, some paragraphs of the only document held out',
  );
  assert.equal(describeSplit(3, { method: 'none', heldOutFiles: 0 }), '3 documents: 3 for training, nothing held out');
});

test("normalizeTrainingFacts renames the extension's old heldOutBy to splitMethod and leaves the rest", () => {
  assert.deepEqual(normalizeTrainingFacts({ heldOutBy: 'files', step: 3 }), { splitMethod: 'files', step: 3 });
  const current = { splitMethod: 'none', step: 1 };
  assert.equal(normalizeTrainingFacts(current), current);
  assert.equal(normalizeTrainingFacts(undefined), undefined);
  assert.equal(normalizeTrainingFacts('odd'), 'odd');
});

test('trainOnDocuments skips vanished documents, records one provenance shape, and never replaces a model', async () => {
  const root = makeTempDir('textvae-run-');
  const docs = writeFiles(path.join(root, 'docs'), {
    'a/one.txt': SENTENCES.slice(0, 2).join('\n\n'),
    'b/one.txt': SENTENCES.slice(2, 4).join('\n\n'),
    'c.txt': SENTENCES.slice(4).join('\n\n'),
  });
  const paths = ['a/one.txt', 'b/one.txt', 'c.txt', 'gone.txt'].map((p) => path.join(docs, p));
  const out = path.join(root, 'model');
  const logs: string[] = [];
  const run = {
    paths,
    out,
    valFraction: 0.3,
    architecture: { variant: 'ae' as const, vocabSize: 300, modelDim: 32, latentDim: 8, maxTokens: 32 },
    maxSteps: 2,
    onLog: (m: string) => logs.push(m),
  };
  const result = await trainOnDocuments(run);
  assert.deepEqual(result.skipped, [{ path: path.join(docs, 'gone.txt'), reason: 'no longer exists' }]);
  assert.equal(result.files, 3);
  assert.ok(
    logs.includes(`${describeSplit(3, result.split)}; backend ${logs.join('\n').match(/backend (\w+)/)![1]}`),
    logs.join('\n'),
  );

  const manifest = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8'));
  const t = manifest.training;
  assert.deepEqual(
    [t.source, t.files, t.heldOutFiles, t.splitMethod, t.valFraction, 'heldOutBy' in t],
    ['vscode', 3, result.split.heldOutFiles, result.split.method, 0.3, false],
  );
  assert.ok(result.split.heldOutFiles >= 1, 'three files at 0.3: at least one is held out');
  assert.ok(t.parameters > 0);
  assert.equal(JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8')).variant, 'ae');

  await assert.rejects(trainOnDocuments(run), (err: unknown) => {
    assert.ok(err instanceof CorpusError);
    assert.match(err.message, /already exists: choose a new folder/);
    return true;
  });

  // A bundle the extension trained before the keys were unified still loads, with the new key.
  manifest.training = { ...t, heldOutBy: t.splitMethod };
  delete manifest.training.splitMethod;
  fs.writeFileSync(path.join(out, 'manifest.json'), JSON.stringify(manifest));
  const vae = await TextVae.load(out);
  const info = vae.info().training as Record<string, unknown>;
  assert.equal(info.splitMethod, result.split.method);
  assert.equal('heldOutBy' in info, false);
  vae.dispose();
});
