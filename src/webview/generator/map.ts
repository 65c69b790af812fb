/** DOM-free layout of the latent map: scaling, colours and shapes per file, keyboard moves. */
import type { MapPoint } from '../../protocol/engine';
import { baseName, truncate } from '../common/format';
import { fitPoints } from '../common/scale';

export const COLOURS = 6;
export const SHAPES = ['circle', 'square', 'triangle', 'diamond'] as const;
export type Shape = (typeof SHAPES)[number];

export interface MapFile {
  uri: string;
  label: string;
  /** Index into the theme's chart colours (CSS class file-c0..c5). */
  colour: number;
  shape: Shape;
  count: number;
}

export interface MapDot {
  /** Index into the points array. */
  index: number;
  x: number;
  y: number;
  file: number;
}

export interface MapLayout {
  files: MapFile[];
  dots: MapDot[];
}

/** Files ordered by point count (then name); the same file keeps its colour and shape. */
export function groupFiles(points: readonly MapPoint[]): MapFile[] {
  const counts = new Map<string, number>();
  for (const p of points) counts.set(p.uri, (counts.get(p.uri) ?? 0) + 1);
  const uris = [...counts.keys()].sort((a, b) => (counts.get(b) ?? 0) - (counts.get(a) ?? 0) || a.localeCompare(b));
  const labels = fileLabels(uris);
  return uris.map((uri, i) => ({
    uri,
    label: labels[i],
    colour: i % COLOURS,
    shape: SHAPES[Math.floor(i / COLOURS) % SHAPES.length],
    count: counts.get(uri) ?? 0,
  }));
}

/** Base names, with the parent folder added where two files share a name. */
export function fileLabels(uris: readonly string[]): string[] {
  const names = uris.map(baseName);
  const seen = new Map<string, number>();
  for (const n of names) seen.set(n, (seen.get(n) ?? 0) + 1);
  return uris.map((uri, i) => {
    if ((seen.get(names[i]) ?? 0) < 2) return names[i];
    const parts = uri
      .replace(/[?#].*$/, '')
      .split('/')
      .filter(Boolean);
    const parent = parts.length >= 2 ? decodeSafe(parts[parts.length - 2]) : '';
    return parent ? `${parent}/${names[i]}` : names[i];
  });
}

function decodeSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Scaled to the box; one axis may be stretched up to 1.75 times the other to use the space. */
export function layoutMap(
  points: readonly MapPoint[],
  width: number,
  height: number,
  padding = 16,
  maxStretch = 1.75,
): MapLayout {
  const files = groupFiles(points);
  const fileIndex = new Map(files.map((f, i) => [f.uri, i]));
  const xy = fitPoints(points, { width, height, padding, maxStretch });
  return {
    files,
    dots: points.map((p, index) => ({ index, x: xy[index].x, y: xy[index].y, file: fileIndex.get(p.uri) ?? 0 })),
  };
}

/** SVG path data of a marker of radius r centred on (x, y). */
export function shapePath(shape: Shape, x: number, y: number, r: number): string {
  const f = (n: number) => Number(n.toFixed(2));
  switch (shape) {
    case 'circle':
      return `M${f(x - r)} ${f(y)}a${f(r)} ${f(r)} 0 1 0 ${f(2 * r)} 0a${f(r)} ${f(r)} 0 1 0 ${f(-2 * r)} 0Z`;
    case 'square': {
      const a = r * 0.88;
      return `M${f(x - a)} ${f(y - a)}H${f(x + a)}V${f(y + a)}H${f(x - a)}Z`;
    }
    case 'triangle': {
      const a = r * 1.25;
      return `M${f(x)} ${f(y - a)}L${f(x + a * 0.866)} ${f(y + a * 0.5)}L${f(x - a * 0.866)} ${f(y + a * 0.5)}Z`;
    }
    case 'diamond': {
      const a = r * 1.2;
      return `M${f(x)} ${f(y - a)}L${f(x + a)} ${f(y)}L${f(x)} ${f(y + a)}L${f(x - a)} ${f(y)}Z`;
    }
  }
}

export type Direction = 'left' | 'right' | 'up' | 'down';

/**
 * The dot an arrow key moves to: the nearest one in that direction, weighting sideways
 * distance more than forward distance and preferring dots within a cone around the
 * direction; the same dot when nothing lies that way.
 */
export function neighbour(dots: readonly { x: number; y: number }[], from: number, dir: Direction): number {
  const o = dots[from];
  if (!o) return from;
  let best = from;
  let bestCost = Infinity;
  for (let i = 0; i < dots.length; i++) {
    if (i === from) continue;
    const dx = dots[i].x - o.x;
    const dy = dots[i].y - o.y;
    const forward = dir === 'right' ? dx : dir === 'left' ? -dx : dir === 'down' ? dy : -dy;
    const side = dir === 'left' || dir === 'right' ? Math.abs(dy) : Math.abs(dx);
    // Coincident dots are ordered by index so that every dot stays reachable.
    const ahead =
      forward > 0 || (forward === 0 && side === 0 && (dir === 'right' || dir === 'down' ? i > from : i < from));
    if (!ahead) continue;
    // Dots outside a cone around the direction are taken only when the cone is empty.
    // Ties (coincident dots) go to the nearest index.
    const cost = forward + side * 2 + (side > forward * 2 + 1e-9 ? 1e9 : 0) + Math.abs(i - from) * 1e-9;
    if (cost < bestCost) {
      bestCost = cost;
      best = i;
    }
  }
  return best;
}

/** Screen-reader label and tooltip heading of a point. */
export function pointLabel(p: MapPoint, fileLabel: string): string {
  return `${fileLabel}, line ${p.line + 1}: ${truncate(p.preview, 120)}`;
}

export interface TipPlacement {
  x: number;
  y: number;
  /** The tip sits above the point (its content hugs the bottom edge). */
  above: boolean;
}

/** Where a tooltip box of tipW × tipH goes next to the point (x, y) inside width × height. */
export function placeTooltip(
  x: number,
  y: number,
  width: number,
  height: number,
  tipW: number,
  tipH: number,
  gap = 12,
): TipPlacement {
  const right = x + gap + tipW <= width || x < width / 2;
  let tx = right ? x + gap : x - gap - tipW;
  tx = Math.max(0, Math.min(tx, width - tipW));
  const above = y > height / 2;
  let ty = above ? y - gap - tipH : y + gap;
  ty = Math.max(0, Math.min(ty, Math.max(0, height - tipH)));
  return { x: tx, y: ty, above };
}
