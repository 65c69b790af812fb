// a. Compress a sentence to latent codes, reconstruct text from them, undo both: the file is back.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TITLES } from '../messages.mjs';
import { check, codesIn, cursorAt, selectText, waitForEditor } from '../lib/steps.mjs';
import { fixtureDoc } from '../lib/workspace.mjs';

const FILE = 'notes/compress.txt';
const SENTENCE = 'Assignment in Python binds a name to an object; it never copies\nthe object itself.';

export default {
  name: 'compress-reconstruct',
  title: 'compress a sentence, reconstruct it, undo twice',
  timeout: 120_000,
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
  },
};
