/**
 * `npm run test:hardening`: tries every entry point with bad input and faults, prints one table
 * (cases tried, handled, data lost, hangs) and exits non-zero unless every case was handled.
 * Inputs come from a seeded generator; TEXTVAE_HARDENING_SEED=<seed> replays a run.
 * TEXTVAE_HARDENING_ONLY=<group words> runs the groups whose name contains them (for debugging).
 * Time limits only detect hangs: they are generous and never performance assertions.
 */
import { ensureCliBuilt } from '../helpers/cli';
import { setupBackend } from '../helpers/engine';
import { bundleCases } from './bundles';
import { cliCases, codeCases, losslessCases } from './cli';
import { displayCases } from './display';
import { makeFixture } from './fixtures';
import { Inputs, runAll, suiteSeed, table, type Case, type CaseResult } from './harness';
import { killCases } from './kill';
import { workerCases } from './worker';

async function main(): Promise<number> {
  const seed = suiteSeed();
  const only = process.env.TEXTVAE_HARDENING_ONLY?.toLowerCase();
  const wanted = (group: string) => !only || group.toLowerCase().includes(only);
  process.stdout.write(
    `hardening suite, seed ${seed} (replay: TEXTVAE_HARDENING_SEED=${seed} npm run test:hardening)\n`,
  );
  ensureCliBuilt();
  await setupBackend();
  const fixture = await makeFixture();
  const inputs = new Inputs(seed);
  const results: CaseResult[] = [];
  const report = (r: CaseResult) => {
    const mark = r.verdict === 'handled' ? 'ok  ' : 'FAIL';
    process.stdout.write(
      `${mark} ${r.group}: ${r.name} (${(r.ms / 1000).toFixed(1)} s)${r.verdict === 'handled' ? '' : ` [${r.verdict}]`}: ${r.detail ?? ''}\n`,
    );
  };
  // Independent processes run two at a time; the in-process and worker groups one at a time.
  const run = async (cases: Case[], parallel: number) => {
    const chosen = cases.filter((c) => wanted(c.group));
    results.push(...(await runAll(chosen, parallel, report)));
  };
  await run(displayCases(inputs), 1);
  await run(await codeCases(fixture, inputs), 2);
  if (wanted('lossless codes')) await run(await losslessCases(fixture, inputs), 2);
  await run(bundleCases(fixture, inputs), 2);
  await run(cliCases(fixture, inputs), 2);
  await run(killCases(fixture, inputs), 1);
  if (wanted('worker') || wanted('cancel')) {
    const worker = await workerCases(fixture, inputs);
    try {
      await run(worker.cases, 1);
    } finally {
      worker.close();
    }
  }
  process.stdout.write(`\n${table(results)}\n\nseed ${seed}\n`);
  const failed = results.filter((r) => r.verdict !== 'handled');
  for (const r of failed) process.stdout.write(`${r.verdict}: ${r.group}: ${r.name}: ${r.detail ?? ''}\n`);
  return failed.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(
      `hardening suite could not run: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(2);
  },
);
