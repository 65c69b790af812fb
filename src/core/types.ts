/** Shared engine types. Nothing here depends on tfjs or vscode. */

import type { BackendName, DecodeStrategy, Variant } from './choices';

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
  /**
   * Encoder pooling by attention: this many learned queries each read the whole text, and the code is
   * made from their concatenation. Absent: masked mean and max pooling (bundles before 2026-11-30).
   */
  poolSlots?: number;
  /**
   * z as memory: z is projected to this many slots, and every decoder layer attends to them from each
   * position. Absent: z reaches the decoder only as one bias per layer.
   */
  memorySlots?: number;
  kernelSize: number;
  /**
   * How codes are written. 'precision': tvae2 codes, a quantisation step per dimension that follows
   * the posterior's precision (weight latent.step), range-coded (latentPrecision.ts); 'vae' only.
   * Absent: tvae1 codes, one int8 per dimension.
   */
  codeScheme?: 'precision';
}

/** Plain weights, independent of any tensor library. */
export interface WeightTensor {
  shape: number[];
  data: Float32Array;
}
export type NamedWeights = Record<string, WeightTensor>;

// ---------------------------------------------------------------- facts that cross process boundaries
// (the worker's results, the host's model info and training panel, the webviews' metrics)

export interface BackendReport {
  /** The backend in use: always reported, never silent. */
  name: BackendName;
  /** Which package provided 'tensorflow' (gpu or cpu build), when native. */
  detail: string;
  /** Why earlier choices were passed over, in order. */
  skipped: string[];
}

export interface DecodeOptions {
  strategy?: DecodeStrategy;
  /** Token sampling temperature ('sample'). */
  temperature?: number;
  /** Nucleus sampling: keep the smallest set of tokens whose probability reaches topP ('sample'). */
  topP?: number;
  beamWidth?: number;
  /**
   * Beam: weight of log q(z|candidate) when picking among the finished candidates, each re-encoded
   * (0 = off: the most likely candidate). Costs one encoder call per code.
   */
  rerank?: number;
  seed?: number;
  /** Upper bound on generated tokens per code (at most the model's maxTokens). */
  maxTokens?: number;
  /** Greedy/sample: never repeat an n-gram of this many tokens (0 = off). Sampling defaults to 3. */
  noRepeatNgram?: number;
}

export interface ModelInfo {
  dir: string;
  fingerprint: string;
  variant: string;
  config: ModelConfig;
  parameters: number;
  sizeBytes: number;
  vocabSize: number;
  training?: unknown;
  metrics?: unknown;
  /** The fitted latent prior samples are drawn from (prior.json), or null without one. */
  prior: { components: number; transition: boolean } | null;
}

export interface EvalMetrics {
  examples: number;
  bytes: number;
  tokens: number;
  /** Negative ELBO (reconstruction + KL) in bits per UTF-8 byte. */
  bits_per_byte: number;
  recon_bits_per_byte: number;
  kl_bits_per_byte: number;
  /** KL per example, in nats. */
  kl_nats: number;
  /** Dimensions whose posterior mean varies across texts (Cov_x E[z|x] > 0.01). */
  active_units: number;
  /** Estimate of I(x; z) in nats under the aggregate posterior of these examples. */
  mutual_information: number;
  /** Fraction of code entries that are (near) zero: the sparsity of 'sparse' codes. */
  sparsity: number;
  token_accuracy: number;
  /** −ELBO with a document cache mixed into the reconstruction (`eval --cache`). */
  cache_bits_per_byte?: number;
  cache_recon_bits_per_byte?: number;
  /** −ELBO with KL against the bundle's fitted prior.json instead of N(0, I) (evaluate's `prior`). */
  fitted_bits_per_byte?: number;
  fitted_kl_bits_per_byte?: number;
  /** Both: the document cache and the fitted prior. */
  fitted_cache_bits_per_byte?: number;
}

export interface MetricsLine {
  type: 'metrics';
  step: number;
  epoch: number;
  progress: number;
  elapsed_s: number;
  tokens_per_s: number;
  bytes_per_s: number;
  loss: number;
  recon_bits_per_byte: number;
  kl_bits_per_byte: number;
  beta: number;
  learning_rate: number;
  grad_norm: number;
  val_bits_per_byte: number;
  val_recon_bits_per_byte: number;
  val_kl_bits_per_byte: number;
  active_units: number;
  mutual_information: number;
  sparsity: number;
  token_accuracy: number;
  tensors: number;
  backend: string;
}

/** A document whose chunks the latent map places. */
export interface MapDocument {
  uri: string;
  text: string;
}

export interface MapPoint {
  x: number;
  y: number;
  uri: string;
  /** Character offset of the chunk in its document. */
  offset: number;
  line: number;
  preview: string;
}
