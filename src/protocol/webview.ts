/**
 * Messages between the extension host and the webviews, declared once as valibot schemas: the
 * TypeScript types are inferred from them, the host parses every command with them and the
 * webviews parse every notification and their restored state. Webview -> host "commands" and
 * host -> webview "notifications" are kept apart. Envelope: {id, method, params, replyTo?}; a
 * notification that answers a command carries the command's id in `replyTo`, so that a webview
 * can drop the answer to a request it has cancelled. Webviews render text only as text.
 */
import * as v from 'valibot';
import type { MetricsLine } from '../core/types';
import { INTERPOLATION_MODES, SETTING_RANGES } from '../core/choices';
import type { MapPoint } from './engine';
import {
  count,
  empty,
  finiteNumber,
  finiteOrNull,
  flag,
  jsonNumber,
  listOf,
  numberIn,
  oneOf,
  parseOrNull,
  record,
  text,
  type SameShape,
} from './schema';

/** Longest text accepted for From / To / Insert / Copy. */
export const MAX_TEXT = 1_000_000;
const MAX_ITEMS = 10_000;
const MAX_MAP_POINTS = 100_000;
const MAX_CURVE_POINTS = 100_000;

// ---------------------------------------------------------------- shared pieces

const mode = oneOf(INTERPOLATION_MODES);
const slot = oneOf(['from', 'to'] as const);
const longText = text(MAX_TEXT);
const messageText = text(10_000);

export const MapPointSchema = record({
  x: finiteNumber,
  y: finiteNumber,
  uri: text(10_000, { nonEmpty: true }),
  offset: count,
  line: count,
  preview: text(100_000),
});
// The engine declares MapPoint; the schema must describe exactly that.
const mapPointMatches: SameShape<MapPoint, v.InferOutput<typeof MapPointSchema>> = true;
void mapPointMatches;

const ModelStateSchema = record({
  name: text(1000),
  fingerprint: text(1000),
  variant: text(100),
  backend: text(100),
});

/** Defaults for the generator form, from the textvae.sampling.* and textvae.interpolation.* settings. */
const SettingsSchema = record({
  count: numberIn(SETTING_RANGES.sampleCount),
  temperature: numberIn(SETTING_RANGES.temperature),
  topP: numberIn(SETTING_RANGES.topP),
  steps: numberIn(SETTING_RANGES.interpolationSteps),
  mode,
});

const SampleSchema = record({
  n: numberIn(SETTING_RANGES.sampleCount),
  temperature: numberIn(SETTING_RANGES.temperature),
  seed: numberIn(SETTING_RANGES.seed),
  maxTokens: numberIn(SETTING_RANGES.maxTokens),
  /** Chunks per sample: a paragraph of consecutive codes (1 where a saved form predates it). */
  chunks: v.optional(numberIn(SETTING_RANGES.paragraphChunks), 1),
});

const InterpolateSchema = record({
  from: longText,
  to: longText,
  steps: numberIn(SETTING_RANGES.interpolationSteps),
  mode,
});

const StepSchema = record({ alpha: finiteNumber, text: longText });

// ---------------------------------------------------------------- generator

export const GENERATOR_COMMANDS = {
  ready: empty,
  sample: SampleSchema,
  interpolate: InterpolateSchema,
  useSelection: record({ slot }),
  copy: record({ text: longText }),
  insert: record({ text: longText }),
  loadMap: empty,
  openLocation: record({ uri: text(10_000, { nonEmpty: true }), offset: count }),
  /** Cancels the request in progress (sample, interpolate or loadMap). */
  cancel: empty,
};

export const GENERATOR_NOTIFICATIONS = {
  /** Wrapped in an object: the envelope requires params to be an object. */
  model: record({ model: v.nullable(ModelStateSchema) }),
  /** Sent after `ready`: seeds the form when the webview has no saved state. */
  settings: SettingsSchema,
  busy: record({ busy: flag, label: v.optional(text(500)) }),
  samples: record({ items: listOf(longText, MAX_ITEMS) }),
  interpolation: record({ items: listOf(StepSchema, MAX_ITEMS) }),
  selection: record({ slot, text: longText }),
  map: record({ points: listOf(MapPointSchema, MAX_MAP_POINTS) }),
  error: record({ message: messageText }),
  /** A short, non-error status line (e.g. "Cancelled."). */
  notice: record({ message: messageText }),
};

/** What the generator webview persists with setState; results that no longer parse are dropped, a bad form is not used. */
export const GeneratorViewStateSchema = record({
  sample: SampleSchema,
  interpolate: InterpolateSchema,
  samples: v.fallback(listOf(longText, MAX_ITEMS), []),
  interpolation: v.fallback(listOf(StepSchema, MAX_ITEMS), []),
  /** The last latent map, so that it survives a reload. */
  map: v.fallback(listOf(MapPointSchema, MAX_MAP_POINTS), []),
});

export type GeneratorCommands = ParamsOf<typeof GENERATOR_COMMANDS>;
export type GeneratorNotifications = ParamsOf<typeof GENERATOR_NOTIFICATIONS>;
export type GeneratorModelState = v.InferOutput<typeof ModelStateSchema>;
export type GeneratorSettings = v.InferOutput<typeof SettingsSchema>;
export type GeneratorViewState = v.InferOutput<typeof GeneratorViewStateSchema>;

// ---------------------------------------------------------------- training

/** A metrics line after JSON: NaN arrived as null and reads as NaN again. */
export const MetricsLineSchema = record({
  type: v.literal('metrics', 'must be "metrics"'),
  step: count,
  epoch: jsonNumber,
  progress: jsonNumber,
  elapsed_s: jsonNumber,
  tokens_per_s: jsonNumber,
  bytes_per_s: jsonNumber,
  loss: jsonNumber,
  recon_bits_per_byte: jsonNumber,
  kl_bits_per_byte: jsonNumber,
  beta: jsonNumber,
  learning_rate: jsonNumber,
  grad_norm: jsonNumber,
  val_bits_per_byte: jsonNumber,
  val_recon_bits_per_byte: jsonNumber,
  val_kl_bits_per_byte: jsonNumber,
  active_units: jsonNumber,
  mutual_information: jsonNumber,
  sparsity: jsonNumber,
  token_accuracy: jsonNumber,
  tensors: jsonNumber,
  backend: text(100),
});
const metricsLineMatches: SameShape<MetricsLine, v.InferOutput<typeof MetricsLineSchema>> = true;
void metricsLineMatches;

/** One point of the training curves (null where the value was not finite). */
const TrainingPointSchema = record({ step: count, loss: finiteOrNull, kl: finiteOrNull, val: finiteOrNull });
const DoneSchema = record({ message: messageText, cancelled: flag });
const title = text(1000);

/** What the training webview persists with setState; the host keeps the same state and sends it after `ready`. */
export const TrainingViewStateSchema = record({
  title,
  points: listOf(TrainingPointSchema, MAX_CURVE_POINTS),
  latest: v.nullable(MetricsLineSchema),
  done: v.nullable(DoneSchema),
  /** Cancel was pressed and the run has not finished yet. */
  cancelling: v.fallback(v.optional(v.boolean(), false), false),
  /** No run is attached: the title is only a placeholder message (absent: false). */
  idle: v.fallback(v.optional(v.boolean()), undefined),
});

export const TRAINING_COMMANDS = { ready: empty, cancel: empty };

export const TRAINING_NOTIFICATIONS = {
  /** A new run starts (or, with idle, the panel shows a placeholder with no run attached). */
  reset: record({ title, idle: v.optional(flag) }),
  metrics: MetricsLineSchema,
  done: DoneSchema,
  /** The whole state, sent after `ready` (the webview is destroyed while hidden). */
  snapshot: TrainingViewStateSchema,
};

export type TrainingCommands = ParamsOf<typeof TRAINING_COMMANDS>;
export type TrainingNotifications = ParamsOf<typeof TRAINING_NOTIFICATIONS>;
export type TrainingPoint = v.InferOutput<typeof TrainingPointSchema>;
export type TrainingViewState = v.InferOutput<typeof TrainingViewStateSchema>;

// ---------------------------------------------------------------- envelope

export type MessageSchemas = Record<string, v.GenericSchema>;
export type ParamsOf<S extends MessageSchemas> = { [K in keyof S]: v.InferOutput<S[K]> };

/** A method and its params, as a union over the set. */
export type MethodCall<M> = { [K in keyof M]: { method: K; params: M[K] } }[keyof M];

/** One message of a set: `{ id, method, params }`, and `replyTo` when it answers a command. */
export type WebviewMessage<M, K extends keyof M = keyof M> = {
  [P in K]: { id: number; method: P; params: M[P]; replyTo?: number };
}[K];

const messageId = v.pipe(v.number(), v.safeInteger(), v.minValue(0));
const EnvelopeSchema = v.object({
  id: messageId,
  method: v.string(),
  params: v.unknown(),
  replyTo: v.optional(messageId),
});

/** The message if its envelope, method and params all fit the set; null for anything else. */
export function parseMessage<S extends MessageSchemas>(schemas: S, value: unknown): WebviewMessage<ParamsOf<S>> | null {
  const envelope = parseOrNull(EnvelopeSchema, value);
  if (!envelope || !Object.prototype.hasOwnProperty.call(schemas, envelope.method)) return null;
  const params = parseOrNull(schemas[envelope.method], envelope.params);
  if (params === null) return null;
  const { id, method, replyTo } = envelope;
  return (replyTo === undefined ? { id, method, params } : { id, method, params, replyTo }) as WebviewMessage<
    ParamsOf<S>
  >;
}

export const parseGeneratorCommand = (value: unknown) => parseMessage(GENERATOR_COMMANDS, value);
export const parseGeneratorNotification = (value: unknown) => parseMessage(GENERATOR_NOTIFICATIONS, value);
export const parseTrainingCommand = (value: unknown) => parseMessage(TRAINING_COMMANDS, value);
export const parseTrainingNotification = (value: unknown) => parseMessage(TRAINING_NOTIFICATIONS, value);
export const parseGeneratorViewState = (value: unknown) => parseOrNull(GeneratorViewStateSchema, value);
export const parseTrainingViewState = (value: unknown) => parseOrNull(TrainingViewStateSchema, value);
export const parseMetricsLine = (value: unknown) => parseOrNull(MetricsLineSchema, value);

export type GeneratorCommand = WebviewMessage<GeneratorCommands>;
export type GeneratorNotification = WebviewMessage<GeneratorNotifications>;
export type TrainingCommand = WebviewMessage<TrainingCommands>;
export type TrainingNotification = WebviewMessage<TrainingNotifications>;
