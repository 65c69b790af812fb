/**
 * Messages between the extension host and the webviews, in the {id, method, params} shape:
 * webview -> host "commands" and host -> webview "notifications" are kept apart.
 * Webviews must validate everything they receive and render text only as text.
 */
import type { MetricsLine } from '../core/types';
import type { MapPoint } from './engine';
import type { InterpolationMode } from '../core/choices';

export interface GeneratorModelState {
  name: string;
  fingerprint: string;
  variant: string;
  backend: string;
}

/** Defaults for the generator form, from the textvae.sampling.* and textvae.interpolation.* settings. */
export interface GeneratorSettings {
  count: number;
  temperature: number;
  topP: number;
  steps: number;
  mode: InterpolationMode;
}

/** What the generator webview persists with setState and restores after a reload. */
export interface GeneratorViewState {
  sample: { n: number; temperature: number; seed: number; maxTokens: number };
  interpolate: { from: string; to: string; steps: number; mode: InterpolationMode };
  samples: string[];
  interpolation: { alpha: number; text: string }[];
  /** The last latent map, so that it survives a reload. */
  map?: MapPoint[];
}

export interface GeneratorCommands {
  ready: Record<string, never>;
  sample: { n: number; temperature: number; seed: number; maxTokens: number };
  interpolate: { from: string; to: string; steps: number; mode: InterpolationMode };
  useSelection: { slot: 'from' | 'to' };
  copy: { text: string };
  insert: { text: string };
  loadMap: Record<string, never>;
  openLocation: { uri: string; offset: number };
  /** Cancels the request in progress (sample, interpolate or loadMap). */
  cancel: Record<string, never>;
}

export interface GeneratorNotifications {
  /** Wrapped in an object: the envelope requires params to be a non-null object. */
  model: { model: GeneratorModelState | null };
  /** Sent after `ready`: seeds the form when the webview has no saved state. */
  settings: GeneratorSettings;
  busy: { busy: boolean; label?: string };
  samples: { items: string[] };
  interpolation: { items: { alpha: number; text: string }[] };
  selection: { slot: 'from' | 'to'; text: string };
  map: { points: MapPoint[] };
  error: { message: string };
  /** A short, non-error status line (e.g. "Cancelled."). */
  notice: { message: string };
}

export interface TrainingCommands {
  ready: Record<string, never>;
  cancel: Record<string, never>;
}

/** One point of the training curves (null where the value was not finite). */
export interface TrainingPoint {
  step: number;
  loss: number | null;
  kl: number | null;
  val: number | null;
}

/** What the training webview persists with setState; the host keeps the same state and sends it after `ready`. */
export interface TrainingViewState {
  title: string;
  points: TrainingPoint[];
  latest: MetricsLine | null;
  done: { message: string; cancelled: boolean } | null;
  /** Cancel was pressed and the run has not finished yet. */
  cancelling: boolean;
  /** No run is attached: the title is only a placeholder message (absent: false). */
  idle?: boolean;
}

export interface TrainingNotifications {
  /** A new run starts (or, with idle, the panel shows a placeholder with no run attached). */
  reset: { title: string; idle?: boolean };
  metrics: MetricsLine;
  done: { message: string; cancelled: boolean };
  /** The whole state, sent after `ready` (the webview is destroyed while hidden). */
  snapshot: TrainingViewState;
}

export type WebviewMessage<M, K extends keyof M = keyof M> = { id: number; method: K; params: M[K] };

/** Checks the envelope and that the method is one of the allowed names. */
export function isWebviewMessage<M>(value: unknown, methods: readonly (keyof M)[]): value is WebviewMessage<M> {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as { id?: unknown; method?: unknown; params?: unknown };
  return (
    typeof v.id === 'number' &&
    typeof v.method === 'string' &&
    (methods as readonly string[]).includes(v.method) &&
    typeof v.params === 'object' &&
    v.params !== null
  );
}

export const GENERATOR_COMMANDS = [
  'ready',
  'sample',
  'interpolate',
  'useSelection',
  'copy',
  'insert',
  'loadMap',
  'openLocation',
  'cancel',
] as const satisfies readonly (keyof GeneratorCommands)[];
export const GENERATOR_NOTIFICATIONS = [
  'model',
  'settings',
  'busy',
  'samples',
  'interpolation',
  'selection',
  'map',
  'error',
  'notice',
] as const satisfies readonly (keyof GeneratorNotifications)[];
export const TRAINING_COMMANDS = ['ready', 'cancel'] as const satisfies readonly (keyof TrainingCommands)[];
export const TRAINING_NOTIFICATIONS = [
  'reset',
  'metrics',
  'done',
  'snapshot',
] as const satisfies readonly (keyof TrainingNotifications)[];
