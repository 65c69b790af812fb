/**
 * Messages between the extension host and the webviews, in the {id, method, params} shape:
 * webview -> host "commands" and host -> webview "notifications" are kept apart.
 * Webviews must validate everything they receive and render text only as text.
 */
import type { MetricsLine } from '../core/train';
import type { MapPoint } from './engine';

export interface GeneratorModelState {
  name: string;
  fingerprint: string;
  variant: string;
  backend: string;
}

/** What the generator webview persists with setState and restores after a reload. */
export interface GeneratorViewState {
  sample: { n: number; temperature: number; seed: number; maxTokens: number };
  interpolate: { from: string; to: string; steps: number; mode: 'linear' | 'spherical' };
  samples: string[];
  interpolation: { alpha: number; text: string }[];
}

export interface GeneratorCommands {
  ready: Record<string, never>;
  sample: { n: number; temperature: number; seed: number; maxTokens: number };
  interpolate: { from: string; to: string; steps: number; mode: 'linear' | 'spherical' };
  useSelection: { slot: 'from' | 'to' };
  copy: { text: string };
  insert: { text: string };
  loadMap: Record<string, never>;
  openLocation: { uri: string; offset: number };
}

export interface GeneratorNotifications {
  model: GeneratorModelState | null;
  busy: { busy: boolean; label?: string };
  samples: { items: string[] };
  interpolation: { items: { alpha: number; text: string }[] };
  selection: { slot: 'from' | 'to'; text: string };
  map: { points: MapPoint[] };
  error: { message: string };
}

export interface TrainingCommands {
  ready: Record<string, never>;
  cancel: Record<string, never>;
}

export interface TrainingNotifications {
  reset: { title: string };
  metrics: MetricsLine;
  done: { message: string; cancelled: boolean };
}

export type WebviewMessage<M, K extends keyof M = keyof M> = { id: number; method: K; params: M[K] };

/** Checks the envelope and that the method is one of the allowed names. */
export function isWebviewMessage<M>(value: unknown, methods: readonly (keyof M)[]): value is WebviewMessage<M> {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as { id?: unknown; method?: unknown; params?: unknown };
  return typeof v.id === 'number' && typeof v.method === 'string' && (methods as readonly string[]).includes(v.method) && typeof v.params === 'object' && v.params !== null;
}

export const GENERATOR_COMMANDS = ['ready', 'sample', 'interpolate', 'useSelection', 'copy', 'insert', 'loadMap', 'openLocation'] as const satisfies readonly (keyof GeneratorCommands)[];
export const GENERATOR_NOTIFICATIONS = ['model', 'busy', 'samples', 'interpolation', 'selection', 'map', 'error'] as const satisfies readonly (keyof GeneratorNotifications)[];
export const TRAINING_COMMANDS = ['ready', 'cancel'] as const satisfies readonly (keyof TrainingCommands)[];
export const TRAINING_NOTIFICATIONS = ['reset', 'metrics', 'done'] as const satisfies readonly (keyof TrainingNotifications)[];
