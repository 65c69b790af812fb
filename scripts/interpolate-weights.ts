/**
 * Weight-space interpolation between a model and one fine-tuned from it (the same architecture and
 * tokenizer): every weight becomes (1 − α)·FROM + α·TO. A fine-tuned model and its parent lie in
 * one basin of the loss, so the points between them trade what each knows best (the Python docs
 * against Debian's manuals, for the default model; docs/benchmarks.md). The `latent.*` statistics
 * of tvae2 codes are TO's and must be refreshed with scripts/recode-model.ts before codes are used.
 * Both inputs are only read; the result is written to a new folder, as float32.
 *
 *   node --import tsx scripts/interpolate-weights.ts --from OLD --to NEW --alpha 0.55 --out DIR
 */
import * as fs from 'node:fs';
import { parseArgs } from 'node:util';
import { loadBundle, saveBundle } from '../src/core/bundle';
import { weightShapes } from '../src/core/model';
import type { NamedWeights } from '../src/core/types';

/** (1 − α)·from + α·to for every weight outside `latent.*`, whose shapes must agree; latent.* is to's. */
export function interpolateWeights(from: NamedWeights, to: NamedWeights, alpha: number): NamedWeights {
  if (!(alpha >= 0 && alpha <= 1)) throw new Error(`--alpha must be between 0 and 1, got ${alpha}`);
  const out: NamedWeights = {};
  for (const [name, t] of Object.entries(to)) {
    if (name.startsWith('latent.')) {
      out[name] = { shape: t.shape, data: Float32Array.from(t.data) };
      continue;
    }
    const f = from[name];
    if (!f) throw new Error(`${name} is in --to but not in --from: the models do not share an architecture`);
    if (f.shape.join() !== t.shape.join())
      throw new Error(
        `${name} is [${f.shape}] in --from but [${t.shape}] in --to: the models do not share an architecture`,
      );
    const data = new Float32Array(t.data.length);
    for (let i = 0; i < data.length; i++) data[i] = (1 - alpha) * f.data[i] + alpha * t.data[i];
    out[name] = { shape: t.shape, data };
  }
  return out;
}

export async function interpolateBundles(
  fromDir: string,
  toDir: string,
  alpha: number,
  out: string,
): Promise<{ fingerprint: string }> {
  if (fs.existsSync(out)) throw new Error(`--out ${out} exists; choose a new folder`);
  const from = await loadBundle(fromDir, { expectedShapes: weightShapes });
  const to = await loadBundle(toDir, { expectedShapes: weightShapes });
  if (JSON.stringify(from.tokenizer) !== JSON.stringify(to.tokenizer))
    throw new Error('the two models have different tokenizers: interpolate a model and one fine-tuned from it');
  const weights = interpolateWeights(from.weights, to.weights, alpha);
  return saveBundle(out, {
    config: to.config,
    tokenizer: to.tokenizer,
    weights,
    training: {
      interpolated: { alpha, from: from.fingerprint, to: to.fingerprint },
      command: `node --import tsx scripts/interpolate-weights.ts --from ${fromDir} --to ${toDir} --alpha ${alpha} --out ${out}`,
    },
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { from: { type: 'string' }, to: { type: 'string' }, alpha: { type: 'string' }, out: { type: 'string' } },
  });
  if (!values.from || !values.to || values.alpha === undefined || !values.out)
    throw new Error('usage: interpolate-weights.ts --from DIR --to DIR --alpha A --out DIR');
  const { fingerprint } = await interpolateBundles(values.from, values.to, Number(values.alpha), values.out);
  process.stdout.write(`${values.out}: ${fingerprint.slice(0, 8)}, α ${values.alpha} of ${values.to}\n`);
}

if (process.argv[1]?.endsWith('interpolate-weights.ts')) {
  main().catch((err: unknown) => {
    process.stderr.write(`interpolate-weights: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
