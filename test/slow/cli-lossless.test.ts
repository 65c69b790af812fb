/**
 * `textvae compress` / `decompress` with the default model: exact bytes back through every form
 * (string code, binary file, stdin), and codes made on one backend decoded on the others.
 */
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { REPO, describeRun, ensureCliBuilt, runCli } from '../helpers/cli';
import { makeTempDir } from '../helpers/tmp';
import { Random } from '../../src/core/random';

/** tensorflow only where the native addon is installed (scripts/setup-native.sh). */
const BACKENDS = [...(nativeInstalled() ? ['tensorflow'] : []), 'wasm', 'cpu'];

function nativeInstalled(): boolean {
  try {
    require.resolve('@tensorflow/tfjs-node');
    return true;
  } catch {
    return false;
  }
}
const TEXT =
  'The sorted() function returns a new list; list.sort() sorts in place.\r\n\tUnicode: 数据压缩 😀 — naïve café.\n';

let dir: string;
let mixed: string;

before(() => {
  ensureCliBuilt();
  dir = makeTempDir('textvae-lossless-cli-');
  const rng = new Random(4);
  // Text (a real file's start too: several blocks), then invalid UTF-8 and binary bytes.
  const bytes = Buffer.concat([
    Buffer.from(TEXT),
    fs.readFileSync(path.join(REPO, 'docs', 'lossless.md')).subarray(0, 1200),
    Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xed, 0xa0, 0x80, 0]),
    Buffer.from(Array.from({ length: 40 }, () => Math.floor(rng.next() * 256))),
  ]);
  mixed = path.join(dir, 'mixed.bin');
  fs.writeFileSync(mixed, bytes);
});

async function ok(args: string[], env: Record<string, string> = {}, input?: string) {
  const r = await runCli(args, { env, input });
  assert.equal(r.code, 0, describeRun(r));
  return r;
}

describe('textvae compress / decompress', () => {
  test('a string code and a binary file give back the exact bytes', async () => {
    const code = (await ok(['compress', mixed])).stdout.trim();
    assert.match(code, /^tvz2:[0-9a-f]{8}:[A-Za-z0-9_-]+$/);
    const out = path.join(dir, 'back1.bin');
    await ok(['decompress', code, '--out', out]);
    assert.deepEqual(fs.readFileSync(out), fs.readFileSync(mixed));

    const file = path.join(dir, 'mixed.tvz');
    const c = await ok(['compress', mixed, '--out', file]);
    assert.match(c.stderr, /bytes -> \d+ bytes/);
    assert.equal(fs.readFileSync(file)[0], 0xf6, 'the version 2 magic byte');
    const back = path.join(dir, 'back2.bin');
    await ok(['decompress', file, '--out', back]);
    assert.deepEqual(fs.readFileSync(back), fs.readFileSync(mixed));
  });

  test('--search N sets the sweeps of the latent search; every setting decodes exactly, a bad one is refused', async () => {
    for (const sweeps of ['0', '3']) {
      const code = (await ok(['compress', mixed, '--search', sweeps])).stdout.trim();
      const out = path.join(dir, `back-search${sweeps}.bin`);
      await ok(['decompress', code, '--out', out]);
      assert.deepEqual(fs.readFileSync(out), fs.readFileSync(mixed), `--search ${sweeps}`);
    }
    const bad = await runCli(['compress', mixed, '--search', '17']);
    assert.equal(bad.code, 2, describeRun(bad));
    assert.match(bad.stderr, /--search must be an integer from 0 to 16/);
  });

  test('standard input and output; a text file holding a code', async () => {
    const code = (await ok(['compress', '-'], {}, TEXT)).stdout.trim();
    const codeFile = path.join(dir, 'code.txt');
    fs.writeFileSync(codeFile, code + '\n');
    assert.equal((await ok(['decompress', codeFile])).stdout, TEXT);
    assert.equal((await ok(['decompress', '-'], {}, code)).stdout, TEXT);
  });

  test('a damaged file fails with a clear error and writes nothing', async () => {
    const file = path.join(dir, 'damaged.tvz');
    await ok(['compress', mixed, '--out', file]);
    const bytes = fs.readFileSync(file);
    bytes[bytes.length - 3] ^= 0x40;
    fs.writeFileSync(file, bytes);
    const out = path.join(dir, 'never.bin');
    const r = await runCli(['decompress', file, '--out', out]);
    assert.equal(r.code, 1, describeRun(r));
    assert.match(r.stderr, /lossless code (is corrupt|failed its checksum)/);
    assert.equal(fs.existsSync(out), false);
    const bad = await runCli(['decompress', 'tvz1:00000000:AAAA']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /made by model 00000000; the active model is [0-9a-f]{8}/);
  });

  for (const from of BACKENDS) {
    test(`a code made on ${from} decodes on every backend`, async () => {
      const file = path.join(dir, `from-${from}.tvz`);
      await ok(['compress', mixed, '--out', file], { TEXTVAE_BACKEND: from });
      for (const to of BACKENDS.filter((b) => b !== from)) {
        const out = path.join(dir, `from-${from}-to-${to}.bin`);
        await ok(['decompress', file, '--out', out], { TEXTVAE_BACKEND: to });
        assert.deepEqual(fs.readFileSync(out), fs.readFileSync(mixed), `${from} -> ${to}`);
      }
    });
  }
});
