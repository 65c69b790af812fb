/**
 * Makes a bundle with a larger or richer architecture from a trained one, keeping every weight
 * that still fits: the new parts start from the usual initialisation, and `textvae train --from`
 * then trains the result. Used to warm-start models with attention pooling, decoder memory or a
 * wider code from the default model's embeddings and convolutions, which took a GPU to learn.
 *
 *   node --import tsx scripts/grow-model.ts --model models/default --out /tmp/grown \
 *     --latent-dim 96 --pool-slots 8 --memory-slots 8 [--max-tokens 32] [--seed 1]
 *
 * Shapes that shrink along their first axis (the position table for fewer tokens) keep their
 * first rows; a latent projection that grows keeps the parent's rows for its first dimensions.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { checkNewCopy, loadBundle, saveBundle, validateModelConfig } from '../src/core/bundle';
import { initialWeights, weightShapes } from '../src/core/model';
import type { ModelConfig, NamedWeights, WeightTensor } from '../src/core/types';

/** Copies the part of `from` that fits into `into` (row-major, leading rows and columns). */
function copyOverlap(from: WeightTensor, into: WeightTensor): boolean {
  if (from.shape.length !== into.shape.length) return false;
  if (from.shape.length === 1) {
    const n = Math.min(from.shape[0], into.shape[0]);
    into.data.set(from.data.subarray(0, n));
    return true;
  }
  if (from.shape.length !== 2) return false;
  const [fr, fc] = from.shape;
  const [ir, ic] = into.shape;
  if (fc !== ic && fr !== ir) return false;
  for (let r = 0; r < Math.min(fr, ir); r++)
    for (let c = 0; c < Math.min(fc, ic); c++) into.data[r * ic + c] = from.data[r * fc + c];
  return true;
}

export function growWeights(
  parent: NamedWeights,
  config: ModelConfig,
  seed: number,
): { weights: NamedWeights; report: string[] } {
  const fresh = initialWeights(config, seed);
  const report: string[] = [];
  for (const [name, shape] of Object.entries(weightShapes(config))) {
    const old = parent[name];
    const target = fresh[name];
    if (!old) report.push(`${name} [${shape}]: new`);
    else if (old.shape.join() === shape.join()) {
      fresh[name] = { shape, data: Float32Array.from(old.data) };
    } else if (copyOverlap(old, target)) report.push(`${name} [${old.shape}] -> [${shape}]: overlap kept`);
    else report.push(`${name} [${old.shape}] -> [${shape}]: reinitialised`);
  }
  return { weights: fresh, report };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: 'string' },
      out: { type: 'string' },
      'latent-dim': { type: 'string' },
      'pool-slots': { type: 'string' },
      'memory-slots': { type: 'string' },
      'max-tokens': { type: 'string' },
      seed: { type: 'string', default: '1' },
    },
  });
  if (!values.model || !values.out) throw new Error('usage: grow-model.ts --model DIR --out DIR [--latent-dim N] ...');
  checkNewCopy(values.model, values.out);
  const parent = await loadBundle(values.model);
  const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
  const config = validateModelConfig({
    ...parent.config,
    ...(values['latent-dim'] ? { latentDim: num(values['latent-dim']) } : {}),
    ...(values['pool-slots'] ? { poolSlots: num(values['pool-slots']) } : {}),
    ...(values['memory-slots'] ? { memorySlots: num(values['memory-slots']) } : {}),
    ...(values['max-tokens'] ? { maxTokens: num(values['max-tokens']) } : {}),
  });
  const { weights, report } = growWeights(parent.weights, config, Number(values.seed));
  const { fingerprint } = await saveBundle(values.out, {
    config,
    tokenizer: parent.tokenizer,
    weights,
    training: { grownFrom: { fingerprint: parent.fingerprint, name: path.basename(path.resolve(values.model)) } },
  });
  process.stdout.write(
    `${report.join('\n')}\ngrown ${values.out} (${fingerprint.slice(0, 8)}) from ${parent.fingerprint.slice(0, 8)}\n`,
  );
}

if (process.argv[1]?.endsWith('grow-model.ts')) {
  main().catch((err: unknown) => {
    process.stderr.write(`grow-model: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
