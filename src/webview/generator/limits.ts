/** Ranges of the generator's inputs (the textvae.sampling.* / textvae.interpolation.* settings). */
export const LIMITS = {
  n: { min: 1, max: 32, integer: true, label: 'Count' },
  temperature: { min: 0.05, max: 3, integer: false, label: 'Temperature' },
  seed: { min: 0, max: 2 ** 31 - 1, integer: true, label: 'Seed' },
  maxTokens: { min: 1, max: 256, integer: true, label: 'Max tokens' },
  steps: { min: 2, max: 32, integer: true, label: 'Steps' },
  topP: { min: 0.05, max: 1, integer: false, label: 'Top-p' },
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
