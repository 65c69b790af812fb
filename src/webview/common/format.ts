/** DOM-free formatting helpers shared by both webviews (and the extension host's notices). */

/** A number with at most `digits` decimals; an en dash for missing values. */
export function formatNumber(x: number | null | undefined, digits = 3): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '–';
  if (x !== 0 && Math.abs(x) < 10 ** -digits) return x.toExponential(1);
  return Number(x.toFixed(digits)).toString();
}

/** 1234 -> "1.2k", 2500000 -> "2.5M". */
export function formatCompact(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '–';
  const a = Math.abs(x);
  if (a >= 1e9) return `${trim(x / 1e9)}G`;
  if (a >= 1e6) return `${trim(x / 1e6)}M`;
  if (a >= 1e4) return `${trim(x / 1e3)}k`;
  if (a >= 100) return Math.round(x).toString();
  return trim(x);
}

function trim(x: number): string {
  return Number(x.toFixed(Math.abs(x) >= 100 ? 0 : 1)).toString();
}

/** Seconds -> "42s", "3m 05s", "1h 02m". */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '–';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

export function formatPercent(fraction: number | null | undefined): string {
  if (fraction === null || fraction === undefined || !Number.isFinite(fraction)) return '–';
  return `${Math.round(Math.min(1, Math.max(0, fraction)) * 100)}%`;
}

/** The first 8 characters of a fingerprint. */
export function shortFingerprint(fingerprint: string): string {
  return fingerprint.slice(0, 8);
}

/** Interpolation weight label: 0 -> "α 0", 0.25 -> "α 0.25". */
export function formatAlpha(alpha: number): string {
  return `α ${formatNumber(alpha, 2)}`;
}

/** The last path segment of a URI or path, decoded where possible. */
export function baseName(uri: string): string {
  const path = uri.replace(/[?#].*$/, '').replace(/\/+$/, '');
  const last = path.slice(path.lastIndexOf('/') + 1) || path;
  try {
    return decodeURIComponent(last);
  } catch {
    return last;
  }
}

/** Collapses whitespace and cuts to `max` characters with an ellipsis. */
export function truncate(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, Math.max(0, max - 1)).trimEnd()}…`;
}
