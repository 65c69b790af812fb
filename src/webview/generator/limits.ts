import { SETTING_RANGES } from '../../core/choices';

/** Ranges of the generator's inputs (the textvae.sampling.* / textvae.interpolation.* settings). */
export const LIMITS = {
  n: { ...SETTING_RANGES.sampleCount, label: 'Count' },
  temperature: { ...SETTING_RANGES.temperature, label: 'Temperature' },
  seed: { ...SETTING_RANGES.seed, label: 'Seed' },
  maxTokens: { ...SETTING_RANGES.maxTokens, label: 'Max tokens' },
  steps: { ...SETTING_RANGES.interpolationSteps, label: 'Steps' },
  topP: { ...SETTING_RANGES.topP, label: 'Top-p' },
} as const;

export type LimitKey = keyof typeof LIMITS;

/** Longest text accepted for From / To / Insert / Copy. */
export const MAX_TEXT = 1_000_000;

export function inRange(key: LimitKey, v: unknown): v is number {
  const l = LIMITS[key];
  return typeof v === 'number' && Number.isFinite(v) && v >= l.min && v <= l.max && (!l.integer || Number.isInteger(v));
}

/** Parses a form field; an error message names the field and its range. */
export function parseField(key: LimitKey, raw: string): { ok: true; value: number } | { ok: false; message: string } {
  const l = LIMITS[key];
  const text = raw.trim();
  const v = text === '' ? NaN : Number(text);
  if (inRange(key, v)) return { ok: true, value: v };
  const kind = l.integer ? 'a whole number' : 'a number';
  return { ok: false, message: `${l.label} must be ${kind} from ${l.min} to ${l.max}.` };
}
