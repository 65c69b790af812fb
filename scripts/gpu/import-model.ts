/**
 * Turns the output of scripts/gpu/train_torch.py into a model bundle, after checking in the
 * engine that the weights give the loss the trainer reported (so a mismatch between the two
 * implementations can never ship silently).
 *
 * A model that writes tvae2 codes (codeScheme 'precision', e.g. a warm start from the default model)
 * gets its latent statistics, latent.step included, refreshed here on the dataset's training
 * examples with the parent's step factor: the trainer never updates latent.step.
 *
 *   node --import tsx scripts/gpu/import-model.ts --run RUN_DIR --data gpu-data --out DIR [--command "..."]
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/core/backend';
import { loadBundle, saveBundle, validateModelConfig } from '../../src/core/bundle';
import { checkModelOut } from '../../src/cli/files';
import { TextVaeModel, makeBatch, parameterCount, weightShapes } from '../../src/core/model';
import { elboOptions, objective } from '../../src/core/objective';
import { readRunWeights } from './runWeights';
import { DEFAULT_STEP_FACTOR, refreshLatentStatistics } from '../../src/core/latentStats';
import { Random } from '../../src/core/random';

interface RunResult {
  steps: number;
  elapsed_s: number;
  chosen: string;
  device: string;
  torch: string;
  backend: string;
  args: Record<string, unknown>;
  val: Record<string, number>;
  check: { examples: number; recon_nats: number; kl_nats: number; correct: number; target_tokens: number };
}

const readJson = (file: string) => JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;

function readTokens(
  dir: string,
  split: string,
  maxTokens: number,
  count?: number,
): { tokens: number[][]; bytes: number[] } {
  const toks = fs.readFileSync(path.join(dir, `${split}.tokens`));
  const bytes = fs.readFileSync(path.join(dir, `${split}.bytes`));
  count ??= bytes.length / 4;
  const tokens: number[][] = [];
  const byteCounts: number[] = [];
  for (let i = 0; i < count; i++) {
    const ex: number[] = [];
    for (let j = 0; j < maxTokens; j++) {
      const t = toks.readUInt16LE((i * maxTokens + j) * 2);
      if (t === 0) break;
      ex.push(t);
    }
    tokens.push(ex);
    byteCounts.push(bytes.readUInt32LE(i * 4));
  }
  return { tokens, bytes: byteCounts };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      run: { type: 'string' },
      data: { type: 'string' },
      out: { type: 'string' },
      command: { type: 'string' },
      overwrite: { type: 'boolean', default: false },
    },
  });
  if (!values.run || !values.data || !values.out)
    throw new Error(
      'usage: import-model.ts --run RUN_DIR --data DATASET_DIR --out BUNDLE_DIR [--overwrite] [--command "..."]',
    );
  await checkModelOut(values.out, values.overwrite);
  const backend = await initBackend('auto');
  const result = readJson(path.join(values.run, 'result.json')) as RunResult;
  const dataset = readJson(path.join(values.data, 'dataset.json')) as Record<string, unknown>;
  const config = validateModelConfig(readJson(path.join(values.run, 'config.json')));
  const tokenizer = readJson(path.join(values.data, 'tokenizer.json'));
  let weights = readRunWeights(values.run);

  for (const [name, w] of Object.entries(weights))
    if (!w.data.every(Number.isFinite)) throw new Error(`weight ${name} holds NaN or infinite values: not importing`);
  const model = new TextVaeModel(config, weights);
  const { tokens, bytes } = readTokens(values.data, 'val', config.maxTokens, result.check.examples);
  const batch = makeBatch(tokens, bytes, config.maxTokens);
  const [recon, kl, correct, targetTokens] = tf.tidy(() => {
    const o = objective(model, batch, elboOptions());
    return [o.reconNats, o.klNats, o.correct(), o.targetTokens].map((t) => t.dataSync()[0]);
  });
  const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(1e-9, Math.abs(b));
  const check = {
    engine: { recon_nats: recon, kl_nats: kl, correct, target_tokens: targetTokens },
    trainer: result.check,
  };
  process.stderr.write(`${JSON.stringify(check)}\n`);
  if (
    ![recon, kl, result.check.recon_nats, result.check.kl_nats].every(Number.isFinite) ||
    rel(recon, result.check.recon_nats) > 1e-3 ||
    rel(kl, result.check.kl_nats) > 1e-3 ||
    targetTokens !== result.check.target_tokens
  ) {
    model.dispose();
    throw new Error(
      `the engine's loss (${recon.toFixed(2)} nats) differs from the trainer's (${result.check.recon_nats.toFixed(2)}): not importing`,
    );
  }
  const from = dataset.from as { fingerprint: string; codeStepFactor?: number } | null | undefined;
  const stepFactor = from?.codeStepFactor ?? DEFAULT_STEP_FACTOR;
  if (config.codeScheme === 'precision') {
    // The statistics do not enter the loss, so the check above still holds for the saved weights.
    const train = readTokens(values.data, 'train', config.maxTokens);
    const examples = train.tokens.map((t, i) => ({ tokens: t, bytes: train.bytes[i] }));
    await refreshLatentStatistics(model, examples, new Random(Number(dataset.seed ?? 1)), stepFactor);
    weights = await model.exportWeights();
  }
  model.dispose();

  const res = await saveBundle(values.out, {
    config,
    tokenizer,
    weights,
    training: {
      trainer: 'scripts/gpu/train_torch.py',
      device: result.device,
      torch: result.torch,
      backend: result.backend,
      step: result.steps,
      elapsedSeconds: result.elapsed_s,
      finished: true,
      chosen: result.chosen,
      ...result.args,
      trainExamples: (dataset.train as { examples: number }).examples,
      valExamples: (dataset.val as { of: number }).of,
      heldOutFiles: dataset.heldOutFiles,
      splitMethod: dataset.splitMethod,
      valFraction: dataset.valFraction,
      parameters: parameterCount(config),
      parityCheck: check,
      ...(from ? { warmStartFrom: { fingerprint: from.fingerprint } } : {}),
      ...(config.codeScheme === 'precision' ? { codeStepFactor: stepFactor } : {}),
      command: values.command,
    },
    // A checkpoint chosen on the validation sample makes that sample's figures optimistic: say so.
    metrics: {
      ...result.val,
      evaluated_on:
        result.chosen === 'final' ? 'held-out sample' : 'held-out sample (also used to choose the checkpoint)',
      backend: result.backend,
    },
  });
  // Load it back as the extension will.
  await loadBundle(values.out, { expectedShapes: weightShapes });
  process.stdout.write(
    `imported ${values.out} (${res.fingerprint.slice(0, 8)}), engine check on ${backend.name}: recon ${recon.toFixed(2)} vs ${result.check.recon_nats.toFixed(2)} nats\n`,
  );
}

main().catch((err) => {
  process.stderr.write(`import-model: ${(err as Error).message}\n`);
  process.exit(1);
});
