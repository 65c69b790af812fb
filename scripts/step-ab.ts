/**
 * Two checkouts' training steps side by side in one process (issue 8, target 5): the steadiest
 * before/after comparison on a shared machine, where load changes from one second to the next.
 *
 *   node --import tsx scripts/step-ab.ts --a ../textvae-before --b . --steps 40
 *
 * Each checkout (a worktree of the commit to compare; its node_modules may be a link to this one's)
 * loads its own src/core; both run on this process's tfjs and tensorflow backend. The two models
 * get the same configuration (--model's, in checkout a) and the same batch of full-length random
 * tokens, and their steps alternate (a b, b a, ...), so that neighbouring steps see the same
 * load. It prints each side's median and quickest wall time, its median CPU time (all threads;
 * load stretches it far less than wall time) and the ratios b/a, and every fourth pair the matmul
 * rate of scripts/matmul-bench.ts (512 and the model's products). A benchmark, not a test.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend } from '../src/core/backend';
import { loadBundle } from '../src/core/bundle';
import { parameterCount } from '../src/core/model';
import { Random } from '../src/core/random';
import { measureMatmuls } from './matmul-bench';

type Step = () => Promise<unknown>;

/** A training step of the code in `dir`, on a fresh model of `config` and the given tokens. */
async function stepOf(dir: string, config: unknown, tokens: number[][]): Promise<Step> {
  const core = (name: string) => import(path.join(path.resolve(dir), 'src', 'core', `${name}.ts`));
  const [m, o, t] = await Promise.all([core('model'), core('optimizer'), core('train')]);
  let model;
  // Each checkout's model module counts its models from 1 to name their variables: the second
  // checkout's first name is taken, and its next try gets a fresh one.
  for (let tries = 0; !model; tries++) {
    try {
      model = new m.TextVaeModel(config, undefined, 1);
    } catch (err) {
      if (tries > 8) throw err;
    }
  }
  const optimizer = new o.Adam({ clipNorm: 1 });
  const vars = model.trainableVariables();
  const rng = new Random(2);
  const c = config as { maxTokens: number; latentDim: number };
  return () =>
    t.trainStep(
      model,
      optimizer,
      vars,
      m.makeBatch(
        tokens,
        tokens.map((x) => x.length * 3),
        c.maxTokens,
        t.TRAIN_DEFAULTS.tokenDropout,
        rng,
      ),
      1e-4,
      {
        beta: 1,
        freeNatsPerDim: t.TRAIN_DEFAULTS.freeNatsPerDim,
        l1Weight: 0,
        noise: rng.normals(tokens.length * c.latentDim),
        autoencoderPhase: false,
      },
    );
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      a: { type: 'string' },
      b: { type: 'string', default: '.' },
      model: { type: 'string', default: 'models/default' },
      steps: { type: 'string', default: '40' },
      batch: { type: 'string', default: '32' },
    },
  });
  if (!values.a) throw new Error('--a DIR (the checkout to compare against) is required');
  const dirs = [values.a, values.b];
  await initBackend('tensorflow');
  const config = (await loadBundle(path.join(values.a, values.model))).config;
  const B = Number(values.batch);
  const n = Number(values.steps);
  const rng = new Random(1);
  const tokens = Array.from({ length: B }, () =>
    Array.from({ length: config.maxTokens }, () => 4 + rng.int(config.vocabSize - 4)),
  );
  const steps: Step[] = [];
  for (const dir of dirs) steps.push(await stepOf(dir, config, tokens));
  for (let i = 0; i < 3; i++) for (const step of steps) await step();
  const cpuMs = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  const wall: number[][] = [[], []];
  const cpu: number[][] = [[], []];
  const rates: number[] = [];
  const loadBefore = os.loadavg()[0];
  for (let i = 0; i < n; i++) {
    for (const s of i % 2 ? [1, 0] : [0, 1]) {
      const t0 = performance.now();
      const c0 = cpuMs();
      await steps[s]();
      wall[s].push(performance.now() - t0);
      cpu[s].push(cpuMs() - c0);
    }
    if (i % 4 === 3) rates.push(Math.max(...(await measureMatmuls([512], 0.2)).map((r) => r.gflops)));
  }
  const flop = 6 * parameterCount(config) * B * (config.maxTokens + 1);
  const f = (x: number, d = 1) => x.toFixed(d);
  const lines = [0, 1].map((s) => {
    const med = median(wall[s]);
    return `${'ab'[s]} ${dirs[s]}: step ${f(med)} ms median (quickest ${f(Math.min(...wall[s]))}), CPU ${f(median(cpu[s]))} ms; training ${f(flop / (med * 1e6))} GFLOP/s, ${f((100 * flop) / (med * 1e6) / median(rates), 0)}% of the matmul rate`;
  });
  const ratio = (xs: number[][], g: (v: number[]) => number) => f(g(xs[1]) / g(xs[0]), 3);
  process.stdout.write(
    [
      ...lines,
      `b/a: step median ${ratio(wall, median)}, quickest ${ratio(wall, (v) => Math.min(...v))}, CPU median ${ratio(cpu, median)}`,
      `matmul rate ${f(median(rates))} GFLOP/s (median of ${rates.length}); load average ${f(loadBefore, 2)} before, ${f(os.loadavg()[0], 2)} after (${os.cpus().length} cores)`,
      '',
    ].join('\n'),
  );
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

main().catch((err: unknown) => {
  process.stderr.write(`step-ab: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
