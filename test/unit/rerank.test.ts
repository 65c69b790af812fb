/**
 * Beam reranking by re-encoding: the choice among candidates (pure), and the engine's beam path with
 * the option on (a small random model: wiring, distinct candidates, no tensors left behind).
 */
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';

import {
  lengthNormalised,
  pickReranked,
  reencodeLogDensity,
  rerankScore,
  type RerankCandidate,
} from '../../src/core/rerank';
import { TextVae } from '../../src/core/textVae';
import { TextVaeModel } from '../../src/core/model';
import { Tokenizer } from '../../src/core/tokenizer';
import { Random } from '../../src/core/random';
import type { ModelConfig } from '../../src/core/types';
import { SENTENCES, setupBackend } from '../helpers/engine';

const z = [0.5, -1, 2];
const flat = [0, 0, 0]; // log-variance 0: unit posterior spread
const at = (mu: number[], score = -10, logvar = flat): RerankCandidate => ({ score, mu, logvar });

describe('choosing a candidate', () => {
  test('with equal likelihoods, the candidate that re-encodes closest to z wins, wherever it stands', () => {
    const far = at([3, 3, 3]);
    const near = at([0.4, -1.1, 2.2]);
    const middle = at([1, 0, 1]);
    assert.equal(pickReranked([far, middle, near], z, 1), 2);
    assert.equal(pickReranked([near, far, middle], z, 1), 0);
    assert.equal(pickReranked([middle, near, far], z, 0.01), 1);
  });

  test('weight 0 is the plain beam: the best beam score, ties keeping beam order', () => {
    const likely = at([3, 3, 3], -5);
    const faithful = at(z, -9);
    assert.equal(pickReranked([faithful, likely], z, 0), 1);
    assert.equal(pickReranked([at(z), at([9, 9, 9])], z, 0), 0);
    assert.equal(pickReranked([at([9, 9, 9]), at(z)], z, 0), 0);
  });

  test('the weight trades likelihood for faithfulness', () => {
    const likely = at([2.5, -1, 2], -5); // 2 off in one dimension: log q lower by 2
    const faithful = at(z, -6);
    assert.equal(pickReranked([likely, faithful], z, 0.1), 0);
    assert.equal(pickReranked([likely, faithful], z, 1), 1);
    assert.equal(rerankScore(faithful, z, 1) - rerankScore(likely, z, 1), 1);
  });

  test('log q(z|x) is the diagonal Gaussian log-density without its constant', () => {
    const mu = [0, 1, 2];
    const logvar = [0, Math.log(4), Math.log(0.25)];
    // Per dimension: -(z-mu)^2/(2 var) - log(var)/2.
    const expected = -(0.25 / 2) - 4 / 8 - Math.log(4) / 2 - 0 / 0.5 - Math.log(0.25) / 2;
    assert.ok(Math.abs(reencodeLogDensity(z, mu, logvar) - expected) < 1e-12);
    // A confident re-encoding far from z scores below a vague one at the same distance.
    assert.ok(reencodeLogDensity(z, [3, 3, 3], [-2, -2, -2]) < reencodeLogDensity(z, [3, 3, 3], [1, 1, 1]));
  });

  test('bad input is refused with a clear error', () => {
    assert.throws(() => pickReranked([], z, 1), /no candidates to rerank/);
    assert.throws(() => pickReranked([at([1, 2])], z, 1), /re-encoding has 2 dimensions; the code has 3/);
  });
});

const CONFIG: ModelConfig = {
  variant: 'vae',
  vocabSize: 300,
  maxTokens: 16,
  modelDim: 32,
  latentDim: 8,
  encoderLayers: 1,
  decoderDilations: [1, 2],
  kernelSize: 3,
};

describe('beam decoding with rerank', () => {
  let vae: TextVae;
  let zs: Float32Array[];
  before(async () => {
    await setupBackend();
    const tokenizer = Tokenizer.train(SENTENCES, { vocabSize: CONFIG.vocabSize });
    vae = TextVae.fromParts(new TextVaeModel(CONFIG, undefined, 3), tokenizer, 'rerank-test');
    const rng = new Random(7);
    zs = [rng.normals(CONFIG.latentDim), rng.normals(CONFIG.latentDim)];
  });

  test('candidates are distinct, at most the beam width, best first by length-normalised likelihood', async () => {
    const candidates = await vae.beamCandidates(zs[0], { beamWidth: 5, maxTokens: 6 });
    assert.ok(candidates.length >= 1 && candidates.length <= 5);
    assert.equal(new Set(candidates.map((c) => c.text)).size, candidates.length);
    const norm = candidates.map((c) => c.score);
    candidates.forEach((c) => assert.equal(c.score, lengthNormalised(c.logp, c.tokens)));
    for (let i = 1; i < norm.length; i++) assert.ok(norm[i] <= norm[i - 1]);
    const [plain] = await vae.decode([zs[0]], { strategy: 'beam', beamWidth: 5, maxTokens: 6 });
    assert.equal(plain, candidates[0].text);
  });

  test('the reranked output is the candidate with the best combined score under its own re-encoding', async () => {
    const options = { strategy: 'beam', beamWidth: 4, maxTokens: 6 } as const;
    let moved = 0;
    for (const z of zs) {
      const candidates = await vae.beamCandidates(z, options);
      const reencoded = await vae.posteriors(candidates.map((c) => c.text));
      for (const weight of [0, 0.5, 50]) {
        const scores = candidates.map((c, i) => rerankScore({ score: c.score, ...reencoded[i] }, z, weight));
        const best = scores.indexOf(Math.max(...scores));
        const [out] = await vae.decode([z], { ...options, rerank: weight });
        assert.equal(out, candidates[best].text, `weight ${weight}`);
        if (best !== 0) moved++;
      }
    }
    // The case is not vacuous: somewhere the re-encoding overrules the likelihood.
    assert.ok(moved > 0);
  });

  test('reranked decoding leaves no tensors behind', async () => {
    await vae.decode(zs, { strategy: 'beam', beamWidth: 3, maxTokens: 4, rerank: 1 }); // warm-up
    const before = tf.memory().numTensors;
    await vae.decode(zs, { strategy: 'beam', beamWidth: 3, maxTokens: 4, rerank: 1 });
    assert.equal(tf.memory().numTensors, before);
  });
});
