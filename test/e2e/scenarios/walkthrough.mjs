// The Get Started walkthrough: it lists its steps, a step's markdown shows its screenshot, and
// its buttons run the commands: Open a Sample Text, then Compress Selection and Reconstruct from
// Code, clicked in the walkthrough (the focus is there, so no text editor is active: the commands
// work on the visible sample).
import { CODE_RE } from '../messages.mjs';

const hasCode = (t) => t.search(CODE_RE) >= 0;
import { check, sleep } from '../lib/steps.mjs';

const WALKTHROUGH = 'Get Started with TextVAE';
const STEPS = [
  'Compress a selection to a latent code',
  'Reconstruct text from a code',
  'Sample and interpolate',
  'Train on your workspace',
  'Native speed (optional)',
];

export default {
  name: 'walkthrough',
  title: 'the Get Started walkthrough: steps, images, buttons',
  vsix: 'also',
  timeout: 120_000,
  async run({ wb, page, log }) {
    await wb.runCommand('Welcome: Open Walkthrough...');
    await wb.pickQuickItem(new RegExp(WALKTHROUGH));
    const container = page.locator('.gettingStartedContainer');
    await container.getByText(WALKTHROUGH).first().waitFor({ timeout: 30_000 });
    const text = (await container.innerText()).replace(/\s+/g, ' ');
    const missing = STEPS.filter((s) => !text.includes(s));
    check(
      missing.length === 0,
      `the walkthrough does not show the steps ${JSON.stringify(missing)}: ${text.slice(0, 500)}`,
    );

    // The first step is open: its markdown media shows the screenshot (loaded, not broken).
    const media = await wb.webview({ timeout: 30_000 });
    const img = media.locator('img').first();
    await img.waitFor({ timeout: 30_000 });
    let loaded = false;
    for (let i = 0; i < 50 && !loaded; i++) {
      loaded = await img.evaluate((el) => el.complete && el.naturalWidth > 0).catch(() => false);
      if (!loaded) await sleep(200);
    }
    check(loaded, `the step's image did not load: ${await img.getAttribute('src')}`);
    await wb.screenshot('walkthrough');

    // Its buttons: a sample text, selected; then Compress Selection turns it into a code.
    await container
      .locator('.getting-started-step.expanded a, .getting-started-step.expanded .button-link', {
        hasText: 'Open a Sample Text',
      })
      .first()
      .click();
    await page
      .locator('.tabs-container .tab', { hasText: /Untitled/ })
      .first()
      .waitFor({ timeout: 15_000 });
    // The first sentence is selected once the status bar counts it.
    for (let i = 0; i < 75; i++) {
      const items = await wb.statusBarTexts();
      if (items.some(([, t]) => /\(\d+ selected\)/.test(t))) break;
      await sleep(200);
    }
    const button = (text) =>
      container
        .locator('.getting-started-step.expanded a, .getting-started-step.expanded .button-link', { hasText: text })
        .first();
    await button('Compress Selection').click();
    const waitFor = async (ok) => {
      const end = Date.now() + 90_000;
      let t = '';
      while (Date.now() < end) {
        // The walkthrough's group is the active one: read the sample's editor beside it.
        t = await page
          .locator('.editor-group-container .monaco-editor .view-lines')
          .first()
          .innerText()
          .catch(() => '');
        if (ok(t)) break;
        await sleep(300);
      }
      return t;
    };
    let editorText = await waitFor(hasCode);
    check(hasCode(editorText), `the sample's first sentence did not become a code: ${editorText.slice(0, 200)}`);
    log(`  sample compressed: ${editorText.split('\n')[0].slice(0, 80)}`);
    // The next step's button turns the code (the selection after the edit) back into text.
    await container.getByText(STEPS[1]).first().click();
    await button('Reconstruct from Code').click();
    editorText = await waitFor((t) => !hasCode(t));
    check(!hasCode(editorText), `the code was not reconstructed: ${editorText.slice(0, 200)}`);
    log(`  code reconstructed: ${editorText.split('\n')[0].slice(0, 80)}`);
    // The sample is an untitled document: close it without the save prompt.
    await wb.runCommand('View: Revert and Close Editor');
  },
};
