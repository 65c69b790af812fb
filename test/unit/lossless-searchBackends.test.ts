/**
 * The encoder's latent search takes gradients, and on wasm and cpu nothing but this code path may
 * have registered tfjs's gradients: this file imports no training code (each test file is its own
 * process), as a script that only compresses would.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { initBackend } from '../../src/core/backend';
import { TextVae } from '../../src/core/textVae';
import { losslessCoderFor } from '../../src/core/lossless/tfMatMul';

const REPO = path.resolve(__dirname, '..', '..');

test('compressing with the latent search (asked for) works on wasm without the training code loaded', async () => {
  await initBackend('wasm');
  const vae = await TextVae.load(path.join(REPO, 'models', 'default'));
  const coder = await losslessCoderFor(vae);
  try {
    const text = Buffer.from(fs.readFileSync(path.join(REPO, 'README.md'), 'utf8').slice(0, 1200));
    assert.equal(coder.searchSweeps, 0, 'on wasm the coder does not search unless asked');
    coder.searchSweeps = 1;
    const code = await coder.compressToBinary(text);
    assert.ok(Buffer.from(coder.decompressBinary(code)).equals(text));
  } finally {
    coder.dispose();
  }
});
