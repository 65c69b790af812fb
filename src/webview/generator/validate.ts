/**
 * DOM-free validation of everything that crosses the generator webview boundary, in both
 * directions: the webview checks notifications, the host checks commands. Anything malformed
 * is null and gets ignored.
 */
import type { MapPoint } from '../../protocol/engine';
import {
  GENERATOR_COMMANDS,
  GENERATOR_NOTIFICATIONS,
  type GeneratorCommands,
  type GeneratorModelState,
  type GeneratorNotifications,
  type GeneratorSettings,
  type GeneratorViewState,
} from '../../protocol/webview';
import { arrayOf, isBoolean, isFiniteNumber, isInteger, isMode, isRecord, isSlot, isString } from '../shared/guards';
import { parseEnvelope } from '../shared/post';
import { inRange, MAX_TEXT } from './limits';

export type GeneratorNotification = {
  [K in keyof GeneratorNotifications]: { method: K; params: GeneratorNotifications[K] };
}[keyof GeneratorNotifications];
export type GeneratorCommand = {
  [K in keyof GeneratorCommands]: { method: K; params: GeneratorCommands[K] };
}[keyof GeneratorCommands];

const MAX_ITEMS = 10_000;

function text(v: unknown, max = MAX_TEXT): v is string {
  return isString(v) && v.length <= max;
}

export function parseModelState(v: unknown): GeneratorModelState | null {
  if (!isRecord(v)) return null;
  const { name, fingerprint, variant, backend } = v;
  if (!text(name, 1000) || !text(fingerprint, 1000) || !text(variant, 100) || !text(backend, 100)) return null;
  return { name, fingerprint, variant, backend };
}

export function parseSettings(v: unknown): GeneratorSettings | null {
  if (!isRecord(v)) return null;
  const { count, temperature, topP, steps, mode } = v;
  if (
    !inRange('n', count) ||
    !inRange('temperature', temperature) ||
    !inRange('topP', topP) ||
    !inRange('steps', steps) ||
    !isMode(mode)
  )
    return null;
  return { count, temperature, topP, steps, mode };
}

export function parseMapPoint(v: unknown): MapPoint | null {
  if (!isRecord(v)) return null;
  const { x, y, uri, offset, line, preview } = v;
  if (!isFiniteNumber(x) || !isFiniteNumber(y) || !text(uri, 10_000) || uri === '') return null;
  if (!isInteger(offset) || offset < 0 || !isInteger(line) || line < 0 || !text(preview, 100_000)) return null;
  return { x, y, uri, offset, line, preview };
}

function parseStep(v: unknown): { alpha: number; text: string } | null {
  if (!isRecord(v) || !isFiniteNumber(v.alpha) || !text(v.text)) return null;
  return { alpha: v.alpha, text: v.text };
}

const asText = (v: unknown): string | null => (text(v) ? v : null);

export function parseGeneratorNotification(value: unknown): GeneratorNotification | null {
  const env = parseEnvelope<GeneratorNotifications>(value, GENERATOR_NOTIFICATIONS);
  if (!env) return null;
  const p = env.params;
  switch (env.method) {
    case 'model': {
      if (!('model' in p)) return null;
      if (p.model === null) return { method: 'model', params: { model: null } };
      const model = parseModelState(p.model);
      return model ? { method: 'model', params: { model } } : null;
    }
    case 'settings': {
      const settings = parseSettings(p);
      return settings ? { method: 'settings', params: settings } : null;
    }
    case 'busy': {
      if (!isBoolean(p.busy) || (p.label !== undefined && !text(p.label, 500))) return null;
      return {
        method: 'busy',
        params: p.label === undefined ? { busy: p.busy } : { busy: p.busy, label: p.label as string },
      };
    }
    case 'samples': {
      const items = arrayOf(p.items, asText, MAX_ITEMS);
      return items ? { method: 'samples', params: { items } } : null;
    }
    case 'interpolation': {
      const items = arrayOf(p.items, parseStep, MAX_ITEMS);
      return items ? { method: 'interpolation', params: { items } } : null;
    }
    case 'selection':
      return isSlot(p.slot) && text(p.text) ? { method: 'selection', params: { slot: p.slot, text: p.text } } : null;
    case 'map': {
      const points = arrayOf(p.points, parseMapPoint, 100_000);
      return points ? { method: 'map', params: { points } } : null;
    }
    case 'error':
    case 'notice':
      return text(p.message, 10_000) ? { method: env.method, params: { message: p.message } } : null;
  }
  return null;
}

export function parseGeneratorCommand(value: unknown): GeneratorCommand | null {
  const env = parseEnvelope<GeneratorCommands>(value, GENERATOR_COMMANDS);
  if (!env) return null;
  const p = env.params;
  switch (env.method) {
    case 'ready':
    case 'loadMap':
    case 'cancel':
      return { method: env.method, params: {} };
    case 'sample': {
      const { n, temperature, seed, maxTokens } = p;
      if (
        !inRange('n', n) ||
        !inRange('temperature', temperature) ||
        !inRange('seed', seed) ||
        !inRange('maxTokens', maxTokens)
      )
        return null;
      return { method: 'sample', params: { n, temperature, seed, maxTokens } };
    }
    case 'interpolate': {
      const { from, to, steps, mode } = p;
      if (!text(from) || !text(to) || !inRange('steps', steps) || !isMode(mode)) return null;
      return { method: 'interpolate', params: { from, to, steps, mode } };
    }
    case 'useSelection':
      return isSlot(p.slot) ? { method: 'useSelection', params: { slot: p.slot } } : null;
    case 'copy':
    case 'insert':
      return text(p.text) ? { method: env.method, params: { text: p.text } } : null;
    case 'openLocation':
      return text(p.uri, 10_000) && p.uri !== '' && isInteger(p.offset) && p.offset >= 0
        ? { method: 'openLocation', params: { uri: p.uri, offset: p.offset } }
        : null;
  }
  return null;
}

/** Validates state restored with getState (it may come from an older version); null if unusable. */
export function parseGeneratorViewState(v: unknown): GeneratorViewState | null {
  if (!isRecord(v) || !isRecord(v.sample) || !isRecord(v.interpolate)) return null;
  const { n, temperature, seed, maxTokens } = v.sample;
  const { from, to, steps, mode } = v.interpolate;
  if (
    !inRange('n', n) ||
    !inRange('temperature', temperature) ||
    !inRange('seed', seed) ||
    !inRange('maxTokens', maxTokens)
  )
    return null;
  if (!text(from) || !text(to) || !inRange('steps', steps) || !isMode(mode)) return null;
  const samples = arrayOf(v.samples, asText, MAX_ITEMS) ?? [];
  const interpolation = arrayOf(v.interpolation, parseStep, MAX_ITEMS) ?? [];
  const map = v.map === undefined ? [] : (arrayOf(v.map, parseMapPoint, 100_000) ?? []);
  return {
    sample: { n, temperature, seed, maxTokens },
    interpolate: { from, to, steps, mode },
    samples,
    interpolation,
    map,
  };
}
