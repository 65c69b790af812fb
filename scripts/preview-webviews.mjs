// Renders the generator and training webviews outside VS Code and writes screenshots.
//
//   node scripts/build.mjs && node scripts/preview-webviews.mjs
//
// Serves media/ from a tiny http server on 127.0.0.1, wraps each webview in the real HTML shell
// (src/extension/panels/html.ts, with its Content-Security-Policy) plus a stub of
// acquireVsCodeApi that records posted messages and replays fake notifications, opens it in
// headless Chromium (playwright-core) and saves PNGs in a dark and a light theme to
// .e2e-artifacts/webviews/. It fails on CSP violations, page errors and inline styles.
import * as esbuild from 'esbuild';
import { chromium } from 'playwright-core';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const media = path.join(root, 'media');
const outDir = path.join(root, '.e2e-artifacts', 'webviews');
const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

if (
  !fs.existsSync(path.join(media, 'dist', 'generator.js')) ||
  !fs.existsSync(path.join(media, 'dist', 'training.js'))
) {
  console.log('media/dist is missing: running scripts/build.mjs');
  const r = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

// The real HTML shell, compiled from TypeScript on the fly.
const shellJs = await esbuild.build({
  entryPoints: [path.join(root, 'src/extension/panels/html.ts')],
  bundle: true,
  write: false,
  format: 'esm',
  platform: 'neutral',
});
const { renderWebviewHtml } = await import(
  `data:text/javascript;base64,${Buffer.from(shellJs.outputFiles[0].text).toString('base64')}`
);

// ------------------------------------------------------------------ themes

const FONT = {
  '--vscode-font-family': '"Segoe WPC", "Segoe UI", "Ubuntu", "Cantarell", "DejaVu Sans", sans-serif',
  '--vscode-font-size': '13px',
  '--vscode-font-weight': 'normal',
  '--vscode-editor-font-family': '"DejaVu Sans Mono", "Liberation Mono", monospace',
  '--vscode-editor-font-size': '13px',
};

const THEMES = {
  dark: {
    bodyClass: 'vscode-dark',
    vars: {
      ...FONT,
      '--vscode-foreground': '#cccccc',
      '--vscode-descriptionForeground': '#9d9d9d',
      '--vscode-errorForeground': '#f85149',
      '--vscode-editor-background': '#1f1f1f',
      '--vscode-editor-foreground': '#cccccc',
      '--vscode-focusBorder': '#0078d4',
      '--vscode-button-background': '#0078d4',
      '--vscode-button-foreground': '#ffffff',
      '--vscode-button-hoverBackground': '#026ec1',
      '--vscode-button-border': '#ffffff12',
      '--vscode-button-secondaryBackground': '#313131',
      '--vscode-button-secondaryForeground': '#cccccc',
      '--vscode-button-secondaryHoverBackground': '#3c3c3c',
      '--vscode-input-background': '#313131',
      '--vscode-input-foreground': '#cccccc',
      '--vscode-input-border': '#3c3c3c',
      '--vscode-input-placeholderForeground': '#989898',
      '--vscode-dropdown-background': '#313131',
      '--vscode-dropdown-foreground': '#cccccc',
      '--vscode-dropdown-border': '#3c3c3c',
      '--vscode-inputValidation-errorBackground': '#5a1d1d',
      '--vscode-inputValidation-errorBorder': '#be1100',
      '--vscode-widget-border': '#313131',
      '--vscode-panel-border': '#2b2b2b',
      '--vscode-editorWidget-background': '#202020',
      '--vscode-editorHoverWidget-background': '#202020',
      '--vscode-editorHoverWidget-foreground': '#cccccc',
      '--vscode-editorHoverWidget-border': '#454545',
      '--vscode-badge-background': '#616161',
      '--vscode-badge-foreground': '#f8f8f8',
      '--vscode-textLink-foreground': '#4daafc',
      '--vscode-textLink-activeForeground': '#4daafc',
      '--vscode-progressBar-background': '#0078d4',
      '--vscode-list-hoverBackground': '#2a2d2e',
      '--vscode-charts-foreground': '#cccccc',
      '--vscode-charts-lines': 'rgba(204, 204, 204, 0.5)',
      '--vscode-charts-red': '#f14c4c',
      '--vscode-charts-blue': '#3794ff',
      '--vscode-charts-yellow': '#cca700',
      '--vscode-charts-orange': '#d18616',
      '--vscode-charts-green': '#89d185',
      '--vscode-charts-purple': '#b180d7',
    },
  },
  light: {
    bodyClass: 'vscode-light',
    vars: {
      ...FONT,
      '--vscode-foreground': '#3b3b3b',
      '--vscode-descriptionForeground': '#717171',
      '--vscode-errorForeground': '#f85149',
      '--vscode-editor-background': '#ffffff',
      '--vscode-editor-foreground': '#3b3b3b',
      '--vscode-focusBorder': '#005fb8',
      '--vscode-button-background': '#005fb8',
      '--vscode-button-foreground': '#ffffff',
      '--vscode-button-hoverBackground': '#0258a8',
      '--vscode-button-border': '#0000001a',
      '--vscode-button-secondaryBackground': '#e5e5e5',
      '--vscode-button-secondaryForeground': '#3b3b3b',
      '--vscode-button-secondaryHoverBackground': '#cccccc',
      '--vscode-input-background': '#ffffff',
      '--vscode-input-foreground': '#3b3b3b',
      '--vscode-input-border': '#cecece',
      '--vscode-input-placeholderForeground': '#767676',
      '--vscode-dropdown-background': '#ffffff',
      '--vscode-dropdown-foreground': '#3b3b3b',
      '--vscode-dropdown-border': '#cecece',
      '--vscode-inputValidation-errorBackground': '#f2dede',
      '--vscode-inputValidation-errorBorder': '#be1100',
      '--vscode-widget-border': '#e5e5e5',
      '--vscode-panel-border': '#e5e5e5',
      '--vscode-editorWidget-background': '#f8f8f8',
      '--vscode-editorHoverWidget-background': '#f8f8f8',
      '--vscode-editorHoverWidget-foreground': '#3b3b3b',
      '--vscode-editorHoverWidget-border': '#c8c8c8',
      '--vscode-badge-background': '#cccccc',
      '--vscode-badge-foreground': '#3b3b3b',
      '--vscode-textLink-foreground': '#005fb8',
      '--vscode-textLink-activeForeground': '#005fb8',
      '--vscode-progressBar-background': '#005fb8',
      '--vscode-list-hoverBackground': '#f2f2f2',
      '--vscode-charts-foreground': '#616161',
      '--vscode-charts-lines': 'rgba(97, 97, 97, 0.5)',
      '--vscode-charts-red': '#e51400',
      '--vscode-charts-blue': '#1a85ff',
      '--vscode-charts-yellow': '#bf8803',
      '--vscode-charts-orange': '#d18616',
      '--vscode-charts-green': '#388a34',
      '--vscode-charts-purple': '#652d90',
    },
  },
};

const themeCss = (t) =>
  `html {\n${Object.entries(THEMES[t].vars)
    .map(([k, v]) => `  ${k}: ${v};`)
    .join('\n')}\n}\n`;

// ------------------------------------------------------------------ fake data

function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const SAMPLES = [
  'The committee agreed to publish the minutes of each meeting within a week, so that members who could not attend would still be able to follow the discussion and raise objections before the next session.',
  'Install the package, then run the setup script once. It creates a configuration file in your home folder; edit it to point at the data directory before you start the service.',
  'In the evening the harbour grew quiet again. The boats rocked against the pier, and somewhere behind the warehouses a radio was playing an old song that nobody remembered the words to.',
];

const INTERPOLATION = [
  { alpha: 0, text: 'Run the tests before you open a pull request.' },
  { alpha: 0.25, text: 'Run the tests before you open a pull request for review.' },
  { alpha: 0.5, text: 'Read the notes before you open the review for the team.' },
  { alpha: 0.75, text: 'Read the meeting notes before the team review starts.' },
  { alpha: 1, text: 'Read the meeting notes before the weekly review starts.' },
];

function mapPoints() {
  const r = rng(7);
  const files = [
    ['file:///work/notes/meeting-2024-03.md', -2, 1.5],
    ['file:///work/docs/install.md', 2, 1],
    ['file:///work/docs/architecture.md', 1.5, -1.5],
    ['file:///work/stories/harbour.txt', -1.5, -2],
    ['file:///work/notes/ideas.md', 0, 0.2],
  ];
  const previews = [
    'Decisions: publish the minutes within a week; next session on Thursday.',
    'Install the package with npm, then run the setup script once to create the configuration file.',
    'The engine runs in a separate process so that the editor stays responsive during training.',
    'In the evening the harbour grew quiet again. The boats rocked against the pier.',
    'What if the latent map could colour points by similarity to the current selection?',
  ];
  const points = [];
  for (let i = 0; i < 40; i++) {
    const f = i % files.length;
    const [uri, cx, cy] = files[f];
    points.push({
      x: cx + (r() - 0.5) * 1.6,
      y: cy + (r() - 0.5) * 1.6,
      uri,
      offset: i * 120,
      line: i * 3,
      preview: `${previews[f]} (chunk ${Math.floor(i / files.length) + 1})`,
    });
  }
  return points;
}

function metricsLines(n = 30) {
  const r = rng(3);
  const out = [];
  for (let i = 1; i <= n; i++) {
    const step = i * 20;
    const t = i / n;
    out.push({
      type: 'metrics',
      step,
      epoch: step / 180,
      progress: t * 0.8,
      elapsed_s: i * 7.5,
      tokens_per_s: 5200 + r() * 600,
      bytes_per_s: 21000 + r() * 2000,
      loss: 3.2 * Math.exp(-2.2 * t) + 1.1 + (r() - 0.5) * 0.08,
      recon_bits_per_byte: 2.6 * Math.exp(-2 * t) + 1.4,
      kl_bits_per_byte: 0.32 * (1 - Math.exp(-4 * t)) + (r() - 0.5) * 0.02,
      beta: Math.min(1, t * 1.5),
      learning_rate: 0.002,
      grad_norm: 1.2,
      // The first two lines have no validation yet: NaN arrives as null after JSON.
      val_bits_per_byte: i <= 2 ? null : 2.9 * Math.exp(-1.8 * t) + 1.75 + (r() - 0.5) * 0.05,
      val_recon_bits_per_byte: null,
      val_kl_bits_per_byte: null,
      active_units: Math.min(32, Math.round(4 + t * 30)),
      mutual_information: 1.2 + t * 2,
      sparsity: null,
      token_accuracy: 0.3 + t * 0.35,
      tensors: 412,
      backend: 'tensorflow',
    });
  }
  return out;
}

const FIXTURES = {
  generator: [
    [
      'model',
      { model: { name: 'workspace-notes', fingerprint: '3f9a1c2be47d0a55', variant: 'vae', backend: 'tensorflow' } },
    ],
    ['settings', { count: 3, temperature: 0.8, topP: 0.95, steps: 5, mode: 'spherical' }],
    // Malformed messages: must be ignored.
    ['samples', { items: [1, 2, 3] }],
    ['map', { points: [{ x: 'a' }] }],
    ['bogus', {}],
    ['samples', { items: SAMPLES }],
    ['selection', { slot: 'from', text: INTERPOLATION[0].text }],
    ['selection', { slot: 'to', text: INTERPOLATION[4].text }],
    ['interpolation', { items: INTERPOLATION }],
    ['map', { points: mapPoints() }],
  ],
  training: [
    ['reset', { title: 'Training on 12 documents (vae, default size)' }],
    ...metricsLines(30).map((m) => ['metrics', m]),
    ['metrics', { type: 'metrics', step: 'x' }],
  ],
};

// The stub runs before the webview script (same nonce). It stands in for VS Code.
const STUB = `(() => {
  const q = new URLSearchParams(location.search);
  const app = q.get('app');
  const key = 'preview-state-' + app + '-' + q.get('theme');
  window.__posted = [];
  window.__violations = [];
  document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline')));
  const fixtures = __FIXTURES__[app];
  let id = 0;
  const send = (method, params) => window.dispatchEvent(new MessageEvent('message', { data: { id: ++id, method, params } }));
  window.__send = send;
  window.acquireVsCodeApi = () => ({
    postMessage(m) {
      window.__posted.push(m);
      if (m && m.method === 'ready' && q.get('replay') !== '0') setTimeout(() => fixtures.forEach(([method, params]) => send(method, params)), 0);
      if (m && m.method === 'ready' && q.get('replay') === '0' && app === 'generator') setTimeout(() => send('model', fixtures[0][1]), 0);
    },
    getState() {
      const s = sessionStorage.getItem(key);
      return s ? JSON.parse(s) : undefined;
    },
    setState(s) {
      sessionStorage.setItem(key, JSON.stringify(s));
      return s;
    },
  });
})();`;

// ------------------------------------------------------------------ server

const TYPES = {
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
  '.map': 'application/json',
  '.png': 'image/png',
};
let origin = '';
const nonce = 'cHJldmlldy1ub25jZS0xMjM0NTY3OA==';

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const send = (status, type, body) => {
    res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
    res.end(body);
  };
  if (url.pathname === '/view.html') {
    const app = url.searchParams.get('app') === 'training' ? 'training' : 'generator';
    const theme = url.searchParams.get('theme') === 'light' ? 'light' : 'dark';
    let html = renderWebviewHtml({
      cspSource: origin,
      nonce,
      title: app,
      styles: [`${origin}/media/common.css`, `${origin}/media/${app}.css`],
      script: `${origin}/media/dist/${app}.js`,
      bodyClass: app,
    });
    html = html.replace('</head>', `  <link rel="stylesheet" href="${origin}/preview/theme-${theme}.css">\n</head>`);
    html = html.replace(
      `class="${app}"`,
      `class="${app} ${THEMES[theme].bodyClass}" data-vscode-theme-kind="${THEMES[theme].bodyClass}"`,
    );
    html = html.replace(
      '<script nonce=',
      `<script nonce="${nonce}" src="${origin}/preview/stub.js"></script>\n  <script nonce=`,
    );
    return send(200, 'text/html; charset=utf-8', html);
  }
  if (url.pathname === '/preview/stub.js')
    return send(200, 'text/javascript', STUB.replace('__FIXTURES__', JSON.stringify(FIXTURES)));
  const theme = /^\/preview\/theme-(dark|light)\.css$/.exec(url.pathname);
  if (theme) return send(200, 'text/css', themeCss(theme[1]));
  if (url.pathname.startsWith('/media/')) {
    const file = path.normalize(path.join(media, decodeURIComponent(url.pathname.slice('/media/'.length))));
    if (!file.startsWith(media + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile())
      return send(404, 'text/plain', 'not found');
    return send(200, TYPES[path.extname(file)] ?? 'application/octet-stream', fs.readFileSync(file));
  }
  if (url.pathname === '/favicon.ico') return send(204, 'image/x-icon', '');
  send(404, 'text/plain', 'not found');
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
origin = `http://127.0.0.1:${server.address().port}`;

// ------------------------------------------------------------------ screenshots

fs.mkdirSync(outDir, { recursive: true });
const browser = await chromium.launch({
  executablePath: chromiumPath,
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
  ],
});
const problems = [];
const written = [];

async function open(page, app, theme, extra = '') {
  await page.goto(`${origin}/view.html?app=${app}&theme=${theme}${extra}`);
  await page.waitForFunction(() => window.__posted.some((m) => m.method === 'ready'));
  await page.waitForTimeout(400);
}

async function check(page, label) {
  const r = await page.evaluate(() => ({
    violations: window.__violations,
    inlineStyles: document.querySelectorAll('[style]').length,
    posted: window.__posted.map((m) => m.method),
  }));
  if (r.violations.length) problems.push(`${label}: CSP violations: ${r.violations.join(', ')}`);
  if (r.inlineStyles) problems.push(`${label}: ${r.inlineStyles} elements with a style attribute`);
  return r;
}

/** The whole page: the viewport grows to the document (a full-page capture misplaces the sticky header). */
async function shot(page, name) {
  const file = path.join(outDir, `${name}.png`);
  const size = page.viewportSize();
  const height = await page.evaluate(() => document.documentElement.scrollHeight);
  await page.setViewportSize({ width: size.width, height: Math.max(size.height, height) });
  await page.waitForTimeout(150);
  await page.screenshot({ path: file });
  await page.setViewportSize(size);
  written.push(path.relative(root, file));
}

function watch(page, label) {
  page.on('pageerror', (e) => problems.push(`${label}: page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`${label}: console error: ${m.text()}`);
  });
}

for (const theme of ['dark', 'light']) {
  // Generator: replayed data, a map point focused with the keyboard (tooltip shown).
  {
    const context = await browser.newContext({ viewport: { width: 1100, height: 900 }, deviceScaleFactor: 1 });
    const page = await context.newPage();
    watch(page, `generator/${theme}`);
    await open(page, 'generator', theme);
    const counts = await page.evaluate(() => ({
      results: document.querySelectorAll('.result').length,
      points: document.querySelectorAll('.point').length,
      copyButtons: [...document.querySelectorAll('.result button')].filter((b) => b.textContent === 'Copy').length,
    }));
    if (counts.results !== 8 || counts.points !== 40 || counts.copyButtons !== 8)
      problems.push(`generator/${theme}: unexpected content ${JSON.stringify(counts)}`);
    // Keyboard: focus the map, move right, open with Enter.
    await page.focus('.point[tabindex="0"]');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await page.locator('.result button', { hasText: 'Copy' }).first().click();
    const r = await check(page, `generator/${theme}`);
    for (const m of ['ready', 'openLocation', 'copy'])
      if (!r.posted.includes(m)) problems.push(`generator/${theme}: no ${m} posted`);
    await page.focus('.point[tabindex="0"]');
    await shot(page, `generator-${theme}`);

    // Keyboard: every control is reachable with Tab, in reading order.
    await page.evaluate(() => document.activeElement instanceof HTMLElement && document.activeElement.blur());
    await page.evaluate(() => window.scrollTo(0, 0));
    const order = [];
    for (let i = 0; i < 40; i++) {
      await page.keyboard.press('Tab');
      order.push(
        await page.evaluate(() => {
          const e = document.activeElement;
          if (!e || e === document.body) return 'body';
          const name = e.getAttribute('aria-label') || e.labels?.[0]?.textContent || e.textContent || '';
          return `${e.tagName.toLowerCase()}:${name.trim().slice(0, 30)}`;
        }),
      );
      if (i === 10) await shot(page, `generator-keyboard-${theme}`);
    }
    if (theme === 'dark') console.log(`tab order: ${order.join(' | ')}`);
    for (const want of [
      'input:Count',
      'textarea:From',
      'button:Copy sample 1',
      'button:Insert step 5',
      'path:',
      'button:Map workspace',
    ]) {
      if (!order.some((o) => o.startsWith(want))) problems.push(`generator/${theme}: Tab never reaches ${want}`);
    }

    // Reload without replay: the form, results and map come back from getState.
    await open(page, 'generator', theme, '&replay=0');
    const restored = await page.evaluate(() => ({
      results: document.querySelectorAll('.result').length,
      points: document.querySelectorAll('.point').length,
      from: document.querySelector('textarea')?.value ?? '',
    }));
    if (restored.results !== 8 || restored.points !== 40 || !restored.from)
      problems.push(`generator/${theme}: state not restored ${JSON.stringify(restored)}`);
    await check(page, `generator-restored/${theme}`);

    // Busy state and an inline error.
    await page.evaluate(() => {
      window.__send('busy', { busy: true, label: 'Sampling 3 paragraphs…' });
      window.__send('error', { message: 'The TextVAE engine stopped unexpectedly (exit code 1).' });
    });
    await page.waitForTimeout(100);
    await page.setViewportSize({ width: 1100, height: 560 });
    await page.screenshot({ path: path.join(outDir, `generator-busy-${theme}.png`) });
    written.push(path.relative(root, path.join(outDir, `generator-busy-${theme}.png`)));
    await context.close();
  }
  // Training: 30 metrics lines, running; then done.
  {
    const context = await browser.newContext({ viewport: { width: 1100, height: 800 }, deviceScaleFactor: 1 });
    const page = await context.newPage();
    watch(page, `training/${theme}`);
    await open(page, 'training', theme);
    const n = await page.evaluate(() => document.querySelectorAll('path.line').length);
    if (n !== 3) problems.push(`training/${theme}: ${n} curves instead of 3`);
    const plot = await page.locator('.plot').first().boundingBox();
    if (plot) await page.mouse.move(plot.x + plot.width * 0.55, plot.y + plot.height * 0.4);
    await check(page, `training/${theme}`);
    await shot(page, `training-${theme}`);
    await page.click('button:has-text("Cancel")');
    await page.evaluate(() =>
      window.__send('done', {
        message: 'Training finished: 600 steps in 3m 45s. Saved model 3f9a1c2b.',
        cancelled: false,
      }),
    );
    await page.waitForTimeout(100);
    const r = await check(page, `training-done/${theme}`);
    if (!r.posted.includes('cancel')) problems.push(`training/${theme}: no cancel posted`);
    const cancelDisabled = await page.evaluate(() => document.querySelector('.topbar button').disabled);
    if (!cancelDisabled) problems.push(`training/${theme}: Cancel still enabled after done`);
    await shot(page, `training-done-${theme}`);
    // Reload without replay: curves come back from getState.
    await open(page, 'training', theme, '&replay=0');
    const curves = await page.evaluate(() => document.querySelectorAll('path.line').length);
    if (curves !== 3) problems.push(`training/${theme}: curves not restored (${curves})`);
    await context.close();
  }
}

// Training with no run attached (the placeholder the extension shows before any training).
{
  const context = await browser.newContext({ viewport: { width: 900, height: 260 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  watch(page, 'training/idle');
  await open(page, 'training', 'dark', '&replay=0');
  await page.evaluate(() =>
    window.__send('reset', {
      title: 'No training run yet: run "TextVAE: Train on Workspace Documents" to start one.',
      idle: true,
    }),
  );
  await page.waitForTimeout(100);
  const cancelDisabled = await page.evaluate(() => document.querySelector('.topbar button').disabled);
  if (!cancelDisabled) problems.push('training/idle: Cancel enabled without a run');
  await check(page, 'training/idle');
  await shot(page, 'training-idle-dark');
  await context.close();
}

// Narrow panel.
{
  const context = await browser.newContext({ viewport: { width: 420, height: 900 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  watch(page, 'generator/narrow');
  await open(page, 'generator', 'dark');
  await shot(page, 'generator-narrow-dark');
  await page.goto(`${origin}/view.html?app=training&theme=light`);
  await page.waitForTimeout(400);
  await shot(page, 'training-narrow-light');
  await context.close();
}

await browser.close();
server.close();
for (const f of written) console.log(`wrote ${f}`);
if (problems.length) {
  console.error(`\n${problems.length} problem(s):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  process.exit(1);
}
console.log('no CSP violations, no inline styles, no page errors');
