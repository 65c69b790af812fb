/**
 * Every `textvae.*` setting with its type, default and range, declared once. package.json's
 * `contributes.configuration` must say the same (JSON cannot import this; a unit test compares
 * them). Pure: no vscode, no tfjs. The extension reads the settings through this table
 * (extension/config.ts); the generator webview takes its form's defaults from it.
 */
import {
  BACKEND_REQUESTS,
  LOSSLESS_SEARCHES,
  INTERPOLATION_MODES,
  MODEL_SIZES,
  RANGES,
  SETTING_RANGES,
  TRAINING_STARTS,
  VARIANTS,
  isOneOf,
  strategyReads,
  type DecodeStrategy,
  type NumberRange,
} from '../core/choices';

export interface SettingSpec<T> {
  readonly default: T;
  /** Turns whatever the user wrote into a usable value: numbers are clamped, anything malformed is the default. */
  read(raw: unknown): T;
  /** Numbers: the range package.json declares (minimum, maximum, "integer"). */
  readonly range?: NumberRange;
  /** Strings: the allowed values (package.json's enum). */
  readonly choices?: readonly string[];
}

function number(fallback: number, range: NumberRange): SettingSpec<number> {
  return {
    default: fallback,
    range,
    read(raw) {
      if (typeof raw !== 'number' || !Number.isFinite(raw)) return fallback;
      const v = range.integer ? Math.round(raw) : raw;
      return Math.min(range.max, Math.max(range.min, v));
    },
  };
}

function choice<T extends string>(fallback: T, choices: readonly T[]): SettingSpec<T> {
  return { default: fallback, choices, read: (raw) => (isOneOf(choices, raw) ? raw : fallback) };
}

function text(fallback: string): SettingSpec<string> {
  return { default: fallback, read: (raw) => (typeof raw === 'string' ? raw.trim() : fallback) };
}

function bool(fallback: boolean): SettingSpec<boolean> {
  return { default: fallback, read: (raw) => (typeof raw === 'boolean' ? raw : fallback) };
}

/** Non-empty strings; with `nonEmpty`, an empty list also means the default. */
function globs(fallback: readonly string[], nonEmpty: boolean): SettingSpec<string[]> {
  return {
    default: [...fallback],
    read(raw) {
      if (!Array.isArray(raw)) return [...fallback];
      const items = raw.filter((x): x is string => typeof x === 'string' && x.trim() !== '');
      return nonEmpty && items.length === 0 ? [...fallback] : items;
    },
  };
}

export const SETTINGS = {
  modelPath: text(''),
  backend: choice('auto', BACKEND_REQUESTS),
  'training.minutes': number(5, SETTING_RANGES.trainingMinutes),
  'training.include': globs(['**/*.{md,markdown,txt,rst,tex,adoc,org}'], true),
  'training.exclude': globs(['**/node_modules/**', '**/.git/**'], false),
  'training.maxFileSizeKB': number(2048, { min: 1, max: Infinity, integer: false }),
  'training.seed': number(1, RANGES.seed),
  'training.startFrom': choice('activeModel', TRAINING_STARTS),
  'training.variant': choice('vae', VARIANTS),
  'training.modelSize': choice('default', MODEL_SIZES),
  'training.outputFolder': text(''),
  'sampling.count': number(3, SETTING_RANGES.sampleCount),
  'sampling.temperature': number(0.8, SETTING_RANGES.temperature),
  'sampling.topP': number(0.95, SETTING_RANGES.topP),
  'decoding.strategy': choice('beam', ['greedy', 'beam'] as const),
  // Beam 16 reranked at 0.3: measured in docs/benchmarks.md (Faithful codes, reranking).
  'decoding.beamWidth': number(16, SETTING_RANGES.beamWidth),
  'decoding.rerank': number(0.3, SETTING_RANGES.rerank),
  'codes.copyToClipboard': bool(false),
  'codes.fidelityNotice': bool(true),
  'lossless.search': choice('auto', LOSSLESS_SEARCHES),
  'interpolation.steps': number(5, SETTING_RANGES.interpolationSteps),
  'interpolation.mode': choice('spherical', INTERPOLATION_MODES),
  'hover.enabled': bool(true),
} as const satisfies Record<string, SettingSpec<unknown>>;

export type SettingKey = keyof typeof SETTINGS;
export type SettingValue<K extends SettingKey> = ReturnType<(typeof SETTINGS)[K]['read']>;

/** The full name of a setting, as package.json and `affectsConfiguration` spell it. */
export function settingId(key: SettingKey): string {
  return `textvae.${key}`;
}

/** The textvae.decoding.* settings that only some strategies read, with the decoding option each sets. */
const STRATEGY_SETTINGS = { 'decoding.beamWidth': 'beamWidth', 'decoding.rerank': 'rerank' } as const;
export const STRATEGY_SETTING_KEYS = Object.keys(STRATEGY_SETTINGS) as (keyof typeof STRATEGY_SETTINGS)[];

/**
 * A line for the output channel when settings the user gave (`userSet`) go unused under
 * textvae.decoding.strategy (beam width and reranking with greedy decoding); undefined otherwise.
 */
export function ignoredDecodingSettings(strategy: DecodeStrategy, userSet: readonly SettingKey[]): string | undefined {
  const ignored = STRATEGY_SETTING_KEYS.filter(
    (k) => userSet.includes(k) && !strategyReads(strategy, STRATEGY_SETTINGS[k]),
  ).map(settingId);
  if (ignored.length === 0) return undefined;
  const [verb, pronoun] = ignored.length > 1 ? ['apply', 'they are'] : ['applies', 'it is'];
  return `${ignored.join(' and ')} ${verb} to beam search only: with textvae.decoding.strategy ${strategy}, ${pronoun} not used`;
}
