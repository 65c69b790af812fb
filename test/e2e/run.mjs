#!/usr/bin/env node
// End-to-end tests of the TextVAE extension in a real VS Code (code-server 4.100.3 =
// VS Code 1.100) driven through Debian's headless Chromium with playwright-core.
//
//   npm run test:e2e                         all scenarios
//   node test/e2e/run.mjs compress generator only these (names or prefixes), in the given order
//   node test/e2e/run.mjs --vsix textvae.vsix native-install
//                                            install the packaged extension (npm run package) instead of
//                                            linking this folder; runs the scenarios marked vsix
//
// Environment:
//   TEXTVAE_E2E_MODEL_PATH  model bundle to use instead of models/default (user setting textvae.modelPath)
//   E2E_KEEP=1              keep the run folder (/tmp/textvae-e2e.*) afterwards
//   E2E_HEADED=1            show the browser (needs a display)
//   E2E_VERBOSE=1           log every step
//   CODE_SERVER_ENTRY       code-server's entry.js (default: from ~/.cache/vscode-e2e/code-server-bin)
//
// Needs `bash scripts/ci-setup.sh` once per machine and a build (`node scripts/build.mjs`).
// Screenshots and failure reports go to .e2e-artifacts/e2e/.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { findCodeServer, freePort, startServer, tail } from './lib/server.mjs';
import { buildWorkspace } from './lib/workspace.mjs';
import { Workbench } from './lib/workbench.mjs';
import { SCENARIOS } from './scenarios/index.mjs';
import { LAG_P99_LIMIT_MS } from './scenarios/training.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const ARTIFACTS = path.join(REPO, '.e2e-artifacts', 'e2e');
const PKG = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8'));
const EXT_ID = `${PKG.publisher}.${PKG.name}`;
const T0 = Date.now();
const secs = () => ((Date.now() - T0) / 1000).toFixed(1).padStart(5);
const verbose = process.env.E2E_VERBOSE === '1';
const say = (m) => process.stdout.write(`[e2e ${secs()}s] ${m}\n`);
const debug = (m) => verbose && say(`  · ${m}`);

/** `--vsix FILE`: the packaged extension to install; the rest are scenario names. */
function parseArgs(argv) {
  const names = [];
  let vsix = '';
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--vsix') vsix = path.resolve(argv[++i] ?? '');
    else if (!argv[i].startsWith('-')) names.push(argv[i]);
  }
  return { names, vsix };
}

function preflight(vsix) {
  const problems = [];
  if (vsix && !fs.existsSync(vsix)) problems.push(`${vsix} does not exist: build it with \`npm run package\``);
  let entry;
  try {
    entry = findCodeServer();
  } catch (e) {
    problems.push(e.message);
  }
  let browserPath = process.env.CHROMIUM_PATH || '';
  if (!browserPath) {
    try {
      browserPath = execFileSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], {
        encoding: 'utf8',
      }).trim();
    } catch {
      /* none */
    }
  }
  if (!browserPath)
    problems.push('chromium is not installed: run `bash scripts/ci-setup.sh` (apt-get install -y chromium)');
  for (const f of [PKG.main, 'dist/worker.js']) {
    if (!fs.existsSync(path.join(REPO, f)))
      problems.push(`${f} is missing: build first with \`node scripts/build.mjs\``);
  }
  let modelPath = process.env.TEXTVAE_E2E_MODEL_PATH || '';
  if (modelPath) {
    modelPath = path.resolve(modelPath);
    if (!fs.existsSync(path.join(modelPath, 'manifest.json')))
      problems.push(`TEXTVAE_E2E_MODEL_PATH=${modelPath} is not a model bundle (no manifest.json)`);
  } else if (!fs.existsSync(path.join(REPO, 'models', 'default', 'manifest.json'))) {
    problems.push(
      'models/default (the bundled model) is missing. Point the tests at another bundle, e.g.\n' +
        '    node dist/cli.js train --data test/fixtures/workspace --out /tmp/e2e-model --steps 30 --model-dim 64 --vocab-size 400\n' +
        '    TEXTVAE_E2E_MODEL_PATH=/tmp/e2e-model npm run test:e2e',
    );
  }
  if (problems.length) {
    process.stderr.write(`\n[e2e] cannot run the end-to-end tests:\n  - ${problems.join('\n  - ')}\n`);
    process.exit(1);
  }
  return { entry, browserPath, modelPath };
}

/**
 * A scenario's `vsix`: 'only' (needs the packaged extension), 'also' (runs either way), or absent
 * (needs this folder linked as the extension).
 */
function selectScenarios(wanted, vsix) {
  const runnable = SCENARIOS.filter((s) => (vsix ? s.vsix : s.vsix !== 'only'));
  if (!wanted.length) return runnable;
  const out = [];
  for (const w of wanted) {
    const hits = runnable.filter((s) => s.name === w || s.name.startsWith(w));
    if (!hits.length) {
      process.stderr.write(
        `[e2e] no scenario "${w}"${vsix ? ' for a .vsix' : ''}; known: ${runnable.map((s) => s.name).join(', ')}\n`,
      );
      process.exit(2);
    }
    for (const h of hits) if (!out.includes(h)) out.push(h);
  }
  return out;
}

/** The text of the extension's output channel(s), from the log files the extension host writes. */
function outputChannelText(run) {
  const logs = path.join(run, 'user', 'logs');
  const found = [];
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/textvae/i.test(p) && /\.log$/.test(e.name)) found.push(p);
    }
  };
  try {
    walk(logs);
  } catch {
    /* no logs yet */
  }
  return found.map((f) => `--- ${path.relative(run, f)}\n${fs.readFileSync(f, 'utf8')}`).join('\n');
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms / 1000} s`)), ms);
    }),
  ]);
}

// Ctrl-C or a kill: exit normally, so that the 'exit' handlers stop code-server's process group
// (playwright closes Chromium on its own).
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'])
  process.on(sig, () => {
    process.stderr.write(`\n[e2e] ${sig}: stopping\n`);
    process.exit(130);
  });

async function main() {
  const { names, vsix } = parseArgs(process.argv.slice(2));
  const selected = selectScenarios(names, vsix);
  const { entry, browserPath, modelPath } = preflight(vsix);

  const run = fs.mkdtempSync(path.join(os.tmpdir(), 'textvae-e2e.'));
  const ws = path.join(run, 'ws');
  for (const d of ['user/User', 'ext', 'ws', 'xdg', 'chromium']) fs.mkdirSync(path.join(run, d), { recursive: true });
  fs.rmSync(ARTIFACTS, { recursive: true, force: true });
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  say(`run folder ${run}${modelPath ? `; model override ${modelPath}` : '; model: models/default'}`);

  const userSettings = {
    'workbench.startupEditor': 'none',
    'telemetry.telemetryLevel': 'off',
    'extensions.autoUpdate': false,
    'extensions.autoCheckUpdates': false,
    'extensions.ignoreRecommendations': true,
    'security.workspace.trust.enabled': false,
    'update.mode': 'none',
    'workbench.tips.enabled': false,
    'workbench.enableExperiments': false,
    'git.enabled': false,
    'files.autoSave': 'off',
    'editor.accessibilitySupport': 'off',
    'textvae.training.minutes': 0.25,
    'textvae.training.modelSize': 'small',
    // The training scenario times a small model from scratch; fine-tuning (the default) is covered by
    // test/unit/extension-trainingRequest.test.ts through the worker.
    'textvae.training.startFrom': 'scratch',
    'textvae.decoding.strategy': 'greedy',
    ...(modelPath ? { 'textvae.modelPath': modelPath } : {}),
  };
  const env = {
    ...process.env,
    XDG_CONFIG_HOME: path.join(run, 'xdg'),
    XDG_DATA_HOME: path.join(run, 'xdg'),
    EXTENSIONS_GALLERY: '{}',
  };
  delete env.VSCODE_IPC_HOOK_CLI;

  const results = [];
  const sharedState = {};
  let server;
  let browser;
  try {
    fs.writeFileSync(path.join(run, 'user', 'User', 'settings.json'), JSON.stringify(userSettings, null, 2));
    buildWorkspace(ws);
    for (const sc of selected) sc.setup?.(ws);
    if (vsix) {
      // As a user installs it: code-server's --install-extension unpacks the .vsix.
      const r = spawnSync(
        process.execPath,
        [
          entry,
          '--install-extension',
          vsix,
          '--extensions-dir',
          path.join(run, 'ext'),
          '--user-data-dir',
          path.join(run, 'user'),
        ],
        { env, encoding: 'utf8', timeout: 120_000 },
      );
      if (r.status !== 0) throw new Error(`installing ${vsix} failed: ${r.stderr || r.stdout || r.error}`);
      say(`installed ${path.relative(REPO, vsix)}: ${(r.stdout || '').trim().split('\n').pop()}`);
    } else {
      // The built repository itself is the installed extension (no packaging).
      fs.symlinkSync(REPO, path.join(run, 'ext', `${EXT_ID}-${PKG.version}`), 'dir');
    }
    const port = await freePort();
    server = await startServer({ entry, run, port, workspace: ws, env });
    say(`code-server ${server.url} (pgid ${server.pid})`);

    browser = await chromium.launch({
      executablePath: browserPath,
      headless: process.env.E2E_HEADED !== '1',
      env: { ...process.env, XDG_CONFIG_HOME: path.join(run, 'chromium'), XDG_CACHE_HOME: path.join(run, 'chromium') },
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--disable-dev-shm-usage',
        '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
      ],
    });
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    const consoleErrors = [];
    page.on('console', (m) => {
      if (m.type() === 'error' && !/vsda|404 \(Not Found\)/.test(m.text())) consoleErrors.push(m.text());
    });
    await page.goto(`${server.url}/?folder=${encodeURIComponent(ws)}`);
    await page.waitForSelector('.monaco-workbench .explorer-folders-view', { timeout: 60_000 });
    say('workbench ready');

    const wb = new Workbench(page, { ws, artifacts: ARTIFACTS, log: debug });
    const ctx = {
      wb,
      page,
      context,
      serverUrl: server.url,
      ws,
      run,
      vsix,
      extId: EXT_ID,
      repo: REPO,
      modelPath,
      artifacts: ARTIFACTS,
      log: say,
      debug,
      /** Shared between scenarios (e.g. the default model's fingerprint); each scenario copes without it. */
      state: sharedState,
      outputChannelText: () => outputChannelText(run),
      serverLog: (n = 60) => tail(server.logPath, n),
      consoleErrors,
      /** Writes workspace settings (.vscode/settings.json); undefined deletes a key. */
      setWorkspaceSettings(patch) {
        const file = path.join(ws, '.vscode', 'settings.json');
        fs.mkdirSync(path.dirname(file), { recursive: true });
        let cur = {};
        try {
          cur = JSON.parse(fs.readFileSync(file, 'utf8'));
        } catch {
          /* none */
        }
        for (const [k, v] of Object.entries(patch))
          if (v === undefined) delete cur[k];
          else cur[k] = v;
        fs.writeFileSync(file, JSON.stringify(cur, null, 2));
      },
      readWorkspaceSettings() {
        try {
          return JSON.parse(fs.readFileSync(path.join(ws, '.vscode', 'settings.json'), 'utf8'));
        } catch {
          return {};
        }
      },
    };

    for (const sc of selected) {
      const t = Date.now();
      say(`▶ ${sc.name}: ${sc.title}`);
      const notes = [];
      try {
        await withTimeout(
          sc.run({
            ...ctx,
            note: (m) => {
              notes.push(m);
              say(`  note: ${m}`);
            },
          }),
          sc.timeout ?? 120_000,
          sc.name,
        );
        results.push({ name: sc.name, ok: true, ms: Date.now() - t, notes });
        say(`✔ ${sc.name} (${((Date.now() - t) / 1000).toFixed(1)} s)`);
      } catch (err) {
        const ms = Date.now() - t;
        const shot = await wbShot(wb, `${sc.name}-FAILED`);
        const toasts = await wb.toastTexts().catch(() => []);
        const report = [
          `scenario ${sc.name} failed after ${(ms / 1000).toFixed(1)} s`,
          String((err && err.stack) || err),
          `notifications on screen: ${JSON.stringify(toasts)}`,
          `screenshot: ${shot}`,
          '--- extension output channel ---',
          outputChannelText(run) || '(none found)',
          '--- code-server log (tail) ---',
          tail(server.logPath, 60),
          '--- browser console errors ---',
          consoleErrors.slice(-20).join('\n') || '(none)',
        ].join('\n');
        const reportFile = path.join(ARTIFACTS, `${sc.name}-FAILED.txt`);
        fs.writeFileSync(reportFile, report);
        results.push({
          name: sc.name,
          ok: false,
          ms,
          error: String((err && err.message) || err)
            .split('\n')
            .slice(0, 6)
            .join('\n'),
          shot,
          reportFile,
          notes,
        });
        say(`✘ ${sc.name}: ${String((err && err.message) || err).split('\n')[0]}`);
      }
      try {
        await withTimeout(wb.reset(), 30_000, 'reset');
      } catch (e) {
        say(`  (reset after ${sc.name} failed: ${e.message})`);
      }
    }
    fs.writeFileSync(path.join(ARTIFACTS, 'output-channel.txt'), outputChannelText(run));
  } catch (err) {
    results.push({ name: 'harness', ok: false, ms: 0, error: String((err && err.stack) || err) });
    say(`✘ harness: ${(err && err.message) || err}`);
  } finally {
    if (browser) await browser.close().catch(() => {});
    if (server) {
      try {
        fs.copyFileSync(server.logPath, path.join(ARTIFACTS, 'server.log'));
      } catch {
        /* none */
      }
      await server.stop();
    }
    if (process.env.E2E_KEEP === '1') say(`kept ${run}`);
    else fs.rmSync(run, { recursive: true, force: true, maxRetries: 3 });
  }

  const failed = results.filter((r) => !r.ok);
  const lines = [
    '',
    `TextVAE end-to-end: ${results.length - failed.length} passed, ${failed.length} failed, ${((Date.now() - T0) / 1000).toFixed(1)} s`,
  ];
  for (const r of results) {
    lines.push(`  ${r.ok ? 'PASS' : 'FAIL'}  ${r.name.padEnd(22)} ${(r.ms / 1000).toFixed(1).padStart(6)} s`);
    for (const n of r.notes || []) lines.push(`        note: ${n}`);
    if (!r.ok) {
      lines.push(...r.error.split('\n').map((l) => `        ${l}`));
      if (r.shot) lines.push(`        screenshot: ${path.relative(REPO, r.shot)}`);
      if (r.reportFile) lines.push(`        details:    ${path.relative(REPO, r.reportFile)}`);
    }
  }
  if (typeof sharedState.lagP99 === 'number')
    lines.push(
      `  extension host event-loop lag during training: p99 ${sharedState.lagP99} ms (target ${LAG_P99_LIMIT_MS} ms)`,
    );
  lines.push(`  artifacts: ${path.relative(REPO, ARTIFACTS)}/`);
  process.stdout.write(lines.join('\n') + '\n');
  process.exitCode = failed.length ? 1 : 0;
}

async function wbShot(wb, name) {
  try {
    return await wb.screenshot(name);
  } catch (e) {
    return `(no screenshot: ${e.message})`;
  }
}

main().catch((e) => {
  process.stderr.write(`[e2e] ${(e && e.stack) || e}\n`);
  process.exit(1);
});
