/**
 * Whole files coded losslessly, each on its own, in format version 1 (no document cache) and 2
 * (the cache mixed in), next to brotli -q 11 on the same files alone. Every code is decoded and
 * compared. Sizes are the binary form's bytes (header, segment heads, CRCs included).
 *
 *   node --import tsx scripts/lossless-files.ts --model models/default --data DIR|FILE [--split val|all] [--kb 200]
 *     [--cut 65536 [--snippets 4]]
 *
 * Prints one JSON line: bits/byte per version and brotli, the coding methods the codes used (a
 * version 1 code that fell back to brotli decodes at brotli's pace), compression and decoding speeds.
 */
import * as zlib from 'node:zlib';
import { parseArgs } from 'node:util';
import { initBackend } from '../src/core/backend';
import { TextVae } from '../src/core/textVae';
import { collectCorpus } from '../src/core/corpus';
import { splitForTraining } from '../src/core/split';
import { DEFAULT_VAL_FRACTION } from '../src/core/trainingRun';
import { losslessCoderFor } from '../src/core/lossless/tfMatMul';
import { BINARY_HEADER_BYTES, summarisePayload } from '../src/core/lossless/format';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'models/default' },
    data: { type: 'string' },
    split: { type: 'string', default: 'all' },
    /** Files in path order until this many kB (0: all). */
    kb: { type: 'string', default: '0' },
    /** Code only each file's first N bytes (0: whole files). */
    cut: { type: 'string', default: '0' },
    /** With --cut N: code this many pieces of N bytes per file instead, starting at line starts spread evenly. */
    snippets: { type: 'string', default: '0' },
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
  if (!values.data) throw new Error('--data DIR is required');
  const backend = await initBackend('auto');
  const vae = await TextVae.load(values.model!);
  const coder = await losslessCoderFor(vae);
  const { files } = await collectCorpus([values.data]);
  const sorted = files.slice().sort((a, b) => (a.relativePath < b.relativePath ? -1 : 1));
  const held = new Set(splitForTraining(sorted, DEFAULT_VAL_FRACTION).val);
  const chosen = values.split === 'val' ? sorted.filter((f) => held.has(f.text)) : sorted;
  const limit = Number(values.kb) * 1000;
  let bytes = 0;
  const sizes = { v1: 0, v2: 0, brotli: 0 };
  const methods = { v1: new Set<string>(), v2: new Set<string>() };
  const seconds = { v1: 0, v2: 0, decode1: 0, decode2: 0 };
  let count = 0;
  for (const f of chosen) {
    if (limit > 0 && bytes + f.bytes > limit) break;
    const whole = new TextEncoder().encode(f.text);
    for (const raw of pieces(whole, Number(values.cut), Number(values.snippets))) {
      bytes += raw.length;
      count++;
      sizes.brotli += brotli(raw);
      for (const version of [1, 2] as const) {
        coder.version = version;
        const t0 = performance.now();
        const code = await coder.compressToBinary(raw);
        seconds[`v${version}`] += (performance.now() - t0) / 1000;
        sizes[`v${version}`] += code.length;
        const payload = code.subarray(BINARY_HEADER_BYTES);
        for (const m of summarisePayload({ fingerprint8: '', version, payload }, code.length).methods)
          methods[`v${version}`].add(m);
        const t1 = performance.now();
        const back = coder.decompressBinary(code);
        seconds[`decode${version}`] += (performance.now() - t1) / 1000;
        if (Buffer.compare(Buffer.from(back), Buffer.from(raw)) !== 0)
          throw new Error(`${f.relativePath}: decoded wrong`);
      }
    }
  }
  coder.dispose();
  const bpb = (n: number) => +((n * 8) / bytes).toFixed(3);
  console.log(
    JSON.stringify({
      model: vae.fingerprint.slice(0, 8),
      data: values.data,
      split: values.split,
      inputs: count,
      bytes,
      v1_bits_per_byte: bpb(sizes.v1),
      v2_bits_per_byte: bpb(sizes.v2),
      brotli_per_file_bits_per_byte: bpb(sizes.brotli),
      methods: { v1: [...methods.v1], v2: [...methods.v2] },
      compress_kb_per_s: { v1: +(bytes / 1000 / seconds.v1).toFixed(1), v2: +(bytes / 1000 / seconds.v2).toFixed(1) },
      decompress_kb_per_s: {
        v1: +(bytes / 1000 / seconds.decode1).toFixed(1),
        v2: +(bytes / 1000 / seconds.decode2).toFixed(1),
      },
      backend: backend.name,
    }),
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
