// b. A short training run on the workspace: progress notification, curves panel, "Training
// finished", then the new model is the active one; the extension host stayed responsive.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MSG, SKIPPED_LINE, SKIP_REASON, TITLES } from '../messages.mjs';
import { check, codesIn, selectText, sleep, waitForEditor } from '../lib/steps.mjs';
import { BIG_FILE, BINARY_FILE, fixtureDoc } from '../lib/workspace.mjs';

const FILE = 'notes/after-training.txt';
const SENTENCE = 'Python is a small language with a large standard library.';
/** The product requirement: event-loop lag of the extension host during training, 99th percentile. */
export const LAG_P99_LIMIT_MS = 50;

export default {
  name: 'training',
  title: 'train on the workspace, then use the new model',
  timeout: 240_000,
  setup(ws) {
    fs.copyFileSync(fixtureDoc('tutorial/index.rst'), path.join(ws, FILE));
  },
  async run({ wb, ws, repo, state, log, note, modelPath, outputChannelText, artifacts }) {
    const t0 = Date.now();
    await wb.runCommand(TITLES.train);

    // A progress notification while it runs.
    const progress = await wb.waitForToast(MSG.trainingProgress, { timeout: 60_000 });
    const toast = wb.toasts().filter({ hasText: MSG.trainingProgress }).first();
    // Wait for the first metrics in the message ("12% · about 13 s left · loss … · step 20").
    await wb
      .toasts()
      .filter({ hasText: MSG.trainingProgressMetrics })
      .first()
      .waitFor({ timeout: 60_000 })
      .catch(() => note(`the training notification showed no progress figures (it said ${JSON.stringify(progress)})`));
    log(`  progress: ${JSON.stringify((await toast.innerText().catch(() => progress)).replace(/\s+/g, ' '))}`);
    await wb.page
      .locator('.notification-toast .monaco-progress-container')
      .first()
      .waitFor({ timeout: 5000 })
      .catch(() => note('no progress bar seen in the training notification'));
    await wb.screenshot('training-progress');

    // The curves panel: an SVG chart once the first metrics arrive.
    const view = await wb.webview({ timeout: 60_000 });
    await view.locator('.chart-frame svg, canvas').first().waitFor({ timeout: 90_000 });
    await wb.screenshot('training-curves');

    // Done within the budget (0.25 min of training, plus tokenizer, evaluation and saving).
    const done = await wb.waitForToast(MSG.trainingFinished, { timeout: 150_000, failOn: MSG.trainingFailed });
    const secs = (Date.now() - t0) / 1000;
    log(`  ${JSON.stringify(done)} after ${secs.toFixed(1)} s`);
    await wb.screenshot('training-finished');
    check(secs < 150, `training took ${secs.toFixed(0)} s for a 15 s budget`);
    const banner = (
      await view
        .locator('.banner')
        .first()
        .innerText()
        .catch(() => '')
    ).trim();
    if (!/finished/i.test(banner)) note(`the training panel's banner says ${JSON.stringify(banner)}`);

    // The binary and the oversized document were left out, and the log says why.
    const out = outputChannelText();
    for (const [f, reason] of [
      [BINARY_FILE, SKIP_REASON.binary],
      [BIG_FILE, SKIP_REASON.big],
    ]) {
      const m = out.match(SKIPPED_LINE(path.basename(f)));
      check(m, `the output channel does not say that ${f} was skipped`);
      check(reason.test(m[1]), `${f} was skipped for an unexpected reason: ${m[1]}`);
    }
    const trainedOn = out.match(/training: (\d+) documents: (\d+) for training, (\d+) held out/);
    if (trainedOn && trainedOn[3] === '0')
      note(`no document was held out (${trainedOn[0]}), yet the result reports "held-out" bits/byte: ${done}`);

    // The event-loop lag the extension measured during training, from its line in the output channel.
    const LAG_LINE =
      /event-loop lag during training: p50 ([\d.]+) ms, p99 ([\d.]+) ms, max ([\d.]+) ms \((\d+) samples over (\d+) s\)/;
    let lagLine = null;
    for (let i = 0; i < 20 && !(lagLine = outputChannelText().match(LAG_LINE)); i++) await sleep(250);
    check(lagLine, 'the output channel has no "event-loop lag during training" line');
    const [p50, p99, max, samples, seconds] = lagLine.slice(1).map(Number);
    const proof = { p50_ms: p50, p99_ms: p99, max_ms: max, samples, duration_s: seconds };
    fs.writeFileSync(path.join(artifacts, 'training-lag.json'), JSON.stringify(proof, null, 2));
    state.lagP99 = p99;
    log(`  event-loop lag during training: ${JSON.stringify(proof)}`);

    // (With a textvae.modelPath override in the user settings, TEXTVAE_E2E_MODEL_PATH, the setting
    // would win again at the next engine start; the trained model is active for this session,
    // which is what the "now active" message promises. Nothing here restarts the engine.)
    await wb.clearNotifications();

    // The status bar names the new model.
    const items = await wb.statusBarTexts();
    const modelItem = items.find(([id, text, label]) => /textvae/i.test(id + text + label));
    log(`  status bar: ${JSON.stringify(modelItem)}`);
    check(modelItem, `no TextVAE status bar item: ${JSON.stringify(items)}`);
    check(
      !/\bdefault\b/.test(modelItem[1]) && /model-\d{8}-\d{6}/.test(modelItem[1] + modelItem[2]),
      `the status bar does not show the new model: ${JSON.stringify(modelItem)}`,
    );

    // Compress with it: a code from another model than the default.
    await wb.openFile(FILE);
    const text = fs.readFileSync(path.join(ws, FILE), 'utf8');
    await selectText(wb, text, SENTENCE);
    await wb.runCommand(TITLES.compress);
    await waitForEditor(wb, (t) => /tvae[12]:/.test(t), 'a code from the new model', { timeout: 60_000 });
    const saved = await wb.saveAndRead(FILE);
    const codes = codesIn(saved);
    check(codes.length >= 1, 'no code after compressing with the new model');
    // The model the workspace used before (from the compress scenario, else its manifest).
    const before = state.defaultFingerprint ?? bundleFingerprint(modelPath || path.join(repo, 'models', 'default'));
    log(`  new model's code fingerprint ${codes[0].fp} (before training ${before})`);
    check(codes[0].fp !== before, `the code still comes from the model used before training (${before})`);
    await wb.screenshot('training-new-model-code');

    // A figure to report, not a pass/fail gate: on a shared machine the lag follows the load.
    if (p99 >= LAG_P99_LIMIT_MS)
      note(
        `event-loop lag p99 during training is ${p99} ms (target ${LAG_P99_LIMIT_MS} ms; max ${max} ms; ` +
          `load average ${os
            .loadavg()
            .map((l) => l.toFixed(1))
            .join(' ')} on ${os.cpus().length} cores)`,
      );
  },
};

function bundleFingerprint(dir) {
  return JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')).fingerprint.slice(0, 8);
}
