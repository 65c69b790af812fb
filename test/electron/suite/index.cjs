// Entry point @vscode/test-electron loads inside the extension host (extensionTestsPath).
// A tiny sequential runner: no test framework to install, readable output, rejects on failure.
const path = require('node:path');

async function run() {
  const files = ['textvae.test.cjs'];
  const tests = [];
  for (const f of files) {
    const mod = require(path.join(__dirname, f));
    for (const [name, fn] of Object.entries(mod.tests)) tests.push({ name: `${f}: ${name}`, fn });
  }
  const failures = [];
  for (const t of tests) {
    const t0 = Date.now();
    try {
      await withTimeout(t.fn(), 120_000, t.name);
      console.log(`  ✔ ${t.name} (${Date.now() - t0} ms)`);
    } catch (err) {
      failures.push(t.name);
      console.error(`  ✘ ${t.name} (${Date.now() - t0} ms)\n${(err && err.stack) || err}`);
    }
  }
  console.log(`\n${tests.length - failures.length} passed, ${failures.length} failed`);
  if (failures.length) throw new Error(`${failures.length} test(s) failed: ${failures.join(', ')}`);
}

function withTimeout(promise, ms, name) {
  let timer;
  return Promise.race([
    Promise.resolve(promise).finally(() => clearTimeout(timer)),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${name} timed out after ${ms} ms`)), ms);
    }),
  ]);
}

module.exports = { run };
