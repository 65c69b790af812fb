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

function clickToastButton(wb, toastText, label) {
  return wb.toasts().filter({ hasText: toastText }).first().locator('.monaco-button', { hasText: label }).click();
}

export default {
  name: 'native-install',
  title: 'the .vsix runs on wasm; Install Native Backend (cancel, then for real); after a restart: tensorflow',
  vsix: 'only',
  timeout: INSTALL_TIMEOUT_MS + 4 * 60_000,
  async run({ wb, run, extId, log, note }) {
    const nativeRoot = path.join(run, 'user', 'User', 'globalStorage', extId.toLowerCase(), 'native');
    const native = () => (fs.existsSync(nativeRoot) ? fs.readdirSync(nativeRoot) : []);

    // 1. As installed: no tfjs-node in the package, so wasm.
    await wb.runCommand(TITLES.restartEngine);
    await wb.waitForToast(MSG.engineRestarted('wasm'), { timeout: 120_000 });
    await waitForStatusBackend(wb, 'wasm', 10_000);
    await wb.clearNotifications();

    // 2. Cancel: the install stops, and nothing is kept.
    await wb.runCommand(TITLES.installNative);
    await wb.waitForToast(MSG.nativeProgress, { timeout: 30_000 });
    await sleep(1500);
    await clickToastButton(wb, MSG.nativeProgress, 'Cancel');
    await wb.waitForToast(MSG.nativeCancelled, { timeout: 30_000 });
    check(native().length === 0, `a cancelled install left ${JSON.stringify(native())} in ${nativeRoot}`);
    await wb.clearNotifications();

    // 3. Training on wasm offers the native backend; the offer starts the install.
    const t0 = Date.now();
    await wb.runCommand(TITLES.train);
    await wb.waitForToast(MSG.nativeOffer, { timeout: 90_000 });
    await wb.screenshot('native-offer');
    await clickToastButton(wb, MSG.nativeOffer, 'Install Native Backend');
    await wb.waitForToast(MSG.nativeProgress, { timeout: 30_000, failOn: MSG.nativeFailed });
    // A later step of the install in the notification, for the screenshot.
    await wb
      .toasts()
      .filter({ hasText: /wheel|Building|Populating|Compiling|checking/ })
      .first()
      .waitFor({ timeout: 180_000 })
      .catch(() => note('no later install step was seen in the progress notification'));
    await wb.screenshot('native-install-progress');

    const done = await wb.waitForToast(MSG.nativeInstalled, {
      timeout: INSTALL_TIMEOUT_MS,
      failOn: MSG.nativeFailed,
    });
    const secs = (Date.now() - t0) / 1000;
    log(`  ${done} (${secs.toFixed(0)} s after Train, training ran at the same time)`);
    const info = JSON.parse(fs.readFileSync(path.join(nativeRoot, `tfjs-node-4.22.0`, 'textvae-native.json'), 'utf8'));
    note(
      `installed by the ${info.route} route: ${Math.round(info.bytes / 1e6)} MB in ${info.seconds} s; check: ${info.check}`,
    );
    check(
      native().every((n) => !n.startsWith('.')),
      `leftovers next to the install: ${JSON.stringify(native())}`,
    );

    // 4. Restart the engine (after the training run, which may still be going): tensorflow.
    await wb
      .waitForToast(/Training finished|Training cancelled|Training failed/, { timeout: 180_000 })
      .catch(() => note('no end-of-training notification seen'));
    await clickToastButton(wb, MSG.nativeInstalled, 'Restart Engine').catch(async () => {
      await wb.runCommand(TITLES.restartEngine);
    });
    await wb.waitForToast(MSG.engineRestarted('tensorflow'), { timeout: 120_000 });
    await waitForStatusBackend(wb, 'tensorflow', 10_000);
    await wb.screenshot('native-installed-statusbar');
  },
};
