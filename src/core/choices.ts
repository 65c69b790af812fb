/**
 * The one home of the engine's enumerations and numeric limits. Pure: it imports nothing, so the
 * CLI, the worker, the extension host and the webviews all read it without loading tfjs or vscode.
 * package.json's settings repeat some of these (JSON cannot import); a unit test keeps them equal.
 */

/** The backends that run, fastest first: the order in which 'auto' tries them. */
export const BACKEND_NAMES = ['tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];
export const BACKEND_REQUESTS = ['auto', ...BACKEND_NAMES] as const;
export type BackendRequest = (typeof BACKEND_REQUESTS)[number];

export const VARIANTS = ['vae', 'ae', 'sparse'] as const;
export type Variant = (typeof VARIANTS)[number];

/** How codes are written: int8, fixed-length tvae1; precision, tvae2 whose length follows the information. */
export const CODE_SCHEMES = ['int8', 'precision'] as const;
export type CodeScheme = (typeof CODE_SCHEMES)[number];

export const DECODE_STRATEGIES = ['greedy', 'sample', 'beam'] as const;
export type DecodeStrategy = (typeof DECODE_STRATEGIES)[number];
/**
 * The decoding options (fields of DecodeOptions) each strategy reads, besides maxTokens which all
 * read; it ignores the others, so the CLI and the settings can say so instead of dropping them.
 */
export const STRATEGY_OPTIONS = {
  greedy: ['noRepeatNgram'],
  sample: ['temperature', 'topP', 'seed', 'noRepeatNgram'],
  beam: ['beamWidth', 'rerank'],
} as const satisfies Record<DecodeStrategy, readonly string[]>;
export type StrategyOption = (typeof STRATEGY_OPTIONS)[DecodeStrategy][number];

/** Whether decoding by `strategy` reads the option `field`. */
export function strategyReads(strategy: DecodeStrategy, field: StrategyOption): boolean {
  return (STRATEGY_OPTIONS[strategy] as readonly string[]).includes(field);
}

/** The strategies that read `field`. */
export function strategiesReading(field: StrategyOption): DecodeStrategy[] {
  return DECODE_STRATEGIES.filter((s) => strategyReads(s, field));
}

/** Where sampled codes come from: the bundle's fitted prior.json, or N(0, I) as trained. */
export const LATENT_PRIORS = ['fitted', 'standard'] as const;
export type LatentPriorChoice = (typeof LATENT_PRIORS)[number];

export const INTERPOLATION_MODES = ['linear', 'spherical'] as const;
export type InterpolationMode = (typeof INTERPOLATION_MODES)[number];

/** Sizes of newly trained models offered by the extension (textvae.training.modelSize). */
export const MODEL_SIZES = ['small', 'default'] as const;
export type ModelSize = (typeof MODEL_SIZES)[number];

/** What "Train on Workspace Documents" starts from (textvae.training.startFrom). */
export const TRAINING_STARTS = ['activeModel', 'scratch'] as const;
export type TrainingStart = (typeof TRAINING_STARTS)[number];

/** Which part of a corpus `textvae eval` scores. */
export const EVAL_SPLITS = ['all', 'val', 'train'] as const;
export type EvalSplit = (typeof EVAL_SPLITS)[number];

export function isOneOf<T extends string>(choices: readonly T[], value: unknown): value is T {
  return typeof value === 'string' && (choices as readonly string[]).includes(value);
}

export interface NumberRange {
  readonly min: number;
  /** Infinity: no upper bound. */
  readonly max: number;
  readonly integer: boolean;
}

export function inRange(range: NumberRange, value: unknown): value is number {
  return (
    typeof value === 'number' &&
    Number.isFinite(value) &&
    value >= range.min &&
    value <= range.max &&
    (!range.integer || Number.isInteger(value))
  );
}

/** "an integer from 1 to 16", "a number of at least 0.01": how errors describe a range. */
export function describeRange(range: NumberRange): string {
  const kind = range.integer ? 'an integer' : 'a number';
  return range.max === Infinity ? `${kind} of at least ${range.min}` : `${kind} from ${range.min} to ${range.max}`;
}

const int = (min: number, max: number): NumberRange => ({ min, max, integer: true });
const real = (min: number, max: number): NumberRange => ({ min, max, integer: false });

/**
 * Sweeps of the lossless coder's latent grid search unless told otherwise: one on native TensorFlow
 * (1-2 % shorter codes for half the compression speed); none on wasm and cpu, whose slow products
 * would make compression 2-6 times slower (docs/benchmarks.md).
 */
export function defaultSearchSweeps(backend: string): number {
  return backend === 'tensorflow' ? 1 : 0;
}

/** The extension's textvae.lossless.search: the backend's default, none, or a thorough search. */
export const LOSSLESS_SEARCHES = ['auto', 'off', 'thorough'] as const;
export type LosslessSearch = (typeof LOSSLESS_SEARCHES)[number];
/** Sweeps of each choice; undefined: the worker's backend decides. */
export const LOSSLESS_SEARCH_SWEEPS: Record<LosslessSearch, number | undefined> = {
  auto: undefined,
  off: 0,
  thorough: 4,
};

/** What the engine accepts from any caller: CLI flags and worker requests alike. */
export const RANGES = {
  // Decoding.
  temperature: real(0.01, 10),
  topP: real(0.01, 1),
  beamWidth: int(1, 16),
  rerank: real(0, 100),
  seed: int(0, 2 ** 32 - 1),
  decodeMaxTokens: int(1, 4096),
  noRepeatNgram: int(0, 16),
  sampleCount: int(1, 256),
  /** Chunks per sampled paragraph, candidates per sample, and the fitted prior's spread. */
  paragraphChunks: int(1, 16),
  sampleCandidates: int(1, 16),
  latentScale: real(0, 4),
  interpolationSteps: int(2, 64),
  /** Lossless compression: sweeps of the encoder's search for each block's latent grid point. */
  latentSearchSweeps: int(0, 16),
  // Training: bounds of a run.
  minutes: real(0.01, 10_080),
  maxSteps: int(1, 100_000_000),
  epochs: real(0.01, Infinity),
  logEvery: int(1, 1_000_000),
  valFraction: real(0, 0.5),
  // Training: architecture and optimisation.
  vocabSize: int(260, 65_536),
  latentDim: int(1, 255),
  modelDim: int(8, 2048),
  trainMaxTokens: int(4, 1024),
  batchSize: int(1, 1024),
  learningRate: real(1e-6, 1),
  freeBits: real(0, 20),
  tokenDropout: real(0, 0.9),
  dropout: real(0, 0.9),
  /** One dilation of a convolution layer, and how many layers a list may give. */
  dilation: int(1, 4096),
  dilationLayers: int(1, 64),
  /** Encoder attention-pooling queries and decoder memory slots. */
  slots: int(1, 64),
  /** Quantisation step of tvae2 codes, in posterior standard deviations. */
  codeStep: real(0.01, 100),
} as const satisfies Record<string, NumberRange>;

/**
 * The narrower ranges of the extension's settings and generator form (package.json's
 * textvae.sampling.*, textvae.decoding.*, textvae.interpolation.*, textvae.training.minutes).
 */
export const SETTING_RANGES = {
  sampleCount: int(1, 32),
  temperature: real(0.05, 3),
  topP: real(0.05, 1),
  beamWidth: RANGES.beamWidth,
  rerank: RANGES.rerank,
  interpolationSteps: int(2, 32),
  trainingMinutes: real(0.1, 1440),
  /** The generator form's paragraph length, in chunks. */
  paragraphChunks: int(1, 8),
  /** The generator form's seed and length fields. */
  seed: int(0, 2 ** 31 - 1),
  maxTokens: int(1, 256),
} as const satisfies Record<string, NumberRange>;
