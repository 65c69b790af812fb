/**
 * How much a model's code quantisation changes what comes back: for each line of FILE, the greedy
 * reconstruction from the code against the one from the unquantised posterior mean. Prints the
 * share of identical outputs, their mean character similarity, and the code payload per text char.
 * Complements `textvae eval --sentences` when a model's reconstructions are too poor for exact-match
 * figures to show the step's effect (docs/benchmarks.md, target 1).
 *
 *   node --import tsx scripts/code-step-agreement.ts MODEL_DIR FILE
 */
import * as fs from 'node:fs';
import { initBackend } from '../src/core/backend';
import { TextVae } from '../src/core/textVae';
import { similarity } from '../src/core/similarity';

async function main(): Promise<void> {
  const [dir, file] = process.argv.slice(2);
  if (!dir || !file) throw new Error('usage: code-step-agreement.ts MODEL_DIR FILE');
  await initBackend('auto');
  const vae = await TextVae.load(dir);
  const lines = fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  let same = 0,
    sim = 0,
    ratio = 0;
  for (const text of lines) {
    const mus = await vae.encode(text);
    const codes = vae.codesOf(mus);
    const [raw, coded] = [(await vae.decode(mus)).join(''), (await vae.decode(vae.parseCodes(codes))).join('')];
    same += raw === coded ? 1 : 0;
    sim += similarity(raw, coded);
    ratio += codes.reduce((s, c) => s + c.length - c.lastIndexOf(':') - 1, 0) / Array.from(text).length;
  }
  const n = lines.length;
  const out = { model: dir, sentences: n, same_as_unquantised: same / n, similarity_to_unquantised: sim / n };
  process.stdout.write(JSON.stringify({ ...out, code_chars_per_text_char: ratio / n }) + '\n');
  vae.dispose();
}

main().catch((err: unknown) => {
  process.stderr.write(`code-step-agreement: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
