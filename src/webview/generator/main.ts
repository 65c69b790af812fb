/** The generator webview: builds the DOM and renders GeneratorState into it. */
import type { MapPoint } from '../../protocol/engine';
import {
  GENERATOR_NOTIFICATIONS,
  parseGeneratorViewState,
  type GeneratorCommands,
  type GeneratorViewState,
} from '../../protocol/webview';
import { byId, clear, h, s, setText } from '../common/dom';
import { formatAlpha, formatNumber, shortFingerprint, truncate } from '../common/format';
import { createPoster, listen } from '../common/post';
import { getVsCodeApi } from '../common/vscode';
import { createActions } from './actions';
import { LIMITS, parseField, type LimitKey } from './limits';
import { layoutMap, neighbour, placeTooltip, pointLabel, shapePath, type Direction, type MapLayout } from './map';
import { canRequest, initialState, mapPoints, reduce, type GeneratorAction, type GeneratorState } from './state';

const api = getVsCodeApi<GeneratorViewState>();
let state: GeneratorState = initialState(parseGeneratorViewState(api.getState()));
const post = createPoster<GeneratorCommands>((m) => api.postMessage(m));
const actions = createActions(post, dispatch);

function dispatch(action: GeneratorAction): void {
  const prev = state;
  state = reduce(state, action);
  if (state.view !== prev.view) api.setState(state.view);
  const external =
    action.type === 'notification' && (action.message.method === 'settings' || action.message.method === 'selection');
  if (external) syncForm();
  render(prev, state);
}

// ---------------------------------------------------------------- building the DOM

let idCounter = 0;
const uid = (p: string) => `${p}-${++idCounter}`;

function numberField(
  key: LimitKey,
  step: number,
  onChange: (v: number) => void,
): { wrap: HTMLElement; labelRow: HTMLElement; input: HTMLInputElement } {
  const l = LIMITS[key];
  const id = uid(key);
  const errId = `${id}-error`;
  const input = h('input', {
    id,
    type: 'number',
    min: l.min,
    max: l.max,
    step,
    inputmode: l.integer ? 'numeric' : 'decimal',
    'aria-describedby': errId,
    class: 'input',
  });
  const error = h('span', { id: errId, class: 'field-error' });
  input.addEventListener('input', () => {
    const r = parseField(key, input.value);
    input.setAttribute('aria-invalid', String(!r.ok));
    setText(error, r.ok ? '' : r.message);
    if (r.ok) onChange(r.value);
  });
  const labelRow = h('div', { class: 'label-row' }, h('label', { for: id }, l.label));
  const wrap = h('div', { class: 'field' }, labelRow, input, error);
  return { wrap, labelRow, input };
}

function button(
  label: string,
  cls: string,
  onClick: () => void,
  attrs: Record<string, string> = {},
): HTMLButtonElement {
  const b = h('button', { type: 'button', class: `button ${cls}`, ...attrs }, label);
  b.addEventListener('click', onClick);
  return b;
}

const app = byId('app');

// Header: the model and the busy indicator.
const modelLine = h('div', { class: 'model' });
const spinner = h('span', { class: 'spinner', 'aria-hidden': 'true' });
const busyText = h('span', { class: 'busy-text' });
const cancelButton = button('Cancel', 'secondary small', () => actions.cancel());
const statusRegion = h('div', { class: 'status', role: 'status', 'aria-live': 'polite' }, spinner, busyText);
const statusWrap = h('div', { class: 'status-wrap' }, statusRegion, cancelButton);
const header = h(
  'header',
  { class: 'topbar' },
  h('h1', { class: 'visually-hidden' }, 'TextVAE Generator'),
  modelLine,
  statusWrap,
);

// Alert region.
const alertText = h('span', { class: 'alert-text' });
const alertBox = h('div', { class: 'alert', role: 'alert' });
const dismissButton = button('Dismiss', 'secondary small', () => dispatch({ type: 'dismissError' }), {
  'aria-label': 'Dismiss error',
});
const alertBody = h(
  'div',
  { class: 'alert-body' },
  h('span', { class: 'alert-icon', 'aria-hidden': 'true' }, '!'),
  alertText,
  dismissButton,
);
alertBody.hidden = true;
alertBox.appendChild(alertBody);

// Sample section.
const nField = numberField('n', 1, (n) => dispatch({ type: 'sampleForm', patch: { n } }));
const tField = numberField('temperature', 0.05, (temperature) =>
  dispatch({ type: 'sampleForm', patch: { temperature } }),
);
const seedField = numberField('seed', 1, (seed) => dispatch({ type: 'sampleForm', patch: { seed } }));
const maxField = numberField('maxTokens', 1, (maxTokens) => dispatch({ type: 'sampleForm', patch: { maxTokens } }));
const chunksField = numberField('chunks', 1, (chunks) => dispatch({ type: 'sampleForm', patch: { chunks } }));
const newSeedButton = button(
  'New seed',
  'secondary small',
  () => {
    const seed = Math.floor(Math.random() * 1_000_000);
    seedField.input.value = String(seed);
    seedField.input.dispatchEvent(new Event('input'));
  },
  { 'aria-label': 'Pick a new random seed' },
);
seedField.labelRow.append(newSeedButton);
const sampleButton = button('Sample', 'primary', onSample);
const sampleSection = h(
  'section',
  { class: 'card', 'aria-labelledby': 'sample-heading' },
  h('h2', { id: 'sample-heading' }, 'Sample'),
  h(
    'p',
    { class: 'hint' },
    'Draw new paragraphs from the prior. Chunks: how many consecutive codes make one paragraph (max tokens is per chunk).',
  ),
  h('div', { class: 'fields' }, nField.wrap, tField.wrap, seedField.wrap, maxField.wrap, chunksField.wrap),
  h('div', { class: 'actions' }, sampleButton),
);

// Interpolate section.
function textSlot(
  slot: 'from' | 'to',
  label: string,
): { wrap: HTMLElement; area: HTMLTextAreaElement; use: HTMLButtonElement } {
  const id = uid(slot);
  const area = h('textarea', {
    id,
    rows: 3,
    class: 'input',
    spellcheck: 'false',
    placeholder: slot === 'from' ? 'Text to start from' : 'Text to end at',
  });
  area.addEventListener('input', () => dispatch({ type: 'interpolateForm', patch: { [slot]: area.value } }));
  const use = button('Use editor selection', 'secondary small', () => actions.useSelection(slot), {
    'aria-label': `Use editor selection as ${label}`,
  });
  const wrap = h(
    'div',
    { class: 'field' },
    h('div', { class: 'label-row' }, h('label', { for: id }, label), use),
    area,
  );
  return { wrap, area, use };
}
const fromSlot = textSlot('from', 'From');
const toSlot = textSlot('to', 'To');
const stepsField = numberField('steps', 1, (steps) => dispatch({ type: 'interpolateForm', patch: { steps } }));
const modeId = uid('mode');
const modeSelect = h(
  'select',
  { id: modeId, class: 'input' },
  h('option', { value: 'spherical' }, 'Spherical'),
  h('option', { value: 'linear' }, 'Linear'),
);
modeSelect.addEventListener('change', () =>
  dispatch({ type: 'interpolateForm', patch: { mode: modeSelect.value === 'linear' ? 'linear' : 'spherical' } }),
);
const interpolateButton = button('Interpolate', 'primary', onInterpolate);
const interpolateSection = h(
  'section',
  { class: 'card', 'aria-labelledby': 'interpolate-heading' },
  h('h2', { id: 'interpolate-heading' }, 'Interpolate'),
  h('p', { class: 'hint' }, 'Decode evenly spaced points on the path between two texts.'),
  fromSlot.wrap,
  toSlot.wrap,
  h(
    'div',
    { class: 'fields' },
    stepsField.wrap,
    h('div', { class: 'field' }, h('div', { class: 'label-row' }, h('label', { for: modeId }, 'Mode')), modeSelect),
  ),
  h('div', { class: 'actions' }, interpolateButton),
);

// Results section.
const resultsBody = h('div', { class: 'results-body' });
const resultsSection = h(
  'section',
  { class: 'card wide', 'aria-labelledby': 'results-heading' },
  h('h2', { id: 'results-heading' }, 'Results'),
  resultsBody,
);

// Latent map section.
const mapButton = button('Map workspace', 'primary', () => {
  lastTrigger = mapButton;
  actions.loadMap();
});
const mapFrame = h('div', { class: 'map-frame' });
const legend = h('ul', { class: 'legend', 'aria-label': 'Files' });
const pointList = h('ul', { class: 'point-list' });
const pointListSummary = h('summary', {}, 'List of points');
const pointDetails = h('details', { class: 'point-details' }, pointListSummary, pointList);
const mapSection = h(
  'section',
  { class: 'card wide', 'aria-labelledby': 'map-heading' },
  h('div', { class: 'section-head' }, h('h2', { id: 'map-heading' }, 'Latent map'), mapButton),
  h(
    'p',
    { class: 'hint' },
    'Each point is a chunk of a workspace document, placed by its latent code. Arrow keys move between points; Enter opens one.',
  ),
  mapFrame,
  legend,
  pointDetails,
);

app.append(
  header,
  alertBox,
  h(
    'main',
    { class: 'stack' },
    h('div', { class: 'forms' }, sampleSection, interpolateSection),
    resultsSection,
    mapSection,
  ),
);

const requestButtons = [sampleButton, interpolateButton, mapButton];
let lastTrigger: HTMLButtonElement | null = null;

// ---------------------------------------------------------------- form

function syncForm(): void {
  const v = state.view;
  const set = (input: HTMLInputElement | HTMLTextAreaElement, value: string) => {
    if (input.value !== value) input.value = value;
    input.removeAttribute('aria-invalid');
  };
  set(nField.input, String(v.sample.n));
  set(tField.input, String(v.sample.temperature));
  set(seedField.input, String(v.sample.seed));
  set(maxField.input, String(v.sample.maxTokens));
  set(chunksField.input, String(v.sample.chunks));
  set(fromSlot.area, v.interpolate.from);
  set(toSlot.area, v.interpolate.to);
  set(stepsField.input, String(v.interpolate.steps));
  modeSelect.value = v.interpolate.mode;
  document.querySelectorAll('.field-error').forEach((e) => (e.textContent = ''));
}

/** Reads and checks the fields; focuses the first bad one and reports it. */
function readFields(fields: [LimitKey, HTMLInputElement][]): Record<string, number> | null {
  const out: Record<string, number> = {};
  for (const [key, input] of fields) {
    const r = parseField(key, input.value);
    if (!r.ok) {
      input.setAttribute('aria-invalid', 'true');
      input.focus();
      dispatch({ type: 'localError', message: r.message });
      return null;
    }
    out[key] = r.value;
  }
  return out;
}

function onSample(): void {
  const v = readFields([
    ['n', nField.input],
    ['temperature', tField.input],
    ['seed', seedField.input],
    ['maxTokens', maxField.input],
    ['chunks', chunksField.input],
  ]);
  if (!v || !canRequest(state)) return;
  lastTrigger = sampleButton;
  actions.sample({ n: v.n, temperature: v.temperature, seed: v.seed, maxTokens: v.maxTokens, chunks: v.chunks });
}

function onInterpolate(): void {
  const v = readFields([['steps', stepsField.input]]);
  if (!v || !canRequest(state)) return;
  const from = fromSlot.area.value;
  const to = toSlot.area.value;
  if (!from.trim() || !to.trim()) {
    (from.trim() ? toSlot.area : fromSlot.area).focus();
    dispatch({ type: 'localError', message: 'Enter text in both From and To, or use an editor selection.' });
    return;
  }
  lastTrigger = interpolateButton;
  actions.interpolate({ from, to, steps: v.steps, mode: modeSelect.value === 'linear' ? 'linear' : 'spherical' });
}

// ---------------------------------------------------------------- rendering

function render(prev: GeneratorState | null, next: GeneratorState): void {
  if (!prev || prev.model !== next.model) renderModel(next);
  if (
    !prev ||
    prev.busy !== next.busy ||
    prev.busyLabel !== next.busyLabel ||
    prev.model !== next.model ||
    prev.notice !== next.notice
  )
    renderBusy(prev, next);
  if (!prev || prev.error !== next.error) renderError(next.error);
  if (!prev || prev.view.samples !== next.view.samples || prev.view.interpolation !== next.view.interpolation)
    renderResults(next.view);
  if (!prev || prev.view.map !== next.view.map) renderMap();
}

function renderModel(st: GeneratorState): void {
  clear(modelLine);
  const m = st.model;
  if (m === undefined) {
    modelLine.append(h('span', { class: 'muted' }, 'Connecting to the engine…'));
    return;
  }
  if (m === null) {
    modelLine.append(
      h('span', { class: 'model-name' }, 'No model loaded'),
      h('span', { class: 'muted' }, '— use “TextVAE: Select Model” or train one.'),
    );
    return;
  }
  modelLine.append(
    h('span', { class: 'muted' }, 'Model'),
    h('span', { class: 'model-name', title: m.name }, m.name),
    h('span', { class: 'badge', title: `Fingerprint ${m.fingerprint}` }, shortFingerprint(m.fingerprint)),
    h('span', { class: 'badge' }, m.variant),
    h('span', { class: 'badge' }, m.backend),
  );
}

function renderBusy(prev: GeneratorState | null, st: GeneratorState): void {
  const allowed = canRequest(st);
  for (const b of requestButtons) b.disabled = !allowed;
  spinner.hidden = !st.busy;
  cancelButton.hidden = !st.busy;
  setText(busyText, st.busy ? st.busyLabel : (st.notice ?? ''));
  statusRegion.classList.toggle('busy', st.busy);
  statusWrap.classList.toggle('empty', !st.busy && !st.notice);
  // Give focus back to the button that started the request once it is enabled again.
  if (
    prev?.busy &&
    !st.busy &&
    lastTrigger &&
    (document.activeElement === document.body || document.activeElement === null)
  )
    lastTrigger.focus();
}

function renderError(message: string | null): void {
  alertBody.hidden = message === null;
  setText(alertText, message ?? '');
}

function resultItem(text: string, heading: Node, name: string): HTMLLIElement {
  const body = h('p', { class: 'result-text' });
  if (text.trim() === '') body.append(h('span', { class: 'muted' }, '(empty)'));
  else body.textContent = text;
  const copy = button('Copy', 'secondary small', () => actions.copy(text), { 'aria-label': `Copy ${name}` });
  const insert = button('Insert', 'secondary small', () => actions.insert(text), {
    'aria-label': `Insert ${name} into the editor`,
  });
  return h(
    'li',
    { class: 'result' },
    h('div', { class: 'result-head' }, heading, h('div', { class: 'result-actions' }, copy, insert)),
    body,
  );
}

function renderResults(v: GeneratorViewState): void {
  clear(resultsBody);
  if (v.samples.length === 0 && v.interpolation.length === 0) {
    resultsBody.append(h('p', { class: 'empty' }, 'Samples and interpolations appear here.'));
    return;
  }
  if (v.samples.length) {
    const list = h('ol', { class: 'results', 'aria-labelledby': 'samples-heading' });
    v.samples.forEach((t, i) =>
      list.append(resultItem(t, h('span', { class: 'result-label' }, `Sample ${i + 1}`), `sample ${i + 1}`)),
    );
    resultsBody.append(h('h3', { id: 'samples-heading' }, `Samples (${v.samples.length})`), list);
  }
  if (v.interpolation.length) {
    const list = h('ol', { class: 'results interpolation', 'aria-labelledby': 'interpolation-heading' });
    v.interpolation.forEach((step, i) => {
      const label = formatAlpha(step.alpha);
      list.append(
        resultItem(
          step.text,
          h(
            'span',
            { class: 'result-label alpha', title: `Interpolation weight ${formatNumber(step.alpha, 3)}` },
            label,
          ),
          `step ${i + 1} (${label})`,
        ),
      );
    });
    resultsBody.append(
      h('h3', { id: 'interpolation-heading' }, `Interpolation (${v.interpolation.length} steps)`),
      list,
    );
  }
}

// ---------------------------------------------------------------- latent map

const MAP_PADDING = 20;
const TIP_W = 280;
const TIP_H = 132;
let mapWidth = 0;
let activePoint = 0;
let layout: MapLayout | null = null;
let markers: SVGPathElement[] = [];
let ring: SVGCircleElement | null = null;
let tip: { fo: SVGForeignObjectElement; box: HTMLDivElement; title: HTMLElement; text: HTMLElement } | null = null;
let hovered: number | null = null;
let svgSize = { width: 0, height: 0 };

function mapHeight(width: number): number {
  return Math.round(Math.min(480, Math.max(260, width * 0.55)));
}

function open(p: MapPoint): void {
  actions.openLocation(p.uri, p.offset);
}

function renderMap(): void {
  const points = mapPoints(state);
  clear(mapFrame);
  clear(legend);
  clear(pointList);
  markers = [];
  ring = null;
  tip = null;
  hovered = null;
  pointDetails.hidden = points.length === 0;
  if (points.length === 0) {
    layout = null;
    mapFrame.append(h('p', { class: 'empty' }, 'Map the workspace to see where its documents lie in latent space.'));
    return;
  }
  const width = Math.max(200, Math.floor(mapWidth || mapFrame.clientWidth || 600));
  const height = mapHeight(width);
  svgSize = { width, height };
  layout = layoutMap(points, width, height, MAP_PADDING);
  activePoint = Math.min(activePoint, points.length - 1);
  const files = layout.files;

  const svg = s('svg', {
    class: 'map',
    width,
    height,
    viewBox: `0 0 ${width} ${height}`,
    role: 'group',
    'aria-label': `Latent map: ${points.length} points from ${files.length} ${files.length === 1 ? 'file' : 'files'}. Arrow keys move between points, Enter opens one.`,
  });
  svg.append(s('rect', { class: 'map-bg', x: 0.5, y: 0.5, width: width - 1, height: height - 1, rx: 4 }));
  const dotsGroup = s('g', { class: 'dots' });
  for (const d of layout.dots) {
    const p = points[d.index];
    const f = files[d.file];
    const marker = s('path', {
      class: `point file-c${f.colour}`,
      d: shapePath(f.shape, d.x, d.y, 5),
      tabindex: d.index === activePoint ? 0 : -1,
      role: 'button',
      'aria-label': pointLabel(p, f.label),
    });
    marker.addEventListener('mouseenter', () => {
      hovered = d.index;
      showTip(d.index);
    });
    marker.addEventListener('mouseleave', () => {
      hovered = null;
      const focused = markers.indexOf(document.activeElement as SVGPathElement);
      if (focused >= 0) showTip(focused);
      else hideTip();
    });
    marker.addEventListener('focus', () => {
      setActive(d.index);
      showTip(d.index);
    });
    marker.addEventListener('blur', () => {
      if (hovered === null) hideTip();
    });
    marker.addEventListener('click', () => open(p));
    marker.addEventListener('keydown', (e) => onMarkerKey(e, d.index));
    markers.push(marker);
    dotsGroup.append(marker);
  }
  svg.append(dotsGroup);
  ring = s('circle', { class: 'ring', r: 9, cx: -100, cy: -100 });
  svg.append(ring);

  const title = h('div', { class: 'tooltip-title' });
  const text = h('div', { class: 'tooltip-text' });
  const box = h('div', { class: 'tooltip' }, title, text);
  const fo = s('foreignObject', { class: 'tooltip-host', x: 0, y: 0, width: TIP_W, height: TIP_H });
  fo.append(box);
  fo.setAttribute('visibility', 'hidden');
  svg.append(fo);
  tip = { fo, box, title, text };
  mapFrame.append(svg);

  const shown = files.slice(0, 12);
  for (const f of shown) {
    const swatch = s(
      'svg',
      { class: 'swatch', width: 14, height: 14, viewBox: '0 0 14 14', 'aria-hidden': 'true' },
      s('path', { class: `file-c${f.colour}`, d: shapePath(f.shape, 7, 7, 5) }),
    );
    legend.append(
      h(
        'li',
        { title: f.uri },
        swatch,
        h('span', { class: 'legend-label' }, f.label),
        h('span', { class: 'legend-count' }, String(f.count)),
      ),
    );
  }
  if (files.length > shown.length)
    legend.append(h('li', { class: 'muted' }, `+${files.length - shown.length} more files`));

  setText(pointListSummary, `List of points (${points.length})`);
  const fileOf = new Map(layout.dots.map((d) => [d.index, files[d.file]]));
  points.forEach((p, i) => {
    const f = fileOf.get(i);
    const b = button('', 'link', () => open(p));
    b.append(
      h('span', { class: 'point-where' }, `${f?.label ?? ''}:${p.line + 1}`),
      h('span', { class: 'point-preview' }, truncate(p.preview, 140)),
    );
    pointList.append(h('li', {}, b));
  });
}

function setActive(index: number): void {
  if (index === activePoint && markers[index]?.getAttribute('tabindex') === '0') return;
  markers[activePoint]?.setAttribute('tabindex', '-1');
  activePoint = index;
  markers[index]?.setAttribute('tabindex', '0');
}

function onMarkerKey(e: KeyboardEvent, index: number): void {
  const points = mapPoints(state);
  const dirs: Record<string, Direction> = { ArrowLeft: 'left', ArrowRight: 'right', ArrowUp: 'up', ArrowDown: 'down' };
  let target: number | null = null;
  if (e.key in dirs && layout) target = neighbour(layout.dots, index, dirs[e.key]);
  else if (e.key === 'Home') target = 0;
  else if (e.key === 'End') target = points.length - 1;
  else if (e.key === 'Enter' || e.key === ' ') {
    e.preventDefault();
    open(points[index]);
    return;
  } else if (e.key === 'Escape') {
    hideTip();
    return;
  }
  if (target === null) return;
  e.preventDefault();
  setActive(target);
  markers[target]?.focus();
}

function showTip(index: number): void {
  const points = mapPoints(state);
  if (!tip || !layout || !ring) return;
  const d = layout.dots[index];
  const p = points[index];
  const f = layout.files[d.file];
  setText(tip.title, `${f.label} · line ${p.line + 1}`);
  setText(tip.text, truncate(p.preview, 400));
  const place = placeTooltip(d.x, d.y, svgSize.width, svgSize.height, TIP_W, TIP_H);
  tip.fo.setAttribute('x', String(place.x));
  tip.fo.setAttribute('y', String(place.y));
  tip.box.classList.toggle('above', place.above);
  tip.fo.setAttribute('visibility', 'visible');
  ring.setAttribute('cx', String(d.x));
  ring.setAttribute('cy', String(d.y));
  ring.setAttribute('visibility', 'visible');
}

function hideTip(): void {
  tip?.fo.setAttribute('visibility', 'hidden');
  ring?.setAttribute('visibility', 'hidden');
}

// Re-layout the map when the panel is resized.
new ResizeObserver((entries) => {
  const w = Math.floor(entries[0]?.contentRect.width ?? 0);
  if (w > 0 && Math.abs(w - mapWidth) >= 1) {
    mapWidth = w;
    if (mapPoints(state).length) {
      const hadFocus = markers.includes(document.activeElement as SVGPathElement);
      renderMap();
      if (hadFocus) markers[activePoint]?.focus();
    }
  }
}).observe(mapFrame);

// ---------------------------------------------------------------- start

syncForm();
render(null, state);
listen(window, GENERATOR_NOTIFICATIONS, (message) => dispatch({ type: 'notification', message }));
actions.ready();
