/** Small, DOM-free type guards for validating messages and persisted state. */
import { INTERPOLATION_MODES, isOneOf, type InterpolationMode } from '../../core/choices';

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function isString(v: unknown): v is string {
  return typeof v === 'string';
}

export function isFiniteNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

export function isInteger(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v);
}

export function isBoolean(v: unknown): v is boolean {
  return typeof v === 'boolean';
}

export function isMode(v: unknown): v is InterpolationMode {
  return isOneOf(INTERPOLATION_MODES, v);
}

export function isSlot(v: unknown): v is 'from' | 'to' {
  return v === 'from' || v === 'to';
}

/** An array whose every item passes `item`; null when it is not one. */
export function arrayOf<T>(v: unknown, item: (x: unknown) => T | null, max = Infinity): T[] | null {
  if (!Array.isArray(v) || v.length > max) return null;
  const out: T[] = [];
  for (const x of v) {
    const parsed = item(x);
    if (parsed === null) return null;
    out.push(parsed);
  }
  return out;
}

/** A number that may have crossed JSON (NaN and Infinity become null): null -> NaN. */
export function numberOrNaN(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (v === null) return NaN;
  return undefined;
}

export function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}
