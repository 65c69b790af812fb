/** In-process engine fixtures: backend choice, a tiny corpus and tiny training runs. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { initBackend, type BackendReport, type BackendRequest } from '../../src/core/backend';
import { readManifest } from '../../src/core/bundle';
import { TextVae } from '../../src/core/textVae';
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

const REPO = path.resolve(__dirname, '..', '..');

/** Every file below `dir` whose name ends with `ext`, sorted. */
function filesBelow(dir: string, ext: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith(ext))
    .map((e) => path.join(e.parentPath ?? e.path, e.name))
    .sort();
}

let sourcesDigest: string | null = null;

/** What a trained model depends on besides its options: the engine, this helper and the locked packages. */
function engineDigest(): string {
  if (sourcesDigest) return sourcesDigest;
  const hash = createHash('sha256');
  for (const f of [
    ...filesBelow(path.join(REPO, 'src', 'core'), '.ts'),
    __filename,
    path.join(REPO, 'package-lock.json'),
  ])
    if (fs.existsSync(f)) hash.update(path.relative(REPO, f)).update(fs.readFileSync(f));
  return (sourcesDigest = hash.digest('hex'));
}

/**
 * trainTiny for tests that use the trained model (not the training run itself): a seeded run is
 * deterministic on a backend, so each one is trained once and kept under the OS temp folder, keyed
 * by its options, the backend, the engine's sources and package-lock.json. Test files running at
 * the same time, and later runs, share it; each caller gets its own copy of the bundle.
 * TEXTVAE_TEST_CACHE=0 trains afresh every time.
 */
export async function sharedTiny(options: Partial<TrainOptions> = {}): Promise<TinyRun> {
  const plain = Object.entries(options).filter(([, v]) => typeof v !== 'function' && !(v instanceof AbortSignal));
  if (plain.length !== Object.keys(options).length) throw new Error('sharedTiny: callbacks and signals need trainTiny');
  if (process.env.TEXTVAE_TEST_CACHE === '0') return trainTiny(options);
  const backend = (await setupBackend()).name;
  const key = createHash('sha256')
    .update(JSON.stringify({ options, backend, engine: engineDigest() }))
    .digest('hex')
    .slice(0, 24);
  const cache = path.join(os.tmpdir(), 'textvae-test-models', key);
  const record = path.join(cache, 'run.json');
  if (!fs.existsSync(record)) {
    const run = await trainTiny(options);
    const staging = `${cache}.${process.pid}.partial`;
    fs.rmSync(staging, { recursive: true, force: true });
    fs.cpSync(run.dir, path.join(staging, 'model'), { recursive: true });
    const { dir: _dir, ...rest } = run;
    fs.writeFileSync(path.join(staging, 'run.json'), JSON.stringify(rest));
    try {
      fs.renameSync(staging, cache);
    } catch {
      // Another process stored the same run first: its copy is as good as ours.
      fs.rmSync(staging, { recursive: true, force: true });
    }
    if (!fs.existsSync(record)) return run;
  }
  const dir = path.join(makeTempDir('textvae-train-'), 'model');
  fs.cpSync(path.join(cache, 'model'), dir, { recursive: true });
  const saved = JSON.parse(fs.readFileSync(record, 'utf8')) as Omit<TinyRun, 'dir'>;
  return { ...saved, dir, result: { ...saved.result, out: dir } };
}

/** Runs `make` once, on first use, and shares the promise. */
export function once<T>(make: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | null = null;
  return () => (p ??= make());
}

/** Enough steps for the tiny model to memorise the six sentences (it needs about 120). */
export const LEARN_STEPS = 160;

export interface TrainingFacts {
  step: number;
  finished: boolean;
}

/** What the manifest says of the run that made a bundle. */
export async function trainingFacts(dir: string): Promise<TrainingFacts> {
  return (await readManifest(dir)).training as TrainingFacts;
}

/** Encodes the document, checks there is one chunk per sentence, and decodes every code alone. */
export async function assertExactReconstruction(dir: string): Promise<void> {
  const vae = await TextVae.load(dir);
  try {
    const chunks = vae.chunk(TINY_DOC);
    assert.equal(chunks.length, SENTENCES.length, 'precondition: one chunk per sentence');
    const codes = await vae.encodeToCodes(TINY_DOC);
    assert.equal(codes.length, chunks.length);
    for (let i = 0; i < codes.length; i++) {
      assert.match(codes[i], /^tvae1:[0-9a-f]{8}:/);
      assert.equal(
        await vae.decodeCodes([codes[i]], { strategy: 'greedy' }),
        chunks[i],
        `sentence ${i} from ${codes[i]}`,
      );
    }
    assert.equal(await vae.decodeCodes(codes), TINY_DOC);
    // The codes carry the information: every sentence has its own code.
    assert.equal(new Set(codes.map((c) => c.split(':')[2])).size, codes.length);
  } finally {
    vae.dispose();
  }
}
