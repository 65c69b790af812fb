/**
 * DOM-free validation for the training webview: notifications (webview side), commands (host
 * side) and the persisted state. Metrics cross JSON on their way from the engine process, so
 * NaN arrives as null: such fields are accepted and read as NaN.
 */
import type { MetricsLine } from '../../core/types';
import {
  TRAINING_COMMANDS,
  TRAINING_NOTIFICATIONS,
  type TrainingCommands,
  type TrainingNotifications,
  type TrainingPoint,
  type TrainingViewState,
} from '../../protocol/webview';
import { arrayOf, isBoolean, isInteger, isRecord, isString, numberOrNaN } from '../shared/guards';
import { parseEnvelope } from '../shared/post';

export type TrainingNotification = {
  [K in keyof TrainingNotifications]: { method: K; params: TrainingNotifications[K] };
}[keyof TrainingNotifications];
export type TrainingCommand = {
  [K in keyof TrainingCommands]: { method: K; params: TrainingCommands[K] };
}[keyof TrainingCommands];

const NUMERIC_FIELDS = [
  'epoch',
  'progress',
  'elapsed_s',
  'tokens_per_s',
  'bytes_per_s',
  'loss',
  'recon_bits_per_byte',
  'kl_bits_per_byte',
  'beta',
  'learning_rate',
  'grad_norm',
  'val_bits_per_byte',
  'val_recon_bits_per_byte',
  'val_kl_bits_per_byte',
  'active_units',
  'mutual_information',
  'sparsity',
  'token_accuracy',
  'tensors',
] as const satisfies readonly (keyof MetricsLine)[];

export function parseMetricsLine(v: unknown): MetricsLine | null {
  if (
    !isRecord(v) ||
    v.type !== 'metrics' ||
    !isInteger(v.step) ||
    v.step < 0 ||
    !isString(v.backend) ||
    v.backend.length > 100
  )
    return null;
  const out: Record<string, unknown> = { type: 'metrics', step: v.step, backend: v.backend };
  for (const k of NUMERIC_FIELDS) {
    const n = numberOrNaN(v[k]);
    if (n === undefined) return null;
    out[k] = n;
  }
  return out as unknown as MetricsLine;
}

function nullableNumber(v: unknown): number | null | undefined {
  if (v === null) return null;
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  return undefined;
}

export function parsePoint(v: unknown): TrainingPoint | null {
  if (!isRecord(v) || !isInteger(v.step) || v.step < 0) return null;
  const loss = nullableNumber(v.loss);
  const kl = nullableNumber(v.kl);
  const val = nullableNumber(v.val);
  if (loss === undefined || kl === undefined || val === undefined) return null;
  return { step: v.step, loss, kl, val };
}

function parseDone(v: unknown): { message: string; cancelled: boolean } | null {
  if (!isRecord(v) || !isString(v.message) || v.message.length > 10_000 || !isBoolean(v.cancelled)) return null;
  return { message: v.message, cancelled: v.cancelled };
}

function parseTitle(v: unknown): string | null {
  return isString(v) && v.length <= 1000 ? v : null;
}

/** Validates a whole state (persisted, or a snapshot from the host); null if unusable. */
export function parseTrainingViewState(v: unknown): TrainingViewState | null {
  if (!isRecord(v)) return null;
  const title = parseTitle(v.title);
  const points = arrayOf(v.points, parsePoint, 100_000);
  const latest = v.latest === null ? null : parseMetricsLine(v.latest);
  const done = v.done === null ? null : parseDone(v.done);
  if (title === null || points === null || (v.latest !== null && latest === null) || (v.done !== null && done === null))
    return null;
  const state: TrainingViewState = { title, points, latest, done, cancelling: v.cancelling === true };
  if (v.idle === true) state.idle = true;
  return state;
}

export function parseTrainingNotification(value: unknown): TrainingNotification | null {
  const env = parseEnvelope<TrainingNotifications>(value, TRAINING_NOTIFICATIONS);
  if (!env) return null;
  const p = env.params;
  switch (env.method) {
    case 'reset': {
      const title = parseTitle(p.title);
      if (title === null || (p.idle !== undefined && !isBoolean(p.idle))) return null;
      return { method: 'reset', params: p.idle ? { title, idle: true } : { title } };
    }
    case 'metrics': {
      const line = parseMetricsLine(p);
      return line ? { method: 'metrics', params: line } : null;
    }
    case 'done': {
      const done = parseDone(p);
      return done ? { method: 'done', params: done } : null;
    }
    case 'snapshot': {
      const state = parseTrainingViewState(p);
      return state ? { method: 'snapshot', params: state } : null;
    }
  }
  return null;
}

export function parseTrainingCommand(value: unknown): TrainingCommand | null {
  const env = parseEnvelope<TrainingCommands>(value, TRAINING_COMMANDS);
  return env ? ({ method: env.method, params: {} } as TrainingCommand) : null;
}
