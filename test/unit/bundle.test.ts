import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { replaceDirAtomic, writeFileAtomic } from '../../src/core/atomicFs';
import {
  BundleError,
  computeFingerprint,
  loadBundle,
  readManifest,
  saveBundle,
  SaveBundleInput,
} from '../../src/core/bundle';
import type { ModelConfig, NamedWeights } from '../../src/core/types';
import { Random } from '../../src/core/random';

// ---------------------------------------------------------------- fixtures

let root: string;
let counter = 0;

before(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'textvae-bundle-test-'));
});
after(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

function freshDir(label: string): string {
  counter += 1;
  return path.join(root, `${label}-${counter}`, 'model');
}

/** The engine's seeded generator, as a plain function. */
function makeRng(seed: number): () => number {
  const random = new Random(seed);
  return () => random.next();
}

const CONFIG: ModelConfig = {
  variant: 'vae',
  vocabSize: 20,
  maxTokens: 16,
  modelDim: 6,
  latentDim: 4,
  encoderLayers: 1,
  decoderDilations: [1, 2],
  kernelSize: 2,
};

function randomTensor(rng: () => number, shape: number[]): { shape: number[]; data: Float32Array } {
  const n = shape.reduce((a, b) => a * b, 1);
  return { shape, data: Float32Array.from({ length: n }, () => (rng() - 0.5) * 2) };
}

function makeWeights(seed = 1, decoderShape = [4, 4]): NamedWeights {
  const rng = makeRng(seed);
  const w: NamedWeights = {
    embed: randomTensor(rng, [CONFIG.vocabSize, CONFIG.modelDim]),
    'decoder.0.w': randomTensor(rng, decoderShape),
    'enc.b': randomTensor(rng, [CONFIG.modelDim]),
  };
  // Values whose bit patterns a lossy round trip would change.
  w['enc.b'].data[0] = -0;
  w['enc.b'].data[1] = 1e-45; // denormal
  w['enc.b'].data[2] = -3.4028234663852886e38;
  w['enc.b'].data[3] = Math.fround(Math.PI);
  return w;
}

function expectedShapes(config: ModelConfig): Record<string, number[]> {
  return {
    embed: [config.vocabSize, config.modelDim],
    'decoder.0.w': [config.latentDim, config.latentDim],
    'enc.b': [config.modelDim],
  };
}

const TOKENIZER = { kind: 'bytes', vocab: ['<pad>', '<bos>', '<eos>', 'a', 'b'], merges: [[3, 4]] };

function makeInput(overrides: Partial<SaveBundleInput> = {}): SaveBundleInput {
  return { config: { ...CONFIG }, tokenizer: TOKENIZER, weights: makeWeights(), ...overrides };
}

async function savedBundle(label: string, overrides: Partial<SaveBundleInput> = {}): Promise<string> {
  const dir = freshDir(label);
  await saveBundle(dir, makeInput(overrides));
  return dir;
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/**
 * Edits a saved bundle's files, then (unless rehash is false) rewrites manifest.json so
 * that sizes, checksums and fingerprint agree again: the loader must then catch the
 * edit by a later check.
 */
async function tamper(
  dir: string,
  edit: (files: Map<string, Buffer>) => void | Promise<void>,
  opts: { rehash?: boolean } = {},
): Promise<void> {
  const files = new Map<string, Buffer>();
  for (const name of await fs.readdir(dir)) {
    if (name !== 'manifest.json') files.set(name, await fs.readFile(path.join(dir, name)));
  }
  const originalNames = new Set(files.keys());
  await edit(files);
  for (const name of originalNames) if (!files.has(name)) await fs.rm(path.join(dir, name));
  for (const [name, bytes] of files) await fs.writeFile(path.join(dir, name), bytes);
  if (opts.rehash === false) return;
  const manifest = JSON.parse(await fs.readFile(path.join(dir, 'manifest.json'), 'utf8'));
  manifest.files = {};
  for (const [name, bytes] of files) manifest.files[name] = { bytes: bytes.length, sha256: sha256(bytes) };
  const part = (n: string): Buffer => files.get(n) ?? Buffer.alloc(0);
  manifest.fingerprint = computeFingerprint(
    part('config.json'),
    part('tokenizer.json'),
    part('weights.json'),
    part('weights.bin'),
  );
  await fs.writeFile(path.join(dir, 'manifest.json'), JSON.stringify(manifest));
}

async function editManifest(dir: string, edit: (m: Record<string, any>) => void): Promise<void> {
  const p = path.join(dir, 'manifest.json');
  const m = JSON.parse(await fs.readFile(p, 'utf8'));
  edit(m);
  await fs.writeFile(p, JSON.stringify(m));
}

async function editJson(dir: string, file: string, edit: (v: any) => unknown): Promise<void> {
  await tamper(dir, (files) => {
    const v = JSON.parse(files.get(file)!.toString('utf8'));
    const out = edit(v) ?? v;
    files.set(file, Buffer.from(JSON.stringify(out)));
  });
}

async function expectLoadError(
  dir: string,
  pattern: RegExp | string,
  options?: Parameters<typeof loadBundle>[1],
): Promise<void> {
  await assert.rejects(loadBundle(dir, options), (err: unknown) => {
    assert.ok(err instanceof BundleError, `expected BundleError, got ${String(err)}`);
    assert.ok(err.message.startsWith(`${dir}: `), `message should start with the bundle path: ${err.message}`);
    assert.ok(!err.message.includes('\n'), `message should be one line: ${err.message}`);
    if (typeof pattern === 'string') assert.equal(err.message, `${dir}: ${pattern}`);
    else assert.match(err.message, pattern);
    return true;
  });
}

function bits(a: Float32Array): number[] {
  return Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
}

async function siblings(dir: string): Promise<string[]> {
  return (await fs.readdir(path.dirname(dir))).sort();
}

// ---------------------------------------------------------------- round trip

describe('saveBundle / loadBundle round trip', () => {
  test('everything comes back; weights bit for bit', async () => {
    const dir = freshDir('roundtrip');
    const input = makeInput({
      training: { epochs: 3, seed: 42 },
      metrics: { elbo: -12.5 },
      extras: { 'REPORT.md': '# Report\n', 'train-log.jsonl': '{"step":1}\n' },
    });
    const { fingerprint } = await saveBundle(dir, input);
    assert.match(fingerprint, /^[0-9a-f]{64}$/);

    const loaded = await loadBundle(dir, { expectedShapes });
    assert.equal(loaded.fingerprint, fingerprint);
    assert.equal(loaded.manifest.fingerprint, fingerprint);
    assert.equal(loaded.dir, path.resolve(dir));
    assert.deepEqual(loaded.config, CONFIG);
    assert.deepEqual(loaded.tokenizer, TOKENIZER);
    assert.deepEqual(loaded.manifest.training, { epochs: 3, seed: 42 });
    assert.deepEqual(loaded.manifest.metrics, { elbo: -12.5 });
    assert.equal(loaded.manifest.format, 'textvae-bundle');
    assert.equal(loaded.manifest.formatVersion, 1);
    assert.ok(!Number.isNaN(Date.parse(loaded.manifest.createdAt)));

    assert.deepEqual(Object.keys(loaded.weights).sort(), Object.keys(input.weights).sort());
    for (const [name, w] of Object.entries(input.weights)) {
      const got = loaded.weights[name];
      assert.deepEqual(got.shape, w.shape, name);
      assert.ok(got.data instanceof Float32Array);
      assert.deepEqual(bits(got.data), bits(w.data), name);
    }
    assert.ok(Object.is(loaded.weights['enc.b'].data[0], -0));

    const onDisk = (await fs.readdir(dir)).sort();
    assert.deepEqual(onDisk, [
      'REPORT.md',
      'config.json',
      'manifest.json',
      'tokenizer.json',
      'train-log.jsonl',
      'weights.bin',
      'weights.json',
    ]);
    assert.deepEqual(
      Object.keys(loaded.manifest.files).sort(),
      onDisk.filter((n) => n !== 'manifest.json'),
    );
    assert.equal(await fs.readFile(path.join(dir, 'REPORT.md'), 'utf8'), '# Report\n');
    let total = 0;
    for (const name of onDisk) total += (await fs.stat(path.join(dir, name))).size;
    assert.equal(loaded.sizeBytes, total);
    // weights.bin is raw little-endian float32: 4 bytes per element.
    const elements = Object.values(input.weights).reduce((n, w) => n + w.data.length, 0);
    assert.equal((await fs.stat(path.join(dir, 'weights.bin'))).size, elements * 4);
    const bin = await fs.readFile(path.join(dir, 'weights.bin'));
    const index = JSON.parse(await fs.readFile(path.join(dir, 'weights.json'), 'utf8'));
    const embedEntry = index.tensors.find((t: { name: string }) => t.name === 'embed');
    assert.equal(bin.readFloatLE(embedEntry.offset * 4 + 4), input.weights.embed.data[1]);
    // No temp or old siblings are left behind.
    assert.deepEqual(await siblings(dir), ['model']);
  });

  test('readManifest reads the manifest alone', async () => {
    const dir = await savedBundle('manifest-only', { metrics: { ok: true } });
    const loaded = await loadBundle(dir);
    const manifest = await readManifest(dir);
    assert.deepEqual(manifest, loaded.manifest);
    // It does not read the weights: a corrupt weights.bin does not disturb it.
    await fs.writeFile(path.join(dir, 'weights.bin'), Buffer.alloc(8));
    assert.equal((await readManifest(dir)).fingerprint, loaded.fingerprint);
    await fs.rm(path.join(dir, 'manifest.json'));
    await assert.rejects(readManifest(dir), /: no manifest\.json: not a TextVAE model folder$/);
  });

  test('the fingerprint depends only on the content, and on every part', async () => {
    const a = await saveBundle(freshDir('fp'), makeInput());
    const b = await saveBundle(freshDir('fp'), makeInput({ training: { other: 1 } }));
    assert.equal(a.fingerprint, b.fingerprint); // createdAt/training are not part of it
    const c = await saveBundle(freshDir('fp'), makeInput({ weights: makeWeights(2) }));
    assert.notEqual(a.fingerprint, c.fingerprint);
    const d = await saveBundle(freshDir('fp'), makeInput({ config: { ...CONFIG, kernelSize: 3 } }));
    assert.notEqual(a.fingerprint, d.fingerprint);
    const e = await saveBundle(freshDir('fp'), makeInput({ tokenizer: { ...TOKENIZER, kind: 'other' } }));
    assert.notEqual(a.fingerprint, e.fingerprint);

    const B = (s: string): Buffer => Buffer.from(s);
    const base = computeFingerprint(B('ab'), B('c'), B('d'), B('e'));
    assert.match(base, /^[0-9a-f]{64}$/);
    assert.equal(computeFingerprint(B('ab'), B('c'), B('d'), B('e')), base);
    // Length prefixes: moving a byte from one part to the next changes the result.
    assert.notEqual(computeFingerprint(B('a'), B('bc'), B('d'), B('e')), base);
    assert.notEqual(computeFingerprint(B('ab'), B('c'), B('de'), B('')), base);
    assert.notEqual(computeFingerprint(B('ab'), B('c'), B('d'), B('f')), base);
  });

  test('saving over an existing bundle replaces it completely', async () => {
    const dir = await savedBundle('overwrite', { extras: { 'COMMAND.md': 'old' } });
    const second = await saveBundle(dir, makeInput({ weights: makeWeights(5) }));
    const loaded = await loadBundle(dir);
    assert.equal(loaded.fingerprint, second.fingerprint);
    assert.deepEqual(bits(loaded.weights.embed.data), bits(makeWeights(5).embed.data));
    assert.ok(!(await fs.readdir(dir)).includes('COMMAND.md'));
    assert.deepEqual(await siblings(dir), ['model']);
  });
});

// ---------------------------------------------------------------- save-side validation and atomicity

describe('saveBundle refuses bad input without touching an existing bundle', () => {
  test('a tensor whose data length does not match its shape', async () => {
    const dir = await savedBundle('atomic');
    const good = await loadBundle(dir);
    const weights = makeWeights(9);
    weights.bad = { shape: [2, 2], data: new Float32Array(3) };
    await assert.rejects(saveBundle(dir, makeInput({ weights })), (err: unknown) => {
      assert.ok(err instanceof BundleError);
      assert.match(err.message, /weight bad has 3 values but shape \[2,2\] needs 4/);
      return true;
    });
    const still = await loadBundle(dir, { expectedShapes });
    assert.equal(still.fingerprint, good.fingerprint);
    assert.deepEqual(bits(still.weights.embed.data), bits(good.weights.embed.data));
    assert.deepEqual(await siblings(dir), ['model']);
  });

  test('other bad inputs', async () => {
    const dir = await savedBundle('save-bad');
    const { fingerprint } = await loadBundle(dir);
    const cases: [Partial<SaveBundleInput>, RegExp][] = [
      [{ config: { ...CONFIG, latentDim: 256 } }, /latentDim must be an integer in 1\.\.255/],
      [{ config: { ...CONFIG, variant: 'gan' as never } }, /variant/],
      [{ extras: { 'notes.txt': 'x' } }, /notes\.txt.*not allowed/],
      [{ tokenizer: undefined }, /tokenizer cannot be saved as JSON/],
      [
        { weights: { w: { shape: [2], data: [1, 2] as unknown as Float32Array } } },
        /weight w must have Float32Array data/,
      ],
      [{ weights: { w: { shape: [-1], data: new Float32Array(0) } } }, /weight w has an invalid shape/],
    ];
    for (const [overrides, pattern] of cases) {
      await assert.rejects(saveBundle(dir, makeInput(overrides)), (err: unknown) => {
        assert.ok(err instanceof BundleError);
        assert.ok(err.message.startsWith(dir));
        assert.match(err.message, pattern);
        return true;
      });
    }
    assert.equal((await loadBundle(dir)).fingerprint, fingerprint);
  });
});

describe('atomicFs', () => {
  test('replaceDirAtomic: a fill that fails midway leaves the old folder as it was', async () => {
    const dir = freshDir('replace');
    await fs.mkdir(dir, { recursive: true });
    await fs.writeFile(path.join(dir, 'keep.txt'), 'original');
    await assert.rejects(
      replaceDirAtomic(dir, async (tmp) => {
        assert.ok(path.basename(tmp).startsWith('.model.tmp-'), tmp);
        assert.equal(path.dirname(tmp), path.dirname(dir));
        await fs.writeFile(path.join(tmp, 'half.txt'), 'partial');
        throw new Error('disk full (simulated)');
      }),
      /disk full/,
    );
    assert.deepEqual(await fs.readdir(dir), ['keep.txt']);
    assert.equal(await fs.readFile(path.join(dir, 'keep.txt'), 'utf8'), 'original');
    assert.deepEqual(await siblings(dir), ['model']);
  });

  test('replaceDirAtomic: swaps in the new folder and removes the old one', async () => {
    const dir = freshDir('replace-ok');
    await replaceDirAtomic(dir, async (tmp) => fs.writeFile(path.join(tmp, 'a.txt'), 'one'));
    assert.deepEqual(await fs.readdir(dir), ['a.txt']);
    await replaceDirAtomic(dir, async (tmp) => {
      // The old folder is untouched while fill runs.
      assert.deepEqual(await fs.readdir(dir), ['a.txt']);
      await fs.mkdir(path.join(tmp, 'sub'));
      await fs.writeFile(path.join(tmp, 'sub', 'b.txt'), 'two');
    });
    assert.deepEqual(await fs.readdir(dir), ['sub']);
    assert.equal(await fs.readFile(path.join(dir, 'sub', 'b.txt'), 'utf8'), 'two');
    assert.deepEqual(await siblings(dir), ['model']);
  });

  test('writeFileAtomic writes and overwrites without leaving temp files', async () => {
    const dir = freshDir('write');
    await fs.mkdir(dir, { recursive: true });
    const file = path.join(dir, 'settings.json');
    await writeFileAtomic(file, '{"a":1}');
    assert.equal(await fs.readFile(file, 'utf8'), '{"a":1}');
    await writeFileAtomic(file, new Uint8Array([1, 2, 3]));
    assert.deepEqual([...(await fs.readFile(file))], [1, 2, 3]);
    assert.deepEqual(await fs.readdir(dir), ['settings.json']);
    await assert.rejects(writeFileAtomic(path.join(dir, 'missing-folder', 'x'), 'x'));
    assert.deepEqual(await fs.readdir(dir), ['settings.json']);
  });
});

// ---------------------------------------------------------------- loader rejections

describe('loadBundle rejects bad bundles', () => {
  test('the folder is missing or is a file', async () => {
    const dir = freshDir('nofolder');
    await expectLoadError(dir, 'bundle folder not found');
    await fs.mkdir(path.dirname(dir), { recursive: true });
    await fs.writeFile(dir, 'not a folder');
    await expectLoadError(dir, /not a folder/);
  });

  test('missing required file (each of them)', async () => {
    for (const name of ['config.json', 'tokenizer.json', 'weights.json', 'weights.bin']) {
      const dir = await savedBundle('missing');
      await tamper(dir, (files) => void files.delete(name));
      await expectLoadError(dir, `missing required file ${name}`);
    }
  });

  test('a folder without manifest.json is not a model folder, whatever else it holds', async () => {
    const dir = await savedBundle('missing');
    await fs.rm(path.join(dir, 'manifest.json'));
    await expectLoadError(dir, 'no manifest.json: not a TextVAE model folder');
    const notes = freshDir('notes');
    await fs.mkdir(notes, { recursive: true });
    await fs.writeFile(path.join(notes, 'readme.md'), 'not a model');
    await expectLoadError(notes, 'no manifest.json: not a TextVAE model folder');
    await fs.rm(path.join(notes, 'readme.md'));
    await expectLoadError(notes, 'no manifest.json: not a TextVAE model folder');
  });

  test('unexpected file or folder', async () => {
    let dir = await savedBundle('unexpected');
    await fs.writeFile(path.join(dir, 'notes.txt'), 'hi');
    await expectLoadError(dir, /unexpected file notes\.txt/);

    dir = await savedBundle('unexpected');
    await fs.writeFile(path.join(dir, '.DS_Store'), '');
    await expectLoadError(dir, /unexpected file \.DS_Store/);

    dir = await savedBundle('unexpected');
    await fs.mkdir(path.join(dir, 'sub'));
    await expectLoadError(dir, /unexpected folder sub/);

    dir = await savedBundle('unexpected');
    await fs.mkdir(path.join(dir, 'eval.json'));
    await expectLoadError(dir, /eval\.json is a folder/);
  });

  test('symbolic links, whether they point inside or outside the bundle', async (t) => {
    const dir = await savedBundle('symlink');
    const outside = path.join(path.dirname(dir), 'outside-config.json');
    await fs.copyFile(path.join(dir, 'config.json'), outside);
    await fs.rm(path.join(dir, 'config.json'));
    try {
      await fs.symlink(outside, path.join(dir, 'config.json'));
    } catch (err) {
      t.skip(`cannot create symlinks here: ${(err as Error).message}`);
      return;
    }
    // Contents are identical, so only the link check can refuse it.
    await expectLoadError(dir, /config\.json is a symbolic link/);

    const dir2 = await savedBundle('symlink');
    await fs.symlink(path.join(dir2, 'config.json'), path.join(dir2, 'eval.json'));
    await expectLoadError(dir2, /eval\.json is a symbolic link/);

    // A symlinked bundle folder itself is fine: it is resolved once and checked as a whole.
    const dir3 = await savedBundle('symlink');
    const link = path.join(path.dirname(dir3), 'link-to-model');
    await fs.symlink(dir3, link);
    assert.equal((await loadBundle(link)).config.latentDim, CONFIG.latentDim);
  });

  test('size caps are checked with stat before reading', async () => {
    let dir = await savedBundle('size', {
      weights: { ...makeWeights(), big: { shape: [1000], data: new Float32Array(1000) } },
    });
    const binSize = (await fs.stat(path.join(dir, 'weights.bin'))).size;
    for (const name of await fs.readdir(dir)) {
      if (name !== 'weights.bin') assert.ok((await fs.stat(path.join(dir, name))).size < binSize - 1, name);
    }
    await expectLoadError(dir, `weights.bin is ${binSize} bytes, over the ${binSize - 1}-byte limit`, {
      maxFileBytes: binSize - 1,
    });
    // Under the cap it loads.
    assert.ok(await loadBundle(dir, { maxFileBytes: binSize }));
    // A smaller maxFileBytes also caps the JSON files.
    await expectLoadError(dir, /: \w+\.json is \d+ bytes, over the 20-byte limit$/, { maxFileBytes: 20 });

    // A 33 MB sparse tokenizer.json of zero bytes: reading it would report a checksum or JSON error,
    // so the size message shows the cap was applied first.
    dir = await savedBundle('size');
    await fs.truncate(path.join(dir, 'tokenizer.json'), 33 * 1024 * 1024);
    await expectLoadError(dir, `tokenizer.json is ${33 * 1024 * 1024} bytes, over the ${32 * 1024 * 1024}-byte limit`);

    dir = await savedBundle('size');
    await fs.truncate(path.join(dir, 'weights.bin'), 257 * 1024 * 1024);
    await expectLoadError(dir, `weights.bin is ${257 * 1024 * 1024} bytes, over the ${256 * 1024 * 1024}-byte limit`);
    await fs.truncate(path.join(dir, 'weights.bin'), 0);
  });

  test('unparseable JSON (each JSON file)', async () => {
    for (const name of ['config.json', 'tokenizer.json', 'weights.json']) {
      const dir = await savedBundle('json');
      await tamper(dir, (files) => void files.set(name, Buffer.from('{"oops": ')));
      await expectLoadError(dir, new RegExp(`${name.replace('.', '\\.')} is not valid JSON`));
    }
    const dir = await savedBundle('json');
    await fs.writeFile(path.join(dir, 'manifest.json'), 'not json\nat all');
    await expectLoadError(dir, /manifest\.json is not valid JSON/);
  });

  test('wrong format or formatVersion', async () => {
    let dir = await savedBundle('version');
    await editManifest(dir, (m) => void (m.formatVersion = 2));
    await expectLoadError(dir, 'bundle format version 2 is not supported by this version of TextVAE (supports 1)');
    await assert.rejects(readManifest(dir), /bundle format version 2 is not supported/);

    dir = await savedBundle('version');
    await editManifest(dir, (m) => void (m.format = 'something-else'));
    await expectLoadError(dir, /manifest\.json: format is "something-else".*not a TextVAE model bundle/);

    dir = await savedBundle('version');
    await editManifest(dir, (m) => void delete m.formatVersion);
    await expectLoadError(dir, /manifest\.json: formatVersion must be an integer/);
  });

  test('manifest file list disagrees with the folder', async () => {
    let dir = await savedBundle('list');
    await fs.writeFile(path.join(dir, 'REPORT.md'), '# unlisted');
    await expectLoadError(dir, 'REPORT.md is in the bundle folder but not listed in manifest.json');

    dir = await savedBundle('list');
    await editManifest(dir, (m) => void (m.files['eval.json'] = { bytes: 2, sha256: 'a'.repeat(64) }));
    await expectLoadError(dir, 'manifest.json lists eval.json, which is not in the bundle folder');

    dir = await savedBundle('list');
    await editManifest(dir, (m) => void (m.files['../escape.json'] = { bytes: 2, sha256: 'a'.repeat(64) }));
    await expectLoadError(dir, /manifest\.json lists "\.\.\/escape\.json", which is not a file a bundle may contain/);
  });

  test('checksum or size mismatch against the manifest', async () => {
    let dir = await savedBundle('corrupt');
    await tamper(dir, (files) => void (files.get('weights.bin')![5] ^= 0x01), { rehash: false });
    await expectLoadError(dir, 'weights.bin is corrupt: checksum mismatch');

    dir = await savedBundle('corrupt', { extras: { 'eval.json': '{"a":1}' } });
    await tamper(dir, (files) => void files.set('eval.json', Buffer.from('{"a":2}')), { rehash: false });
    await expectLoadError(dir, 'eval.json is corrupt: checksum mismatch');

    dir = await savedBundle('corrupt');
    await tamper(
      dir,
      (files) => void files.set('config.json', Buffer.concat([files.get('config.json')!, Buffer.from(' ')])),
      {
        rehash: false,
      },
    );
    await expectLoadError(dir, /config\.json is corrupt: it is \d+ bytes but manifest\.json says \d+/);
  });

  test('fingerprint mismatch', async () => {
    const dir = await savedBundle('fingerprint');
    await editManifest(
      dir,
      (m) => void (m.fingerprint = (m.fingerprint[0] === 'a' ? 'b' : 'a') + m.fingerprint.slice(1)),
    );
    await expectLoadError(
      dir,
      /fingerprint mismatch: manifest\.json says [0-9a-f]{64} but the bundle files hash to [0-9a-f]{64}/,
    );

    const dir2 = await savedBundle('fingerprint');
    await editManifest(dir2, (m) => void (m.fingerprint = 'xyz'));
    await expectLoadError(dir2, /manifest\.json: fingerprint must be 64 lowercase hex/);
  });

  test('invalid config.json fields', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ variant: 'gan' }, /config\.json: variant must be one of vae, ae, sparse/],
      [{ vocabSize: 70000 }, /config\.json: vocabSize must be an integer in 1\.\.65536, got 70000/],
      [{ latentDim: 0 }, /config\.json: latentDim must be an integer in 1\.\.255, got 0/],
      [{ latentDim: 300 }, /latentDim must be an integer in 1\.\.255/],
      [{ maxTokens: 5000 }, /maxTokens must be an integer in 1\.\.4096/],
      [{ modelDim: 2.5 }, /modelDim must be an integer/],
      [{ encoderLayers: '2' }, /encoderLayers must be an integer.*got "2"/],
      [{ kernelSize: -1 }, /kernelSize must be an integer/],
      [{ decoderDilations: [1, 0] }, /decoderDilations\[1\] must be an integer/],
      [{ decoderDilations: [] }, /decoderDilations must be an array/],
      [{ decoderDilations: 3 }, /decoderDilations must be an array/],
      [{ encoderDilations: [1, 2, 4] }, /encoderDilations must be an array of 1 integers \(one per encoder layer\)/],
      [{ encoderDilations: [0] }, /encoderDilations\[0\] must be an integer/],
      [{ encoderPositions: 'yes' }, /encoderPositions must be true or false, got "yes"/],
      [{ surprise: true }, /config\.json: unknown config field "surprise"/],
      [{ modelDim: undefined }, /config\.json: modelDim must be an integer/],
    ];
    for (const [patch, pattern] of cases) {
      const dir = await savedBundle('config');
      await editJson(dir, 'config.json', (c) => ({ ...c, ...patch }));
      await expectLoadError(dir, pattern);
    }
    const dir = await savedBundle('config');
    await editJson(dir, 'config.json', () => [1, 2]);
    await expectLoadError(dir, /config\.json: config must be a JSON object/);
  });

  test('weights.json: bad dtype, out of range, overlapping, inconsistent', async () => {
    const cases: [(w: any) => void, RegExp][] = [
      [
        (w) => void (w.dtype = 'bfloat16'),
        /weights\.json: dtype "bfloat16" is not supported \(expected "float32" or "float16"\)/,
      ],
      [(w) => void (w.littleEndian = false), /weights\.json: littleEndian must be true/],
      [(w) => void (w.tensors[2].offset += 1), /tensor enc\.b .* is out of range of weights\.bin/],
      [(w) => void (w.tensors[1].offset -= 1), /weights\.json: tensors embed and decoder\.0\.w overlap/],
      [(w) => void (w.tensors[1].offset = 0), /overlap/],
      [(w) => void (w.tensors[0].length -= 1), /tensor embed has length \d+ but shape \[20,6\] needs 120/],
      [(w) => void (w.tensors[1].name = 'embed'), /tensor embed is listed twice/],
      [(w) => void (w.tensors[0].shape = [20, -6]), /tensor embed has an invalid shape/],
      [(w) => void (w.tensors = {}), /tensors must be an array/],
    ];
    for (const [edit, pattern] of cases) {
      const dir = await savedBundle('wjson');
      await editJson(dir, 'weights.json', (w) => {
        // Saved in insertion order: embed, decoder.0.w, enc.b.
        assert.deepEqual(
          w.tensors.map((t: { name: string }) => t.name),
          ['embed', 'decoder.0.w', 'enc.b'],
        );
        edit(w);
      });
      await expectLoadError(dir, pattern);
    }
    const dir = await savedBundle('wjson');
    await tamper(
      dir,
      (files) => void files.set('weights.bin', Buffer.concat([files.get('weights.bin')!, Buffer.alloc(2)])),
    );
    await expectLoadError(dir, /weights\.bin is \d+ bytes, not a whole number of float32 values/);
  });

  test('tensor shapes that differ from expectedShapes', async () => {
    let dir = await savedBundle('shapes', { weights: makeWeights(1, [3, 4]) });
    await expectLoadError(dir, 'weight decoder.0.w has shape [3,4], expected [4,4]', { expectedShapes });
    // Without expectedShapes the same bundle loads.
    assert.deepEqual((await loadBundle(dir)).weights['decoder.0.w'].shape, [3, 4]);

    dir = await savedBundle('shapes');
    await expectLoadError(dir, /weights\.json: missing weight decoder\.1\.w \(expected shape \[4,4\]\)/, {
      expectedShapes: (c) => ({ ...expectedShapes(c), 'decoder.1.w': [4, 4] }),
    });
    await expectLoadError(dir, /weights\.json: unexpected weight enc\.b/, {
      expectedShapes: (c) => {
        const s = expectedShapes(c);
        delete s['enc.b'];
        return s;
      },
    });
    await expectLoadError(dir, 'weight enc.b has shape [6], expected [6,1]', {
      expectedShapes: (c) => ({ ...expectedShapes(c), 'enc.b': [6, 1] }),
    });
  });
});

describe('saving never destroys what is not a bundle', () => {
  test('a folder of other files, a regular file and a symbolic link are refused and kept', async () => {
    const parent = path.dirname(freshDir('guard'));
    await fs.mkdir(parent, { recursive: true });
    const userDir = path.join(parent, 'notes');
    await fs.mkdir(userDir);
    await fs.writeFile(path.join(userDir, 'thesis.txt'), 'five years of work');
    const file = path.join(parent, 'file.txt');
    await fs.writeFile(file, 'keep me');
    const link = path.join(parent, 'link');
    await fs.symlink(userDir, link);
    // A bundle with a user's file added to it would lose that file too.
    const bundleDir = await savedBundle('guard-bundle');
    await fs.writeFile(path.join(bundleDir, 'my-notes.txt'), 'mine');
    for (const [target, pattern] of [
      [userDir, /not part of a TextVAE bundle \("thesis\.txt"\)/],
      [file, /exists and is not a folder/],
      [link, /symbolic link/],
      [bundleDir, /"my-notes\.txt"/],
    ] as const) {
      await assert.rejects(saveBundle(target, makeInput()), (err: unknown) => {
        assert.ok(err instanceof BundleError, String(err));
        assert.ok(err.message.startsWith(target), err.message);
        assert.match(err.message, pattern);
        assert.match(err.message, /choose a new or empty folder/);
        return true;
      });
    }
    assert.equal(await fs.readFile(path.join(userDir, 'thesis.txt'), 'utf8'), 'five years of work');
    assert.equal(await fs.readFile(file, 'utf8'), 'keep me');
    assert.ok((await fs.lstat(link)).isSymbolicLink());
    assert.equal(await fs.readFile(path.join(bundleDir, 'my-notes.txt'), 'utf8'), 'mine');
  });

  test('an empty folder and an existing bundle are replaced', async () => {
    const empty = freshDir('guard-empty');
    await fs.mkdir(empty, { recursive: true });
    await saveBundle(empty, makeInput());
    const { fingerprint } = await saveBundle(empty, makeInput({ weights: makeWeights(7) }));
    assert.equal((await loadBundle(empty)).fingerprint, fingerprint);
  });
});

describe('recovery after a crash inside replaceDirAtomic', () => {
  /** A pid that is certainly not running: the crashed writer. */
  const DEAD = 999_999_999;
  test('between the two renames: the previous bundle is put back on load, leftovers removed', async () => {
    const dir = await savedBundle('crash-between');
    const { fingerprint } = await loadBundle(dir);
    const parent = path.dirname(dir);
    // What a kill -9 between `rename(DIR, old)` and `rename(tmp, DIR)` leaves behind.
    await fs.rename(dir, path.join(parent, `.model.old-${DEAD}-aaaaaaaaaaaa`));
    await fs.mkdir(path.join(parent, `.model.tmp-${DEAD}-bbbbbbbbbbbb`));
    await fs.writeFile(path.join(parent, `.model.tmp-${DEAD}-bbbbbbbbbbbb`, 'weights.bin'), 'half');
    assert.equal((await loadBundle(dir)).fingerprint, fingerprint);
    assert.deepEqual(await siblings(dir), ['model']);
  });

  test('during the fill: the next save removes the partial copy and keeps a live writer’s', async () => {
    const dir = await savedBundle('crash-fill');
    const parent = path.dirname(dir);
    await fs.mkdir(path.join(parent, `.model.tmp-${DEAD}-cccccccccccc`));
    // A sibling owned by a running process (this test runner's parent) may still be in use.
    const live = `.model.tmp-${process.ppid}-dddddddddddd`;
    await fs.mkdir(path.join(parent, live));
    const { fingerprint } = await saveBundle(dir, makeInput({ weights: makeWeights(3) }));
    assert.equal((await readManifest(dir)).fingerprint, fingerprint);
    assert.deepEqual((await siblings(dir)).sort(), [live, 'model'].sort());
  });

  test('a missing folder with only an old copy is restored by readManifest too', async () => {
    const dir = await savedBundle('crash-manifest');
    const parent = path.dirname(dir);
    await fs.rename(dir, path.join(parent, `.model.old-${DEAD}-eeeeeeeeeeee`));
    assert.equal((await readManifest(dir)).format, 'textvae-bundle');
  });
});

describe('non-finite weights', () => {
  for (const [label, value] of [
    ['NaN', NaN],
    ['Infinity', Infinity],
    ['-Infinity', -Infinity],
  ] as const) {
    test(`a weight of ${label} is refused at load with the tensor named`, async () => {
      const weights = makeWeights();
      weights.embed.data.fill(value);
      const dir = await savedBundle(`nan-${label}`, { weights });
      await assert.rejects(loadBundle(dir), (err: unknown) => {
        assert.ok(err instanceof BundleError);
        assert.match(err.message, /weights\.bin: tensor embed holds 120 non-finite values \(NaN or Infinity\)/);
        return true;
      });
    });
  }
});

describe('16-bit weight storage', () => {
  const halfError = (x: number) => Math.max(Math.abs(x) * 2 ** -11, 2 ** -25);

  test('float16 round trip: within half precision, half the bytes, out-of-range tensors kept in float32', async () => {
    const dir = freshDir('f16');
    const input = makeInput({ weights: makeWeights(3, [3, 3]), weightsDtype: 'float16' });
    const saved = await saveBundle(dir, input);
    // enc.b holds -3.4e38, beyond ±65504.
    assert.deepEqual(saved.keptFloat32, ['enc.b']);
    const loaded = await loadBundle(dir);
    assert.equal(loaded.weightsDtype, 'float16');
    assert.equal(loaded.fingerprint, saved.fingerprint);
    for (const name of ['embed', 'decoder.0.w']) {
      const want = input.weights[name].data;
      const got = loaded.weights[name].data;
      assert.deepEqual(loaded.weights[name].shape, input.weights[name].shape);
      let changed = 0;
      for (let i = 0; i < want.length; i++) {
        assert.ok(Math.abs(got[i] - want[i]) <= halfError(want[i]), `${name}[${i}]: ${want[i]} -> ${got[i]}`);
        if (got[i] !== want[i]) changed++;
      }
      assert.ok(changed > 0, `${name} should have been rounded`);
    }
    assert.deepEqual(bits(loaded.weights['enc.b'].data), bits(input.weights['enc.b'].data));
    // 120 + 9 halves (258 bytes), padded to 260 for the float32 tensor of 6 values.
    const index = JSON.parse(await fs.readFile(path.join(dir, 'weights.json'), 'utf8'));
    assert.deepEqual(index, {
      dtype: 'float16',
      littleEndian: true,
      tensors: [
        { name: 'embed', shape: [20, 6], offset: 0, length: 120 },
        { name: 'decoder.0.w', shape: [3, 3], offset: 120, length: 9 },
        { name: 'enc.b', shape: [6], offset: 65, length: 6, dtype: 'float32' },
      ],
    });
    assert.equal((await fs.stat(path.join(dir, 'weights.bin'))).size, 260 + 24);
  });

  test('special values: signed zero kept, tiny values flush to zero, large ones round to the half range', async () => {
    const weights = makeWeights();
    weights['enc.b'].data.set([-0, 1e-45, -1e-8, 65504, -65519, 1 / 3]);
    const dir = await savedBundle('f16-special', { weights, weightsDtype: 'float16' });
    const got = (await loadBundle(dir)).weights['enc.b'].data;
    assert.ok(Object.is(got[0], -0));
    assert.ok(Object.is(got[1], 0));
    assert.ok(Object.is(got[2], -0), 'below half the smallest subnormal');
    assert.equal(got[3], 65504);
    assert.equal(got[4], -65504);
    assert.equal(got[5], 0.333251953125);
  });

  test('saving a loaded 16-bit bundle again gives the same fingerprint', async () => {
    const dir = await savedBundle('f16-stable', { weightsDtype: 'float16' });
    const first = await loadBundle(dir);
    const again = freshDir('f16-stable-again');
    const res = await saveBundle(again, {
      config: first.config,
      tokenizer: first.tokenizer,
      weights: first.weights,
      weightsDtype: first.weightsDtype,
    });
    assert.equal(res.fingerprint, first.fingerprint);
    for (const f of ['weights.json', 'weights.bin']) {
      assert.ok((await fs.readFile(path.join(dir, f))).equals(await fs.readFile(path.join(again, f))), f);
    }
  });

  test('float32 bundles keep the format (and so the fingerprint) they always had', async () => {
    const input = makeInput();
    const dir = await savedBundle('f32-legacy', input);
    const loaded = await loadBundle(dir);
    assert.equal(loaded.weightsDtype, 'float32');
    // The layout written before 16-bit storage existed: float32 elements back to back, no per-tensor dtype.
    let offset = 0;
    const tensors = Object.entries(input.weights).map(([name, t]) => {
      const entry = { name, shape: t.shape, offset, length: t.data.length };
      offset += t.data.length;
      return entry;
    });
    const legacyJson = Buffer.from(JSON.stringify({ dtype: 'float32', littleEndian: true, tensors }) + '\n');
    const legacyBin = Buffer.concat(Object.values(input.weights).map((t) => Buffer.from(t.data.buffer)));
    assert.ok((await fs.readFile(path.join(dir, 'weights.json'))).equals(legacyJson));
    assert.ok((await fs.readFile(path.join(dir, 'weights.bin'))).equals(legacyBin));
    const files = (n: string) => fs.readFile(path.join(dir, n));
    assert.equal(
      loaded.fingerprint,
      computeFingerprint(await files('config.json'), await files('tokenizer.json'), legacyJson, legacyBin),
    );
  });

  test('hostile 16-bit bundles are refused with the file and tensor named', async () => {
    const f16 = () => savedBundle('f16-bad', { weights: makeWeights(2), weightsDtype: 'float16' });
    const cases: [(files: Map<string, Buffer>) => void, RegExp][] = [
      [
        (files) => files.get('weights.bin')!.writeUInt16LE(0x7e00, 2), // a half NaN in embed
        /weights\.bin: tensor embed holds 1 non-finite value \(NaN or Infinity\)/,
      ],
      [
        (files) => files.get('weights.bin')!.writeUInt16LE(0xfc00, 240), // -Infinity in decoder.0.w
        /weights\.bin: tensor decoder\.0\.w holds 1 non-finite value/,
      ],
      [
        (files) => files.set('weights.bin', Buffer.concat([files.get('weights.bin')!, Buffer.alloc(1)])),
        /weights\.bin is \d+ bytes, not a whole number of float16 values/,
      ],
      [
        (files) => files.set('weights.bin', files.get('weights.bin')!.subarray(0, 250)),
        /tensor decoder\.0\.w \(float16 elements 120\.\.136\) is out of range of weights\.bin \(250 bytes\)/,
      ],
    ];
    const jsonCases: [(w: any) => void, RegExp][] = [
      [
        (w) => void (w.tensors[1].dtype = 'int8'),
        /tensor decoder\.0\.w has dtype "int8", expected "float32" or "float16"/,
      ],
      [(w) => void (w.tensors[0].dtype = 'float32'), /tensor embed \(float32 elements 0\.\.120\) is out of range/],
      [(w) => void (w.tensors[2].offset = 67), /tensors decoder\.0\.w and enc\.b overlap in weights\.bin/],
    ];
    for (const [edit, pattern] of cases) {
      const dir = await f16();
      await tamper(dir, edit);
      await expectLoadError(dir, pattern);
    }
    for (const [edit, pattern] of jsonCases) {
      const dir = await f16();
      await editJson(dir, 'weights.json', edit);
      await expectLoadError(dir, pattern);
    }
    await assert.rejects(
      saveBundle(freshDir('f16-bad-dtype'), makeInput({ weightsDtype: 'bfloat16' as never })),
      /cannot save bundle: weightsDtype must be float32 or float16, got "bfloat16"/,
    );
  });
});
