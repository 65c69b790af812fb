/**
 * Whole files coded losslessly, each on its own, in format version 1 (no document cache), 2 (the
 * cache mixed in, fresh in each 32 KiB segment) and 3 (the cache carried across segments), next to
 * brotli -q 11 on the same files alone. Every code is decoded and compared. Sizes are the binary
 * form's bytes (header, segment heads, CRCs included).
 *
 *   node --import tsx scripts/lossless-files.ts --model models/default --data DIR|FILE [--split val|all] [--kb 200]
 *     [--cut 65536 [--snippets 4]] [--search 0,2,4] [--versions 1,2,3] [--min-kb 32] [--max-kb 1024] [--each]
 *
 * --search: the sweeps of the encoder's latent grid search (latentSearch.ts) to code versions 2 and 3
 * with, each a setting of its own (default: the coder's default alone). --min-kb, --max-kb: only
 * files of at least, at most this many KiB. --data may be given more than once. --each: also one JSON line per input (its bytes and code bytes per setting).
 *
 * Prints one JSON line: bits/byte per setting (v1; vV/sN, version V, N sweeps) and brotli, the coding methods
 * the codes used (a version 1 code that fell back to brotli decodes at brotli's pace), compression
 * and decoding speeds.
 */
import * as zlib from 'node:zlib';
import { parseArgs } from 'node:util';
import { initBackend } from '../src/core/backend';
import { TextVae } from '../src/core/textVae';
import { collectCorpus } from '../src/core/corpus';
import { splitForTraining } from '../src/core/split';
import { DEFAULT_VAL_FRACTION } from '../src/core/trainingRun';
import { losslessCoderFor } from '../src/core/lossless/tfMatMul';
import { defaultSearchSweeps } from '../src/core/choices';
import { BINARY_HEADER_BYTES, summarisePayload } from '../src/core/lossless/format';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'models/default' },
    data: { type: 'string', multiple: true },
    split: { type: 'string', default: 'all' },
    /** Files in path order until this many kB (0: all). */
    kb: { type: 'string', default: '0' },
    /** Code only each file's first N bytes (0: whole files). */
    cut: { type: 'string', default: '0' },
    /** With --cut N: code this many pieces of N bytes per file instead, starting at line starts spread evenly. */
    snippets: { type: 'string', default: '0' },
    search: { type: 'string' },
    versions: { type: 'string', default: '1,2,3' },
    'min-kb': { type: 'string', default: '0' },
    'max-kb': { type: 'string', default: '0' },
    each: { type: 'boolean', default: false },
  },
});

const brotli = (b: Uint8Array) =>
  zlib.brotliCompressSync(b, {
    params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: b.length },
  }).length;

/** The whole file; its first `cut` bytes; or `n` pieces of `cut` bytes from line starts spread evenly. */
function pieces(whole: Uint8Array, cut: number, n: number): Uint8Array[] {
  if (cut <= 0) return [whole];
  if (n <= 0 || whole.length <= cut) return [whole.subarray(0, cut)];
  return Array.from({ length: n }, (_, k) => {
    let start = Math.floor(((whole.length - cut) * (k + 0.5)) / n);
    while (start > 0 && whole[start - 1] !== 10) start--;
    return whole.subarray(start, start + cut);
  });
}

async function main(): Promise<void> {
  if (!values.data?.length) throw new Error('--data DIR is required');
  const backend = await initBackend('auto');
  const vae = await TextVae.load(values.model!);
  const coder = await losslessCoderFor(vae);
  const { files } = await collectCorpus(values.data);
  const sorted = files.slice().sort((a, b) => (a.relativePath < b.relativePath ? -1 : 1));
  const held = new Set(splitForTraining(sorted, DEFAULT_VAL_FRACTION).val);
  const minBytes = Number(values['min-kb']) * 1024;
  const maxBytes = Number(values['max-kb']) * 1024 || Infinity;
  const chosen = (values.split === 'val' ? sorted.filter((f) => held.has(f.text)) : sorted).filter(
    (f) => f.bytes >= minBytes && f.bytes <= maxBytes,
  );
  const limit = Number(values.kb) * 1000;
  let bytes = 0;
  const sweepsList = (values.search ?? String(defaultSearchSweeps(backend.name))).split(',').map(Number);
  if (sweepsList.some((n) => !(Number.isInteger(n) && n >= 0))) throw new Error('--search takes sweep counts: 0,2,4');
  const settings = values
    .versions!.split(',')
    .map(Number)
    .flatMap((version) =>
      version === 1
        ? [{ label: 'v1', version, sweeps: 0 }]
        : sweepsList.map((sweeps) => ({ label: `v${version}/s${sweeps}`, version, sweeps })),
    );
  const zero = () => Object.fromEntries(settings.map((x) => [x.label, 0])) as Record<string, number>;
  const sizes = zero();
  const compressSeconds = zero();
  const decodeSeconds = zero();
  const methods = Object.fromEntries(settings.map((x) => [x.label, new Set<string>()]));
  let brotliBytes = 0;
  let count = 0;
  for (const f of chosen) {
    if (limit > 0 && bytes + f.bytes > limit) break;
    const whole = new TextEncoder().encode(f.text);
    for (const raw of pieces(whole, Number(values.cut), Number(values.snippets))) {
      bytes += raw.length;
      count++;
      brotliBytes += brotli(raw);
      const each: Record<string, number> = {};
      for (const { label, version, sweeps } of settings) {
        coder.version = version;
        coder.searchSweeps = sweeps;
        const t0 = performance.now();
        const code = await coder.compressToBinary(raw);
        compressSeconds[label] += (performance.now() - t0) / 1000;
        sizes[label] += code.length;
        each[label] = code.length;
        const payload = code.subarray(BINARY_HEADER_BYTES);
        for (const m of summarisePayload({ fingerprint8: '', version, payload }, code.length).methods)
          methods[label].add(m);
        const t1 = performance.now();
        const back = coder.decompressBinary(code);
        decodeSeconds[label] += (performance.now() - t1) / 1000;
        if (Buffer.compare(Buffer.from(back), Buffer.from(raw)) !== 0)
          throw new Error(`${f.relativePath}: decoded wrong (${label})`);
      }
      if (values.each) console.log(JSON.stringify({ file: f.relativePath, bytes: raw.length, code_bytes: each }));
    }
  }
  coder.dispose();
  const each = <T>(f: (label: string) => T) => Object.fromEntries(settings.map(({ label }) => [label, f(label)]));
  const bpb = (n: number) => +((n * 8) / bytes).toFixed(3);
  const kbPerS = (seconds: number) => +(bytes / 1000 / seconds).toFixed(1);
  console.log(
    JSON.stringify({
      model: vae.fingerprint.slice(0, 8),
      data: values.data.join(' '),
      split: values.split,
      inputs: count,
      bytes,
      bits_per_byte: each((l) => bpb(sizes[l])),
      brotli_per_file_bits_per_byte: bpb(brotliBytes),
      methods: each((l) => [...methods[l]]),
      compress_kb_per_s: each((l) => kbPerS(compressSeconds[l])),
      decompress_kb_per_s: each((l) => kbPerS(decodeSeconds[l])),
      backend: backend.name,
    }),
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
