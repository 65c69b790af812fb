/**
 * How a model was trained: the record kept in its manifest's `training`, in one shape whichever
 * trainer made it (the CLI and the extension through core/trainingRun.ts, scripts/gpu on its own).
 * Pure: the extension host reads these facts without loading tfjs.
 */
import type { SplitResult } from './split';

export type SplitMethod = SplitResult['method'];

/** What a run on a corpus adds to the facts train() records itself (steps, seed, parameters...). */
export interface RunProvenance {
  /** Who started the run. */
  source: 'cli' | 'vscode';
  /** The command line, for runs started from one. */
  command?: string;
  files: number;
  heldOutFiles: number;
  /** How the held-out text was chosen (see core/split.ts). */
  splitMethod: SplitMethod;
  valFraction: number;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * A manifest's training facts with older keys renamed: until 2026-11 the extension wrote
 * `heldOutBy` where the CLI and scripts/gpu wrote `splitMethod`.
 */
export function normalizeTrainingFacts(training: unknown): unknown {
  if (!isRecord(training) || !('heldOutBy' in training)) return training;
  const { heldOutBy, ...rest } = training;
  return { splitMethod: heldOutBy, ...rest };
}

/** One line on what a run trains on and what it holds out, e.g. "12 documents: 11 for training, 1 held out". */
export function describeSplit(files: number, split: Pick<SplitResult, 'method' | 'heldOutFiles'>): string {
  const heldOut =
    split.method === 'paragraphs'
      ? 'some paragraphs of the only document held out'
      : split.method === 'none'
        ? 'nothing held out'
        : `${split.heldOutFiles} held out`;
  return `${files} document${files === 1 ? '' : 's'}: ${files - split.heldOutFiles} for training, ${heldOut}`;
}
