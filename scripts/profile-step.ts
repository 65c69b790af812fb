/**
 * Where the time of one training step goes (issue 8, target 5), next to the matmul rate this
 * process measures.
 *
 *   node --import tsx scripts/profile-step.ts                         # DEFAULT_CONFIG on tensorflow
 *   node --import tsx scripts/profile-step.ts --model models/default --rounds 5 --steps 3
 *   node --import tsx scripts/profile-step.ts --model models/default --backend wasm --rounds 2 --steps 1
 *   node --import tsx scripts/profile-step.ts --model models/default --shapes 30   # also the 30 costliest kernel shapes
 *
 * It builds the model (the configuration of --model's bundle, else DEFAULT_CONFIG) with fresh
 * weights and runs the trainer's own step (trainStep) on batches of random tokens of full length.
 * After a warm-up it alternates, --rounds times, between timing --steps steps and measuring the
 * matmul cases of scripts/matmul-bench.ts (512 and the model's own products), so that both see the
 * same load on a shared machine; it reports the medians and the ratio of each round, and the
 * step's CPU time (which load stretches far less than wall time) against the CPU time of the
 * model's own convolution product. Then it
 * profiles one step with tf.profile: time per kernel, matmul FLOP from the kernels' shapes, the
 * optimizer's share (profiled on its own), and the step's wall time that no kernel accounts for
 * (JavaScript, tensor bookkeeping, gradient tape). A benchmark, not a test: nothing is asserted.
 */
import * as os from 'node:os';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, type BackendRequest } from '../src/core/backend';
import { loadBundle } from '../src/core/bundle';
import { DEFAULT_CONFIG, TextVaeModel, makeBatch, parameterCount } from '../src/core/model';
import { Adam } from '../src/core/optimizer';
import { Random } from '../src/core/random';
import { objective } from '../src/core/objective';
import { trainStep, TRAIN_DEFAULTS } from '../src/core/train';
import type { ModelConfig } from '../src/core/types';
import { measureMatmuls } from './matmul-bench';

// Products: matmuls, and the dilated convolution that computes tapsConv's input gradient (ops.ts).
const MATMUL_KERNELS = new Set(['BatchMatMul', '_FusedMatMul', 'MatMul', 'TextVaeConv2D']);

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      backend: { type: 'string', default: 'tensorflow' },
      model: { type: 'string' },
      steps: { type: 'string', default: '3' },
      rounds: { type: 'string', default: '5' },
      batch: { type: 'string', default: String(TRAIN_DEFAULTS.batchSize) },
      shapes: { type: 'string', default: '0' },
    },
  });
  const report = await initBackend(values.backend as BackendRequest);
  const config: ModelConfig = values.model ? (await loadBundle(values.model)).config : DEFAULT_CONFIG;
  const steps = Number(values.steps);
  const rounds = Number(values.rounds);
  const B = Number(values.batch);
  const loadBefore = os.loadavg()[0];
  const rng = new Random(1);
  const model = new TextVaeModel(config, undefined, 1);
  const optimizer = new Adam({ clipNorm: 1 });
  const vars = model.trainableVariables();
  // Full-length examples: the case that sets the step's cost.
  const tokens = Array.from({ length: B }, () =>
    Array.from({ length: config.maxTokens }, () => 4 + rng.int(config.vocabSize - 4)),
  );
  const batchOf = () =>
    makeBatch(
      tokens,
      tokens.map((t) => t.length * 3),
      config.maxTokens,
      TRAIN_DEFAULTS.tokenDropout,
      rng,
    );
  const objectiveOptions = () => ({
    beta: 1,
    freeNatsPerDim: TRAIN_DEFAULTS.freeNatsPerDim,
    l1Weight: 0,
    noise: rng.normals(B * config.latentDim),
    autoencoderPhase: false,
  });
  const step = () => trainStep(model, optimizer, vars, batchOf(), 1e-4, objectiveOptions());
  for (let i = 0; i < 3; i++) await step();
  const parameters = parameterCount(config);
  const tokensPerStep = B * (config.maxTokens + 1);
  const flopPerStep = 6 * parameters * tokensPerStep;
  // Rounds of steps and matmuls, alternating: the load of a shared machine changes by the second.
  // CPU time (all threads of this process) hardly changes with the load that stretches wall time:
  // the step's GFLOP per CPU-second next to that of the model's own product is the steadier figure.
  const cpuMs = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  const convA = tf.randomNormal([tokensPerStep, config.kernelSize * config.modelDim]) as tf.Tensor2D;
  const convW = tf.randomNormal([config.kernelSize * config.modelDim, config.modelDim]) as tf.Tensor2D;
  const convFlop = 2 * convA.shape[0] * convA.shape[1] * convW.shape[1];
  const stepMsPerRound: number[] = [];
  const stepCpuMsPerRound: number[] = [];
  const convCpuMsPerRound: number[] = [];
  const peakPerRound: number[] = [];
  const convPerRound: number[] = [];
  let peakLabel = '';
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    const c0 = cpuMs();
    for (let i = 0; i < steps; i++) await step();
    stepMsPerRound.push((performance.now() - t0) / steps);
    stepCpuMsPerRound.push((cpuMs() - c0) / steps);
    const c1 = cpuMs();
    for (let i = 0; i < 10; i++) {
      const y = tf.matMul(convA, convW);
      await y.data();
      y.dispose();
    }
    convCpuMsPerRound.push((cpuMs() - c1) / 10);
    const rates = await measureMatmuls([512], 0.25);
    const best = rates.reduce((a, b) => (b.gflops > a.gflops ? b : a));
    peakPerRound.push(best.gflops);
    if (best.gflops >= Math.max(...peakPerRound)) peakLabel = best.label;
    convPerRound.push(rates.find((x) => x.label.startsWith('conv fwd'))?.gflops ?? NaN);
  }
  const ratios = stepMsPerRound.map((ms, r) => flopPerStep / (ms * 1e6) / peakPerRound[r]);
  const stepMs = median(stepMsPerRound);
  const trainGflops = flopPerStep / (stepMs * 1e6);
  const peak = median(peakPerRound);
  const stepCpuMs = median(stepCpuMsPerRound);
  const stepPerCpuS = flopPerStep / (stepCpuMs * 1e6);
  const convPerCpuS = convFlop / (median(convCpuMsPerRound) * 1e6);
  tf.dispose([convA, convW]);

  const t1 = performance.now();
  const info = await tf.profile(async () => {
    await step();
    return [];
  });
  const profiledMs = performance.now() - t1;
  const byKernel = new Map<string, { count: number; ms: number; flop: number }>();
  // customGrad forwards ('forward') and composite ops ('logSoftmax__op') are listed besides the
  // kernels they run: counting them too would count that time twice.
  const kernels = info.kernels.filter((k) => k.name !== 'forward' && !k.name.endsWith('__op'));
  for (const k of kernels) {
    const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    const entry = byKernel.get(k.name) ?? { count: 0, ms: 0, flop: 0 };
    entry.count++;
    entry.ms += ms;
    if (k.name === 'TextVaeConv2D') {
      // Output [B, 1, T, D] from a filter [1, K, E, D]: 2·K·E multiply-adds per output value.
      const [, K = 0, E = 0] = k.inputShapes[1] ?? [];
      entry.flop += 2 * K * E * (k.outputShapes[0] ?? []).reduce((x, y) => x * y, 1);
    } else if (MATMUL_KERNELS.has(k.name)) {
      // [.., M, K] x [.., K, N] (either side maybe transposed): 2·size(a)·N multiply-adds.
      const a = k.inputShapes[0] ?? [];
      const out = k.outputShapes[0] ?? [];
      entry.flop += 2 * a.reduce((x, y) => x * y, 1) * (out[out.length - 1] ?? 0);
    }
    byKernel.set(k.name, entry);
  }
  // The same kernels by input shapes: which products and passes cost the most.
  const byShape = new Map<string, { count: number; ms: number }>();
  for (const k of kernels) {
    const key = `${k.name} ${JSON.stringify(k.inputShapes)}`;
    const entry = byShape.get(key) ?? { count: 0, ms: 0 };
    entry.count++;
    entry.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    byShape.set(key, entry);
  }
  const kernelMs = [...byKernel.values()].reduce((s, e) => s + e.ms, 0);
  const matmul = [...byKernel.entries()].filter(([n]) => MATMUL_KERNELS.has(n)).map(([, e]) => e);
  const matmulMs = matmul.reduce((s, e) => s + e.ms, 0);
  const matmulFlop = matmul.reduce((s, e) => s + e.flop, 0);
  // The optimizer alone, on a fresh set of gradients.
  const { value, grads } = tf.variableGrads(() => objective(model, batchOf(), objectiveOptions()).loss, vars);
  const adam = await tf.profile(async () => {
    const norm = optimizer.apply(vars, grads, 1e-4);
    await norm.data();
    norm.dispose();
    return [];
  });
  tf.dispose([value, ...Object.values(grads)]);
  const adamMs = adam.kernels.reduce((s, k) => s + (typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0), 0);

  const f = (x: number, d = 1) => x.toFixed(d);
  const rows = [...byKernel.entries()]
    .sort((a, b) => b[1].ms - a[1].ms)
    .slice(0, 15)
    .map(([name, e]) => [
      name,
      String(e.count),
      f(e.ms),
      `${f((100 * e.ms) / profiledMs, 0)}%`,
      e.flop ? f(e.flop / (e.ms * 1e6)) : '',
    ]);
  const head = ['kernel', 'calls', 'ms', 'of step', 'GFLOP/s'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  process.stdout.write(
    [
      `training step profile: ${report.name} (${report.detail}); ${os.cpus()[0]?.model ?? 'cpu'}, ${os.cpus().length} cores`,
      `model: ${values.model ?? 'DEFAULT_CONFIG'}, ${parameters.toLocaleString('en')} parameters; batch ${B} x ${config.maxTokens + 1} positions = ${tokensPerStep} tokens per step`,
      '',
      `step (median of ${rounds} rounds x ${steps}):  ${f(stepMs)} ms  ->  ${f(tokensPerStep / (stepMs / 1000), 0)} tokens/s, training ${f(trainGflops)} GFLOP/s (6 x parameters x tokens)`,
      `matmul rate, this process:     ${f(peak)} GFLOP/s (median of the rounds' best case; best ${peakLabel}); model conv fwd ${f(median(convPerRound))} GFLOP/s`,
      `training / matmul rate:        ${f(100 * median(ratios), 0)}% (median; rounds ${ratios.map((x) => f(100 * x, 0)).join(', ')}%)`,
      `per CPU-second (all threads):  step ${f(stepCpuMs)} ms of CPU -> ${f(stepPerCpuS)} GFLOP; model conv fwd product ${f(convPerCpuS)} GFLOP: ${f((100 * stepPerCpuS) / convPerCpuS, 0)}%`,
      `load average: ${f(loadBefore, 2)} before, ${f(os.loadavg()[0], 2)} after (${os.cpus().length} cores)`,
      '',
      `profiled step: ${f(profiledMs)} ms wall, ${kernels.length} kernels, ${f(kernelMs)} ms inside kernels (${f((100 * kernelMs) / profiledMs, 0)}%)`,
      `  matmul kernels: ${f(matmulMs)} ms (${f((100 * matmulMs) / profiledMs, 0)}% of the step), ${f(matmulFlop / 1e9, 2)} GFLOP at ${f(matmulFlop / (matmulMs * 1e6))} GFLOP/s`,
      `  other kernels:  ${f(kernelMs - matmulMs)} ms, of which the optimizer (Adam, profiled alone) ${f(adamMs)} ms in ${adam.kernels.length} kernels`,
      `  outside kernels (JS, tape, bookkeeping): ${f(profiledMs - kernelMs)} ms`,
      `  6 x parameters x tokens = ${f((6 * parameters * tokensPerStep) / 1e9, 2)} GFLOP; the kernels' matmuls do ${f(matmulFlop / 1e9, 2)}`,
      '',
      line(head),
      widths.map((w) => '-'.repeat(w)).join('  '),
      ...rows.map(line),
      '',
      ...[...byShape.entries()]
        .sort((a, b) => b[1].ms - a[1].ms)
        .slice(0, Number(values.shapes))
        .map(([key, e]) => `${f(e.ms).padStart(7)} ms  ${String(e.count).padStart(4)} x  ${key.slice(0, 110)}`),
      ...(Number(values.shapes) > 0 ? [''] : []),
    ].join('\n'),
  );
  optimizer.dispose();
  model.dispose();
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

main().catch((err: unknown) => {
  process.stderr.write(`profile-step: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
