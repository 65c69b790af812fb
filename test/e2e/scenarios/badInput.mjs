// d. Bad input to every command: the user gets a clear message and nothing breaks.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MSG, TITLES } from '../messages.mjs';
import { check, codesIn, cursorAt, selectText, sleep, waitForEditor } from '../lib/steps.mjs';
import { fixtureDoc } from '../lib/workspace.mjs';

const FILE = 'notes/errors.txt';
const SENTENCE = 'A short script is often the quickest way to try an idea.';

/** Runs `title` and waits for a notification matching `re`; returns its text. */
async function expectMessage(wb, title, re, log) {
  await wb.clearNotifications();
  await wb.runCommand(title);
  const text = await wb.waitForToast(re, { timeout: 30_000 });
  log(`  ${title} -> ${JSON.stringify(text)}`);
  return text;
}

export default {
  name: 'bad-input',
  title: 'bad input to each command gives a clear message',
  timeout: 180_000,
  setup(ws) {
    fs.copyFileSync(fixtureDoc('tutorial/why.rst'), path.join(ws, FILE));
    // A folder that is not a model bundle (documents, no manifest.json).
    fs.mkdirSync(path.join(ws, 'not-a-model'), { recursive: true });
    fs.writeFileSync(
      path.join(ws, 'not-a-model', 'readme.md'),
      '# Not a model\n\nJust a folder with a document in it.\n',
    );
  },
  async run({ wb, ws, log, note, setWorkspaceSettings }) {
    const file = path.join(ws, FILE);
    const original = fs.readFileSync(file, 'utf8');
    await wb.openFile(FILE);

    // 1. Compress with nothing selected.
    await wb.gotoLine(3, 1);
    await expectMessage(wb, TITLES.compress, MSG.emptySelection, log);
    await wb.screenshot('bad-compress-empty-selection');

    // 2. Reconstruct from Code where the document has no code.
    await wb.gotoLine(8, 5);
    await expectMessage(wb, TITLES.reconstructFromCode, MSG.noCode, log);
    await wb.screenshot('bad-reconstruct-no-code');

    // 3. A corrupted code: compress a sentence, flip one character of the code, reconstruct.
    await wb.clearNotifications();
    await selectText(wb, original, SENTENCE);
    await wb.runCommand(TITLES.compress);
    await waitForEditor(wb, (t) => /tvae[12]:/.test(t), 'a latent code', { timeout: 60_000 });
    const withCode = await wb.saveAndRead(FILE);
    const [code] = codesIn(withCode);
    check(code, 'no code to corrupt');
    const i = code.start + 'tvae1:12345678:'.length + 4; // a payload character
    const flipped = withCode[i] === 'A' ? 'B' : 'A';
    await wb.selectRange(...Object.values(posOf(withCode, i)), 1);
    await wb.page.keyboard.type(flipped);
    const corrupted = await wb.saveAndRead(FILE);
    check(corrupted[i] === flipped && codesIn(corrupted).length >= 1, 'could not corrupt the code with the keyboard');
    await cursorAt(wb, corrupted, code.start + 3);
    const corruptMsg = await expectMessage(wb, TITLES.reconstructFromCode, MSG.corruptCode, log);
    await wb.screenshot('bad-reconstruct-corrupt-code');
    check(fs.readFileSync(file, 'utf8') === corrupted, 'a corrupt code still changed the document');
    void corruptMsg;

    // 4. Reconstruct Selection with nothing selected.
    await wb.gotoLine(3, 1);
    await expectMessage(wb, TITLES.reconstructSelection, MSG.reconstructEmptySelection, log);
    await wb.screenshot('bad-reconstruct-selection-empty');

    // 5. A folder that is not a model (textvae.modelPath in the workspace settings).
    await wb.clearNotifications();
    setWorkspaceSettings({ 'textvae.modelPath': path.join(ws, 'not-a-model') });
    await sleep(1500); // the configuration watcher
    await wb.runCommand(TITLES.showModelInfo);
    const badModel = await wb.waitForToast(MSG.badModel, { timeout: 30_000 });
    log(`  bad model folder -> ${JSON.stringify(badModel)}`);
    await wb.screenshot('bad-model-folder');
    // And back to the good model.
    setWorkspaceSettings({ 'textvae.modelPath': undefined });
    await sleep(1500);
    await wb.clearNotifications();
    await wb.runCommand(TITLES.showModelInfo);
    const goodInfo = await wb.waitForToast(MSG.modelInfo, { timeout: 60_000 });
    await wb.clearNotifications();

    // 6. Select Model > Browse… to the same folder (code-server's own folder picker).
    await wb.runCommand(TITLES.selectModel);
    await wb.pickQuickItem(/Browse/);
    await wb.fileDialogAccept(path.join(ws, 'not-a-model'), 'Use Model');
    const selectMsg = await wb.waitForToast(MSG.selectModelBadFolder, { timeout: 30_000 });
    log(`  Select Model > Browse… not-a-model -> ${JSON.stringify(selectMsg)}`);
    await wb.screenshot('bad-select-model-browse');
    await wb.clearNotifications();
    // The model that was active stays active.
    await wb.runCommand(TITLES.showModelInfo);
    const after = await wb.waitForToast(MSG.modelInfo, { timeout: 30_000 });
    check(
      after.match(MSG.modelInfo)[0] === goodInfo.match(MSG.modelInfo)[0],
      `after a failed Select Model the active model changed: ${after}`,
    );
    await wb.clearNotifications();

    // 6. Generator: Interpolate with an empty From.
    await wb.runCommand(TITLES.openGenerator);
    const view = await wb.webview();
    await view.getByRole('button', { name: 'Interpolate', exact: true }).waitFor({ timeout: 30_000 });
    await view.getByLabel('From', { exact: true }).fill('');
    await view.getByLabel('To', { exact: true }).fill('The end of the story.');
    await view.getByRole('button', { name: 'Interpolate', exact: true }).click();
    const alert = view.getByRole('alert');
    await alert.filter({ hasText: MSG.interpolateEmptyFrom }).first().waitFor({ timeout: 10_000 });
    log(`  generator, empty From -> ${JSON.stringify((await alert.innerText()).trim())}`);
    await wb.screenshot('bad-generator-empty-from');
    const results = await view.locator('ol.results.interpolation li').count();
    check(results === 0, `Interpolate with an empty From still produced ${results} results`);
    void note;
  },
};

function posOf(text, offset) {
  const before = text.slice(0, offset);
  return { line: before.split('\n').length, column: offset - (before.lastIndexOf('\n') + 1) + 1 };
}
