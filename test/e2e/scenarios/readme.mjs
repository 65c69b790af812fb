// The packaged extension's details page (Extensions view › TextVAE): the README with its
// screenshots, which must resolve from inside the .vsix (packaged with --no-rewrite-relative-links).
import { check, sleep } from '../lib/steps.mjs';

export default {
  name: 'readme',
  title: 'the extension details page shows the README and its screenshots',
  vsix: 'only',
  timeout: 120_000,
  async run({ wb, page, log }) {
    await page.locator('.activitybar .action-label[aria-label^="Extensions"]').first().click();
    const item = page.locator('.extensions-viewlet .monaco-list-row', { hasText: 'TextVAE' }).first();
    await item.click({ timeout: 30_000 });
    const readme = await wb.webview({ timeout: 30_000 });
    await readme.locator('img').first().waitFor({ timeout: 30_000 });
    let images = [];
    for (let i = 0; i < 50; i++) {
      images = await readme
        .locator('img')
        .evaluateAll((els) => els.map((e) => ({ src: e.getAttribute('src'), ok: e.complete && e.naturalWidth > 0 })));
      if (images.length && images.every((x) => x.ok)) break;
      await sleep(200);
    }
    const broken = images.filter((x) => !x.ok).map((x) => x.src);
    check(images.length >= 4, `the README shows ${images.length} images`);
    check(broken.length === 0, `README images that do not load: ${JSON.stringify(broken)}`);
    await readme.locator('img').nth(0).scrollIntoViewIfNeeded();
    await wb.screenshot('readme-details');
    log(`  ${images.length} README images load in the details page`);
  },
};
