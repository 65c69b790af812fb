/**
 * `npm run bench:compress`: lossless codes against general-purpose compressors, on snippets coded one
 * at a time, in the model's domain (python-docs files the engine's split holds out) and outside it
 * (GNU info manuals of the machine's command-line tools). Prints a Markdown table, and speeds.
 *
 *   node --import tsx scripts/bench-compress.ts [--model DIR] [--data DIR] [--samples N] [--sizes 64,256,...] [--json FILE]
 *   node --import tsx scripts/bench-compress.ts --speed-only    (one backend: TEXTVAE_BACKEND)
 *
 * Sizes count every byte a user stores: the lossless binary form with its header, zstd frames,
 * raw deflate streams. Dictionaries (deflate's 32 KB preset, zstd's 64 KB trained one) come from the
 * model's training files and, like the model, are not counted.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { execFileSync, spawnSync } from 'node:child_process';
import { initBackend } from '../src/core/backend';
import { TextVae } from '../src/core/textVae';
import { isHeldOut } from '../src/core/dataset';
import type { LosslessCoder } from '../src/core/lossless/codec';
import { losslessCoderFor } from '../src/core/lossless/tfMatMul';
import { ensureCorpus } from './corpus/build';

const args = process.argv.slice(2);
const arg = (name: string, fallback?: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const REPO = path.resolve(__dirname, '..');
const MODEL = arg('--model', path.join(REPO, 'models', 'default'))!;
/** Default: the python-docs corpus, made by scripts/corpus/build.ts when it is not there yet. */
const DATA = arg('--data') ?? ensureCorpus('python-docs');
const SAMPLES = Number(arg('--samples', '6'));
const SIZES = (arg('--sizes') ?? '64,256,1024,4096,65536').split(',').map(Number);
/** Fewer samples of the large sizes: the 2-core machine is shared. */
const samplesFor = (size: number) => (size >= 65536 ? 1 : size >= 4096 ? Math.max(1, SAMPLES / 3) : SAMPLES);
const OOD_FILES = [
  'coreutils.info.gz',
  'diffutils.info.gz',
  'find.info.gz',
  'find.info-1.gz',
  'sed.info.gz',
  'bc.info.gz',
  'grep.info.gz',
];

function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.push(path.relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

/** `count` snippets of `size` bytes, each starting at a line start, spread evenly through `text`. */
function snippets(text: Buffer, size: number, count: number): Buffer[] {
  const out: Buffer[] = [];
  for (let k = 0; k < count && text.length >= size; k++) {
    let s = Math.floor(((text.length - size) * (k + 0.5)) / count);
    while (s > 0 && text[s - 1] !== 0x0a) s--;
    out.push(text.subarray(s, s + size));
  }
  return out;
}

function ensureZstd(): string | null {
  if (spawnSync('zstd', ['--version']).status === 0) return 'zstd';
  process.stderr.write('zstd is not installed: trying apt-get install zstd\n');
  spawnSync('apt-get', ['install', '-y', '-qq', 'zstd'], { stdio: 'ignore' });
  return spawnSync('zstd', ['--version']).status === 0 ? 'zstd' : null;
}

function zstdSize(zstd: string, bytes: Buffer, extra: string[]): number {
  return execFileSync(zstd, ['-19', '-q', '-c', ...extra], { input: bytes, maxBuffer: 1 << 26 }).length;
}

interface Row {
  domain: string;
  size: number;
  samples: number;
  bits: Record<string, number>;
}

async function main(): Promise<void> {
  const backend = await initBackend((process.env.TEXTVAE_BACKEND as 'auto') || 'auto');
  const vae = await TextVae.load(MODEL);
  const coder = await losslessCoderFor(vae);
  if (args.includes('--speed-only')) {
    process.stdout.write(
      JSON.stringify({ backend: backend.name, ...(await speeds(coder, sampleText(), 16384)) }) + '\n',
    );
    return;
  }
  if (!fs.existsSync(DATA)) throw new Error(`no corpus at ${DATA} (give --data DIR)`);
  const files = listFiles(DATA);
  const held = files.filter((f) => isHeldOut(f, 0.05));
  const train = files.filter((f) => !isHeldOut(f, 0.05));
  const inDomain = Buffer.concat(held.map((f) => fs.readFileSync(path.join(DATA, f))));
  const trainText = Buffer.concat(train.map((f) => fs.readFileSync(path.join(DATA, f))));
  const oodFiles = OOD_FILES.map((f) => path.join('/usr/share/info', f)).filter((f) => fs.existsSync(f));
  const ood = Buffer.concat(oodFiles.map((f) => zlib.gunzipSync(fs.readFileSync(f))));

  // Shared dictionaries from the training text: deflate's window is 32 KB.
  const deflateDict = trainText.subarray(trainText.length - 32768);
  const zstd = ensureZstd();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-compress-'));
  let zstdDict: string | null = null;
  if (zstd) {
    const samplesDir = path.join(tmp, 'samples');
    fs.mkdirSync(samplesDir);
    train.forEach((f, i) => fs.copyFileSync(path.join(DATA, f), path.join(samplesDir, `${i}.txt`)));
    zstdDict = path.join(tmp, 'dict');
    execFileSync(zstd, ['--train', '-q', '-r', samplesDir, '--maxdict=65536', '-o', zstdDict]);
  }

  const names = ['lossless', 'brotli -q 11', 'deflate -9', 'zstd -19', 'deflate + 32 KB dict', 'zstd -19 + 64 KB dict'];
  const rows: Row[] = [];
  for (const [domain, text] of [
    ['python-docs (held out)', inDomain],
    ['GNU info manuals', ood],
  ] as const) {
    for (const size of SIZES) {
      const parts = snippets(text, size, samplesFor(size));
      if (parts.length === 0) continue;
      const total: Record<string, number> = Object.fromEntries(names.map((n) => [n, 0]));
      let bytes = 0;
      for (const p of parts) {
        const code = await coder.compressToBinary(p);
        if (!Buffer.from(coder.decompressBinary(code)).equals(p)) throw new Error('round trip failed');
        total['lossless'] += code.length;
        total['brotli -q 11'] += zlib.brotliCompressSync(p, {
          params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 },
        }).length;
        total['deflate -9'] += zlib.deflateRawSync(p, { level: 9 }).length;
        total['deflate + 32 KB dict'] += zlib.deflateRawSync(p, { level: 9, dictionary: deflateDict }).length;
        if (zstd) {
          total['zstd -19'] += zstdSize(zstd, p, []);
          total['zstd -19 + 64 KB dict'] += zstdSize(zstd, p, ['-D', zstdDict!]);
        }
        bytes += p.length;
      }
      const row: Row = { domain, size, samples: parts.length, bits: {} };
      for (const n of names) row.bits[n] = (8 * total[n]) / bytes;
      rows.push(row);
      process.stderr.write(`${domain} ${size} B: ${JSON.stringify(row.bits)}\n`);
    }
  }
  fs.rmSync(tmp, { recursive: true, force: true });

  const label = (n: number) => (n >= 1024 ? `${n / 1024} KiB` : `${n} B`);
  const lines = [
    `| domain | snippet | samples | ${names.join(' | ')} |`,
    `| --- | --- | --- | ${names.map(() => '---').join(' | ')} |`,
    ...rows.map(
      (r) =>
        `| ${r.domain} | ${label(r.size)} | ${r.samples} | ${names
          .map((n) => (zstd || !n.startsWith('zstd') ? r.bits[n].toFixed(2) : 'n/a'))
          .join(' | ')} |`,
    ),
  ];
  // Speeds: this process's backend, then the others in child processes (one backend per process).
  const speedRows = [{ backend: backend.name, ...(await speeds(coder, inDomain, 65536)) }];
  for (const other of ['tensorflow', 'wasm', 'cpu'].filter((b) => b !== backend.name)) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', __filename, '--speed-only', '--model', MODEL], {
      env: { ...process.env, TEXTVAE_BACKEND: other, BENCH_TEXT: inDomain.subarray(0, 70000).toString('base64') },
      encoding: 'utf8',
      maxBuffer: 1 << 26,
    });
    if (r.status === 0) speedRows.push(JSON.parse(r.stdout.trim().split('\n').at(-1)!));
    else process.stderr.write(`speed on ${other} skipped: ${r.stderr.split('\n').slice(-3).join(' ')}\n`);
  }
  const speedLines = [
    '| backend | compress 1 KiB | decompress 1 KiB | long input | compress | decompress |',
    '| --- | --- | --- | --- | --- | --- |',
    ...speedRows.map(
      (s) =>
        `| ${s.backend} | ${s.c1.toFixed(2)} s | ${s.d1.toFixed(2)} s | ${s.big / 1024} KiB | ${s.cKBs.toFixed(1)} KB/s | ${s.dKBs.toFixed(1)} KB/s |`,
    ),
  ];
  const header = `${new Date().toISOString().slice(0, 16)}Z, model ${vae.fingerprint.slice(0, 8)}, ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'cpu'}), load average ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}, Node ${process.version}`;
  process.stdout.write(
    `${header}\n\nbits per byte (lower is better):\n\n${lines.join('\n')}\n\nspeed:\n\n${speedLines.join('\n')}\n`,
  );
  const json = arg('--json');
  if (json) fs.writeFileSync(json, JSON.stringify({ header, rows, speeds: speedRows }, null, 2));
}

function sampleText(): Buffer {
  if (process.env.BENCH_TEXT) return Buffer.from(process.env.BENCH_TEXT, 'base64');
  return Buffer.concat(
    listFiles(DATA)
      .filter((f) => isHeldOut(f, 0.05))
      .map((f) => fs.readFileSync(path.join(DATA, f))),
  );
}

/** Seconds for a 1 KiB snippet, KB/s for a `bigSize` one. */
async function speeds(
  coder: LosslessCoder,
  text: Buffer,
  bigSize: number,
): Promise<{ c1: number; d1: number; big: number; cKBs: number; dKBs: number }> {
  const time = async <T>(f: () => Promise<T> | T): Promise<[T, number]> => {
    const t0 = performance.now();
    const r = await f();
    return [r, (performance.now() - t0) / 1000];
  };
  const [small] = snippets(text, 1024, 1);
  const [big] = snippets(text, bigSize, 1);
  const [c1code, c1] = await time(() => coder.compressToBinary(small));
  const [, d1] = await time(() => coder.decompressBinary(c1code));
  const [c64code, c64] = await time(() => coder.compressToBinary(big));
  const [, d64] = await time(() => coder.decompressBinary(c64code));
  return { c1, d1, big: big.length, cKBs: big.length / 1000 / c64, dKBs: big.length / 1000 / d64 };
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:compress: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
