// What a user does in the VS Code workbench, through playwright-core: the command palette,
// Quick Open, the keyboard in the editor, notifications, the status bar, webviews.
import * as fs from 'node:fs';
import * as path from 'node:path';

export const escapeRegExp = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export class Workbench {
  constructor(page, { ws, artifacts, log = () => {} }) {
    this.page = page;
    this.ws = ws;
    this.artifacts = artifacts;
    this.log = log;
  }

  // ------------------------------------------------------------ palette / quick open

  /** Runs a command from the palette by its exact title ("TextVAE: Open Generator"). */
  async runCommand(title, { timeout = 60_000, dryRun = false } = {}) {
    const page = this.page;
    const input = page.locator('.quick-input-widget .quick-input-box input');
    const row = page
      .locator('.quick-input-widget .monaco-list-row')
      .filter({ has: page.locator('.label-name', { hasText: new RegExp(`^${escapeRegExp(title)}$`) }) })
      .first();
    const end = Date.now() + timeout;
    for (;;) {
      await this.closeQuickInput();
      await page.keyboard.press('F1');
      await input.waitFor({ state: 'visible', timeout: 5000 });
      await input.fill('>' + title);
      try {
        if (dryRun) {
          await row.waitFor({ timeout: 2000 });
          await page.keyboard.press('Escape');
          return;
        }
        await row.click({ timeout: 2000 });
        // The palette closes (or turns into the command's own quick input).
        await input
          .evaluate(
            (el, v) =>
              new Promise((resolve) => {
                const t0 = Date.now();
                const poll = () =>
                  el.value !== v || !el.offsetParent || Date.now() - t0 > 3000 ? resolve() : setTimeout(poll, 30);
                poll();
              }),
            '>' + title,
          )
          .catch(() => {});
        this.log(`command: ${title}`);
        return;
      } catch (e) {
        this.log(`command "${title}" not clickable yet: ${e.message.split('\n')[0]}`);
        if (Date.now() > end)
          throw new Error(
            `command "${title}" not found in the palette within ${timeout / 1000} s (${e.message.split('\n')[0]})`,
            { cause: e },
          );
      }
      await page.keyboard.press('Escape');
      await sleep(1000);
    }
  }

  /** Is a command listed in the palette (now)? */
  async paletteHas(title) {
    const page = this.page;
    await this.closeQuickInput();
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget .quick-input-box input');
    await input.fill('>' + title);
    const row = page.locator('.quick-input-widget .monaco-list-row .label-name', {
      hasText: new RegExp(`^${escapeRegExp(title)}$`),
    });
    const found = await row
      .first()
      .waitFor({ timeout: 1500 })
      .then(
        () => true,
        () => false,
      );
    await page.keyboard.press('Escape');
    return found;
  }

  /** Titles the palette lists for a filter ("TextVAE:"). */
  async paletteTitles(filter, { screenshot } = {}) {
    const page = this.page;
    await this.closeQuickInput();
    await page.keyboard.press('F1');
    await page.locator('.quick-input-widget .quick-input-box input').fill('>' + filter);
    await sleep(500);
    if (screenshot) await this.screenshot(screenshot);
    const titles = await page.locator('.quick-input-widget .monaco-list-row .label-name').allTextContents();
    await page.keyboard.press('Escape');
    return titles;
  }

  async closeQuickInput() {
    const widget = this.page.locator('.quick-input-widget');
    for (let i = 0; i < 3 && (await widget.isVisible()); i++) {
      await this.page.keyboard.press('Escape');
      await sleep(150);
    }
  }

  /** Picks an item in an open quick pick (after a command asked for one). */
  async pickQuickItem(label, { timeout = 15_000 } = {}) {
    const re = label instanceof RegExp ? label : new RegExp(`^${escapeRegExp(label)}$`);
    const row = this.page
      .locator('.quick-input-widget .monaco-list-row')
      .filter({ has: this.page.locator('.label-name', { hasText: re }) })
      .first();
    await row.click({ timeout });
  }

  /**
   * Answers an open dialog (showOpenDialog). In code-server it is VS Code's "simple file dialog":
   * a quick input holding a path, with an OK button carrying the dialog's openLabel.
   */
  async fileDialogAccept(fsPath, okLabel) {
    const input = this.page.locator('.quick-input-widget .quick-input-box input');
    await input.waitFor({ state: 'visible', timeout: 15_000 });
    const want = fsPath.endsWith('/') ? fsPath : fsPath + '/';
    // The dialog fills in its starting folder a moment after it shows: let that settle first,
    // or it lands in front of what we type.
    let last = null;
    for (let stable = 0, end = Date.now() + 10_000; stable < 3 && Date.now() < end; await sleep(150)) {
      const v = await input.inputValue();
      stable = v && v === last ? stable + 1 : 0;
      last = v;
    }
    for (let attempt = 0; ; attempt++) {
      await input.fill(want);
      await sleep(800); // the dialog lists the folder
      const v = await input.inputValue();
      if (v === want || v === want.slice(0, -1)) break;
      if (attempt >= 3)
        throw new Error(`the folder dialog shows ${JSON.stringify(v)} instead of ${JSON.stringify(want)}`);
    }
    const ok = this.page.locator('.quick-input-widget .monaco-button', { hasText: okLabel }).first();
    if (await ok.isVisible().catch(() => false)) await ok.click();
    else await this.page.keyboard.press('Enter');
    await input.waitFor({ state: 'hidden', timeout: 10_000 });
  }

  /** The items listed by the open quick pick. */
  async quickItems() {
    await this.page.locator('.quick-input-widget .monaco-list-row').first().waitFor({ timeout: 15_000 });
    return this.page.locator('.quick-input-widget .monaco-list-row .label-name').allTextContents();
  }

  /**
   * Opens a workspace file with Quick Open (Ctrl+P), as a user would. A preview that was still
   * opening (Model Info's markdown preview) can take the focus back once: then it opens it again.
   */
  async openFile(rel) {
    try {
      await this.openFileOnce(rel);
    } catch (e) {
      if (!/Timeout .* exceeded/.test(String(e && e.message))) throw e;
      this.log(`${rel} lost the focus while opening; opening it again`);
      await this.openFileOnce(rel);
    }
  }

  async openFileOnce(rel) {
    const page = this.page;
    const base = path.basename(rel);
    const input = page.locator('.quick-input-widget .quick-input-box input');
    for (let attempt = 0; ; attempt++) {
      await this.closeQuickInput();
      await page.keyboard.press('Control+P');
      await input.waitFor({ state: 'visible', timeout: 5000 });
      await input.fill(rel);
      const row = page
        .locator('.quick-input-widget .monaco-list-row')
        .filter({ has: page.locator('.label-name', { hasText: new RegExp(`^${escapeRegExp(base)}$`) }) })
        .first();
      try {
        await row.click({ timeout: 5000 });
        break;
      } catch (e) {
        // A file written a moment ago may not be in the file index yet.
        if (attempt >= 5) throw new Error(`Quick Open did not find ${rel}: ${e.message.split('\n')[0]}`, { cause: e });
        await page.keyboard.press('Escape');
        await sleep(1000);
      }
    }
    await this.activeTab(base).waitFor({ timeout: 10_000 });
    await this.focusEditor();
    this.log(`opened ${rel}`);
  }

  activeTab(label) {
    const tab = this.page.locator('.editor-group-container.active .tab.active');
    return label ? tab.filter({ has: this.page.locator('.label-name', { hasText: label }) }) : tab;
  }

  async activeTabTitle() {
    const tab = this.page.locator('.editor-group-container.active .tab.active').first();
    await tab.waitFor({ timeout: 10_000 });
    return (await tab.getAttribute('aria-label')) || (await tab.textContent()) || '';
  }

  async tabTitles() {
    return this.page
      .locator('.tabs-container .tab')
      .evaluateAll((els) => els.map((e) => e.getAttribute('aria-label') || e.textContent || ''));
  }

  // ------------------------------------------------------------ the editor

  async focusEditor() {
    const editor = this.page.locator('.editor-group-container.active .monaco-editor .view-lines').first();
    await editor.waitFor({ timeout: 10_000 });
    // A click would move the cursor; the command does not.
    await this.runCommand('View: Focus Active Editor Group');
  }

  /** Puts the cursor at the start of line `line` (1-based) with Go to Line. */
  async gotoLine(line, column = 1) {
    const input = this.page.locator('.quick-input-widget .quick-input-box input');
    await this.closeQuickInput();
    await this.page.keyboard.press('Control+G'); // Go to Line/Column...
    await input.waitFor({ state: 'visible', timeout: 5000 });
    await input.fill(`:${line}:${column}`);
    await this.page
      .locator('.quick-input-widget .monaco-list-row')
      .first()
      .waitFor({ timeout: 5000 })
      .catch(() => {});
    await this.page.keyboard.press('Enter');
    await input.waitFor({ state: 'hidden', timeout: 5000 });
    this.log(`cursor at ${line}:${column}`);
  }

  /** Selects the whole of line `line` (1-based) with the keyboard. */
  async selectLine(line) {
    await this.gotoLine(line, 1);
    await this.page.keyboard.press('Shift+End');
    await sleep(100);
  }

  /** Selects `length` characters from line:column (1-based) with Shift+Right. */
  async selectRange(line, column, length) {
    await this.gotoLine(line, column);
    for (let i = 0; i < length; i++) await this.page.keyboard.press('Shift+ArrowRight');
  }

  /** Collapses the selection to the cursor. */
  async clearSelection() {
    await this.page.keyboard.press('Escape');
    await this.page.keyboard.press('ArrowRight');
    await this.page.keyboard.press('ArrowLeft');
  }

  async undo(times = 1) {
    for (let i = 0; i < times; i++) {
      await this.page.keyboard.press('Control+Z');
      await sleep(200);
    }
  }

  /** Saves the active editor with VS Code's own "File: Save" and returns the file's text on disk. */
  async saveAndRead(rel) {
    const file = path.join(this.ws, rel);
    await this.runCommand('File: Save');
    const dirty = this.page.locator('.editor-group-container.active .tab.active.dirty');
    await dirty.waitFor({ state: 'detached', timeout: 10_000 }).catch(() => {});
    await sleep(200);
    return fs.readFileSync(file, 'utf8');
  }

  /** The lines the editor renders (only what is on screen: Monaco virtualises). */
  async visibleEditorText() {
    return this.page.locator('.editor-group-container.active .monaco-editor .view-lines').first().innerText();
  }

  // ------------------------------------------------------------ notifications & status bar

  toasts() {
    return this.page.locator('.notification-toast');
  }

  /** Waits for a notification toast whose text matches `re`; returns its text. */
  async waitForToast(re, { timeout = 30_000, failOn } = {}) {
    const toast = this.toasts().filter({ hasText: re }).first();
    const end = Date.now() + timeout;
    for (;;) {
      if (await toast.isVisible().catch(() => false)) break;
      if (failOn) {
        const bad = this.toasts().filter({ hasText: failOn }).first();
        if (await bad.isVisible().catch(() => false)) {
          throw new Error(
            `instead of a notification matching ${re}: ${JSON.stringify((await bad.innerText()).replace(/\s+/g, ' ').trim())}`,
          );
        }
      }
      if (Date.now() > end) {
        const seen = await this.toastTexts();
        throw new Error(
          `no notification matching ${re} within ${timeout / 1000} s; notifications shown: ${JSON.stringify(seen)}`,
        );
      }
      await sleep(200);
    }
    return (await toast.innerText()).replace(/\s+/g, ' ').trim();
  }

  async toastTexts() {
    const texts = await this.toasts()
      .allInnerTexts()
      .catch(() => []);
    return texts.map((t) => t.replace(/\s+/g, ' ').trim());
  }

  /**
   * Clicks a button of the notification matching `re`: in its toast, or where the workbench shows no
   * toast for it (a long progress goes to the status bar; toasts are limited or hide), in the notification center.
   */
  async clickNotificationButton(re, label) {
    const toast = this.toasts().filter({ hasText: re }).first();
    const visible = await toast
      .waitFor({ state: 'visible', timeout: 5000 })
      .then(() => true)
      .catch(() => false);
    if (visible) {
      await toast.locator('.monaco-button', { hasText: label }).first().click({ timeout: 15_000 });
      return;
    }
    await this.runCommand('Notifications: Show Notifications');
    const item = this.page.locator('.notifications-center .notification-list-item').filter({ hasText: re }).first();
    await item.locator('.monaco-button', { hasText: label }).first().click({ timeout: 15_000 });
    // With the center open, new notifications would not show as toasts.
    await this.hideNotificationCenter();
  }

  /** Clears every notification (toasts and the center). */
  async clearNotifications() {
    await this.runCommand('Notifications: Clear All Notifications').catch(() => {});
    await this.toasts()
      .first()
      .waitFor({ state: 'detached', timeout: 3000 })
      .catch(() => {});
  }

  /**
   * Closes the notification center if it is open. Its Hide command is listed only while the center
   * is visible, and the center can close by itself (e.g. when the palette takes the focus).
   */
  async hideNotificationCenter() {
    const center = this.page.locator('.notifications-center.visible');
    if (!(await center.isVisible().catch(() => false))) return;
    await this.runCommand('Notifications: Hide Notifications', { timeout: 5000 }).catch(() =>
      this.page.keyboard.press('Escape'),
    );
  }

  /** Texts of the status bar items (aria-label or text). */
  async statusBarTexts() {
    return this.page
      .locator('#workbench\\.parts\\.statusbar .statusbar-item')
      .evaluateAll((els) =>
        els.map((e) => [e.getAttribute('id') || '', (e.textContent || '').trim(), e.getAttribute('aria-label') || '']),
      );
  }

  // ------------------------------------------------------------ webviews

  /**
   * The content frame of the visible webview whose panel tab title matches `title`
   * (there may be several webviews; hidden ones are not shown).
   */
  async webview({ timeout = 30_000 } = {}) {
    const iframe = this.page.locator('iframe.webview.ready:visible').last();
    await iframe.waitFor({ state: 'visible', timeout });
    return iframe.contentFrame().frameLocator('iframe#active-frame');
  }

  // ------------------------------------------------------------ housekeeping

  async screenshot(name) {
    fs.mkdirSync(this.artifacts, { recursive: true });
    const file = path.join(this.artifacts, `${name}.png`);
    await this.page.screenshot({ path: file });
    return file;
  }

  /** Leaves the workbench clean for the next scenario: no dialogs, no quick input, no dirty or open editors, no toasts. */
  async reset() {
    const page = this.page;
    for (let i = 0; i < 3; i++) {
      const dialog = page.locator('.monaco-dialog-box');
      if (await dialog.isVisible().catch(() => false)) {
        const dont = dialog.locator('.monaco-button', { hasText: /Don't Save|Cancel|OK/ }).first();
        await dont.click({ timeout: 2000 }).catch(() => page.keyboard.press('Escape'));
      }
      await this.closeQuickInput();
    }
    // Revert and close dirty editors so that closing the rest asks nothing ("Revert File" leaves an
    // untitled editor dirty, such as the walkthrough's sample text).
    for (let i = 0; i < 10; i++) {
      const dirty = page.locator('.tabs-container .tab.dirty').first();
      if (!(await dirty.count())) break;
      await dirty.click();
      await this.runCommand('View: Revert and Close Editor', { timeout: 10_000 }).catch(() => {});
      await sleep(200);
    }
    await this.runCommand('View: Close All Editors').catch(() => {});
    const dialog = page.locator('.monaco-dialog-box');
    if (await dialog.isVisible().catch(() => false)) {
      await dialog
        .locator('.monaco-button', { hasText: /Don't Save/ })
        .first()
        .click({ timeout: 2000 })
        .catch(() => {});
    }
    await this.clearNotifications();
  }
}
