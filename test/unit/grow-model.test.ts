import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { saveBundle } from '../../src/core/bundle';
import { DEFAULT_CONFIG, initialWeights } from '../../src/core/model';
import type { ModelConfig } from '../../src/core/types';
import { REPO } from '../helpers/cli';
import { makeTempDir } from '../helpers/tmp';

const CONFIG: ModelConfig = { ...DEFAULT_CONFIG, vocabSize: 40, modelDim: 8, latentDim: 4, maxTokens: 8 };

async function bundle(dir: string, seed: number): Promise<string> {
  await saveBundle(dir, { config: CONFIG, tokenizer: { opaque: true }, weights: initialWeights(CONFIG, seed) });
  return dir;
}

function growModel(...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'scripts/grow-model.ts', ...args], {
    cwd: REPO,
    encoding: 'utf8',
  });
}

describe('scripts/grow-model', () => {
  test('--out onto its source or onto another model is refused, and both are left as they were', async () => {
    const root = makeTempDir('textvae-grow-');
    const source = await bundle(path.join(root, 'source'), 1);
    const other = await bundle(path.join(root, 'other'), 2);
    const manifests = () => [source, other].map((d) => fs.readFileSync(path.join(d, 'manifest.json'), 'utf8'));
    const before = manifests();
    const onto = (out: string) => growModel('--model', source, '--out', out, '--latent-dim', '6');
    const self = onto(source);
    assert.equal(self.status, 1, self.stderr);
    assert.match(self.stderr, /^grow-model: the output folder must differ from .*source\n$/);
    const another = onto(other);
    assert.equal(another.status, 1, another.stderr);
    assert.match(another.stderr, /^grow-model: .*other already exists: choose a new folder\n$/);
    assert.deepEqual(manifests(), before);
  });
});
