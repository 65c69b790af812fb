// e. Show Model Info names the backend and the fingerprint; Reconstruct Selection opens a diff
// editor whose title gives the similarity.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MSG, TITLES } from '../messages.mjs';
import { check, selectText } from '../lib/steps.mjs';
import { fixtureDoc } from '../lib/workspace.mjs';

const FILE = 'notes/info.txt';
const SENTENCE = 'Python is a small language with a large standard library.';

export default {
  name: 'model-info',
  title: 'Show Model Info; Reconstruct Selection opens a diff with the similarity',
  timeout: 90_000,
  setup(ws) {
    fs.copyFileSync(fixtureDoc('tutorial/index.rst'), path.join(ws, FILE));
  },
  async run({ wb, ws, state, log }) {
    await wb.openFile(FILE);
    await wb.runCommand(TITLES.showModelInfo);
    const info = await wb.waitForToast(MSG.modelInfo, { timeout: 60_000 });
    await wb.screenshot('model-info');
    log(`  model info: ${info}`);
    check(MSG.modelInfoBackend.test(info), `Show Model Info does not name the backend: ${info}`);
    const fp = info.match(/\b[0-9a-f]{8,64}\b/);
    check(fp, `Show Model Info does not show a fingerprint: ${info}`);
    state.defaultFingerprint ??= fp[0].slice(0, 8);

    // "Show Details": the whole model card (Markdown preview) with the full fingerprint and backend.
    await wb
      .toasts()
      .filter({ hasText: MSG.modelInfo })
      .first()
      .locator('.monaco-button', { hasText: 'Show Details' })
      .click();
    const preview = await wb.webview({ timeout: 30_000 });
    const table = preview.locator('table').first();
    await table.waitFor({ timeout: 30_000 });
    const card = (await preview.locator('body').innerText()).replace(/\s+/g, ' ');
    await wb.screenshot('model-info-details');
    const full = card.match(/Fingerprint ([0-9a-f]{64})\b/);
    check(
      full && full[1].startsWith(fp[0].slice(0, 8)),
      `the model details do not show the full fingerprint ${fp[0]}…: ${card.slice(0, 400)}`,
    );
    check(
      /Backend (tensorflow|wasm|cpu)\b/.test(card),
      `the model details do not show the backend: ${card.slice(0, 400)}`,
    );
    log(`  details: fingerprint ${full[1].slice(0, 16)}…, ${card.match(/Backend \S+/)[0]}`);
    await wb.clearNotifications();

    await wb.openFile(FILE);
    const text = fs.readFileSync(path.join(ws, FILE), 'utf8');
    await selectText(wb, text, SENTENCE);
    await wb.runCommand(TITLES.reconstructSelection);
    const tab = wb.page.locator('.tabs-container .tab', { hasText: MSG.diffTitle }).first();
    await tab.waitFor({ timeout: 60_000 }).catch(async () => {
      throw new Error(
        `no editor tab titled like ${MSG.diffTitle}; tabs: ${JSON.stringify(await wb.tabTitles())}; notifications: ${JSON.stringify(await wb.toastTexts())}`,
      );
    });
    const title = (await tab.getAttribute('aria-label')) || (await tab.innerText());
    log(`  diff editor: ${title}`);
    check(
      await wb.page.locator('.editor-group-container.active .monaco-diff-editor').first().isVisible(),
      'the active editor is not a diff editor',
    );
    await wb.screenshot('reconstruct-selection-diff');
    // The original document is left unchanged.
    check(fs.readFileSync(path.join(ws, FILE), 'utf8') === text, 'Reconstruct Selection changed the file');
  },
};
