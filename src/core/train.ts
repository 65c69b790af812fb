/** The training loop: hand-written, tidy, seedable, bounded by time/steps/epochs, cancellable, checkpointed. */
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
// Gradients are registered separately from ops in tfjs-core.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { DEFAULT_CONFIG, TextVaeModel, makeBatch, parameterCount, type Batch } from './model';
import type { MetricsLine, ModelConfig } from './types';
import { Tokenizer } from './tokenizer';
import { makeExamples, type Example } from './dataset';
import { objective, type ObjectiveOptions } from './objective';
import { Adam, learningRateAt } from './optimizer';
import { evaluate, type EvalMetrics } from './evaluate';
import { Random } from './random';
import { checkBundleTarget, readManifest, samePath, saveBundle, type WeightsDtype } from './bundle';
import { loadModelBundle } from './textVae';
import { activeBackend } from './backend';
import {
  DEFAULT_STEP_FACTOR,
  fitLatentPrior,
  refreshLatentStatistics,
  withCodeWeights,
  type PriorFitFacts,
} from './latentStats';
import { PRIOR_FILE, type LatentPriorJson } from './latentPrior';

/** Training chunks the end-of-run prior is fitted to: enough for 16 full components of 32 dimensions. */
const PRIOR_CHUNKS = 4096;
/** EM iterations there: within 0.1 nats per held-out code of 100 iterations, in a third of the time. */
const PRIOR_ITERATIONS = 30;

export type { MetricsLine };

export interface TrainOptions {
  train: string[];
  val: string[];
  out: string;
  /** Fit prior.json to the codes at the end of a finished run (default true; never for sparse models). */
  fitPrior?: boolean;
  config?: Partial<ModelConfig>;
  /** Step of tvae2 codes in posterior standard deviations (models with codeScheme 'precision'). */
  codeStepFactor?: number;
  seed?: number;
  batchSize?: number;
  learningRate?: number;
  warmupSteps?: number;
  /** At least one bound is required. */
  minutes?: number;
  maxSteps?: number;
  epochs?: number;
  /** Fraction of the run spent as a plain autoencoder before KL is switched on (vae only). */
  aePretrainFraction?: number;
  /** Fraction of the run over which the KL weight rises from 0 to 1 after pretraining. */
  klAnnealFraction?: number;
  freeNatsPerDim?: number;
  tokenDropout?: number;
  /** Dropout on every layer's residual branch while training (0: none). */
  dropout?: number;
  l1Weight?: number;
  logEvery?: number;
  checkpointMinutes?: number;
  maxValExamples?: number;
  tokenizerSampleBytes?: number;
  /** Continue from a checkpoint bundle (weights, tokenizer, config and step count). */
  resume?: string;
  /**
   * Fine-tune: start a new run from this bundle's weights, tokenizer and architecture (the bundle is
   * only read). `config` may repeat the parent's architecture but not change it; FINE_TUNE_DEFAULTS
   * replace the from-scratch defaults of options left unset.
   */
  from?: string;
  /** How the saved bundles store weights; training itself is float32. Default: the resumed checkpoint's, else float32. */
  weightsDtype?: WeightsDtype;
  signal?: AbortSignal;
  /**
   * Awaited between steps, after yielding to the event loop: a host that serves other requests
   * (the engine worker) holds training here until they are answered.
   */
  betweenSteps?: () => Promise<void>;
  onMetrics?: (m: MetricsLine) => void;
  onLog?: (message: string) => void;
  /** Provenance stored in the manifest (e.g. the command line). */
  provenance?: Record<string, unknown>;
}

export interface TrainResult {
  out: string;
  fingerprint: string;
  steps: number;
  cancelled: boolean;
  final: EvalMetrics & { evaluated_on: 'held-out' | 'training' };
  elapsedSeconds: number;
}

export const TRAIN_DEFAULTS = {
  seed: 1,
  batchSize: 32,
  learningRate: 2e-3,
  warmupSteps: 100,
  aePretrainFraction: 0.1,
  klAnnealFraction: 0.4,
  freeNatsPerDim: 0.5,
  tokenDropout: 0.25,
  dropout: 0,
  l1Weight: 0.02,
  logEvery: 50,
  checkpointMinutes: 2,
  maxValExamples: 256,
  tokenizerSampleBytes: 3_000_000,
};

/**
 * Defaults for a run that starts from a trained model: a short warm-up, and no autoencoder phase
 * or KL warm-up (the encoder already gives an informative posterior). The rate was chosen by a
 * measured ablation (docs/benchmarks.md, "Fine-tuning defaults"): in the tens of steps a few CPU
 * minutes allow, 4e-3 beat 2e-3, 1e-3 and 5e-4 on held-out text of a new field.
 */
export const FINE_TUNE_DEFAULTS = {
  learningRate: 4e-3,
  warmupSteps: 20,
  aePretrainFraction: 0,
  klAnnealFraction: 0,
};

/** What the manifest of a fine-tuned model records about the model it started from. */
export interface ParentModel {
  fingerprint: string;
  /** The parent folder's name, as a hint for people; the fingerprint is what identifies it. */
  name: string;
}

/**
 * The config of a fine-tuning run: the parent's. A requested field that differs from the parent's is
 * refused, every such field named, since the parent's weights only fit its own shapes; only the code
 * scheme may be switched to 'precision'.
 */
export function fineTuneConfig(parent: ModelConfig, requested: Partial<ModelConfig> = {}): ModelConfig {
  const normal = (c: Partial<ModelConfig>, key: keyof ModelConfig): unknown => {
    if (key === 'encoderDilations' && c.encoderDilations === undefined && c.encoderLayers !== undefined)
      return new Array(c.encoderLayers).fill(1);
    if (key === 'encoderPositions') return c.encoderPositions ?? false;
    if (key === 'poolSlots' || key === 'memorySlots') return c[key] ?? 0;
    return c[key];
  };
  const conflicts = (Object.keys(requested) as (keyof ModelConfig)[])
    .filter((k) => requested[k] !== undefined && k !== 'codeScheme')
    .filter((k) => JSON.stringify(normal(requested, k)) !== JSON.stringify(normal(parent, k)))
    .map((k) => `${k} ${JSON.stringify(requested[k])} (the parent has ${JSON.stringify(normal(parent, k) ?? null)})`);
  if (conflicts.length)
    throw new Error(
      `fine-tuning keeps the parent model's architecture and tokenizer; these settings differ from it: ${conflicts.join('; ')}`,
    );
  // Not architecture: a fine-tuned model may start writing tvae2 codes (statistics are taken at save).
  return { ...parent, ...(requested.codeScheme ? { codeScheme: requested.codeScheme } : {}) };
}

/** A deterministic sample of texts up to a byte budget, for tokenizer training. */
export function sampleTexts(texts: string[], budget: number, rng: Random): string[] {
  const order = rng.shuffle(texts.map((_, i) => i));
  const out: string[] = [];
  let used = 0;
  for (const i of order) {
    if (used >= budget) break;
    const t = texts[i].slice(0, Math.max(0, budget - used));
    out.push(t);
    used += t.length;
  }
  return out;
}

export async function train(options: TrainOptions): Promise<TrainResult> {
  // A resumed fine-tuning run (its checkpoint names a parent) keeps the fine-tuning schedule.
  const fineTuning = options.from !== undefined || (options.resume !== undefined && (await parentOf(options.resume)));
  const o = {
    ...TRAIN_DEFAULTS,
    ...(fineTuning ? FINE_TUNE_DEFAULTS : {}),
    ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)),
  } as typeof TRAIN_DEFAULTS & TrainOptions;
  if (!o.minutes && !o.maxSteps && !o.epochs) throw new Error('give a bound for training: minutes, steps or epochs');
  if (o.train.length === 0) throw new Error('no training text');
  if (o.from && o.resume) throw new Error('give either a model to fine-tune from or a checkpoint to resume, not both');
  if (o.from && samePath(o.from, o.out))
    throw new Error(`the output folder must differ from the model fine-tuned from (${o.from} is never modified)`);
  // Before any work: a run must never end by refusing (or worse, replacing) the user's files.
  await checkBundleTarget(o.out);
  const log = o.onLog ?? (() => {});
  const backend = activeBackend()?.name ?? tf.getBackend();
  const rng = new Random(o.seed);
  const started = Date.now();

  let tokenizer: Tokenizer;
  let config: ModelConfig;
  let model: TextVaeModel;
  let startStep = 0;
  let priorElapsed = 0;
  let parent: ParentModel | undefined;
  let weightsDtype: WeightsDtype = o.weightsDtype ?? 'float32';
  // tvae2 step factor: given, else a resumed run's own, else the default.
  let stepFactor = o.codeStepFactor;
  if (o.resume) {
    const bundle = await loadModelBundle(o.resume);
    weightsDtype = o.weightsDtype ?? bundle.weightsDtype;
    tokenizer = bundle.tokenizer;
    config = bundle.config;
    model = new TextVaeModel(config, bundle.weights);
    const t = (bundle.manifest.training ?? {}) as {
      step?: number;
      elapsedSeconds?: number;
      parent?: ParentModel;
      codeStepFactor?: number;
    };
    stepFactor ??= t.codeStepFactor;
    startStep = t.step ?? 0;
    priorElapsed = t.elapsedSeconds ?? 0;
    parent = t.parent;
    log(`resuming from ${o.resume} at step ${startStep}`);
  } else if (o.from) {
    const bundle = await loadModelBundle(o.from);
    tokenizer = bundle.tokenizer;
    config = fineTuneConfig(bundle.config, o.config);
    model = new TextVaeModel(config, withCodeWeights(config, bundle.weights));
    // The fingerprint identifies the parent; only the folder's name is kept, since a bundle that is
    // shared should not carry the trainer's directory layout.
    parent = { fingerprint: bundle.fingerprint, name: path.basename(path.resolve(o.from)) };
    log(
      `fine-tuning ${o.from} (${bundle.fingerprint.slice(0, 8)}), keeping its ${tokenizer.vocabSize}-token tokenizer`,
    );
  } else {
    config = { ...DEFAULT_CONFIG, ...o.config };
    log(`training a ${config.vocabSize}-token byte-level BPE tokenizer`);
    tokenizer = Tokenizer.train(sampleTexts(o.train, o.tokenizerSampleBytes, new Random(o.seed + 1)), {
      vocabSize: config.vocabSize,
    });
    config.vocabSize = tokenizer.vocabSize;
    model = new TextVaeModel(config, undefined, o.seed);
  }

  if (config.codeScheme === 'precision' && config.variant !== 'vae') {
    model.dispose();
    throw new Error(
      `the precision code scheme needs variant vae (its steps follow the posterior), not ${config.variant}`,
    );
  }
  log('cutting documents into examples');
  const trainExamples = makeExamples(o.train, tokenizer, config.maxTokens);
  const valAll = makeExamples(o.val, tokenizer, config.maxTokens);
  const valExamples = new Random(o.seed + 2).shuffle(valAll.slice()).slice(0, o.maxValExamples);
  const trainTokens = trainExamples.reduce((s, e) => s + e.tokens.length, 0);
  log(
    `${trainExamples.length} training examples (${trainTokens} tokens), ${valAll.length} validation examples; ${tf.getBackend()} backend`,
  );
  if (trainExamples.length === 0) throw new Error('the training text gave no examples');

  const optimizer = new Adam({ clipNorm: 1 });
  const vars = model.trainableVariables();
  const stepsPerEpoch = Math.ceil(trainExamples.length / o.batchSize);
  const stepBound = Math.min(o.maxSteps ?? Infinity, o.epochs ? Math.ceil(o.epochs * stepsPerEpoch) : Infinity);
  const progressAt = (step: number, elapsedS: number): number =>
    Math.min(
      1,
      Math.max(Number.isFinite(stepBound) ? step / stepBound : 0, o.minutes ? elapsedS / (o.minutes * 60) : 0),
    );
  if (o.resume && progressAt(startStep, priorElapsed) >= 1) {
    // Otherwise the run would train nothing and mark the checkpoint finished.
    optimizer.dispose();
    model.dispose();
    throw new Error(
      `the checkpoint in ${o.resume} is at step ${startStep} (${Math.round(priorElapsed)} s of training), already at this run's bound: nothing to train (the bound is the total to reach, so give more steps, minutes or epochs)`,
    );
  }

  let order: number[] = [];
  let cursor = 0;
  const nextBatchExamples = (): Example[] => {
    const picked: Example[] = [];
    while (picked.length < o.batchSize) {
      if (cursor >= order.length) {
        order = rng.shuffle(trainExamples.map((_, i) => i));
        cursor = 0;
      }
      picked.push(trainExamples[order[cursor++]]);
    }
    return picked;
  };

  const save = async (step: number, elapsed: number, finished: boolean, metrics?: unknown, prior?: LatentPriorJson) => {
    await refreshLatentStatistics(model, trainExamples, new Random(o.seed + 3), stepFactor);
    const res = await saveBundle(o.out, {
      config,
      tokenizer: tokenizer.toJSON(),
      weights: await model.exportWeights(),
      weightsDtype,
      training: {
        step,
        elapsedSeconds: elapsed,
        finished,
        seed: o.seed,
        backend,
        batchSize: o.batchSize,
        learningRate: o.learningRate,
        dropout: o.dropout,
        trainExamples: trainExamples.length,
        valExamples: valAll.length,
        parameters: parameterCount(config),
        ...(config.codeScheme === 'precision' ? { codeStepFactor: stepFactor ?? DEFAULT_STEP_FACTOR } : {}),
        ...(parent ? { parent } : {}),
        ...o.provenance,
      },
      metrics,
      ...(prior ? { extras: { [PRIOR_FILE]: JSON.stringify(prior) + '\n' } } : {}),
    });
    return res.fingerprint;
  };

  let step = startStep;
  let lastLog = Date.now();
  let lastCheckpoint = Date.now();
  let tokensSinceLog = 0,
    bytesSinceLog = 0,
    lossSum = 0,
    reconSum = 0,
    klSum = 0,
    normSum = 0,
    stepsSinceLog = 0;
  let cancelled = false;
  let lastMetrics: MetricsLine | null = null;
  const elapsedS = () => priorElapsed + (Date.now() - started) / 1000;

  for (;;) {
    const progress = progressAt(step, elapsedS());
    if (progress >= 1) break;
    if (o.signal?.aborted) {
      cancelled = true;
      break;
    }
    const pretraining = config.variant === 'vae' && progress < o.aePretrainFraction;
    const beta =
      config.variant !== 'vae'
        ? 0
        : o.klAnnealFraction > 0
          ? Math.min(1, Math.max(0, (progress - o.aePretrainFraction) / o.klAnnealFraction))
          : progress >= o.aePretrainFraction
            ? 1
            : 0;
    const lr = learningRateAt(
      step,
      o.learningRate,
      o.warmupSteps,
      Number.isFinite(stepBound) ? stepBound : Math.max(step + 1, Math.round(step / Math.max(progress, 1e-3))),
      startStep,
    );
    const examples = nextBatchExamples();
    const batch = makeBatch(
      examples.map((e) => e.tokens),
      examples.map((e) => e.bytes),
      config.maxTokens,
      o.tokenDropout,
      rng,
    );
    const dropout = o.dropout > 0 ? { rate: o.dropout, seed: () => rng.int(0x7fffffff) } : undefined;
    const { loss, recon, kl, gradNorm } = await trainStep(model, optimizer, vars, batch, lr, {
      beta,
      freeNatsPerDim: o.freeNatsPerDim,
      l1Weight: o.l1Weight,
      noise: rng.normals(batch.batchSize * config.latentDim),
      autoencoderPhase: pretraining,
      dropout,
    });
    if (!Number.isFinite(loss))
      throw new Error(`training diverged at step ${step} (loss ${loss}); try a lower learning rate`);
    step++;
    stepsSinceLog++;
    lossSum += loss;
    reconSum += recon;
    klSum += kl;
    normSum += gradNorm;
    tokensSinceLog += examples.reduce((s, e) => s + e.tokens.length + 1, 0);
    bytesSinceLog += batch.bytes.reduce((a, b) => a + b, 0);

    if (step % o.logEvery === 0) {
      const val = valExamples.length ? await evaluate(model, valExamples, { seed: o.seed }) : null;
      const secs = (Date.now() - lastLog) / 1000;
      lastMetrics = {
        type: 'metrics',
        step,
        epoch: step / stepsPerEpoch,
        progress: progressAt(step, elapsedS()),
        elapsed_s: round(elapsedS(), 1),
        tokens_per_s: round(tokensSinceLog / secs, 1),
        bytes_per_s: round(bytesSinceLog / secs, 1),
        loss: round(lossSum / stepsSinceLog, 4),
        recon_bits_per_byte: round(reconSum / Math.LN2 / bytesSinceLog, 4),
        kl_bits_per_byte: round(klSum / Math.LN2 / bytesSinceLog, 4),
        beta: round(beta, 3),
        learning_rate: lr,
        grad_norm: round(normSum / stepsSinceLog, 3),
        val_bits_per_byte: round(val?.bits_per_byte ?? NaN, 4),
        val_recon_bits_per_byte: round(val?.recon_bits_per_byte ?? NaN, 4),
        val_kl_bits_per_byte: round(val?.kl_bits_per_byte ?? NaN, 4),
        active_units: val?.active_units ?? 0,
        mutual_information: round(val?.mutual_information ?? NaN, 3),
        sparsity: round(val?.sparsity ?? NaN, 3),
        token_accuracy: round(val?.token_accuracy ?? NaN, 4),
        tensors: tf.memory().numTensors,
        backend,
      };
      o.onMetrics?.(lastMetrics);
      lastLog = Date.now();
      tokensSinceLog = bytesSinceLog = lossSum = reconSum = klSum = normSum = stepsSinceLog = 0;
    }
    if (Date.now() - lastCheckpoint > o.checkpointMinutes * 60_000) {
      await save(step, elapsedS(), false, lastMetrics);
      lastCheckpoint = Date.now();
      log(`checkpoint saved at step ${step}`);
    }
    // Let timers, signals and IPC run between steps.
    await new Promise((r) => setImmediate(r));
    if (o.betweenSteps) await o.betweenSteps();
  }

  // Without held-out text the final figures come from training text, and say so.
  const heldOut = valExamples.length > 0;
  const final = {
    ...(await evaluate(model, heldOut ? valExamples : trainExamples.slice(0, o.maxValExamples), { seed: o.seed })),
    evaluated_on: heldOut ? ('held-out' as const) : ('training' as const),
  };
  // Sampling draws from a prior fitted to the codes (latentPrior.ts); a cancelled run skips it.
  let prior: LatentPriorJson | undefined;
  if (!cancelled && o.fitPrior !== false && config.variant !== 'sparse') {
    const fitStarted = Date.now();
    prior = await fitLatentPrior(model, tokenizer, o.train, o.val, {
      maxChunks: PRIOR_CHUNKS,
      iterations: PRIOR_ITERATIONS,
      seed: o.seed,
    });
    const facts = prior.fit as PriorFitFacts;
    log(
      `latent prior fitted: ${facts.components} component${facts.components === 1 ? '' : 's'} over ${facts.chunks} chunks (${((Date.now() - fitStarted) / 1000).toFixed(1)} s)`,
    );
  }
  const fingerprint = await save(step, elapsedS(), !cancelled, { ...final, backend }, prior);
  log(`${cancelled ? 'cancelled; saved' : 'saved'} ${o.out} after ${step} steps (${fingerprint.slice(0, 8)})`);
  optimizer.dispose();
  model.dispose();
  return { out: o.out, fingerprint, steps: step, cancelled, final, elapsedSeconds: elapsedS() };
}

/** Whether a checkpoint comes from a fine-tuning run (false too when it cannot be read: loading it says why). */
async function parentOf(dir: string): Promise<boolean> {
  try {
    return ((await readManifest(dir)).training as { parent?: unknown } | undefined)?.parent !== undefined;
  } catch {
    return false;
  }
}

/**
 * One optimiser step on one batch: gradients of the objective, clipped Adam update. Returns the
 * batch's loss, its reconstruction and KL parts (nats) and the gradient norm before clipping.
 * Shared by train() and scripts/profile-step.ts, so the profile is of the step that trains.
 */
export async function trainStep(
  model: TextVaeModel,
  optimizer: Adam,
  vars: tf.Variable[],
  batch: Batch,
  learningRate: number,
  objectiveOptions: ObjectiveOptions,
): Promise<{ loss: number; recon: number; kl: number; gradNorm: number }> {
  const captured: tf.Tensor[] = [];
  const { value, grads } = tf.variableGrads(() => {
    const out = objective(model, batch, objectiveOptions);
    captured.push(tf.keep(out.reconNats), tf.keep(out.klNats));
    return out.loss;
  }, vars);
  const norm = optimizer.apply(vars, grads, learningRate);
  const [lossV, reconV, klV, normV] = await Promise.all([
    value.data(),
    captured[0].data(),
    captured[1].data(),
    norm.data(),
  ]);
  tf.dispose([value, norm, ...captured, ...Object.values(grads)]);
  return { loss: lossV[0], recon: reconV[0], kl: klV[0], gradNorm: normV[0] };
}

function round(x: number, digits: number): number {
  if (!Number.isFinite(x)) return x;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
