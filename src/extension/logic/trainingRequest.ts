/**
 * The engine request of "Train on Workspace Documents", from the settings and the active model.
 * Pure (no vscode): the choice between fine-tuning and training from scratch is unit-tested here.
 */
import type { TrainingStart, Variant } from '../../core/choices';
import type { TrainParams } from '../../protocol/engine';

/** textvae.training.modelSize "small": trains in seconds, for small folders. */
export const SMALL_MODEL = { modelDim: 64, vocabSize: 512, latentDim: 16 } as const;

export interface TrainingChoices {
  maxFileBytes: number;
  minutes: number;
  seed: number;
  variant: Variant;
  /** textvae.training.modelSize is "small". */
  small: boolean;
  startFrom: TrainingStart;
}

/**
 * Fine-tunes `activeModel` when the settings say so and there is one; the run then keeps that
 * model's architecture, so the variant and size settings (which describe new models) are not sent.
 */
export function trainingRequest(
  s: TrainingChoices,
  run: { paths: string[]; out: string; activeModel: string | undefined },
): TrainParams {
  const common = {
    paths: run.paths,
    maxFileBytes: s.maxFileBytes,
    out: run.out,
    minutes: s.minutes,
    seed: s.seed,
    valFraction: 0.05,
  };
  if (s.startFrom === 'activeModel' && run.activeModel) return { ...common, from: run.activeModel, logEvery: 20 };
  return { ...common, variant: s.variant, logEvery: s.small ? 20 : 50, ...(s.small ? SMALL_MODEL : {}) };
}
