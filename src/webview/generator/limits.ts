import { SETTING_RANGES, inRange } from '../../core/choices';

/** The generator's number fields: their ranges (the textvae.sampling.* / textvae.interpolation.* settings) and labels. */
export const LIMITS = {
  n: { ...SETTING_RANGES.sampleCount, label: 'Count' },
  temperature: { ...SETTING_RANGES.temperature, label: 'Temperature' },
  seed: { ...SETTING_RANGES.seed, label: 'Seed' },
  maxTokens: { ...SETTING_RANGES.maxTokens, label: 'Max tokens' },
  chunks: { ...SETTING_RANGES.paragraphChunks, label: 'Chunks' },
  steps: { ...SETTING_RANGES.interpolationSteps, label: 'Steps' },
} as const;

export type LimitKey = keyof typeof LIMITS;

/** Parses a form field; an error message names the field and its range. */
export function parseField(key: LimitKey, raw: string): { ok: true; value: number } | { ok: false; message: string } {
  const l = LIMITS[key];
  const text = raw.trim();
  const v = text === '' ? NaN : Number(text);
  if (inRange(l, v)) return { ok: true, value: v };
  const kind = l.integer ? 'a whole number' : 'a number';
  return { ok: false, message: `${l.label} must be ${kind} from ${l.min} to ${l.max}.` };
}
