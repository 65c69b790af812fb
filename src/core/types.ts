/** Shared engine types. Nothing here depends on tfjs or vscode. */

import type { BackendName, Variant } from './choices';

export type { BackendName, Variant };

/** Architecture hyper-parameters, saved as the bundle's config.json. */
export interface ModelConfig {
  variant: Variant;
  vocabSize: number;
  /** Maximum tokens per example, not counting BOS/EOS. */
  maxTokens: number;
  modelDim: number;
  latentDim: number;
  encoderLayers: number;
  /** Per encoder layer: taps at t-d, t, t+d... Absent: 1 for every layer (bundles before 2026-11-22). */
  encoderDilations?: number[];
  /** Add the position table to the encoder's input, so codes depend on word order, not only on local n-grams. */
  encoderPositions?: boolean;
  /** One decoder layer per entry: causal taps at t, t-d, t-2d... */
  decoderDilations: number[];
  kernelSize: number;
}

/** Plain weights, independent of any tensor library. */
export interface WeightTensor {
  shape: number[];
  data: Float32Array;
}
export type NamedWeights = Record<string, WeightTensor>;
