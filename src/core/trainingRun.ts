/**
 * A training run on a corpus, as the CLI and the engine worker both start one: the model config
 * from the caller's choices, the held-out split, and the provenance record kept in the bundle.
 * The callers only gather the files and report progress.
 */
import * as path from 'node:path';
import { train, type TrainOptions, type TrainResult } from './train';
import { splitForTraining, type SplitResult } from './split';
import { CorpusError, collectDocuments, type CorpusFile, type CorpusOptions, type SkippedFile } from './corpus';
import { describeSplit, type RunProvenance } from './provenance';
import { checkNewFolder } from './bundle';
import { activeBackend } from './backend';
import type { ModelConfig, Variant } from './types';
import type { CodeScheme } from './choices';

export const DEFAULT_VAL_FRACTION = 0.05;

/** Architecture choices; those left unset keep DEFAULT_CONFIG's (or, when fine-tuning, the parent's). */
export interface ArchitectureOptions {
  variant?: Variant;
  vocabSize?: number;
  latentDim?: number;
  modelDim?: number;
  maxTokens?: number;
  decoderDilations?: number[];
  encoderDilations?: number[];
  encoderPositions?: boolean;
  poolSlots?: number;
  memorySlots?: number;
  /**
   * 'precision': tvae2 codes whose length follows the information they carry (vae only). Unset:
   * precision for a new vae model, the parent's scheme when fine-tuning or resuming.
   */
  codeScheme?: CodeScheme;
}

export function modelConfigFrom(a: ArchitectureOptions): Partial<ModelConfig> {
  const config: Partial<ModelConfig> = {};
  if (a.variant !== undefined) config.variant = a.variant;
  if (a.vocabSize !== undefined) config.vocabSize = a.vocabSize;
  if (a.latentDim !== undefined) config.latentDim = a.latentDim;
  if (a.modelDim !== undefined) config.modelDim = a.modelDim;
  if (a.maxTokens !== undefined) config.maxTokens = a.maxTokens;
  if (a.decoderDilations !== undefined) config.decoderDilations = [...a.decoderDilations];
  if (a.encoderDilations !== undefined) {
    config.encoderDilations = [...a.encoderDilations];
    config.encoderLayers = a.encoderDilations.length;
  }
  if (a.encoderPositions) config.encoderPositions = true;
  if (a.poolSlots !== undefined) config.poolSlots = a.poolSlots;
  if (a.memorySlots !== undefined) config.memorySlots = a.memorySlots;
  if (a.codeScheme === 'precision') config.codeScheme = 'precision';
  return config;
}

/**
 * New vae models write tvae2 codes: half the length of tvae1 at the same reconstruction
 * (docs/benchmarks.md, target 1). A fine-tuned or resumed model keeps its own scheme.
 */
export function defaultCodeScheme(
  a: ArchitectureOptions,
  run: { from?: string; resume?: string },
): CodeScheme | undefined {
  if (a.codeScheme !== undefined || run.from !== undefined || run.resume !== undefined) return a.codeScheme;
  return (a.variant ?? 'vae') === 'vae' ? 'precision' : undefined;
}

export interface CorpusRunOptions extends Omit<TrainOptions, 'train' | 'val' | 'config' | 'provenance'> {
  files: CorpusFile[];
  valFraction?: number;
  architecture?: ArchitectureOptions;
  /** Who started the run, for the provenance record. */
  source: RunProvenance['source'];
  command?: string;
}

export interface CorpusRunResult extends TrainResult {
  split: SplitResult;
  files: number;
}

/** Splits the corpus, trains on it and records how. Logs one line on the split through onLog. */
export async function trainOnCorpus(o: CorpusRunOptions): Promise<CorpusRunResult> {
  const { files, valFraction = DEFAULT_VAL_FRACTION, architecture = {}, source, command, ...rest } = o;
  if (files.length === 0) throw new CorpusError('no documents to train on');
  const split = splitForTraining(files, valFraction);
  const backend = activeBackend()?.name;
  o.onLog?.(`${describeSplit(files.length, split)}${backend ? `; backend ${backend}` : ''}`);
  const provenance: RunProvenance = {
    source,
    ...(command !== undefined ? { command } : {}),
    files: files.length,
    heldOutFiles: split.heldOutFiles,
    splitMethod: split.method,
    valFraction,
  };
  const result = await train({
    ...rest,
    train: split.train,
    val: split.val,
    config: modelConfigFrom({ ...architecture, codeScheme: defaultCodeScheme(architecture, rest) }),
    provenance: { ...provenance },
  });
  return { ...result, split, files: files.length };
}

export interface DocumentsRunOptions extends Omit<CorpusRunOptions, 'files' | 'source'>, CorpusOptions {
  /** Documents chosen by the extension: read here, where the model trains (see collectDocuments). */
  paths: string[];
}

/**
 * The extension's training run: never replaces an existing model folder, reads the documents
 * (skipping those that vanished), then trains as trainOnCorpus does.
 */
export async function trainOnDocuments(o: DocumentsRunOptions): Promise<CorpusRunResult & { skipped: SkippedFile[] }> {
  const { paths, include, exclude, maxFileBytes, maxTotalBytes, ...run } = o;
  try {
    checkNewFolder(path.resolve(o.out));
  } catch (err) {
    throw new CorpusError(`${(err as Error).message} for the model`);
  }
  const { files, skipped } = await collectDocuments(paths, {
    include,
    exclude,
    maxFileBytes,
    maxTotalBytes,
    onLog: o.onLog,
  });
  return { ...(await trainOnCorpus({ ...run, files, source: 'vscode' })), skipped };
}
