/**
 * "Train on Workspace Documents" fine-tunes the active model unless textvae.training.startFrom is
 * "scratch": the request the extension builds, its validation, and the worker carrying it out.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { SMALL_MODEL, trainingRequest, type TrainingChoices } from '../../src/extension/logic/trainingRequest';
import { SETTINGS } from '../../src/protocol/settings';
import { validateParams } from '../../src/protocol/validateParams';
import { readManifest } from '../../src/core/bundle';
import { SENTENCES, setupBackend, trainTiny } from '../helpers/engine';
import { connectWorker, type WorkerHandle } from '../helpers/worker';
import { makeTempDir } from '../helpers/tmp';

const CHOICES: TrainingChoices = {
  maxFileBytes: 1024,
  minutes: 5,
  seed: 1,
  variant: 'sparse',
  small: true,
  startFrom: 'activeModel',
};
const RUN = { paths: ['/w/a.md'], out: '/w/.models/m', activeModel: '/models/active' };

describe('trainingRequest', () => {
  test('by default it fine-tunes the active model and sends no architecture', () => {
    assert.equal(SETTINGS['training.startFrom'].default, 'activeModel');
    const p = trainingRequest({ ...CHOICES, startFrom: SETTINGS['training.startFrom'].default }, RUN);
    assert.equal(p.from, '/models/active');
    for (const k of ['variant', 'modelDim', 'vocabSize', 'latentDim'] as const) assert.equal(p[k], undefined, k);
    assert.deepEqual([p.paths, p.out, p.minutes, p.seed, p.maxFileBytes], [RUN.paths, RUN.out, 5, 1, 1024]);
  });

  test('"scratch" trains a new model with the variant and size settings', () => {
    const p = trainingRequest({ ...CHOICES, startFrom: 'scratch' }, RUN);
    assert.equal(p.from, undefined);
    assert.equal(p.variant, 'sparse');
    assert.deepEqual({ modelDim: p.modelDim, vocabSize: p.vocabSize, latentDim: p.latentDim }, SMALL_MODEL);
    const full = trainingRequest({ ...CHOICES, startFrom: 'scratch', small: false }, RUN);
    assert.equal(full.modelDim, undefined);
  });

  test('with no active model to start from, it trains from scratch', () => {
    assert.equal(trainingRequest(CHOICES, { ...RUN, activeModel: undefined }).from, undefined);
  });

  test('the request passes the protocol check; an empty or non-string from does not', () => {
    assert.equal(validateParams('train', trainingRequest(CHOICES, RUN)).from, '/models/active');
    assert.throws(() => validateParams('train', { ...trainingRequest(CHOICES, RUN), from: '' }), /from/);
    assert.throws(() => validateParams('train', { ...trainingRequest(CHOICES, RUN), from: 7 }), /from/);
    assert.equal(SETTINGS['training.startFrom'].read('elsewhere'), 'activeModel');
  });
});

describe('the worker fine-tunes on a train request with from', () => {
  let handle: WorkerHandle | undefined;
  before(setupBackend);
  after(() => handle?.connection.dispose());

  test('the new bundle keeps the parent tokenizer and records its fingerprint', async () => {
    const parent = await trainTiny({ maxSteps: 20, seed: 4 });
    const docs = makeTempDir('textvae-worker-ft-');
    const file = path.join(docs, 'doc.md');
    fs.writeFileSync(file, SENTENCES.slice(0, 3).join('\n\n'));
    handle = connectWorker();
    const out = path.join(docs, 'model');
    const request = trainingRequest(CHOICES, { paths: [file], out, activeModel: parent.dir });
    // A few steps, not the setting's minutes.
    const outcome = await handle.connection.request('train', { ...request, minutes: undefined, maxSteps: 5 });
    assert.equal(outcome.steps, 5);
    assert.equal(outcome.cancelled, false);
    assert.equal(outcome.out, out);
    const training = (await readManifest(out)).training as { parent?: { fingerprint: string } };
    assert.equal(training.parent?.fingerprint, parent.result.fingerprint);
    assert.equal(
      fs.readFileSync(path.join(out, 'tokenizer.json'), 'utf8'),
      fs.readFileSync(path.join(parent.dir, 'tokenizer.json'), 'utf8'),
    );
  });
});
