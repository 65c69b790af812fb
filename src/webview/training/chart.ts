/** DOM-free geometry of a line chart over training steps. */
import { extent, formatTick, linearScale, niceStep, niceTicks } from '../common/scale';

export interface ChartSeries {
  key: string;
  values: readonly (number | null)[];
}

export interface Margins {
  top: number;
  right: number;
  bottom: number;
  left: number;
}

export interface Tick {
  value: number;
  pos: number;
  label: string;
}

export interface ChartGeometry {
  width: number;
  height: number;
  plot: { left: number; top: number; right: number; bottom: number };
  xTicks: Tick[];
  yTicks: Tick[];
  lines: { key: string; d: string; last: { x: number; y: number; value: number } | null }[];
  /** Step -> x, for hover lookups. */
  x: (step: number) => number;
  y: (value: number) => number;
}

const round = (n: number) => Math.round(n * 10) / 10;

export function computeChart(
  steps: readonly number[],
  series: readonly ChartSeries[],
  width: number,
  height: number,
  m: Margins,
): ChartGeometry {
  const plot = {
    left: m.left,
    top: m.top,
    right: Math.max(m.left + 1, width - m.right),
    bottom: Math.max(m.top + 1, height - m.bottom),
  };
  const sx = extent(steps) ?? { min: 0, max: 1 };
  const xMin = sx.min;
  const xMax = sx.max > sx.min ? sx.max : sx.min + 1;
  const x = linearScale(xMin, xMax, plot.left, plot.right);
  // Steps are integers: a tick step below 1 would repeat labels ("20 20 21 21").
  const xStep = Math.max(1, niceStep(xMax - xMin, Math.max(2, Math.floor((plot.right - plot.left) / 90))));
  const xTicks: Tick[] = [];
  for (let v = Math.ceil(xMin / xStep) * xStep; v <= xMax + 1e-9; v += xStep)
    xTicks.push({ value: v, pos: round(x(v)), label: formatTick(v, xStep) });

  const all = extent(series.flatMap((s) => s.values));
  const yCount = Math.max(2, Math.floor((plot.bottom - plot.top) / 50));
  const ny = all ? niceTicks(all.min, all.max, yCount) : niceTicks(0, 1, yCount);
  const y = linearScale(ny.domain.min, ny.domain.max, plot.bottom, plot.top);
  const yTicks = ny.ticks.map((v) => ({ value: v, pos: round(y(v)), label: formatTick(v, ny.step) }));

  const lines = series.map((s) => {
    let d = '';
    let pen = false;
    let last: { x: number; y: number; value: number } | null = null;
    for (let i = 0; i < steps.length; i++) {
      const v = s.values[i];
      if (v === null || v === undefined || !Number.isFinite(v)) {
        pen = false;
        continue;
      }
      const px = round(x(steps[i]));
      const py = round(y(v));
      const isolated = !pen && !(i + 1 < steps.length && Number.isFinite(s.values[i + 1] ?? NaN));
      d += pen ? `L${px} ${py}` : `M${px} ${py}`;
      // A lone point still shows up as a dot (round line caps).
      if (isolated) d += 'h0';
      pen = true;
      last = { x: px, y: py, value: v };
    }
    return { key: s.key, d, last };
  });
  return { width, height, plot, xTicks, yTicks, lines, x, y };
}

/** Index of the step nearest to `step` in an ascending list; -1 for an empty list. */
export function nearestIndex(steps: readonly number[], step: number): number {
  if (steps.length === 0) return -1;
  let lo = 0;
  let hi = steps.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (steps[mid] <= step) lo = mid;
    else hi = mid;
  }
  return Math.abs(steps[lo] - step) <= Math.abs(steps[hi] - step) ? lo : hi;
}
