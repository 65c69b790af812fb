/** Broken and hostile model bundles, loaded by the CLI (a process of its own, so a hang is caught). */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { computeFingerprint } from '../../src/core/bundle';
import { toFloat16 } from '../../src/core/float16';
import { makeTempDir } from '../helpers/tmp';
import { copyBundle, type Fixture } from './fixtures';
import { judgeCli, runCliBounded, type Case, type Inputs } from './harness';

const LIMIT_MS = 180_000;
const FILES = ['manifest.json', 'config.json', 'tokenizer.json', 'weights.json', 'weights.bin'];

/** Makes manifest.json agree with the files again, so that the loader must catch the edit by a deeper check. */
export function rehash(dir: string): void {
  const manifestPath = path.join(dir, 'manifest.json');
  const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8'));
  manifest.files = {};
  for (const name of fs.readdirSync(dir)) {
    if (name === 'manifest.json') continue;
    const bytes = fs.readFileSync(path.join(dir, name));
    manifest.files[name] = { bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
  }
  const read = (n: string) => fs.readFileSync(path.join(dir, n));
  manifest.fingerprint = computeFingerprint(
    read('config.json'),
    read('tokenizer.json'),
    read('weights.json'),
    read('weights.bin'),
  );
  fs.writeFileSync(manifestPath, JSON.stringify(manifest));
}

function editJson(dir: string, file: string, edit: (v: Record<string, unknown>) => unknown): void {
  const p = path.join(dir, file);
  fs.writeFileSync(p, JSON.stringify(edit(JSON.parse(fs.readFileSync(p, 'utf8')))));
}

function fillWeights(dir: string, value: number): void {
  const p = path.join(dir, 'weights.bin');
  const bin = fs.readFileSync(p);
  const floats = new Float32Array(bin.buffer, bin.byteOffset, bin.length / 4);
  floats.fill(value, 0, Math.min(floats.length, 1000));
  fs.writeFileSync(p, bin);
}

/** Rewrites a float32 bundle's weights as float16 (manifest re-hashed), then applies `edit` to the halves. */
function toFloat16Bundle(dir: string, edit: (halves: Uint16Array) => void = () => undefined): void {
  const index = JSON.parse(fs.readFileSync(path.join(dir, 'weights.json'), 'utf8'));
  const bin = fs.readFileSync(path.join(dir, 'weights.bin'));
  const floats = new Float32Array(bin.buffer, bin.byteOffset, bin.length / 4);
  const halves = toFloat16(floats)!;
  edit(halves);
  fs.writeFileSync(path.join(dir, 'weights.bin'), Buffer.from(halves.buffer));
  fs.writeFileSync(path.join(dir, 'weights.json'), JSON.stringify({ ...index, dtype: 'float16' }));
  rehash(dir);
}

type Mutation = [name: string, apply: (dir: string, inputs: Inputs) => void];

/** Random damage, with and without a consistent manifest. */
const GENERATED: Mutation[] = [
  [
    'a file truncated',
    (d, i) => {
      const p = path.join(d, i.pick(FILES));
      fs.truncateSync(p, i.rng.int(fs.statSync(p).size));
    },
  ],
  [
    'bytes flipped',
    (d, i) => {
      const p = path.join(d, i.pick(FILES));
      const b = fs.readFileSync(p);
      for (let k = 0; k < 1 + i.rng.int(8); k++) b[i.rng.int(b.length)] ^= 1 + i.rng.int(255);
      fs.writeFileSync(p, b);
    },
  ],
  [
    'bytes flipped, manifest re-hashed',
    (d, i) => {
      const p = path.join(d, i.pick(FILES.slice(1)));
      const b = fs.readFileSync(p);
      for (let k = 0; k < 1 + i.rng.int(8); k++) b[i.rng.int(b.length)] ^= 1 + i.rng.int(255);
      fs.writeFileSync(p, b);
      rehash(d);
    },
  ],
  ['a file deleted', (d, i) => fs.rmSync(path.join(d, i.pick(FILES)))],
  [
    'a file replaced by random bytes, manifest re-hashed',
    (d, i) => {
      fs.writeFileSync(path.join(d, i.pick(FILES.slice(1))), i.bytes(1 + i.rng.int(5000)));
      rehash(d);
    },
  ],
  [
    'a JSON file replaced by another JSON value, manifest re-hashed',
    (d, i) => {
      const values = ['null', '[]', '{}', '"text"', '1e400', '{"kind":"byte-bpe","version":1}', '[[[[[[[[]]]]]]]]'];
      fs.writeFileSync(path.join(d, i.pick(['config.json', 'tokenizer.json', 'weights.json'])), i.pick(values));
      rehash(d);
    },
  ],
  [
    'an unexpected extra file',
    (d, i) => fs.writeFileSync(path.join(d, i.pick(['notes.txt', '.DS_Store', 'x.bin'])), 'x'),
  ],
];

/** Bundles written to attack the loader. */
const HOSTILE: Mutation[] = [
  [
    'path traversal in manifest.json',
    (d) =>
      editJson(d, 'manifest.json', (m) => ({
        ...m,
        files: { ...(m.files as object), '../../../etc/passwd': { bytes: 1, sha256: '0'.repeat(64) } },
      })),
  ],
  [
    'weights.bin a symlink to /etc/passwd',
    (d) => {
      fs.rmSync(path.join(d, 'weights.bin'));
      fs.symlinkSync('/etc/passwd', path.join(d, 'weights.bin'));
    },
  ],
  [
    'config.json a symlink to a file inside the folder',
    (d) => {
      fs.renameSync(path.join(d, 'config.json'), path.join(d, 'REPORT.md'));
      fs.symlinkSync('REPORT.md', path.join(d, 'config.json'));
    },
  ],
  [
    'weights.bin a named pipe (would block a reader)',
    (d) => {
      fs.rmSync(path.join(d, 'weights.bin'));
      execFileSync('mkfifo', [path.join(d, 'weights.bin')]);
    },
  ],
  ['a sub-folder inside the bundle', (d) => fs.mkdirSync(path.join(d, 'weights.json.d'))],
  ['size bomb: a 300 MB sparse weights.bin', (d) => fs.truncateSync(path.join(d, 'weights.bin'), 300 * 1024 * 1024)],
  [
    'size bomb: a 40 MB manifest.json',
    (d) => fs.writeFileSync(path.join(d, 'manifest.json'), Buffer.alloc(40 * 1024 * 1024, 0x20)),
  ],
  [
    'deeply nested JSON in config.json',
    (d) => {
      fs.writeFileSync(path.join(d, 'config.json'), '['.repeat(200_000) + ']'.repeat(200_000));
      rehash(d);
    },
  ],
  [
    'weights all NaN',
    (d) => {
      fillWeights(d, NaN);
      rehash(d);
    },
  ],
  [
    'weights with Infinity',
    (d) => {
      fillWeights(d, Infinity);
      rehash(d);
    },
  ],
  [
    'catastrophic-backtracking pre-tokenizer',
    (d) => {
      editJson(d, 'tokenizer.json', (t) => ({ ...t, pretokenizer: '^(a+)+$|(x|x)*y' }));
      rehash(d);
    },
  ],
  [
    'a config that asks for a huge model',
    (d) => {
      editJson(d, 'config.json', (c) => ({ ...c, vocabSize: 65536, modelDim: 2048, maxTokens: 1024 }));
      rehash(d);
    },
  ],
  [
    'tensors overlapping in weights.bin',
    (d) => {
      editJson(d, 'weights.json', (w) => ({
        ...w,
        tensors: (w.tensors as { offset: number }[]).map((t, i) => (i === 1 ? { ...t, offset: 0 } : t)),
      }));
      rehash(d);
    },
  ],
  [
    'a million tensor entries in weights.json',
    (d) => {
      editJson(d, 'weights.json', (w) => ({
        ...w,
        tensors: Array.from({ length: 1_000_000 }, (_, i) => ({ name: `t${i}`, shape: [0], offset: 0, length: 0 })),
      }));
      rehash(d);
    },
  ],
  ['the bundle folder is a symlink to a good bundle (must load)', () => undefined],
  ['float16 weights (must load)', (d) => toFloat16Bundle(d)],
  ['float16 weights with half NaNs', (d) => toFloat16Bundle(d, (h) => h.fill(0x7e00, 0, 1000))],
  ['float16 weights with half -Infinity', (d) => toFloat16Bundle(d, (h) => h.fill(0xfc00, 0, 1000))],
  [
    'float16 weights.bin under an index that says float32',
    (d) => {
      toFloat16Bundle(d);
      editJson(d, 'weights.json', (w) => ({ ...w, dtype: 'float32' }));
      rehash(d);
    },
  ],
  [
    'a tensor with an unknown dtype',
    (d) => {
      editJson(d, 'weights.json', (w) => ({
        ...w,
        tensors: (w.tensors as object[]).map((t, i) => (i === 0 ? { ...t, dtype: 'bfloat16' } : t)),
      }));
      rehash(d);
    },
  ],
];

export function bundleCases(f: Fixture, inputs: Inputs): Case[] {
  const all: Mutation[] = [...HOSTILE];
  for (let k = 0; k < 14; k++) all.push(GENERATED[k % GENERATED.length]);
  return all.map(([name, apply], k) => ({
    group: 'model bundles',
    name: k < HOSTILE.length ? `hostile: ${name}` : `generated #${k - HOSTILE.length + 1}: ${name}`,
    limitMs: LIMIT_MS,
    async run() {
      const root = makeTempDir('textvae-hardening-bundle-');
      let dir = copyBundle(f.model, path.join(root, 'model'));
      if (name.startsWith('the bundle folder is a symlink')) {
        fs.symlinkSync(dir, path.join(root, 'link'));
        dir = path.join(root, 'link');
      } else apply(dir, inputs);
      const r = await runCliBounded(['encode', '--model', dir, '--text', `The quick brown fox. ${'x'.repeat(40)}`], {
        limitMs: LIMIT_MS - 5_000,
      });
      // A refusal must say which bundle; a bundle that loads must work.
      const outcome = judgeCli(r, { mustName: r.code === 1 ? dir : undefined, output: true });
      if (outcome.verdict === 'handled' && r.code === 0 && !/^tvae[12]:/.test(r.stdout))
        return { verdict: 'unhandled', detail: `loaded but encoded to ${JSON.stringify(r.stdout.slice(0, 100))}` };
      if (name.endsWith('(must load)') && r.code !== 0)
        return { verdict: 'unhandled', detail: `a good bundle was refused: ${r.stderr.trim().slice(0, 200)}` };
      if (outcome.verdict === 'handled' && r.code === 2)
        return { verdict: 'unhandled', detail: 'a usage error for a bad bundle' };
      return outcome;
    },
  }));
}
