/** DOM-free scaling helpers for the chart and the latent map. */

export interface Extent {
  min: number;
  max: number;
}

/** Min and max of the finite values; null when there are none. */
export function extent(values: Iterable<number | null | undefined>): Extent | null {
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (v === null || v === undefined || !Number.isFinite(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return min <= max ? { min, max } : null;
}

/** Maps [d0, d1] onto [r0, r1]; a degenerate domain maps to the middle of the range. */
export function linearScale(d0: number, d1: number, r0: number, r1: number): (x: number) => number {
  const span = d1 - d0;
  if (!(Math.abs(span) > 0)) return () => (r0 + r1) / 2;
  const k = (r1 - r0) / span;
  return (x) => r0 + (x - d0) * k;
}

/** A "nice" step (1, 2 or 5 times a power of ten) that splits `span` into about `count` parts. */
export function niceStep(span: number, count: number): number {
  if (!(span > 0) || !(count > 0)) return 1;
  const raw = span / count;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const f = raw / pow;
  const nice = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10;
  return nice * pow;
}

/**
 * Round tick values covering [min, max] and the widened domain they span.
 * A single value gets a small domain around it.
 */
export function niceTicks(min: number, max: number, count = 5): { domain: Extent; ticks: number[]; step: number } {
  if (!Number.isFinite(min) || !Number.isFinite(max))
    return { domain: { min: 0, max: 1 }, ticks: [0, 0.5, 1], step: 0.5 };
  if (min > max) [min, max] = [max, min];
  if (min === max) {
    const pad = min === 0 ? 1 : Math.abs(min) * 0.1;
    min -= pad;
    max += pad;
  }
  const step = niceStep(max - min, count);
  const lo = Math.floor(min / step + 1e-9) * step;
  const hi = Math.ceil(max / step - 1e-9) * step;
  const ticks: number[] = [];
  const digits = Math.max(0, -Math.floor(Math.log10(step)) + 1);
  for (let i = 0, v = lo; v <= hi + step * 1e-6 && i < 1000; i++, v = lo + i * step)
    ticks.push(Number(v.toFixed(digits)));
  return { domain: { min: lo, max: hi }, ticks, step };
}

/** Tick label with just enough decimals for the step. */
export function formatTick(value: number, step: number): string {
  if (Math.abs(value) >= 1e5) return formatLarge(value);
  const decimals = Math.max(0, Math.min(6, -Math.floor(Math.log10(step) + 1e-9)));
  const s = value.toFixed(decimals);
  return s === '-0' ? '0' : s.replace(/^-0(\.0+)?$/, '0');
}

function formatLarge(v: number): string {
  if (Math.abs(v) >= 1e6) return `${Number((v / 1e6).toFixed(1))}M`;
  return `${Number((v / 1e3).toFixed(0))}k`;
}

export interface Box {
  width: number;
  height: number;
  /** Inner margin on every side. */
  padding: number;
  /**
   * How much more one axis may be stretched than the other to fill the box (1: same scale on
   * both axes, the default).
   */
  maxStretch?: number;
}

/**
 * Scales 2-D points to fit a box, centred. With maxStretch 1 both axes get the same factor
 * (the aspect ratio is kept); above 1 the longer side of the box may be filled further.
 * Non-finite coordinates land in the centre.
 */
export function fitPoints(points: readonly { x: number; y: number }[], box: Box): { x: number; y: number }[] {
  const w = Math.max(0, box.width - 2 * box.padding);
  const h = Math.max(0, box.height - 2 * box.padding);
  const ex = extent(points.map((p) => p.x));
  const ey = extent(points.map((p) => p.y));
  const cx = box.width / 2;
  const cy = box.height / 2;
  if (!ex || !ey) return points.map(() => ({ x: cx, y: cy }));
  const sx = ex.max - ex.min;
  const sy = ey.max - ey.min;
  const fx = sx > 0 ? w / sx : Infinity;
  const fy = sy > 0 ? h / sy : Infinity;
  const k = sx === 0 && sy === 0 ? 0 : Math.min(fx, fy);
  const stretch = Math.max(1, box.maxStretch ?? 1);
  const kx = Math.min(fx, k * stretch);
  const ky = Math.min(fy, k * stretch);
  const mx = (ex.min + ex.max) / 2;
  const my = (ey.min + ey.max) / 2;
  return points.map((p) => ({
    x: Number.isFinite(p.x) ? cx + (p.x - mx) * (Number.isFinite(kx) ? kx : 0) : cx,
    // Screen y grows downwards; latent y grows upwards.
    y: Number.isFinite(p.y) ? cy - (p.y - my) * (Number.isFinite(ky) ? ky : 0) : cy,
  }));
}
