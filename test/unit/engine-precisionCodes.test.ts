/**
 * Models that write tvae2 codes (codeScheme 'precision'): trained that way, or made from a trained
 * model by recodeBundle (scripts/recode-model.ts). Tiny models on the default backend.
 */
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { TextVae } from '../../src/core/textVae';
import { recodeBundle } from '../../src/core/latentStats';
import { LatentCodeError } from '../../src/core/latentCode';
import { loadBundle, validateModelConfig } from '../../src/core/bundle';
import { DEFAULT_CONFIG, weightShapes } from '../../src/core/model';
import { LEARN_STEPS, SENTENCES, TINY_DOC, once, setupBackend, sharedTiny } from '../helpers/engine';
import { train } from '../../src/core/train';
import { makeTempDir } from '../helpers/tmp';
import { convertWeights } from '../../scripts/convert-weights';

const precisionRun = once(() => sharedTiny({ maxSteps: LEARN_STEPS, config: { codeScheme: 'precision' } }));

before(async () => {
  await setupBackend();
});

const payload = (code: string) => code.length - code.lastIndexOf(':') - 1;

describe('precision codes (tvae2)', () => {
  test('a model trained with codeScheme precision writes tvae2 codes that give its sentences back', async () => {
    const vae = await TextVae.load((await precisionRun()).dir);
    try {
      assert.equal(vae.config.codeScheme, 'precision');
      const codes = await vae.encodeToCodes(TINY_DOC);
      assert.equal(codes.length, SENTENCES.length);
      for (const c of codes) assert.match(c, new RegExp(`^tvae2:${vae.fingerprint.slice(0, 8)}:`));
      assert.equal(await vae.decodeCodes(codes, { strategy: 'greedy' }), TINY_DOC);
      // Each value comes back within half of its dimension's step.
      const step = await vae.model.vars['latent.step'].data();
      const mus = await vae.encode(TINY_DOC);
      vae
        .parseCodes(codes)
        .forEach((z, i) =>
          z.forEach((v, j) => assert.ok(Math.abs(v - mus[i][j]) <= step[j] / 2 + 1e-4, `code ${i}, dim ${j}`)),
        );
    } finally {
      vae.dispose();
    }
  });

  test('recoding: a finer step gives longer codes; the source is untouched; other models refuse the codes', async () => {
    const src = (await precisionRun()).dir;
    const before = fs.readdirSync(src).map((f) => [f, fs.readFileSync(path.join(src, f))] as const);
    const root = makeTempDir('textvae-recode-');
    const fine = path.join(root, 'fine');
    const coarse = path.join(root, 'coarse');
    await recodeBundle(src, fine, { texts: [TINY_DOC], stepFactor: 0.25 });
    await recodeBundle(src, coarse, { texts: [TINY_DOC], stepFactor: 4 });
    for (const [f, bytes] of before) assert.deepEqual(fs.readFileSync(path.join(src, f)), bytes, `${f} unchanged`);
    await assert.rejects(recodeBundle(src, fine, { texts: [TINY_DOC] }), /already exists/);
    await assert.rejects(recodeBundle(src, src, { texts: [TINY_DOC] }), /must differ/);

    const [a, b, orig] = await Promise.all([TextVae.load(fine), TextVae.load(coarse), TextVae.load(src)]);
    try {
      const lengthOf = async (vae: TextVae) => (await vae.encodeToCodes(TINY_DOC)).reduce((s, c) => s + payload(c), 0);
      const [fineChars, coarseChars] = [await lengthOf(a), await lengthOf(b)];
      assert.ok(fineChars > coarseChars, `finer steps: ${fineChars} chars, coarser: ${coarseChars}`);
      const recoded = await loadBundle(fine);
      assert.equal(recoded.config.codeScheme, 'precision');
      assert.equal((recoded.manifest.training as { codeStepFactor?: number }).codeStepFactor, 0.25);
      // A resumed run keeps the factor its checkpoint was made with.
      const resumed = path.join(root, 'resumed');
      await train({ resume: fine, train: [TINY_DOC], val: [], out: resumed, maxSteps: LEARN_STEPS + 1, batchSize: 6 });
      const again = await loadBundle(resumed);
      assert.equal((again.manifest.training as { codeStepFactor?: number }).codeStepFactor, 0.25);
      const code = (await a.encodeToCodes(SENTENCES[0]))[0];
      assert.throws(
        () => orig.parseCodes([code]),
        (err: unknown) =>
          err instanceof LatentCodeError &&
          err.reason === 'wrong-model' &&
          err.message ===
            `this code was made by model ${a.fingerprint.slice(0, 8)}; the active model is ${orig.fingerprint.slice(0, 8)}`,
      );
    } finally {
      for (const v of [a, b, orig]) v.dispose();
    }
  });

  test('recoding a float16 model keeps its 16-bit weight storage', async () => {
    const root = makeTempDir('textvae-recode16-');
    const half = path.join(root, 'half');
    await convertWeights((await precisionRun()).dir, half, 'float16');
    const out = path.join(root, 'recoded');
    await recodeBundle(half, out, { texts: [TINY_DOC] });
    assert.equal((await loadBundle(out)).weightsDtype, 'float16');
  });
});

test('fine-tuning a tvae1 model with codeScheme precision makes a tvae2 model; without it the scheme is kept', async () => {
  const parent = (await sharedTiny({ maxSteps: 20 })).dir;
  const root = makeTempDir('textvae-finetune-scheme-');
  const fineTune = (out: string, config: { codeScheme?: 'precision' }) =>
    train({ from: parent, train: [TINY_DOC], val: [], out, maxSteps: 2, batchSize: 6, config });
  await fineTune(path.join(root, 'a'), { codeScheme: 'precision' });
  await fineTune(path.join(root, 'b'), {});
  for (const [dir, version] of [
    [path.join(root, 'a'), 'tvae2'],
    [path.join(root, 'b'), 'tvae1'],
  ] as const) {
    const vae = await TextVae.load(dir);
    try {
      const codes = await vae.encodeToCodes(SENTENCES[0]);
      assert.ok(codes[0].startsWith(`${version}:`), `${dir}: ${codes[0]}`);
      assert.equal((await vae.decode(vae.parseCodes(codes))).length, 1);
    } finally {
      vae.dispose();
    }
  }
});

test('config: codeScheme is "precision" or absent, for vae models only; only precision models have latent.step', () => {
  assert.equal(validateModelConfig({ ...DEFAULT_CONFIG, codeScheme: 'precision' }).codeScheme, 'precision');
  assert.equal('codeScheme' in validateModelConfig(DEFAULT_CONFIG), false);
  assert.throws(() => validateModelConfig({ ...DEFAULT_CONFIG, codeScheme: 'int4' }), /codeScheme must be "precision"/);
  assert.throws(
    () => validateModelConfig({ ...DEFAULT_CONFIG, variant: 'ae', codeScheme: 'precision' }),
    /needs variant vae/,
  );
  assert.deepEqual(weightShapes({ ...DEFAULT_CONFIG, codeScheme: 'precision' })['latent.step'], [
    DEFAULT_CONFIG.latentDim,
  ]);
  assert.equal(weightShapes(DEFAULT_CONFIG)['latent.step'], undefined);
});
