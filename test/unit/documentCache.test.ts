/**
 * The document cache mixed into the decoder's distribution: what it predicts from a document's
 * earlier tokens, that the mixture is a distribution, that λ = 0 is the plain model, and that
 * `evaluate` scores documents with it (a repeated document costs less the second time).
 */
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';

import {
  DEFAULT_CACHE,
  DocumentCache,
  fitLambdas,
  mixDistribution,
  mixedNats,
  parseCacheParams,
  scoreDocuments,
  stateCount,
  type CacheParams,
  type CacheRecord,
} from '../../src/core/documentCache';
import { evaluate } from '../../src/core/evaluate';
import { TextVaeModel } from '../../src/core/model';
import { Random } from '../../src/core/random';
import { FIRST_BYTE_ID } from '../../src/core/tokenizer';
import type { ModelConfig } from '../../src/core/types';
import { setupBackend, sharedTiny } from '../helpers/engine';
import { loadBundle, readOptionalFiles, resaveInput, saveBundle } from '../../src/core/bundle';
import { weightShapes } from '../../src/core/model';
import { TextVae } from '../../src/core/textVae';
import { makeTempDir } from '../helpers/tmp';
import * as path from 'node:path';

const V = 50;
const FORM: CacheParams = {
  order: 3,
  decay: 0.99,
  escape: 0.5,
  lambdas: new Array(stateCount({ order: 3 })).fill(0.3),
};

function sum(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i];
  return s;
}

/** A peaked, normalised model distribution. */
function modelDist(rng: Random): Float64Array {
  const p = Float64Array.from({ length: V }, () => Math.exp(3 * rng.normal()));
  const z = sum(p);
  return p.map((x) => x / z);
}

describe('DocumentCache', () => {
  test('a token the cache has seen gets more mass than before, and more than an unseen one', () => {
    const cache = new DocumentCache(V, FORM);
    for (const t of [3, 4, 5]) cache.observe(t);
    const before = cache.prob(7);
    cache.observe(7);
    assert.ok(cache.prob(7) > before, `${cache.prob(7)} after seeing 7, ${before} before`);
    assert.ok(cache.prob(7) > cache.prob(9));
    assert.equal(cache.prob(9), 0);
  });

  test('it copies what followed the same context earlier in the document', () => {
    const cache = new DocumentCache(V, FORM);
    for (const t of [1, 2, 3, 10, 11, 12, 1, 2]) cache.observe(t);
    // After "1 2", 3 followed before: it beats 10, 11 and 12, seen as often.
    for (const other of [10, 11, 12]) assert.ok(cache.prob(3) > 2 * cache.prob(other));
    assert.ok(cache.state() > 0, `state ${cache.state()}`);
  });

  test('the cache and the mixture are distributions: they sum to 1, and agree with prob()', () => {
    const rng = new Random(3);
    const cache = new DocumentCache(V, FORM);
    assert.equal(sum(cache.distribution()), 0, 'empty cache');
    for (let i = 0; i < 300; i++) {
      const model = modelDist(rng);
      const mixed = mixDistribution(model, cache);
      assert.ok(Math.abs(sum(mixed) - 1) < 1e-9, `step ${i}: mixture sums to ${sum(mixed)}`);
      if (i > 0) {
        const pc = cache.distribution();
        assert.ok(Math.abs(sum(pc) - 1) < 1e-9, `step ${i}: cache sums to ${sum(pc)}`);
        for (const v of [0, 7, rng.int(V)]) {
          assert.ok(Math.abs(pc[v] - cache.prob(v)) < 1e-12);
          assert.ok(Math.abs(mixed[v] - cache.mixedProb(v, model[v])) < 1e-12);
        }
      }
      // A repetitive stream, so the higher orders match.
      cache.observe(rng.next() < 0.7 ? (i * 7) % 13 : rng.int(V));
    }
  });

  test('λ = 0 reproduces the model exactly', () => {
    const rng = new Random(4);
    const cache = new DocumentCache(V, { ...FORM, lambdas: new Array(stateCount({ order: 3 })).fill(0) });
    for (let i = 0; i < 50; i++) {
      const model = modelDist(rng);
      assert.deepEqual(Array.from(mixDistribution(model, cache)), Array.from(model));
      const t = rng.int(V);
      assert.equal(cache.mixedProb(t, model[t]), model[t]);
      cache.observe(t);
    }
  });

  test('reset forgets the document', () => {
    const cache = new DocumentCache(V, FORM);
    for (const t of [1, 2, 3]) cache.observe(t);
    cache.reset();
    assert.equal(cache.prob(1), 0);
    assert.equal(cache.state(), -1);
    assert.equal(cache.lambda(), 0);
  });

  test('replaying the same tokens gives bit-identical distributions (what a lossless decoder needs)', () => {
    const rng = new Random(5);
    const tokens = Array.from({ length: 2000 }, (_, i) => (rng.next() < 0.5 ? i % 17 : rng.int(V)));
    const run = () => {
      const cache = new DocumentCache(V, { ...FORM, decay: 0.9 });
      return tokens.map((t) => {
        const d = cache.distribution();
        cache.observe(t);
        return d[t];
      });
    };
    assert.deepEqual(run(), run());
  });

  test('bad parameters and tokens are refused with a clear error', () => {
    assert.throws(() => new DocumentCache(V, { ...FORM, order: -1 }), /order/);
    assert.throws(() => new DocumentCache(V, { ...FORM, decay: 0 }), /decay/);
    assert.throws(() => new DocumentCache(V, { ...FORM, escape: 0 }), /escape/);
    assert.throws(() => new DocumentCache(V, { ...FORM, lambdas: [1] }), /lambdas/);
    assert.throws(() => new DocumentCache(V, FORM).observe(V), /outside the vocabulary/);
  });
});

describe('parameter sets from JSON', () => {
  test('the default survives a JSON round trip; wrong shapes are refused with a clear error', () => {
    assert.deepEqual(parseCacheParams(JSON.parse(JSON.stringify(DEFAULT_CACHE))), DEFAULT_CACHE);
    assert.equal(DEFAULT_CACHE.lambdas.length, stateCount(DEFAULT_CACHE));
    assert.throws(() => parseCacheParams(null), /need order, decay, escape/);
    assert.throws(() => parseCacheParams({ ...DEFAULT_CACHE, lambdas: 'no' }), /need order, decay, escape/);
    assert.throws(() => parseCacheParams({ ...DEFAULT_CACHE, lambdas: [0.1] }), /need 124 lambdas .* not 1/);
    assert.throws(() => parseCacheParams({ ...DEFAULT_CACHE, doubtBins: [0.5, 0.2, 0.8] }), /ascending/);
    assert.throws(() => parseCacheParams({ ...DEFAULT_CACHE, decay: 2 }), /decay/);
  });
});

describe('fitting λ', () => {
  test('a cache that predicts well gets a high λ, a useless one λ near 0, and the fit lowers the cost', () => {
    const rng = new Random(6);
    const records: CacheRecord[] = [];
    for (let i = 0; i < 2000; i++) {
      records.push({ state: 1, modelProb: 0.1, cacheProb: 0.9 });
      records.push({ state: 2, modelProb: 0.5, cacheProb: rng.next() < 0.05 ? 0.2 : 0 });
    }
    const lambdas = fitLambdas(records, 3);
    assert.equal(lambdas[0], 0, 'a state without records');
    assert.ok(lambdas[1] > 0.95, `λ1 = ${lambdas[1]}`);
    assert.ok(lambdas[2] < 0.05, `λ2 = ${lambdas[2]}`);
    assert.ok(mixedNats(records, lambdas) < mixedNats(records, [0, 0, 0]));
  });

  test('scoreDocuments starts every document with an empty cache', () => {
    const seen: CacheRecord[] = [];
    const chunk = { targets: [5, 6, 5, 6], logp: [-1, -1, -1, -1] };
    scoreDocuments(V, FORM, [[chunk], [chunk]], (r) => seen.push(r));
    assert.deepEqual(
      seen.map((r) => r.state),
      [-1, 0, 0, 1, -1, 0, 0, 1],
    );
    assert.equal(seen[4].cacheProb, 0);
    assert.equal(seen[0].modelProb, Math.exp(-1));
  });
});

describe('evaluate with a cache', () => {
  const CONFIG: ModelConfig = {
    variant: 'vae',
    vocabSize: 300,
    maxTokens: 32,
    modelDim: 32,
    latentDim: 8,
    encoderLayers: 1,
    decoderDilations: [1, 2],
    kernelSize: 3,
  };
  before(async () => {
    await setupBackend();
  });

  test('λ = 0 scores like the plain model; the default cache makes a repeated document cheaper', async () => {
    const model = new TextVaeModel(CONFIG, undefined, 7);
    const rng = new Random(8);
    const chunk = () => Array.from({ length: 20 }, () => FIRST_BYTE_ID + rng.int(100));
    const a = chunk(),
      b = chunk();
    // Document 0 repeats its chunks; document 1 is new text (a fresh cache).
    const examples = [a, b, a, b, chunk()].map((tokens, i) => ({ tokens, bytes: 30, doc: i < 4 ? 0 : 1 }));
    let logpSum = 0;
    const zero = await evaluate(model, examples, {
      cache: { ...DEFAULT_CACHE, lambdas: DEFAULT_CACHE.lambdas.map(() => 0) },
      onTargets: (_, targets, logp) => {
        assert.equal(targets.length, 21, 'the tokens, then EOS');
        logpSum += sum(logp);
      },
    });
    const rel = (x: number, y: number) => Math.abs(x - y) / y;
    assert.ok(rel(zero.cache_bits_per_byte!, zero.bits_per_byte) < 1e-5);
    assert.ok(rel(-logpSum / Math.LN2 / zero.bytes, zero.recon_bits_per_byte) < 1e-5);
    const cached = await evaluate(model, examples, { cache: DEFAULT_CACHE });
    assert.equal(cached.bits_per_byte, zero.bits_per_byte, 'the plain figure does not change');
    assert.ok(
      cached.cache_recon_bits_per_byte! < 0.7 * cached.recon_bits_per_byte,
      `${cached.cache_recon_bits_per_byte} against ${cached.recon_bits_per_byte}`,
    );
    assert.equal((await evaluate(model, examples)).cache_bits_per_byte, undefined, 'no cache, no figure');
  });
});

describe("a bundle's cache.json", () => {
  test('a copy with cache.json loads its parameters (same model); a bad one is refused naming the file', async () => {
    await setupBackend();
    const dir = (await sharedTiny({ maxSteps: 10 })).dir;
    const raw = await loadBundle(dir, { expectedShapes: weightShapes });
    const params: CacheParams = { order: 1, decay: 1, escape: 1, lambdas: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6] };
    const copy = async (text: string) => {
      const out = path.join(makeTempDir(), 'copy');
      const extras = { ...(await readOptionalFiles(raw)), 'cache.json': text };
      assert.equal((await saveBundle(out, { ...resaveInput(raw), extras })).fingerprint, raw.fingerprint);
      return out;
    };
    const vae = await TextVae.load(await copy(JSON.stringify(params)));
    assert.deepEqual(vae.cacheParams, params);
    assert.equal((await TextVae.load(dir)).cacheParams, null, 'a bundle without one');
    const bad = await copy(JSON.stringify({ ...params, lambdas: [0.1] }));
    await assert.rejects(TextVae.load(bad), /cache\.json: cache parameters need 6 lambdas .*scripts\/cache-tune\.ts/);
  });
});
