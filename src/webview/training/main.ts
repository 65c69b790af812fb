/** The training webview: live curves, latest metrics, Cancel and the done banner. */
import {
  TRAINING_NOTIFICATIONS,
  parseTrainingViewState,
  type TrainingCommands,
  type TrainingViewState,
} from '../../protocol/webview';
import {
  canCancel,
  emptyTrainingState,
  reduce,
  runStatus,
  toAction,
  type TrainingAction,
} from '../../protocol/trainingState';
import { byId, clear, h, s, setText } from '../common/dom';
import { formatCompact, formatDuration, formatNumber, formatPercent } from '../common/format';
import { createPoster, listen } from '../common/post';
import { getVsCodeApi } from '../common/vscode';
import { createActions } from './actions';
import { computeChart, nearestIndex, type ChartGeometry } from './chart';

const api = getVsCodeApi<TrainingViewState>();
let state: TrainingViewState = parseTrainingViewState(api.getState()) ?? emptyTrainingState();
const post = createPoster<TrainingCommands>((m) => api.postMessage(m));
const actions = createActions(post, dispatch);

function dispatch(action: TrainingAction): void {
  const prev = state;
  state = reduce(state, action);
  if (state !== prev) {
    api.setState(state);
    render(prev, state);
  }
}

// ---------------------------------------------------------------- DOM

const app = byId('app');
const title = h('h1', { class: 'title' });
const pill = h('span', { class: 'pill' });
const cancelButton = h('button', { type: 'button', class: 'button secondary' }, 'Cancel');
cancelButton.addEventListener('click', () => {
  if (canCancel(state)) actions.cancel();
});
const header = h('header', { class: 'topbar' }, h('div', { class: 'title-row' }, title, pill), cancelButton);

const bannerText = h('span', { class: 'banner-text' });
const bannerIcon = h('span', { class: 'banner-icon', 'aria-hidden': 'true' });
const banner = h('div', { class: 'banner' }, bannerIcon, bannerText);
const bannerRegion = h('div', { role: 'status', 'aria-live': 'polite' }, banner);

interface Stat {
  value: HTMLElement;
  sub: HTMLElement;
}
const statsList = h('dl', { class: 'stats' });
function stat(label: string, extra?: HTMLElement, textual = false): Stat {
  const value = h('dd', { class: textual ? 'stat-value textual' : 'stat-value' });
  const sub = h('dd', { class: 'stat-sub' });
  statsList.append(h('div', { class: 'stat' }, h('dt', {}, label), value, extra ?? null, sub));
  return { value, sub };
}
const progressBar = h('progress', { class: 'progress', max: 1, value: 0, 'aria-label': 'Training progress' });
const stStep = stat('Step');
const stProgress = stat('Progress', progressBar);
const stSpeed = stat('Tokens/s');
const stLoss = stat('Loss');
const stKl = stat('KL bits/byte');
const stVal = stat('Val bits/byte');
const stUnits = stat('Active units');
const stBackend = stat('Backend', undefined, true);

interface SeriesDef {
  key: 'loss' | 'kl' | 'val';
  label: string;
}
interface ChartView {
  frame: HTMLElement;
  legendValues: Map<string, HTMLElement>;
  series: SeriesDef[];
  name: string;
  width: number;
}

function chartView(name: string, series: SeriesDef[]): { el: HTMLElement; view: ChartView } {
  const legendValues = new Map<string, HTMLElement>();
  const legend = h('ul', { class: 'legend' });
  for (const sd of series) {
    const v = h('span', { class: 'legend-value' });
    legendValues.set(sd.key, v);
    const swatch = s(
      'svg',
      { class: 'swatch', width: 22, height: 10, viewBox: '0 0 22 10', 'aria-hidden': 'true' },
      s('line', { class: `line series-${sd.key}`, x1: 1, y1: 5, x2: 21, y2: 5 }),
    );
    legend.append(h('li', {}, swatch, h('span', {}, sd.label), v));
  }
  const frame = h('div', { class: 'chart-frame' });
  const el = h('figure', { class: 'card chart' }, h('figcaption', {}, h('h2', {}, name), legend), frame);
  return { el, view: { frame, legendValues, series, name, width: 0 } };
}

const lossChart = chartView('Loss', [{ key: 'loss', label: 'Training loss' }]);
const bpbChart = chartView('Bits per byte', [
  { key: 'kl', label: 'KL' },
  { key: 'val', label: 'Validation' },
]);
const charts = [lossChart.view, bpbChart.view];
const empty = h('p', { class: 'empty' }, 'Waiting for the first metrics…');

const chartsEl = h('div', { class: 'charts' }, lossChart.el, bpbChart.el);
app.append(header, bannerRegion, statsList, empty, chartsEl);

// ---------------------------------------------------------------- rendering

const STATUS_TEXT = {
  idle: '',
  starting: 'Starting…',
  running: 'Running',
  cancelling: 'Cancelling…',
  cancelled: 'Cancelled',
  finished: 'Finished',
} as const;

function render(prev: TrainingViewState | null, st: TrainingViewState): void {
  const status = runStatus(st);
  setText(title, st.title || 'Training');
  setText(pill, STATUS_TEXT[status]);
  pill.className = `pill ${status}`;
  pill.hidden = STATUS_TEXT[status] === '';
  cancelButton.disabled = !canCancel(st);
  setText(cancelButton, status === 'cancelling' ? 'Cancelling…' : 'Cancel');

  banner.hidden = !st.done;
  banner.className = `banner ${st.done?.cancelled ? 'cancelled' : 'finished'}`;
  setText(bannerIcon, st.done?.cancelled ? '■' : '✓');
  setText(bannerText, st.done?.message ?? '');

  const m = st.latest;
  setText(stStep.value, m ? String(m.step) : '–');
  setText(stStep.sub, m ? `epoch ${formatNumber(m.epoch, 2)}` : '');
  setText(stProgress.value, m ? formatPercent(m.progress) : '–');
  progressBar.value = m && Number.isFinite(m.progress) ? Math.min(1, Math.max(0, m.progress)) : 0;
  setText(stProgress.sub, m ? `${formatDuration(m.elapsed_s)} elapsed` : '');
  setText(stSpeed.value, m ? formatCompact(m.tokens_per_s) : '–');
  setText(stSpeed.sub, m ? `${formatCompact(m.bytes_per_s)} bytes/s` : '');
  setText(stLoss.value, m ? formatNumber(m.loss, 3) : '–');
  setText(stLoss.sub, m ? `β ${formatNumber(m.beta, 2)}` : '');
  setText(stKl.value, m ? formatNumber(m.kl_bits_per_byte, 3) : '–');
  setText(stKl.sub, m ? `recon ${formatNumber(m.recon_bits_per_byte, 3)}` : '');
  setText(stVal.value, m ? formatNumber(m.val_bits_per_byte, 3) : '–');
  setText(stVal.sub, m && Number.isFinite(m.token_accuracy) ? `accuracy ${formatPercent(m.token_accuracy)}` : '');
  setText(stUnits.value, m ? String(m.active_units) : '–');
  setText(
    stUnits.sub,
    m && Number.isFinite(m.mutual_information) ? `MI ${formatNumber(m.mutual_information, 2)} nats` : '',
  );
  setText(stBackend.value, m ? m.backend : '–');
  stBackend.value.title = m ? m.backend : '';
  setText(stBackend.sub, '');

  statsList.hidden = !m;
  chartsEl.hidden = st.points.length === 0;
  empty.hidden = st.points.length > 0;
  setText(
    empty,
    status === 'idle'
      ? 'Loss, KL and validation curves appear here while a model trains.'
      : 'Waiting for the first metrics…',
  );
  if (!prev || prev.points !== st.points) for (const c of charts) drawChart(c);
}

const MARGINS = { top: 12, right: 16, bottom: 38, left: 52 };
const CHART_HEIGHT = 230;

function drawChart(c: ChartView): void {
  const points = state.points;
  const steps = points.map((p) => p.step);
  for (const sd of c.series) {
    const last = [...points].reverse().find((p) => p[sd.key] !== null);
    setText(c.legendValues.get(sd.key) as HTMLElement, last ? formatNumber(last[sd.key], 3) : '–');
  }
  clear(c.frame);
  c.frame.hidden = points.length === 0;
  if (points.length === 0) return;
  const width = Math.max(240, Math.floor(c.width || c.frame.clientWidth || 480));
  const g = computeChart(
    steps,
    c.series.map((sd) => ({ key: sd.key, values: points.map((p) => p[sd.key]) })),
    width,
    CHART_HEIGHT,
    MARGINS,
  );
  const latest = c.series.map((sd) => `${sd.label} ${c.legendValues.get(sd.key)?.textContent ?? ''}`).join(', ');
  const svg = s('svg', {
    class: 'plot',
    width,
    height: CHART_HEIGHT,
    viewBox: `0 0 ${width} ${CHART_HEIGHT}`,
    role: 'img',
    'aria-label': `${c.name} over ${points.length} logged steps up to step ${steps[steps.length - 1]}. Latest: ${latest}.`,
  });
  drawAxes(svg, g);
  for (const line of g.lines) {
    if (!line.d) continue;
    svg.append(s('path', { class: `line series-${line.key}`, d: line.d }));
    if (line.last) svg.append(s('circle', { class: `end series-${line.key}`, cx: line.last.x, cy: line.last.y, r: 3 }));
  }
  addHover(svg, g, c);
  c.frame.append(svg);
}

function drawAxes(svg: SVGSVGElement, g: ChartGeometry): void {
  const { plot } = g;
  const grid = s('g', { class: 'grid' });
  for (const t of g.yTicks) {
    grid.append(s('line', { x1: plot.left, x2: plot.right, y1: t.pos, y2: t.pos }));
    svg.append(
      s(
        'text',
        { class: 'tick y', x: plot.left - 8, y: t.pos, 'text-anchor': 'end', 'dominant-baseline': 'middle' },
        t.label,
      ),
    );
  }
  for (const t of g.xTicks) {
    svg.append(s('line', { class: 'tick-mark', x1: t.pos, x2: t.pos, y1: plot.bottom, y2: plot.bottom + 4 }));
    svg.append(s('text', { class: 'tick x', x: t.pos, y: plot.bottom + 18, 'text-anchor': 'middle' }, t.label));
  }
  svg.prepend(grid);
  svg.append(s('line', { class: 'axis', x1: plot.left, x2: plot.right, y1: plot.bottom, y2: plot.bottom }));
  svg.append(s('line', { class: 'axis', x1: plot.left, x2: plot.left, y1: plot.top, y2: plot.bottom }));
  svg.append(
    s(
      'text',
      { class: 'axis-label', x: (plot.left + plot.right) / 2, y: plot.bottom + 34, 'text-anchor': 'middle' },
      'step',
    ),
  );
}

/** A crosshair with the values at the nearest logged step. */
function addHover(svg: SVGSVGElement, g: ChartGeometry, c: ChartView): void {
  const guide = s('line', { class: 'guide', x1: 0, x2: 0, y1: g.plot.top, y2: g.plot.bottom, visibility: 'hidden' });
  const label = s('text', { class: 'hover-label', x: 0, y: g.plot.top + 12, visibility: 'hidden' });
  const dots = c.series.map((sd) => s('circle', { class: `hover-dot series-${sd.key}`, r: 3.5, visibility: 'hidden' }));
  const area = s('rect', {
    class: 'hover-area',
    x: g.plot.left,
    y: g.plot.top,
    width: g.plot.right - g.plot.left,
    height: g.plot.bottom - g.plot.top,
  });
  svg.append(guide, ...dots, label, area);
  const hide = () => [guide, label, ...dots].forEach((e) => e.setAttribute('visibility', 'hidden'));
  area.addEventListener('mouseleave', hide);
  area.addEventListener('mousemove', (e) => {
    const box = svg.getBoundingClientRect();
    const px = e.clientX - box.left;
    const points = state.points;
    const steps = points.map((p) => p.step);
    const step =
      g.plot.left === g.plot.right
        ? steps[0]
        : steps[0] + ((px - g.plot.left) / (g.plot.right - g.plot.left)) * (steps[steps.length - 1] - steps[0]);
    const i = nearestIndex(steps, step);
    if (i < 0) return hide();
    const p = points[i];
    const x = g.x(p.step);
    guide.setAttribute('x1', String(x));
    guide.setAttribute('x2', String(x));
    guide.setAttribute('visibility', 'visible');
    c.series.forEach((sd, k) => {
      const v = p[sd.key];
      if (v === null) return dots[k].setAttribute('visibility', 'hidden');
      dots[k].setAttribute('cx', String(x));
      dots[k].setAttribute('cy', String(g.y(v)));
      dots[k].setAttribute('visibility', 'visible');
    });
    const parts = [`step ${p.step}`, ...c.series.map((sd) => `${sd.label} ${formatNumber(p[sd.key], 3)}`)];
    label.textContent = parts.join('  ·  ');
    const right = x > (g.plot.left + g.plot.right) / 2;
    label.setAttribute('x', String(right ? x - 8 : x + 8));
    label.setAttribute('text-anchor', right ? 'end' : 'start');
    label.setAttribute('visibility', 'visible');
  });
}

for (const c of charts) {
  new ResizeObserver((entries) => {
    const w = Math.floor(entries[0]?.contentRect.width ?? 0);
    if (w > 0 && Math.abs(w - c.width) >= 1) {
      c.width = w;
      drawChart(c);
    }
  }).observe(c.frame);
}

render(null, state);
listen(window, TRAINING_NOTIFICATIONS, (message) => dispatch(toAction(message)));
actions.ready();
