// The packaged extension (.vsix) as a user installs it: it starts on wasm; training offers the
// native backend; a cancelled install keeps nothing; the real install (the command's own route,
// tfjs-node's download, else the PyPI wheel, reusing ~/.cache/textvae-native when it is there)
// ends with "installed", and after Restart Engine the status bar names tensorflow.
// Run with: npm run test:e2e:vsix
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MSG, STATUS_BAR, TITLES } from '../messages.mjs';
import { check, sleep } from '../lib/steps.mjs';

/** Figures of the last install, for the run's summary. */
export const INSTALL_TIMEOUT_MS = 12 * 60_000;

async function statusBarBackend(wb) {
  const items = await wb.statusBarTexts();
  for (const [, text, label] of items) {
    const m = `${text} ${label}`.match(STATUS_BAR);
    if (m) return m[2];
  }
  return null;
}

async function waitForStatusBackend(wb, backend, timeout) {
  const end = Date.now() + timeout;
  let last = null;
  while (Date.now() < end) {
    last = await statusBarBackend(wb);
    if (last === backend) return;
    await sleep(300);
  }
  throw new Error(`the status bar names backend ${JSON.stringify(last)}, not ${backend}`);
}

/** Waits until the extension's output channel has a line matching `re`. */
async function waitForLog(outputChannelText, re, timeout, failOn) {
  const end = Date.now() + timeout;
  for (;;) {
    const text = outputChannelText();
    const m = text.match(re);
    if (m) return m;
    const bad = failOn && text.match(failOn);
    if (bad) throw new Error(`instead of ${re}: ${bad[0]}`);
    if (Date.now() > end) throw new Error(`the output channel has no line matching ${re} within ${timeout / 1000} s`);
    await sleep(300);
  }
}

/** A screenshot with the notification matching `re` in view (as a toast, else in the center). */
async function screenshotWith(wb, re, name) {
  const shown = await wb
    .toasts()
    .filter({ hasText: re })
    .first()
    .isVisible()
    .catch(() => false);
  if (!shown) await wb.runCommand('Notifications: Show Notifications');
  // No hover tooltip over the notification.
  await wb.page.mouse.move(600, 300);
  await sleep(300);
  await wb.screenshot(name);
  if (!shown) await wb.hideNotificationCenter();
}

export default {
  name: 'native-install',
  title: 'the .vsix runs on wasm; Install Native Backend (cancel, then for real); after a restart: tensorflow',
  vsix: 'only',
  timeout: INSTALL_TIMEOUT_MS + 4 * 60_000,
  // Toasts come and go with the workbench's limits, so progress is followed in the output channel,
  // the status bar and the files; buttons are clicked in the toast or the notification center.
  async run({ wb, run, extId, log, note, outputChannelText }) {
    const nativeRoot = path.join(run, 'user', 'User', 'globalStorage', extId.toLowerCase(), 'native');
    const native = () => (fs.existsSync(nativeRoot) ? fs.readdirSync(nativeRoot) : []);
    const failed = /native backend: install failed: .*/;

    // 1. As installed: no tfjs-node in the package, so wasm.
    await wb.runCommand(TITLES.restartEngine);
    await waitForStatusBackend(wb, 'wasm', 120_000);
    await wb.clearNotifications();

    // 2. Cancel: the install stops, and nothing is kept.
    await wb.runCommand(TITLES.installNative);
    await waitForLog(outputChannelText, /native backend: installing into/, 30_000);
    await sleep(1500);
    await wb.clickNotificationButton(MSG.nativeProgress, 'Cancel');
    await waitForLog(outputChannelText, /native backend: install cancelled; nothing was kept/, 30_000, failed);
    check(native().length === 0, `a cancelled install left ${JSON.stringify(native())} in ${nativeRoot}`);
    await wb.clearNotifications();

    // 3. Training on wasm offers the native backend; the offer starts the install.
    const t0 = Date.now();
    await wb.runCommand(TITLES.train);
    await waitForLog(outputChannelText, /offering to install the native backend/, 90_000);
    await screenshotWith(wb, MSG.nativeOffer, 'native-offer');
    await wb.clickNotificationButton(MSG.nativeOffer, 'Install Native Backend');
    // A later step of the install, for the screenshot of the progress notification.
    await waitForLog(outputChannelText, /setup-native: ==> (Populating|Compiling|Building)/, 240_000, failed).catch(
      (e) => note(`no later install step seen: ${e.message}`),
    );
    await screenshotWith(wb, MSG.nativeProgress, 'native-install-progress');

    const marker = path.join(nativeRoot, 'tfjs-node-4.22.0', 'textvae-native.json');
    const end = Date.now() + INSTALL_TIMEOUT_MS;
    while (!fs.existsSync(marker)) {
      const bad = outputChannelText().match(failed);
      if (bad) throw new Error(bad[0]);
      if (Date.now() > end) throw new Error(`no install after ${INSTALL_TIMEOUT_MS / 1000} s`);
      await sleep(500);
    }
    const secs = (Date.now() - t0) / 1000;
    const info = JSON.parse(fs.readFileSync(marker, 'utf8'));
    note(
      `installed by the ${info.route} route: ${Math.round(info.bytes / 1e6)} MB in ${info.seconds} s (${secs.toFixed(0)} s after Train; training ran at the same time); check: ${info.check}`,
    );
    check(
      native().every((n) => !n.startsWith('.')),
      `leftovers next to the install: ${JSON.stringify(native())}`,
    );

    // 4. "Installed … Restart Engine" (the 15 s training run ended long before): tensorflow.
    await wb.clickNotificationButton(MSG.nativeInstalled, 'Restart Engine');
    await waitForStatusBackend(wb, 'tensorflow', 120_000);
    await wb.screenshot('native-installed-statusbar');
    const restarted = outputChannelText().match(/^\[[\d:]+\] backend: tensorflow \(([^)]*)\)/m);
    check(restarted, 'the output channel does not report the tensorflow backend');
    log(`  engine restarted on tensorflow (${restarted[1]})`);
  },
};
