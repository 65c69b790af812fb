// The @vscode/test-electron suite (test/electron/suite) run offline: code-server loads the
// extension in development mode with extensionTestsPath in a second window, like
// `npm run test:electron` does in VS Code desktop, and reports through the console.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { check, sleep } from '../lib/steps.mjs';

export default {
  name: 'api-suite',
  title: 'test/electron/suite inside code-server (extension development host)',
  timeout: 150_000,
  setup(ws) {
    const dir = path.join(path.dirname(ws), 'ws-api');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'A short note.\n');
  },
  async run({ context, serverUrl, ws, repo, log, artifacts }) {
    const dir = path.join(path.dirname(ws), 'ws-api');
    const remote = (p) => `vscode-remote://${new URL(serverUrl).host}${p}`;
    const payload = [
      ['extensionDevelopmentPath', remote(repo)],
      ['extensionTestsPath', remote(path.join(repo, 'test', 'electron', 'suite', 'index.cjs'))],
    ];
    const page = await context.newPage();
    const lines = [];
    let summary = null;
    page.on('console', (m) => {
      // Extension host console output arrives as "%c INFO color: #33f <text>" or with the text on its own lines.
      const t = m.text().replace(/^%c\s*\w+\s+color:\s*\S+\s*/, '');
      if (/[✔✘]|passed, \d+ failed|test\(s\) failed/.test(t)) lines.push(t.trim());
      const s = t.match(/^(\d+) passed, (\d+) failed$/m);
      if (s) summary = { passed: Number(s[1]), failed: Number(s[2]) };
    });
    try {
      await page.goto(
        `${serverUrl}/?folder=${encodeURIComponent(dir)}&payload=${encodeURIComponent(JSON.stringify(payload))}`,
      );
      for (const end = Date.now() + 140_000; !summary && Date.now() < end;) await sleep(250);
      fs.writeFileSync(path.join(artifacts, 'api-suite.txt'), lines.join('\n') + '\n');
      for (const l of lines) log(`  ${l.split('\n')[0]}`);
      check(summary, `the suite reported no result; console lines: ${JSON.stringify(lines)}`);
      check(summary.failed === 0 && summary.passed > 0, `the suite failed:\n${lines.join('\n')}`);
    } finally {
      await page.close().catch(() => {});
    }
  },
};
