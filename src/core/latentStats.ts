/**
 * Statistics of a model's codes over training examples, stored with its weights when it is saved:
 * latent.mean / latent.std, the centre and spread of posterior means (how 'ae' and 'sparse' models
 * sample, and how codes are standardised), and, for models that write tvae2 codes, latent.step:
 * each dimension's quantisation step, the mean posterior std times a factor (latentPrecision.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { TextVaeModel, makeBatch } from './model';
import { makeExamples, type Example } from './dataset';
import type { ModelConfig, NamedWeights } from './types';
import { Random } from './random';
import { saveBundle } from './bundle';
import { loadModelBundle } from './textVae';

/**
 * Step of tvae2 codes, in posterior standard deviations. Chosen by measurement (docs/benchmarks.md,
 * target 1): coarser steps shorten codes, and reconstruction holds up to about this factor.
 */
export const DEFAULT_STEP_FACTOR = 2;

/** Examples the statistics are taken over (a sample of the training set). */
const SAMPLE = 512;

export async function refreshLatentStatistics(
  model: TextVaeModel,
  examples: Example[],
  rng: Random,
  stepFactor = DEFAULT_STEP_FACTOR,
): Promise<void> {
  const picked = rng.shuffle(examples.slice()).slice(0, SAMPLE);
  const Z = model.config.latentDim;
  const sum = new Float64Array(Z),
    sq = new Float64Array(Z),
    sd = new Float64Array(Z);
  for (let i = 0; i < picked.length; i += 64) {
    const part = picked.slice(i, i + 64);
    const batch = makeBatch(
      part.map((e) => e.tokens),
      part.map((e) => e.bytes),
      model.config.maxTokens,
    );
    const out = tf.tidy(() => model.encode(tf.tensor2d(batch.tokens, [batch.batchSize, batch.length], 'int32')));
    const [mu, logvar] = await Promise.all([out.mu.data(), out.logvar.data()]);
    tf.dispose([out.mu, out.logvar]);
    for (let b = 0; b < part.length; b++)
      for (let j = 0; j < Z; j++) {
        const v = mu[b * Z + j];
        sum[j] += v;
        sq[j] += v * v;
        sd[j] += Math.exp(0.5 * logvar[b * Z + j]);
      }
  }
  const n = Math.max(1, picked.length);
  const mean = Float32Array.from(sum, (s) => s / n);
  const std = Float32Array.from(sq, (s, j) => Math.sqrt(Math.max(1e-6, s / n - mean[j] ** 2)));
  tf.tidy(() => {
    model.vars['latent.mean'].assign(tf.tensor1d(mean));
    model.vars['latent.std'].assign(tf.tensor1d(std));
    const step = model.vars['latent.step'];
    if (step) step.assign(tf.tensor1d(Float32Array.from(sd, (s) => Math.max(1e-6, (stepFactor * s) / n))));
  });
}

/**
 * Weights for `config` from a bundle written under another code scheme: adds latent.step (its
 * values are set by refreshLatentStatistics before any save) or drops it. The rest is unchanged.
 */
export function withCodeWeights(config: ModelConfig, weights: NamedWeights): NamedWeights {
  const { ['latent.step']: step, ...rest } = weights;
  if (config.codeScheme !== 'precision') return rest;
  return {
    ...rest,
    'latent.step': step ?? { shape: [config.latentDim], data: new Float32Array(config.latentDim).fill(1) },
  };
}

export interface RecodeOptions {
  /** Training texts the statistics are taken over (the model's own training split, ideally). */
  texts: string[];
  stepFactor?: number;
  seed?: number;
}

/**
 * Writes a copy of the bundle in `dir` to `out` that writes tvae2 codes: the same weights and
 * tokenizer, codeScheme 'precision', and latent statistics taken over `texts`. A new model (new
 * fingerprint); `dir` is only read, and `out` must be new or empty. Returns the new fingerprint.
 */
export async function recodeBundle(dir: string, out: string, o: RecodeOptions): Promise<string> {
  if (path.resolve(dir) === path.resolve(out)) throw new Error(`the output folder must differ from ${dir}`);
  const there = fs.lstatSync(out, { throwIfNoEntry: false });
  if (there && (!there.isDirectory() || fs.readdirSync(out).length > 0))
    throw new Error(`${out} already exists: choose a new folder`);
  const bundle = await loadModelBundle(dir);
  if (bundle.config.variant !== 'vae')
    throw new Error(
      `the precision code scheme needs variant vae (its steps follow the posterior), not ${bundle.config.variant}`,
    );
  const config: ModelConfig = { ...bundle.config, codeScheme: 'precision' };
  const examples = makeExamples(o.texts, bundle.tokenizer, config.maxTokens);
  if (examples.length === 0) throw new Error('the texts gave no examples to take statistics over');
  const model = new TextVaeModel(config, withCodeWeights(config, bundle.weights));
  try {
    await refreshLatentStatistics(model, examples, new Random(o.seed ?? 1), o.stepFactor);
    const stepFactor = o.stepFactor ?? DEFAULT_STEP_FACTOR;
    const { fingerprint } = await saveBundle(out, {
      config,
      tokenizer: bundle.tokenizer.toJSON(),
      weights: await model.exportWeights(),
      weightsDtype: bundle.weightsDtype,
      training: {
        ...(bundle.manifest.training as object | undefined),
        codeStepFactor: stepFactor,
        recodedFrom: { fingerprint: bundle.fingerprint },
      },
      metrics: bundle.manifest.metrics,
    });
    return fingerprint;
  } finally {
    model.dispose();
  }
}
