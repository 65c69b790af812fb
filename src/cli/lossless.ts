/** `textvae compress` and `textvae decompress`: lossless codes from the command line, streamed segment by segment. */
import * as fs from 'node:fs';
import { TextVae } from '../core/textVae';
import { LosslessCoder, type Progress } from '../core/lossless/codec';
import { TF_INT_MATMUL, losslessCoderFor } from '../core/lossless/tfMatMul';
import { LosslessCodeError, binaryToCode, isLosslessCode, looksLikeLosslessBinary } from '../core/lossless/format';
import { writeFileAtomic } from '../core/atomicFs';
import { isLatentCode } from '../core/latentCode';
import { UsageError } from './options';
import { checkOutputFile, statInputFile } from './files';

const WHOLE_INPUT_BYTES = 16 << 20;

/** Reads a file, standard input ('-' or nothing, when it is not a terminal) in chunks. */
function inputFile(arg: string | undefined, what: string): { stream: AsyncIterable<Uint8Array>; size?: number } {
  if (arg !== undefined && arg !== '-') {
    const stat = statInputFile(arg);
    return { stream: fs.createReadStream(arg, { highWaterMark: 1 << 16 }), size: stat.size };
  }
  if (process.stdin.isTTY) throw new UsageError(`give ${what} as a file, or on standard input`);
  return { stream: process.stdin };
}

/** "x KiB / y KiB (z%)" on a terminal's stderr, redrawn in place; silent elsewhere. */
function progressLine(verb: string, total?: number): { update: Progress; done: () => void } {
  if (!process.stderr.isTTY) return { update: () => undefined, done: () => undefined };
  let last = 0;
  const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
  return {
    update: (n) => {
      const now = Date.now();
      if (now - last < 200) return;
      last = now;
      const of = total ? ` / ${kib(total)} (${Math.floor((100 * n) / total)}%)` : '';
      process.stderr.write(`\r${verb} ${kib(n)}${of}\x1b[K`);
    },
    done: () => process.stderr.write('\r\x1b[K'),
  };
}

/** Decoding needs no encoder: only the decoder's products, which run on tfjs. */
async function loadCoder(dir: string, withEncoder: boolean): Promise<LosslessCoder> {
  const vae = await TextVae.load(dir);
  if (withEncoder) return losslessCoderFor(vae);
  const weights = await vae.model.exportWeights();
  return new LosslessCoder(vae.config, weights, vae.tokenizer, vae.fingerprint, undefined, TF_INT_MATMUL);
}

export async function runCompress(
  positional: string | undefined,
  text: string | undefined,
  out: string | undefined,
  modelDir: string,
  searchSweeps?: number,
): Promise<number> {
  if (out !== undefined) checkOutputFile(out);
  const input =
    text !== undefined
      ? {
          stream: (async function* () {
            yield new TextEncoder().encode(text);
          })(),
          size: Buffer.byteLength(text),
        }
      : inputFile(positional, 'the input');
  const coder = await loadCoder(modelDir, true);
  if (searchSweeps !== undefined) coder.searchSweeps = searchSweeps;
  const progress = progressLine('compressing', input.size);
  let inBytes = 0;
  let outBytes = 0;
  const counted = (async function* () {
    for await (const chunk of input.stream) {
      inBytes += chunk.length;
      yield chunk;
    }
  })();
  // Files up to WHOLE_INPUT_BYTES are coded in memory, where brotli over the whole input can
  // stand in for the segments; larger ones and standard input stream segment by segment.
  const pieces =
    input.size !== undefined && input.size <= WHOLE_INPUT_BYTES
      ? (async function* () {
          const parts: Uint8Array[] = [];
          for await (const chunk of counted) parts.push(chunk);
          yield await coder.compressToBinary(Buffer.concat(parts), progress.update);
        })()
      : coder.compressStream(counted, progress.update);
  const measured = (async function* () {
    for await (const p of pieces) {
      outBytes += p.length;
      yield p;
    }
  })();
  if (out !== undefined) {
    await writeFileAtomic(out, measured);
  } else {
    const parts: Uint8Array[] = [];
    for await (const p of measured) parts.push(p);
    process.stdout.write(binaryToCode(Buffer.concat(parts), coder.fingerprint) + '\n');
  }
  progress.done();
  // An empty input has a code too (its header: decompress gives back nothing), but no rate.
  const rate = inBytes ? `${((8 * outBytes) / inBytes).toFixed(2)} bits/byte, ` : '';
  process.stderr.write(
    `${inBytes} bytes -> ${outBytes} bytes (${rate}binary form)${out ? `, written to ${out}` : ''}\n`,
  );
  return 0;
}

export async function runDecompress(
  positional: string | undefined,
  out: string | undefined,
  modelDir: string,
): Promise<number> {
  if (out !== undefined) checkOutputFile(out);
  if (positional !== undefined && isLatentCode(positional) && !fs.existsSync(positional))
    throw new Error('a latent code (tvae2:...) is read by textvae decode; decompress reads lossless codes (tvz2:...)');
  const coder = await loadCoder(modelDir, false);
  const progress = progressLine('decompressing');
  const output =
    positional !== undefined && isLosslessCode(positional)
      ? once(() => coder.decompressCode(positional, progress.update))
      : await sniff(coder, inputFile(positional, 'a code or a code file').stream, progress.update);
  if (out !== undefined) await writeFileAtomic(out, output);
  else for await (const p of output) await writeOut(p);
  progress.done();
  return 0;
}

async function* once(make: () => Uint8Array): AsyncGenerator<Uint8Array> {
  yield make();
}

/** Binary codes are streamed; anything else must be a text file holding one `tvz1:`, `tvz2:` or `tvz3:` code. */
async function sniff(
  coder: LosslessCoder,
  stream: AsyncIterable<Uint8Array>,
  onProgress: Progress,
): Promise<AsyncIterable<Uint8Array>> {
  const it = stream[Symbol.asyncIterator]();
  const first = await it.next();
  const head = first.done ? new Uint8Array(0) : new Uint8Array(first.value);
  async function* all(): AsyncGenerator<Uint8Array> {
    yield head;
    for (let r = await it.next(); !r.done; r = await it.next()) yield new Uint8Array(r.value);
  }
  if (looksLikeLosslessBinary(head)) return coder.decompressStream(all(), onProgress);
  const parts: Uint8Array[] = [];
  let n = 0;
  for await (const p of all()) {
    parts.push(p);
    if ((n += p.length) > 64 << 20) {
      throw new LosslessCodeError(
        'not-a-code',
        "not a lossless code: a large input that does not start with the binary form's magic byte",
      );
    }
  }
  const text = Buffer.concat(parts).toString('utf8').trim();
  return once(() => coder.decompressCode(text, onProgress));
}

function writeOut(chunk: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => process.stdout.write(chunk, (err) => (err ? reject(err) : resolve())));
}
