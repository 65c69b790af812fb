// c. The generator panel: Sample, Interpolate, Insert a result into the editor.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TITLES } from '../messages.mjs';
import { check, sleep } from '../lib/steps.mjs';

const FILE = 'notes/generated.txt';
const HEADER = 'Generated paragraphs\n\n';

export default {
  name: 'generator',
  title: 'Open Generator: Sample, Interpolate, Insert',
  timeout: 150_000,
  setup(ws) {
    fs.writeFileSync(path.join(ws, FILE), HEADER);
  },
  async run({ wb, log }) {
    await wb.openFile(FILE);
    await wb.gotoLine(3, 1); // the insertion point: the empty last line
    await wb.runCommand(TITLES.openGenerator);
    const view = await wb.webview();
    const sampleButton = view.getByRole('button', { name: 'Sample', exact: true });
    await sampleButton.waitFor({ timeout: 30_000 });
    // The count the form starts with (textvae.sampling.count, 3 by default).
    const countInput = view.getByLabel('Count', { exact: true });
    let n = Number(await countInput.inputValue().catch(() => '')) || 0;
    if (!n) {
      n = 3;
      await countInput.fill(String(n)).catch(() => {});
    }
    await view.locator('.model .model-name').first().waitFor({ timeout: 60_000 });

    // Sample.
    await sampleButton.click();
    const samples = view.locator('ol.results:not(.interpolation) > li');
    await waitForCount(samples, n, 90_000, 'samples');
    const sampleTexts = await samples.locator('.result-text').allTextContents();
    log(`  ${sampleTexts.length} samples: ${sampleTexts.map((t) => JSON.stringify(t.slice(0, 50))).join(', ')}`);
    check(sampleTexts.length === n, `expected ${n} samples, got ${sampleTexts.length}`);
    for (const t of sampleTexts)
      check(t.trim() !== '' && t.trim() !== '(empty)', `an empty sample: ${JSON.stringify(sampleTexts)}`);
    await view
      .locator('#results-heading')
      .evaluate((el) => el.scrollIntoView({ block: 'start' }))
      .catch(() => {});
    await wb.screenshot('generator-samples');

    // Interpolate.
    await view.getByLabel('From', { exact: true }).fill('Python is an easy to learn, powerful programming language.');
    await view.getByLabel('To', { exact: true }).fill('The interpreter reads commands from standard input.');
    const stepsInput = view.getByLabel('Steps', { exact: true });
    const steps = Number(await stepsInput.inputValue().catch(() => '')) || 5;
    await view.getByRole('button', { name: 'Interpolate', exact: true }).click();
    const interp = view.locator('ol.results.interpolation > li');
    await waitForCount(interp, steps, 90_000, 'interpolation steps');
    const stepTexts = await interp.locator('.result-text').allTextContents();
    log(`  ${stepTexts.length} interpolation steps`);
    check(stepTexts.length === steps, `expected ${steps} interpolation steps, got ${stepTexts.length}`);
    await view
      .locator('#results-heading')
      .evaluate((el) => el.scrollIntoView({ block: 'start' }))
      .catch(() => {});
    await wb.screenshot('generator');

    // Insert the first sample into the editor.
    // The editor turns a lone CR (or CRLF) into the document's line end (LF here).
    const first = sampleTexts[0].replace(/\r\n?/g, '\n');
    await samples
      .first()
      .getByRole('button', { name: /^Insert/ })
      .click();
    await sleep(500);
    await wb.runCommand('View: Focus First Editor Group');
    await wb.activeTab('generated.txt').waitFor({ timeout: 10_000 });
    let saved = '';
    for (const end = Date.now() + 15_000; Date.now() < end; await sleep(500)) {
      saved = await wb.saveAndRead(FILE);
      if (saved !== HEADER) break;
    }
    await wb.screenshot('generator-inserted');
    check(saved.startsWith(HEADER), `Insert changed the text that was there: ${JSON.stringify(saved.slice(0, 200))}`);
    check(
      saved.includes(first),
      `the inserted sample is not in the file: file ${JSON.stringify(saved)}; sample ${JSON.stringify(first)}`,
    );
  },
};

async function waitForCount(locator, n, timeout, what) {
  const end = Date.now() + timeout;
  for (;;) {
    const c = await locator.count();
    if (c >= n) return c;
    if (Date.now() > end) throw new Error(`expected ${n} ${what} in the generator, saw ${c} after ${timeout / 1000} s`);
    await sleep(250);
  }
}
