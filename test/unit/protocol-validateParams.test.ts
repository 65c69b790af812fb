import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  BadInputError,
  ENGINE_METHODS,
  isEngineMethod,
  validateDecodeOptions,
  validateParams,
} from '../../src/protocol/validateParams';

const bad = (fn: () => unknown, pattern: RegExp) =>
  assert.throws(fn, (err: unknown) => err instanceof BadInputError && pattern.test(err.message));

describe('worker param validation', () => {
  test('knows every method and nothing else', () => {
    assert.equal(ENGINE_METHODS.length, 12);
    assert.ok(isEngineMethod('train'));
    assert.ok(!isEngineMethod('constructor'));
    assert.ok(!isEngineMethod(7));
  });

  test('params must be an object', () => {
    bad(() => validateParams('modelInfo', null), /params must be an object/);
    bad(() => validateParams('encode', ['text']), /params must be an object/);
  });

  test('initialize accepts only known backends', () => {
    assert.deepEqual(validateParams('initialize', { backend: 'wasm' }), { backend: 'wasm' });
    bad(() => validateParams('initialize', { backend: 'gpu' }), /backend must be one of auto, tensorflow, wasm, cpu/);
  });

  test('encode needs non-empty text; extra keys are dropped', () => {
    assert.deepEqual(validateParams('encode', { text: 'hi', sample: true, seed: 4, evil: 1 }), {
      text: 'hi',
      sample: true,
      seed: 4,
    });
    bad(() => validateParams('encode', { text: '' }), /empty/);
    bad(() => validateParams('encode', { text: 5 }), /text must be a string/);
    bad(() => validateParams('encode', { text: 'x', seed: -1 }), /seed must be at least 0/);
    bad(() => validateParams('encode', { text: 'x', sample: 'yes' }), /sample must be true or false/);
  });

  test('decode needs a non-empty list of strings', () => {
    assert.deepEqual(validateParams('decode', { codes: ['a', 'b'] }), { codes: ['a', 'b'] });
    bad(() => validateParams('decode', { codes: [] }), /at least 1 item/);
    bad(() => validateParams('decode', { codes: 'tvae1:...' }), /array of strings/);
    bad(() => validateParams('decode', { codes: ['ok', 3] }), /codes\[1\] must be a string/);
  });

  test('decode options are range-checked', () => {
    assert.deepEqual(validateDecodeOptions({ strategy: 'beam', beamWidth: 4 }), { strategy: 'beam', beamWidth: 4 });
    bad(() => validateDecodeOptions({ strategy: 'nucleus' }), /strategy must be one of/);
    bad(() => validateDecodeOptions({ temperature: 0 }), /temperature must be at least 0.01/);
    bad(() => validateDecodeOptions({ topP: 1.5 }), /topP must be at most 1/);
    bad(() => validateDecodeOptions({ beamWidth: 2.5 }), /beamWidth must be an integer/);
    assert.deepEqual(validateDecodeOptions({ strategy: 'beam', rerank: 0.5 }), { strategy: 'beam', rerank: 0.5 });
    bad(() => validateDecodeOptions({ rerank: -1 }), /rerank must be at least 0/);
    bad(() => validateDecodeOptions({ rerank: 101 }), /rerank must be at most 100/);
    bad(() => validateDecodeOptions({ rerank: 'on' }), /rerank must be a (finite )?number/);
    bad(() => validateDecodeOptions({ maxTokens: Number.NaN }), /finite number/);
    bad(() => validateParams('reconstruct', { text: 'x', options: 'fast' }), /options must be an object/);
  });

  test('n-gram blocking reaches the engine, including 0 (off)', () => {
    // It is part of DecodeOptions: dropping it left the host unable to turn the blocking off.
    assert.deepEqual(validateDecodeOptions({ strategy: 'sample', noRepeatNgram: 0 }), {
      strategy: 'sample',
      noRepeatNgram: 0,
    });
    assert.deepEqual(validateParams('sample', { n: 2, options: { noRepeatNgram: 4 } }), {
      n: 2,
      options: { noRepeatNgram: 4 },
    });
    bad(() => validateDecodeOptions({ noRepeatNgram: -1 }), /noRepeatNgram must be at least 0/);
    bad(() => validateDecodeOptions({ noRepeatNgram: 1.5 }), /noRepeatNgram must be an integer/);
  });

  test('nested fields are named by their path', () => {
    bad(() => validateParams('decode', { codes: ['a'], options: { topP: 2 } }), /^options\.topP must be at most 1$/);
    bad(
      () => validateParams('latentMap', { documents: [{ uri: 'a', text: 'x' }, { uri: 'b' }] }),
      /^documents\[1\]\.text is required$/,
    );
    bad(() => validateParams('encode', { text: 'x'.repeat(10_000_001) }), /text is too long/);
  });

  test('sample and interpolate bounds', () => {
    assert.deepEqual(validateParams('sample', { n: 3 }), { n: 3 });
    bad(() => validateParams('sample', { n: 0 }), /n must be at least 1/);
    bad(() => validateParams('sample', { n: 257 }), /n must be at most 256/);
    assert.deepEqual(validateParams('sample', { n: 3, chunks: 4 }), { n: 3, chunks: 4 });
    bad(() => validateParams('sample', { n: 3, chunks: 17 }), /chunks must be at most 16/);
    bad(() => validateParams('sample', { n: 3, chunks: 1.5 }), /chunks must be an integer/);
    bad(() => validateParams('sample', {}), /n is required/);
    assert.equal(validateParams('interpolate', { from: 'a', to: 'b', steps: 5, mode: 'linear' }).steps, 5);
    bad(
      () => validateParams('interpolate', { from: 'a', to: 'b', steps: 1, mode: 'linear' }),
      /steps must be at least 2/,
    );
    bad(() => validateParams('interpolate', { from: ' ', to: 'b', steps: 3, mode: 'linear' }), /non-empty/);
    bad(
      () => validateParams('interpolate', { from: 'a', to: 'b', steps: 3, mode: 'curvy' }),
      /mode must be one of linear, spherical/,
    );
  });

  test('train needs paths, an output folder and a bound; model size params pass through', () => {
    const p = validateParams('train', {
      paths: ['/a.md'],
      out: '/m',
      minutes: 2,
      modelDim: 64,
      vocabSize: 512,
      latentDim: 16,
      variant: 'ae',
    });
    assert.deepEqual(p, {
      paths: ['/a.md'],
      out: '/m',
      minutes: 2,
      modelDim: 64,
      vocabSize: 512,
      latentDim: 16,
      variant: 'ae',
    });
    bad(() => validateParams('train', { paths: [], out: '/m', minutes: 1 }), /paths must have at least 1 item/);
    bad(() => validateParams('train', { paths: ['/a'], out: '', minutes: 1 }), /out must not be empty/);
    bad(() => validateParams('train', { paths: ['/a'], out: '/m' }), /give a bound/);
    bad(
      () => validateParams('train', { paths: ['/a'], out: '/m', maxSteps: 10, latentDim: 300 }),
      /latentDim must be at most 255/,
    );
    bad(
      () => validateParams('train', { paths: ['/a'], out: '/m', maxSteps: 10, vocabSize: 100 }),
      /vocabSize must be at least 260/,
    );
    bad(
      () => validateParams('train', { paths: ['/a'], out: '/m', maxSteps: 10, valFraction: 0.9 }),
      /valFraction must be at most 0.5/,
    );
    bad(() => validateParams('train', { paths: ['/a'], out: '/m', minutes: 0 }), /minutes must be at least 0.01/);
    bad(
      () => validateParams('train', { paths: ['/a'], out: '/m', maxSteps: 10, variant: 'gan' }),
      /variant must be one of/,
    );
  });

  test('latentMap documents are checked one by one', () => {
    assert.deepEqual(validateParams('latentMap', { documents: [{ uri: 'file:///a', text: 'x' }], maxPoints: 10 }), {
      documents: [{ uri: 'file:///a', text: 'x' }],
      maxPoints: 10,
    });
    bad(() => validateParams('latentMap', { documents: [{ uri: 'file:///a' }] }), /documents\[0\]\.text is required/);
    bad(() => validateParams('latentMap', { documents: [{ uri: 'file:///a', text: 1 }] }), /text must be a string/);
    bad(() => validateParams('latentMap', { documents: [{ uri: '', text: 'x' }] }), /uri must not be empty/);
    bad(() => validateParams('latentMap', { documents: [], maxPoints: 0 }), /maxPoints must be at least 1/);
  });

  test('loadModel needs a folder', () => {
    assert.deepEqual(validateParams('loadModel', { dir: '/m' }), { dir: '/m' });
    bad(() => validateParams('loadModel', { dir: '' }), /dir must not be empty/);
    bad(() => validateParams('loadModel', {}), /dir is required/);
    bad(() => validateParams('loadModel', { dir: 7 }), /dir must be a string/);
  });
});
