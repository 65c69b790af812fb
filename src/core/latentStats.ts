/**
 * Statistics of a model's codes over training examples, stored with its weights when it is saved:
 * latent.mean / latent.std, the centre and spread of posterior means (how 'ae' and 'sparse' models
 * sample, and how codes are standardised), and, for models that write tvae2 codes, latent.step:
 * each dimension's quantisation step, the mean posterior std times a factor (latentPrecision.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import { TextVaeModel, makeBatch, weightShapes } from './model';
import { makeExamples, type Example } from './dataset';
import type { ModelConfig, NamedWeights } from './types';
import { Random } from './random';
import { checkNewCopy, loadBundle, readOptionalFiles, resaveInput, saveBundle } from './bundle';
import { loadModelBundle } from './textVae';
import { chunkForTraining } from './chunker';
import type { Tokenizer } from './tokenizer';
import {
  LatentPrior,
  PRIOR_FILE,
  fitMixture,
  fitTransition,
  priorJson,
  standardNormalLogDensity,
  type LatentPriorJson,
} from './latentPrior';

/**
 * Step of tvae2 codes, in posterior standard deviations. Chosen by measurement (docs/benchmarks.md,
 * target 1): coarser steps shorten codes, and reconstruction holds up to about this factor.
 */
export const DEFAULT_STEP_FACTOR = 2;

/** Examples the statistics are taken over (a sample of the training set). */
const SAMPLE = 512;

/** The encoder's posterior (mean, log-variance) of each token sequence, 64 at a time. */
export async function posteriorsOf(
  model: TextVaeModel,
  tokens: readonly number[][],
  between?: () => Promise<void>,
): Promise<{ mu: Float32Array; logvar: Float32Array }[]> {
  const Z = model.config.latentDim;
  const out: { mu: Float32Array; logvar: Float32Array }[] = [];
  for (let i = 0; i < tokens.length; i += 64) {
    if (between) await between();
    const part = tokens.slice(i, i + 64);
    const batch = makeBatch(
      part,
      part.map(() => 0),
      model.config.maxTokens,
    );
    const res = tf.tidy(() => model.encode(tf.tensor2d(batch.tokens, [batch.batchSize, batch.length], 'int32')));
    const [mu, logvar] = await Promise.all([res.mu.data(), res.logvar.data()]);
    tf.dispose([res.mu, res.logvar]);
    for (let b = 0; b < part.length; b++)
      out.push({
        mu: Float32Array.from(mu.subarray(b * Z, (b + 1) * Z)),
        logvar: Float32Array.from(logvar.subarray(b * Z, (b + 1) * Z)),
      });
  }
  return out;
}

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
  for (const { mu, logvar } of await posteriorsOf(
    model,
    picked.map((e) => e.tokens),
  ))
    for (let j = 0; j < Z; j++) {
      const v = mu[j];
      sum[j] += v;
      sq[j] += v * v;
      sd[j] += Math.exp(0.5 * logvar[j]);
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
  checkNewCopy(dir, out);
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

export interface PriorFitOptions {
  /** Mixture components at most (default 16); fewer where there are under 4 points per dimension for each. */
  components?: number;
  covariance?: 'full' | 'diag';
  /** Training chunks encoded for the fit, whole documents in a seeded order (default 8192). */
  maxChunks?: number;
  /** EM iterations at most (default 100; 30 come within 0.1 nats per code of it, measured). */
  iterations?: number;
  /** Fit the transition over consecutive chunks too (default true). */
  transition?: boolean;
  seed?: number;
}

/** Held-out figures of a fitted prior: mean log-density per code, in nats (higher is better). */
export interface PriorFitFacts {
  chunks: number;
  documents: number;
  components: number;
  covariance: 'full' | 'diag';
  seed: number;
  heldOut?: {
    chunks: number;
    pairs: number;
    /** log p(μ) of held-out posterior means under the mixture and under N(0, I). */
    mixture: number;
    standard: number;
    /** log p(μ_{t+1} | μ_t) of held-out consecutive chunks, and log p(μ_{t+1}) under the mixture alone. */
    transition?: number;
    independent?: number;
  };
}

/** Consecutive chunks taken from one document at most, so that the fit sees many documents. */
export const CHUNKS_PER_DOCUMENT = 32;

/**
 * Posterior means of consecutive chunks, one list per document: documents in a seeded order, from
 * each a run of at most CHUNKS_PER_DOCUMENT chunks at a seeded offset, until `maxChunks` are taken.
 */
export async function documentCodes(
  model: TextVaeModel,
  tokenizer: Tokenizer,
  texts: readonly string[],
  maxChunks: number,
  rng: Random,
): Promise<Float32Array[][]> {
  const order = rng.shuffle(texts.map((_, i) => i));
  const docs: number[][][] = [];
  let total = 0;
  for (const i of order) {
    if (total >= maxChunks) break;
    const all = chunkForTraining(texts[i], (s) => tokenizer.encode(s).length, model.config.maxTokens);
    const take = Math.min(CHUNKS_PER_DOCUMENT, maxChunks - total, all.length);
    if (take === 0) continue;
    const start = rng.int(all.length - take + 1);
    docs.push(all.slice(start, start + take).map((c) => tokenizer.encode(c)));
    total += take;
  }
  const flat = await posteriorsOf(model, docs.flat());
  let next = 0;
  return docs.map((d) => flat.slice(next, (next += d.length)).map((p) => p.mu));
}

const consecutive = (docs: Float32Array[][]) => docs.flatMap((d) => d.slice(1).map((z, t) => [d[t], z] as const));

/**
 * Fits a latent prior to the model's posterior means over `train` texts (chunked as training
 * chunks them): a Gaussian mixture, and a transition between consecutive chunks of one document.
 * With `heldOut` texts, their codes' mean log-densities go in the prior's `fit` facts.
 */
export async function fitLatentPrior(
  model: TextVaeModel,
  tokenizer: Tokenizer,
  train: readonly string[],
  heldOut: readonly string[],
  o: PriorFitOptions = {},
): Promise<LatentPriorJson> {
  const seed = o.seed ?? 1;
  const maxChunks = o.maxChunks ?? 8192;
  const covariance = o.covariance ?? 'full';
  if (model.config.variant === 'sparse')
    throw new Error('a sparse model samples non-negative codes: a Gaussian prior does not fit them');
  const docs = await documentCodes(model, tokenizer, train, maxChunks, new Random(seed));
  const points = docs.flat();
  if (points.length === 0) throw new Error('the training texts gave no chunks to fit a prior to');
  // A component's covariance needs several points per dimension to be more than noise.
  const components = Math.max(
    1,
    Math.min(o.components ?? 16, Math.floor(points.length / (4 * model.config.latentDim))),
  );
  const { mixture } = fitMixture(points, { components, covariance, seed, iterations: o.iterations });
  const pairs = consecutive(docs);
  const transition = o.transition !== false && pairs.length > 0 ? fitTransition(pairs).transition : undefined;
  const facts: PriorFitFacts = {
    chunks: points.length,
    documents: docs.length,
    components: mixture.weights.length,
    covariance,
    seed,
  };
  const prior = LatentPrior.fromJSON(priorJson(model.config.latentDim, mixture, transition), model.config.latentDim);
  if (heldOut.length) {
    const val = await documentCodes(model, tokenizer, heldOut, Math.ceil(maxChunks / 4), new Random(seed + 1));
    const codes = val.flat();
    const valPairs = consecutive(val);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
    if (codes.length)
      facts.heldOut = {
        chunks: codes.length,
        pairs: valPairs.length,
        mixture: mean(codes.map((z) => prior.logDensity(z))),
        standard: mean(codes.map((z) => standardNormalLogDensity(z))),
        ...(transition && valPairs.length
          ? {
              transition: mean(valPairs.map(([a, b]) => prior.transitionLogDensity(a, b))),
              independent: mean(valPairs.map(([, b]) => prior.logDensity(b))),
            }
          : {}),
      };
  }
  return priorJson(model.config.latentDim, mixture, transition, facts);
}

export interface PriorBundleOptions extends PriorFitOptions {
  train: string[];
  heldOut?: string[];
  /** The command line that made it, added to COMMAND.md. */
  command?: string;
}

/**
 * Writes a copy of the bundle in `dir` to `out` with a fitted prior.json: the same model (same
 * fingerprint: codes stay valid), its other files kept. `dir` is only read; `out` must be new or
 * empty. Returns the prior written.
 */
export async function fitPriorBundle(dir: string, out: string, o: PriorBundleOptions): Promise<LatentPriorJson> {
  checkNewCopy(dir, out);
  const raw = await loadBundle(dir, { expectedShapes: weightShapes });
  const bundle = await loadModelBundle(dir);
  const model = new TextVaeModel(bundle.config, bundle.weights);
  try {
    const prior = await fitLatentPrior(model, bundle.tokenizer, o.train, o.heldOut ?? [], o);
    const extras = await readOptionalFiles(raw);
    extras[PRIOR_FILE] = JSON.stringify(prior) + '\n';
    if (o.command)
      extras['COMMAND.md'] =
        (extras['COMMAND.md'] ?? '# How this model was made\n').replace(/\n*$/, '\n\n') +
        `A latent prior fitted to the training chunks' codes (prior.json):\n\n` +
        '```sh\n' +
        o.command +
        '\n```\n';
    const saved = await saveBundle(out, { ...resaveInput(raw), extras });
    if (saved.fingerprint !== raw.fingerprint) throw new Error('the fingerprint changed while adding prior.json');
    return prior;
  } finally {
    model.dispose();
  }
}
