import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { interpolateBundles, interpolateWeights } from '../../scripts/interpolate-weights';
import { loadBundle, saveBundle } from '../../src/core/bundle';
import { DEFAULT_CONFIG, initialWeights } from '../../src/core/model';
import type { ModelConfig } from '../../src/core/types';
import { makeTempDir } from '../helpers/tmp';

const CONFIG: ModelConfig = { ...DEFAULT_CONFIG, vocabSize: 40, modelDim: 8, latentDim: 4, maxTokens: 8 };

describe('scripts/interpolate-weights', () => {
  test('mixes every weight linearly, keeps the endpoints exactly and the latent statistics of --to', () => {
    const a = initialWeights(CONFIG, 1);
    const b = initialWeights(CONFIG, 2);
    b['latent.step'] = { shape: [4], data: Float32Array.from([1, 2, 3, 4]) };
    const mid = interpolateWeights(a, b, 0.25);
    for (const name of Object.keys(a)) {
      const want = a[name].data.map((x, i) => 0.75 * x + 0.25 * b[name].data[i]);
      for (let i = 0; i < want.length; i++) assert.ok(Math.abs(mid[name].data[i] - want[i]) < 1e-6, name);
    }
    assert.deepEqual([...mid['latent.step'].data], [1, 2, 3, 4]);
    assert.deepEqual(interpolateWeights(a, b, 0).embed.data, a.embed.data);
    assert.deepEqual(interpolateWeights(a, b, 1).embed.data, b.embed.data);
  });

  test('refuses models of different shapes and an α outside [0, 1]', () => {
    const a = initialWeights(CONFIG, 1);
    const wide = initialWeights({ ...CONFIG, modelDim: 16 }, 1);
    assert.throws(() => interpolateWeights(a, wide, 0.5), /embed is \[40,8\] in --from but \[40,16\] in --to/);
    assert.throws(() => interpolateWeights(a, a, 1.5), /--alpha must be between 0 and 1/);
  });

  test('writes a loadable bundle that records both parents, and never replaces a folder', async () => {
    const root = makeTempDir('textvae-interpolate-');
    const dirs = [1, 2].map((seed) => path.join(root, `m${seed}`));
    for (const [i, dir] of dirs.entries())
      await saveBundle(dir, { config: CONFIG, tokenizer: { opaque: true }, weights: initialWeights(CONFIG, i + 1) });
    const out = path.join(root, 'mix');
    await interpolateBundles(dirs[0], dirs[1], 0.5, out);
    const mix = await loadBundle(out);
    const from = await loadBundle(dirs[0]);
    const to = await loadBundle(dirs[1]);
    const training = mix.manifest.training as { interpolated: { alpha: number; from: string; to: string } };
    assert.deepEqual(training.interpolated, { alpha: 0.5, from: from.fingerprint, to: to.fingerprint });
    await assert.rejects(interpolateBundles(dirs[0], dirs[1], 0.5, out), /exists; choose a new folder/);
  });
});
