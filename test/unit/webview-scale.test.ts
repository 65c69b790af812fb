import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MapPoint } from '../../src/protocol/engine';
import {
  baseName,
  formatAlpha,
  formatCompact,
  formatDuration,
  formatNumber,
  formatPercent,
  shortFingerprint,
  truncate,
} from '../../src/webview/common/format';
import { extent, fitPoints, formatTick, linearScale, niceStep, niceTicks } from '../../src/webview/common/scale';
import { computeChart, nearestIndex } from '../../src/webview/training/chart';
import {
  fileLabels,
  groupFiles,
  layoutMap,
  neighbour,
  placeTooltip,
  pointLabel,
  shapePath,
} from '../../src/webview/generator/map';
import { parseField } from '../../src/webview/generator/limits';

test('extent and linear scale', () => {
  assert.deepEqual(extent([3, null, NaN, -1, 2, undefined]), { min: -1, max: 3 });
  assert.equal(extent([null, NaN]), null);
  const f = linearScale(0, 10, 100, 200);
  assert.equal(f(0), 100);
  assert.equal(f(5), 150);
  assert.equal(linearScale(0, 10, 200, 100)(10), 100);
  assert.equal(linearScale(3, 3, 0, 10)(3), 5);
});

test('nice ticks', () => {
  assert.equal(niceStep(10, 5), 2);
  assert.equal(niceStep(0.9, 4), 0.2);
  const t = niceTicks(1.13, 4.87, 4);
  assert.deepEqual(t.ticks, [1, 2, 3, 4, 5]);
  assert.deepEqual(t.domain, { min: 1, max: 5 });
  const z = niceTicks(0.021, 0.318, 4);
  assert.ok(z.domain.min <= 0.021 && z.domain.max >= 0.318);
  assert.ok(z.ticks.every((v, i) => i === 0 || v > z.ticks[i - 1]));
  const single = niceTicks(2, 2);
  assert.ok(single.domain.min < 2 && single.domain.max > 2);
  assert.deepEqual(niceTicks(NaN, 1).ticks, [0, 0.5, 1]);
  assert.equal(formatTick(0.30000000000000004, 0.1), '0.3');
  assert.equal(formatTick(200, 100), '200');
  assert.equal(formatTick(250000, 50000), '250k');
});

test('fitPoints keeps the aspect ratio by default and centres the points', () => {
  const pts = [
    { x: 0, y: 0 },
    { x: 2, y: 1 },
  ];
  const out = fitPoints(pts, { width: 220, height: 220, padding: 10 });
  // 200 px for a span of 2 on x: 100 px per unit on both axes; y is flipped.
  assert.deepEqual(out, [
    { x: 10, y: 160 },
    { x: 210, y: 60 },
  ]);
  const stretched = fitPoints(pts, { width: 220, height: 220, padding: 10, maxStretch: 1.5 });
  assert.equal(stretched[0].y - stretched[1].y, 150);
  const same = fitPoints(
    [
      { x: 1, y: 1 },
      { x: 1, y: 1 },
    ],
    { width: 100, height: 50, padding: 0 },
  );
  assert.deepEqual(same, [
    { x: 50, y: 25 },
    { x: 50, y: 25 },
  ]);
  const line = fitPoints(
    [
      { x: 0, y: 5 },
      { x: 4, y: 5 },
    ],
    { width: 100, height: 50, padding: 0 },
  );
  assert.deepEqual(line, [
    { x: 0, y: 25 },
    { x: 100, y: 25 },
  ]);
  assert.deepEqual(fitPoints([{ x: NaN, y: 1 }], { width: 10, height: 10, padding: 0 }), [{ x: 5, y: 5 }]);
  for (const p of fitPoints(
    Array.from({ length: 50 }, (_, i) => ({ x: Math.sin(i) * 9, y: Math.cos(i * 3) })),
    { width: 300, height: 200, padding: 20, maxStretch: 2 },
  )) {
    assert.ok(p.x >= 20 - 1e-9 && p.x <= 280 + 1e-9 && p.y >= 20 - 1e-9 && p.y <= 180 + 1e-9);
  }
});

test('chart geometry: axes, gaps for missing values, a lone point is a dot', () => {
  const g = computeChart(
    [10, 20, 30, 40],
    [
      { key: 'a', values: [1, 2, null, 4] },
      { key: 'b', values: [null, 3, null, null] },
    ],
    400,
    200,
    { top: 10, right: 10, bottom: 30, left: 40 },
  );
  assert.deepEqual(g.plot, { left: 40, top: 10, right: 390, bottom: 170 });
  assert.equal(g.x(10), 40);
  assert.equal(g.x(40), 390);
  const [a, b] = g.lines;
  assert.equal((a.d.match(/M/g) ?? []).length, 2, 'the null splits the line');
  assert.ok(a.d.endsWith('h0'), 'the last point stands alone');
  assert.equal(a.last?.value, 4);
  assert.match(b.d, /^M[\d.]+ [\d.]+h0$/);
  assert.ok(g.yTicks.length >= 2);
  for (const t of g.yTicks) assert.ok(t.pos >= g.plot.top - 0.1 && t.pos <= g.plot.bottom + 0.1);
  for (const t of g.xTicks) assert.ok(t.pos >= g.plot.left - 0.1 && t.pos <= g.plot.right + 0.1);
  const empty = computeChart([], [{ key: 'a', values: [] }], 100, 100, { top: 0, right: 0, bottom: 0, left: 0 });
  assert.equal(empty.lines[0].d, '');
});

test('nearestIndex', () => {
  assert.equal(nearestIndex([], 3), -1);
  assert.equal(nearestIndex([10, 20, 30], 0), 0);
  assert.equal(nearestIndex([10, 20, 30], 24), 1);
  assert.equal(nearestIndex([10, 20, 30], 26), 2);
  assert.equal(nearestIndex([10, 20, 30], 99), 2);
});

const P = (uri: string, x: number, y: number, line = 0): MapPoint => ({
  uri,
  x,
  y,
  offset: line * 10,
  line,
  preview: `chunk of ${uri}`,
});

test('map: files get stable colours and shapes, duplicate names get their folder', () => {
  const pts = [
    P('file:///a/x.md', 0, 0),
    P('file:///b/x.md', 1, 1),
    P('file:///b/x.md', 2, 2),
    P('file:///c.txt', 3, 3),
  ];
  const files = groupFiles(pts);
  assert.deepEqual(
    files.map((f) => [f.label, f.count, f.colour, f.shape]),
    [
      ['b/x.md', 2, 0, 'circle'],
      ['a/x.md', 1, 1, 'circle'],
      ['c.txt', 1, 2, 'circle'],
    ],
  );
  const many = groupFiles(Array.from({ length: 8 }, (_, i) => P(`file:///f${i}.md`, i, i)));
  assert.equal(many[6].colour, 0);
  assert.equal(many[6].shape, 'square');
  assert.deepEqual(fileLabels(['file:///a/My%20Notes.md']), ['My Notes.md']);
  const layout = layoutMap(pts, 200, 100, 10);
  assert.equal(layout.dots.length, 4);
  assert.equal(layout.dots[1].file, 0);
  assert.match(pointLabel(P('file:///a.md', 0, 0, 4), 'a.md'), /^a\.md, line 5: chunk/);
  for (const shape of ['circle', 'square', 'triangle', 'diamond'] as const)
    assert.match(shapePath(shape, 10, 10, 4), /^M[-\d. ]+.*Z$/);
});

test('map: arrow keys move to the nearest point in that direction', () => {
  const dots = [
    { x: 0, y: 0 },
    { x: 10, y: 1 },
    { x: 20, y: 0 },
    { x: 0, y: 10 },
    { x: 1, y: -30 },
  ];
  assert.equal(neighbour(dots, 0, 'right'), 1);
  assert.equal(neighbour(dots, 1, 'right'), 2);
  assert.equal(neighbour(dots, 2, 'right'), 2, 'nothing further right');
  assert.equal(neighbour(dots, 0, 'down'), 3);
  assert.equal(neighbour(dots, 0, 'up'), 4);
  assert.equal(neighbour(dots, 2, 'left'), 1);
  // Coincident points are still reachable.
  const same = [
    { x: 5, y: 5 },
    { x: 5, y: 5 },
    { x: 5, y: 5 },
  ];
  assert.equal(neighbour(same, 0, 'right'), 1);
  assert.equal(neighbour(same, 1, 'right'), 2);
  assert.equal(neighbour(same, 2, 'left'), 1);
  // Every point can be reached from the first one by some sequence of moves.
  const cloud = Array.from({ length: 30 }, (_, i) => ({ x: (i * 37) % 101, y: (i * 53) % 89 }));
  const seen = new Set([0]);
  const queue = [0];
  while (queue.length) {
    const i = queue.shift() as number;
    for (const d of ['left', 'right', 'up', 'down'] as const) {
      const j = neighbour(cloud, i, d);
      if (!seen.has(j)) {
        seen.add(j);
        queue.push(j);
      }
    }
  }
  assert.equal(seen.size, cloud.length);
});

test('map: tooltips stay inside the box', () => {
  assert.deepEqual(placeTooltip(10, 10, 400, 300, 100, 50), { x: 22, y: 22, above: false });
  const br = placeTooltip(390, 290, 400, 300, 100, 50);
  assert.ok(br.x + 100 <= 400 && br.y + 50 <= 300 && br.above);
  const tiny = placeTooltip(5, 5, 50, 30, 100, 50);
  assert.ok(tiny.x >= 0 && tiny.y >= 0);
});

test('formatting', () => {
  assert.equal(formatNumber(1.23456), '1.235');
  assert.equal(formatNumber(2, 3), '2');
  assert.equal(formatNumber(NaN), '–');
  assert.equal(formatNumber(null), '–');
  assert.equal(formatNumber(0.00001, 3), '1.0e-5');
  assert.equal(formatCompact(5432.1), '5432');
  assert.equal(formatCompact(21234), '21.2k');
  assert.equal(formatCompact(2_500_000), '2.5M');
  assert.equal(formatCompact(12.345), '12.3');
  assert.equal(formatDuration(42), '42s');
  assert.equal(formatDuration(185), '3m 05s');
  assert.equal(formatDuration(3720), '1h 02m');
  assert.equal(formatDuration(-1), '–');
  assert.equal(formatPercent(0.805), '81%');
  assert.equal(formatPercent(1.5), '100%');
  assert.equal(shortFingerprint('0123456789abcdef'), '01234567');
  assert.equal(formatAlpha(0.25), 'α 0.25');
  assert.equal(baseName('file:///a/b/c%20d.md'), 'c d.md');
  assert.equal(baseName('untitled:Untitled-1'), 'untitled:Untitled-1');
  assert.equal(truncate('a  b\n c', 10), 'a b c');
  assert.equal(truncate('abcdefghij', 5), 'abcd…');
});

test('form fields', () => {
  assert.deepEqual(parseField('n', ' 4 '), { ok: true, value: 4 });
  assert.equal(parseField('n', '4.5').ok, false);
  assert.equal(parseField('n', '').ok, false);
  assert.equal(parseField('temperature', '0.01').ok, false);
  assert.deepEqual(parseField('temperature', '1.5'), { ok: true, value: 1.5 });
  const bad = parseField('steps', '40');
  assert.ok(!bad.ok && /Steps must be a whole number from 2 to 32/.test(bad.message));
});

test('the step axis never repeats a label, even with a single point', () => {
  for (const steps of [[20], [20, 21], [5, 6, 7]]) {
    const g = computeChart(steps, [{ key: 'a', values: steps.map(() => 1) }], 600, 200, {
      top: 10,
      right: 10,
      bottom: 30,
      left: 40,
    });
    const labels = g.xTicks.map((t) => t.label);
    assert.equal(new Set(labels).size, labels.length, `labels ${labels.join(' ')} for steps ${steps.join(',')}`);
    assert.ok(
      g.xTicks.every((t) => Number.isInteger(t.value)),
      'ticks fall on whole steps',
    );
  }
});
