/**
 * The shortest exact code a model makes for each line of a file: its lossless `tvz2:` code
 * (src/core/lossless). Reported next to `textvae eval --sentences`, it bounds target 1 of issue 8
 * from below: a latent code that greedy decoding turns back into the exact text carries at least
 * this much information, since the lossless code is the model's own entropy coding of the text.
 *
 *   node --import tsx scripts/lossless-sentences.ts --model models/default --sentences FILE
 */
import * as fs from 'node:fs';
import { parseArgs } from 'node:util';
import { initBackend } from '../src/core/backend';
import { TextVae } from '../src/core/textVae';
import { losslessCoderFor } from '../src/core/lossless/tfMatMul';
import { BINARY_HEADER_BYTES, formatLosslessCode } from '../src/core/lossless/format';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { model: { type: 'string' }, sentences: { type: 'string' } } });
  if (!values.model || !values.sentences) throw new Error('usage: --model DIR --sentences FILE');
  const backend = await initBackend('auto');
  const vae = await TextVae.load(values.model);
  const lines = fs
    .readFileSync(values.sentences, 'utf8')
    .split('\n')
    .filter((l) => l.trim());
  const coder = await losslessCoderFor(vae);
  let ratio = 0;
  let bits = 0;
  let bytes = 0;
  try {
    for (const line of lines) {
      const raw = new TextEncoder().encode(line);
      const binary = await coder.compressToBinary(raw);
      const code = formatLosslessCode(binary.subarray(BINARY_HEADER_BYTES), coder.fingerprint);
      ratio += code.slice(code.lastIndexOf(':') + 1).length / [...line].length;
      bits += 8 * (binary.length - BINARY_HEADER_BYTES);
      bytes += raw.length;
    }
  } finally {
    coder.dispose();
  }
  const result = {
    model: values.model,
    fingerprint: vae.fingerprint,
    sentences: lines.length,
    lossless_code_chars_per_text_char: ratio / lines.length,
    lossless_bits_per_byte: bits / bytes,
    backend: backend.name,
  };
  process.stdout.write(JSON.stringify(result) + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`lossless-sentences: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
