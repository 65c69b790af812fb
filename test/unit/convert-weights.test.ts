import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { convertWeights } from '../../scripts/convert-weights';
import { loadBundle, saveBundle } from '../../src/core/bundle';
import { DEFAULT_CONFIG, initialWeights } from '../../src/core/model';
import type { ModelConfig } from '../../src/core/types';
import { makeTempDir } from '../helpers/tmp';

const CONFIG: ModelConfig = { ...DEFAULT_CONFIG, vocabSize: 40, modelDim: 8, latentDim: 4, maxTokens: 8 };

/** A bundle with the model's real tensor names and shapes, and provenance files. */
async function sourceBundle(): Promise<string> {
  const dir = path.join(makeTempDir('textvae-convert-'), 'model');
  await saveBundle(dir, {
    config: CONFIG,
    tokenizer: { opaque: true },
    weights: initialWeights(CONFIG, 5),
    training: { step: 7 },
    metrics: { bits_per_byte: 2 },
    extras: { 'COMMAND.md': '# How this model was made\n\n```sh\ntrain\n```\n', 'eval.json': '{"a":1}\n' },
  });
  return dir;
}

function hashFolder(dir: string): string {
  const h = createHash('sha256');
  for (const name of fs.readdirSync(dir).sort()) h.update(name).update(fs.readFileSync(path.join(dir, name)));
  return h.digest('hex');
}

describe('scripts/convert-weights', () => {
  test('writes a float16 copy beside the untouched source, with the provenance kept', async () => {
    const model = await sourceBundle();
    const before = hashFolder(model);
    const out = path.join(path.dirname(model), 'half');
    const r = await convertWeights(model, out, 'float16');
    assert.equal(hashFolder(model), before, 'the source is only read');

    const src = await loadBundle(model);
    const copy = await loadBundle(out);
    assert.equal(copy.weightsDtype, 'float16');
    assert.equal(copy.fingerprint, r.fingerprint);
    assert.notEqual(copy.fingerprint, src.fingerprint, 'different weights make a different model');
    assert.equal(r.bytes, fs.statSync(path.join(model, 'weights.bin')).size / 2);
    assert.deepEqual(r.keptFloat32, []);
    for (const [name, w] of Object.entries(src.weights)) {
      const got = copy.weights[name].data;
      for (let i = 0; i < got.length; i++) {
        assert.ok(Math.abs(got[i] - w.data[i]) <= Math.max(Math.abs(w.data[i]) * 2 ** -11, 2 ** -25), name);
      }
    }
    assert.deepEqual(copy.config, src.config);
    assert.deepEqual(copy.tokenizer, src.tokenizer);
    assert.deepEqual(copy.manifest.training, { step: 7 });
    assert.deepEqual(copy.manifest.metrics, { bits_per_byte: 2 });
    assert.equal(fs.readFileSync(path.join(out, 'eval.json'), 'utf8'), '{"a":1}\n');
    const command = fs.readFileSync(path.join(out, 'COMMAND.md'), 'utf8');
    assert.ok(command.startsWith('# How this model was made\n\n```sh\ntrain\n```\n\n'), command);
    assert.match(command, /Weights stored as float16 \(from float32, model [0-9a-f]{8}\)/);
    assert.ok(command.includes(`--model ${model} --out ${out} --dtype float16`));

    // Back to float32: exactly the half values, and converting that to float16 again is the same model.
    const wide = path.join(path.dirname(model), 'wide');
    await convertWeights(out, wide, 'float32');
    const back = await loadBundle(wide);
    assert.equal(back.weightsDtype, 'float32');
    for (const [name, w] of Object.entries(copy.weights)) assert.deepEqual(back.weights[name].data, w.data, name);
    const again = await convertWeights(wide, path.join(path.dirname(model), 'again'), 'float16');
    assert.equal(again.fingerprint, copy.fingerprint);
  });

  test('refuses an output that is the source, inside it, or already there', async () => {
    const model = await sourceBundle();
    const before = hashFolder(model);
    const other = await sourceBundle();
    await assert.rejects(convertWeights(model, model, 'float16'), /is the model folder or inside it/);
    await assert.rejects(convertWeights(model, path.join(model, 'x'), 'float16'), /is the model folder or inside it/);
    await assert.rejects(convertWeights(model, `${model}/.`, 'float16'), /is the model folder or inside it/);
    await assert.rejects(convertWeights(model, other, 'float16'), /exists; choose a new folder/);
    assert.equal(hashFolder(model), before);
  });
});
