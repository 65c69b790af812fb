#!/usr/bin/env node
// `npm run test:electron`: the extension's integration tests inside a real VS Code desktop
// (Electron) with @vscode/test-electron, for machines that can download VS Code
// (update.code.visualstudio.com). Without that download it stops at once with a clear
// message; the end-to-end tests (npm run test:e2e, code-server + Chromium) cover the same
// ground offline.
//
// Environment:
//   VSCODE_EXECUTABLE_PATH    a VS Code already on this machine (skips the download)
//   VSCODE_TEST_VERSION       VS Code version to download (default 1.100.3, the engine we target)
//   VSCODE_TEST_CACHE         download cache (default ~/.cache/vscode-test)
//   TEXTVAE_E2E_MODEL_PATH    model bundle to use instead of models/default
import { downloadAndUnzipVSCode, runTests } from '@vscode/test-electron';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const VERSION = process.env.VSCODE_TEST_VERSION || '1.100.3';
const CACHE = process.env.VSCODE_TEST_CACHE || path.join(os.homedir(), '.cache', 'vscode-test');
const DOWNLOAD_IDLE_TIMEOUT_MS = Number(process.env.VSCODE_TEST_DOWNLOAD_TIMEOUT_MS || 20_000);

function fail(message) {
  process.stderr.write(`\n[test:electron] ${message}\n`);
  process.exit(1);
}

async function main() {
  for (const f of ['dist/extension.js', 'dist/worker.js']) {
    if (!fs.existsSync(path.join(REPO, f))) fail(`${f} is missing: build first with \`node scripts/build.mjs\`.`);
  }
  const modelPath = process.env.TEXTVAE_E2E_MODEL_PATH ? path.resolve(process.env.TEXTVAE_E2E_MODEL_PATH) : '';
  if (!modelPath && !fs.existsSync(path.join(REPO, 'models', 'default', 'manifest.json'))) {
    fail('models/default (the bundled model) is missing; set TEXTVAE_E2E_MODEL_PATH to a model bundle.');
  }

  let vscodeExecutablePath = process.env.VSCODE_EXECUTABLE_PATH || '';
  if (vscodeExecutablePath) {
    if (!fs.existsSync(vscodeExecutablePath)) fail(`VSCODE_EXECUTABLE_PATH=${vscodeExecutablePath} does not exist.`);
  } else {
    process.stdout.write(`[test:electron] getting VS Code ${VERSION} (cache ${CACHE})\n`);
    // The download reports no progress on a blocked network: bound the whole attempt, too.
    const overall = DOWNLOAD_IDLE_TIMEOUT_MS * 3;
    let timer;
    try {
      vscodeExecutablePath = await Promise.race([
        downloadAndUnzipVSCode({
          version: VERSION,
          cachePath: CACHE,
          timeout: DOWNLOAD_IDLE_TIMEOUT_MS,
          extensionDevelopmentPath: REPO,
        }),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no VS Code after ${overall / 1000} s`)), overall);
        }),
      ]);
    } catch (err) {
      fail(
        `could not download VS Code ${VERSION}: ${String((err && err.message) || err).split('\n')[0]}\n` +
          '  This suite needs https://update.code.visualstudio.com (or VSCODE_EXECUTABLE_PATH pointing at a local VS Code).\n' +
          '  On machines that reach only package registries, run the end-to-end tests instead: npm run test:e2e',
      );
    } finally {
      clearTimeout(timer);
    }
  }

  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
    process.stdout.write(
      '[test:electron] note: no DISPLAY; VS Code desktop needs one (e.g. run under `xvfb-run -a npm run test:electron`)\n',
    );
  }

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'textvae-electron.'));
  const ws = path.join(tmp, 'ws');
  fs.mkdirSync(ws, { recursive: true });
  fs.writeFileSync(path.join(ws, 'notes.txt'), 'A short note.\n');
  try {
    const code = await runTests({
      vscodeExecutablePath,
      extensionDevelopmentPath: REPO,
      extensionTestsPath: path.join(REPO, 'test', 'electron', 'suite', 'index.cjs'),
      extensionTestsEnv: { TEXTVAE_E2E_MODEL_PATH: modelPath },
      launchArgs: [
        ws,
        '--user-data-dir',
        path.join(tmp, 'user'),
        '--extensions-dir',
        path.join(tmp, 'ext'),
        '--disable-extensions',
        '--disable-workspace-trust',
        '--skip-welcome',
        '--skip-release-notes',
        '--disable-gpu',
        '--no-sandbox',
      ],
    });
    process.exitCode = code;
  } catch (err) {
    fail(`the VS Code test run failed: ${(err && err.message) || err}`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((e) => fail((e && e.stack) || String(e)));
