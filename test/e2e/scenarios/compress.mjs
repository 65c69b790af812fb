// a. Compress a sentence to latent codes, reconstruct text from them, undo both: the file is back.
// The notice that follows Compress says how the codes reconstruct (and quotes what Reconstruct from
// Code then gives); its Undo brings the sentence back, its Use Lossless Code swaps in a tvz2: code.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MSG, TITLES } from '../messages.mjs';
import { check, codesIn, cursorAt, selectText, waitForEditor } from '../lib/steps.mjs';
import { fixtureDoc } from '../lib/workspace.mjs';

const FILE = 'notes/compress.txt';
const SENTENCE = 'Assignment in Python binds a name to an object; it never copies\nthe object itself.';

export default {
  name: 'compress-reconstruct',
  title: 'compress a sentence, reconstruct it, undo twice; the notice: Undo, Use Lossless Code',
  timeout: 240_000,
  setup(ws) {
    fs.copyFileSync(fixtureDoc('library/copying.rst'), path.join(ws, FILE));
  },
  async run({ wb, ws, state, log }) {
    const original = fs.readFileSync(path.join(ws, FILE), 'utf8');
    await wb.openFile(FILE);
    const at = await selectText(wb, original, SENTENCE);
    await wb.runCommand(TITLES.compress);

    // The first command starts the engine and loads the model: allow for that.
    await waitForEditor(wb, (t) => /tvae[12]:/.test(t), 'latent codes', { timeout: 60_000 });
    const compressed = await wb.saveAndRead(FILE);
    await wb.screenshot('compress-codes');
    const codes = codesIn(compressed);
    check(codes.length >= 1, `no latent code in the saved file: ${JSON.stringify(compressed.slice(0, 400))}`);
    const before = original.slice(0, at);
    const after = original.slice(at + SENTENCE.length);
    check(compressed.startsWith(before) && compressed.endsWith(after), 'Compress changed text outside the selection');
    const replaced = compressed.slice(before.length, compressed.length - after.length);
    check(
      /^tvae[12]:[0-9a-f]{8}:[A-Za-z0-9_-]+(\s+tvae[12]:[0-9a-f]{8}:[A-Za-z0-9_-]+)*$/.test(replaced),
      `the selection was not replaced by codes only: ${JSON.stringify(replaced)}`,
    );
    check(!compressed.includes('never copies'), 'the sentence is still in the file');
    const fps = new Set(codes.map((c) => c.fp));
    check(fps.size === 1, `codes from several models: ${[...fps]}`);
    state.defaultFingerprint = [...fps][0];
    log(`  ${codes.length} code(s), model ${state.defaultFingerprint}: ${replaced.slice(0, 80)}…`);
    // Measured after the edit: the codes decoded with the user's settings.
    const notice = await wb.waitForToast(MSG.fidelityNotice, { timeout: 60_000, failOn: MSG.fidelityUnchecked });
    log(`  notice: ${JSON.stringify(notice)}`);
    await wb.screenshot('compress-fidelity-notice');

    // Reconstruct with the cursor on the first code.
    await cursorAt(wb, compressed, codes[0].start + 8);
    await wb.runCommand(TITLES.reconstructFromCode);
    await waitForEditor(wb, (t) => !/tvae[12]:/.test(t), 'the codes replaced by text', { timeout: 60_000 });
    const reconstructed = await wb.saveAndRead(FILE);
    await wb.screenshot('compress-reconstructed');
    check(codesIn(reconstructed).length === 0, 'codes left after Reconstruct from Code');
    check(
      reconstructed.startsWith(before) && reconstructed.endsWith(after),
      'Reconstruct changed text outside the codes',
    );
    const text = reconstructed.slice(before.length, reconstructed.length - after.length);
    check(text.trim().length > 0, 'the codes were replaced by empty text');
    log(`  reconstructed: ${JSON.stringify(text.slice(0, 120))}`);
    // The notice quoted the start of what Reconstruct from Code gives (same decoding settings).
    const quoted = /“([^”]*)”/.exec(notice)?.[1];
    if (quoted !== undefined) {
      const flat = text.replace(/\s+/g, ' ').trim();
      check(
        flat.startsWith(quoted.replace(/…$/, '')),
        `the notice quoted ${JSON.stringify(quoted)}, not the reconstruction`,
      );
    } else check(text === SENTENCE, `the notice said the codes reconstruct exactly; they gave ${JSON.stringify(text)}`);

    // Two undos: first the reconstruction, then the compression.
    await wb.focusEditor();
    await wb.undo(1);
    await waitForEditor(wb, (t) => /tvae[12]:/.test(t), 'the codes again after one undo', { timeout: 10_000 });
    await wb.undo(1);
    await waitForEditor(wb, (t) => t.includes('never copies'), 'the original sentence after two undos', {
      timeout: 10_000,
    });
    const restored = await wb.saveAndRead(FILE);
    check(
      restored === original,
      `after two undos the file differs from the original (${restored.length} vs ${original.length} chars)`,
    );

    // Compress again; the notice's Undo puts the sentence back as it was.
    const compressAgain = async (what) => {
      await wb.clearNotifications();
      await selectText(wb, original, SENTENCE);
      await wb.runCommand(TITLES.compress);
      await waitForEditor(wb, (t) => /tvae[12]:/.test(t), `latent codes (${what})`, { timeout: 60_000 });
      await wb.waitForToast(MSG.fidelityNotice, { timeout: 60_000, failOn: MSG.fidelityUnchecked });
    };
    await compressAgain("before the notice's Undo");
    await wb.clickNotificationButton(MSG.fidelityNotice, 'Undo');
    await waitForEditor(wb, (t) => t.includes('never copies'), "the sentence after the notice's Undo", {
      timeout: 15_000,
    });
    const undone = await wb.saveAndRead(FILE);
    check(undone === original, `after the notice's Undo the file differs from the original`);

    // Use Lossless Code: one tvz2: code in place of the latent codes; it gives back the sentence exactly.
    await compressAgain('before Use Lossless Code');
    await wb.clickNotificationButton(MSG.fidelityNotice, 'Use Lossless Code');
    await waitForEditor(wb, (t) => /tvz2:/.test(t) && !/tvae[12]:/.test(t), 'a lossless code instead', {
      timeout: 60_000,
    });
    const lossless = await wb.saveAndRead(FILE);
    check(lossless.startsWith(before) && lossless.endsWith(after), 'Use Lossless Code changed text outside the codes');
    const exactCode = lossless.slice(before.length, lossless.length - after.length);
    check(/^tvz2:\S+$/.test(exactCode), `not one lossless code in place of the sentence: ${JSON.stringify(exactCode)}`);
    log(`  lossless code: ${exactCode.length} characters`);
    await cursorAt(wb, lossless, before.length + 3);
    await wb.runCommand(TITLES.reconstructFromCode);
    await waitForEditor(wb, (t) => t.includes('never copies'), 'the sentence from the lossless code', {
      timeout: 60_000,
    });
    check((await wb.saveAndRead(FILE)) === original, 'the lossless code did not give back the file exactly');
  },
};
