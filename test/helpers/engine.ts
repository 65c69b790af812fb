/** In-process engine fixtures: backend choice, a tiny corpus and tiny training runs. */
import * as path from 'node:path';
import { initBackend, type BackendReport, type BackendRequest } from '../../src/core/backend';
import { train, type MetricsLine, type TrainOptions, type TrainResult } from '../../src/core/train';
import type { ModelConfig } from '../../src/core/types';
import { makeTempDir } from './tmp';

/** The backend the tests run on: TEXTVAE_BACKEND, else auto (tensorflow where native is set up, else wasm). */
export function backendRequest(): BackendRequest {
  return (process.env.TEXTVAE_BACKEND as BackendRequest | undefined) || 'auto';
}

export function setupBackend(): Promise<BackendReport> {
  return initBackend(backendRequest());
}

/** Six short, distinct sentences; each fits one chunk of TINY_CONFIG.maxTokens tokens but two do not. */
export const SENTENCES = [
  'The quick brown fox jumps over the lazy dog.',
  'A latent code is a short vector of numbers.',
  'Rivers carry cold water down to the sea.',
  'Seven green frogs sang songs in the rain.',
  'My old clock ticks loudly every night.',
  'Bright stars shine above the silent hills.',
];
/** The sentences as one document of paragraphs. */
export const TINY_DOC = SENTENCES.join('\n\n');

/** Small enough to train in seconds on two busy cores. */
export const TINY_CONFIG: Partial<ModelConfig> = {
  vocabSize: 300,
  maxTokens: 32,
  modelDim: 48,
  latentDim: 16,
  encoderLayers: 1,
  decoderDilations: [1, 2, 4, 8],
  kernelSize: 3,
};

export interface TinyRun {
  dir: string;
  result: TrainResult;
  metrics: MetricsLine[];
  logs: string[];
}

/** Trains on TINY_DOC into a fresh temp folder (or `out`). Options override the small defaults. */
export async function trainTiny(options: Partial<TrainOptions> = {}, out?: string): Promise<TinyRun> {
  const dir = out ?? path.join(makeTempDir('textvae-train-'), 'model');
  const metrics: MetricsLine[] = [];
  const logs: string[] = [];
  const result = await train({
    train: [TINY_DOC],
    val: [],
    out: dir,
    seed: 7,
    batchSize: 6,
    learningRate: 3e-3,
    warmupSteps: 20,
    maxSteps: 300,
    logEvery: 50,
    ...options,
    config: { ...TINY_CONFIG, ...(options.config ?? {}) },
    onMetrics: (m) => {
      metrics.push(m);
      options.onMetrics?.(m);
    },
    onLog: (s) => {
      logs.push(s);
      options.onLog?.(s);
    },
  });
  return { dir, result, metrics, logs };
}
