/**
 * How coarse should a lossless code's latent part be? For held-out python-docs chunks, the ideal
 * code length (tokens under p(x | z) plus z's own bits under the discretised prior) for several grid
 * steps, against z at the prior's centre. docs/lossless.md quotes its output.
 *
 *   node --import tsx scripts/lossless-latent-step.ts [--model DIR] [--data DIR] [--chunks N]
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { initBackend } from '../src/core/backend';
import { TextVae } from '../src/core/textVae';
import { isHeldOut } from '../src/core/dataset';
import { BOS, FIRST_BYTE_ID } from '../src/core/tokenizer';
import { DeterministicDecoder } from '../src/core/lossless/detDecoder';
import { TOTAL } from '../src/core/lossless/rangeCoder';
import { ensureCorpus } from './corpus/build';

const args = process.argv.slice(2);
const arg = (name: string, fallback: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const REPO = path.resolve(__dirname, '..');
const MODEL = arg('--model', path.join(REPO, 'models', 'default'));
/** Default: the python-docs corpus, made by scripts/corpus/build.ts when it is not there yet. */
const DATA = args.includes('--data') ? arg('--data', '') : ensureCorpus('python-docs');
const CHUNKS = Number(arg('--chunks', '24'));
const STEPS = [0.25, 0.6, 1.0, 1.25, 1.6, 2.0];

function listFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

/** Ideal bits of `tokens` under the decoder with latent z (null: the prior's centre). */
function bits(lm: DeterministicDecoder, z: Float64Array | null, tokens: number[]): number {
  const state = lm.batch([z]);
  const input = new Int32Array([BOS]);
  let total = 0;
  for (const tok of tokens) {
    state.next(input, 1);
    const s = tok - FIRST_BYTE_ID;
    total += Math.log2(TOTAL / (state.cum[s + 1] - state.cum[s]));
    input[0] = tok;
  }
  return total;
}

/** Bits of grid indices q under N(0, 1) discretised with step `delta`. */
function latentCost(q: number[], delta: number): number {
  let norm = 0;
  for (let j = -40; j <= 40; j++) norm += Math.exp(-0.5 * (j * delta) ** 2);
  return q.reduce((c, k) => c - Math.log2(Math.exp(-0.5 * (k * delta) ** 2) / norm), 0);
}

async function main(): Promise<void> {
  await initBackend('auto');
  const vae = await TextVae.load(MODEL);
  if (vae.config.variant !== 'vae') throw new Error('this measurement assumes a VAE (prior N(0, I))');
  const lm = new DeterministicDecoder(vae.config, await vae.model.exportWeights());
  const held = listFiles(DATA).filter((f) => isHeldOut(f, 0.05));
  const chunks: string[] = [];
  for (const f of held.slice(0, 6)) {
    const text = fs.readFileSync(path.join(DATA, f), 'utf8');
    chunks.push(
      ...vae
        .chunk(text)
        .filter((c) => c.trim().length > 30)
        .slice(0, 6),
    );
  }
  const use = chunks.slice(0, CHUNKS);
  const mus = await vae.encodeChunks(use);
  const totals: Record<string, number> = {};
  let bytes = 0;
  use.forEach((chunk, i) => {
    const tokens = vae.tokenizer.encode(chunk);
    bytes += Buffer.byteLength(chunk);
    const atCentre = bits(lm, null, tokens);
    totals['z = prior centre'] = (totals['z = prior centre'] ?? 0) + atCentre;
    totals['z = posterior mean, unquantised (z not paid for)'] =
      (totals['z = posterior mean, unquantised (z not paid for)'] ?? 0) + bits(lm, Float64Array.from(mus[i]), tokens);
    for (const delta of STEPS) {
      const q = Array.from(mus[i], (v) => Math.round(v / delta));
      const withZ =
        bits(
          lm,
          Float64Array.from(q, (k) => k * delta),
          tokens,
        ) + latentCost(q, delta);
      const key = `grid step ${delta}: z + tokens`;
      totals[key] = (totals[key] ?? 0) + withZ;
      totals[`${key}, or the centre where shorter`] =
        (totals[`${key}, or the centre where shorter`] ?? 0) + Math.min(withZ, atCentre);
    }
  });
  process.stdout.write(`${use.length} held-out chunks, ${(bytes / use.length).toFixed(0)} bytes each on average\n\n`);
  process.stdout.write('| scheme | bits/byte |\n| --- | --- |\n');
  for (const [k, v] of Object.entries(totals)) process.stdout.write(`| ${k} | ${(v / bytes).toFixed(3)} |\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
