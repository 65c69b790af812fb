/**
 * Matrix-product throughput per backend, plain versus with a transposed operand: the measurement
 * behind src/core/ops.ts (on wasm, weight gradients are computed with explicit transposes).
 *
 *   node --import tsx scripts/matmul-bench.ts                      # wasm and tensorflow (if it loads)
 *   node --import tsx scripts/matmul-bench.ts --backends wasm,cpu --sizes 256,512 --seconds 1
 *
 * Each backend runs in its own child process. Figures are GFLOP/s (2·M·K·N per product), the
 * median of the timed repetitions after a warm-up. A benchmark, not a test.
 */
import { spawnSync } from 'node:child_process';
import * as os from 'node:os';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, type BackendRequest } from '../src/core/backend';

interface Case {
  label: string;
  /** [M, K] x [K, N] as laid out in memory before transposition flags. */
  a: [number, number];
  b: [number, number];
  transposeA: boolean;
  transposeB: boolean;
}

function cases(sizes: number[]): Case[] {
  const out: Case[] = [];
  for (const n of sizes) {
    out.push({ label: `${n}x${n} · ${n}x${n}`, a: [n, n], b: [n, n], transposeA: false, transposeB: false });
    out.push({ label: `${n}x${n} · (${n}x${n})ᵀ`, a: [n, n], b: [n, n], transposeA: false, transposeB: true });
    out.push({ label: `(${n}x${n})ᵀ · ${n}x${n}`, a: [n, n], b: [n, n], transposeA: true, transposeB: false });
  }
  // The default model's convolution (batch 32 x 65 positions, 3 taps x 256 -> 256) and its gradients.
  const rows = 32 * 65,
    kd = 3 * 256,
    d = 256;
  out.push({
    label: `conv fwd ${rows}x${kd} · ${kd}x${d}`,
    a: [rows, kd],
    b: [kd, d],
    transposeA: false,
    transposeB: false,
  });
  out.push({
    label: `dW = xᵀ·dy (${rows}x${kd})ᵀ · ${rows}x${d}`,
    a: [rows, kd],
    b: [rows, d],
    transposeA: true,
    transposeB: false,
  });
  out.push({
    label: `dx = dy·Wᵀ ${rows}x${d} · (${kd}x${d})ᵀ`,
    a: [rows, d],
    b: [kd, d],
    transposeA: false,
    transposeB: true,
  });
  return out;
}

export interface MatmulResult {
  label: string;
  gflops: number;
  ms: number;
}

/** Measures every case on the backend this process has initialised (scripts/bench.ts calls it after training). */
export async function measureMatmuls(sizes: number[], seconds: number): Promise<MatmulResult[]> {
  const results: MatmulResult[] = [];
  for (const c of cases(sizes)) {
    const a = tf.randomNormal(c.a) as tf.Tensor2D;
    const b = tf.randomNormal(c.b) as tf.Tensor2D;
    const m = c.transposeA ? c.a[1] : c.a[0];
    const k = c.transposeA ? c.a[0] : c.a[1];
    const n = c.transposeB ? c.b[0] : c.b[1];
    const once = async () => {
      const t = performance.now();
      const y = tf.matMul(a, b, c.transposeA, c.transposeB);
      await y.data();
      y.dispose();
      return performance.now() - t;
    };
    await once(); // warm-up
    const times: number[] = [];
    const until = performance.now() + seconds * 1000;
    while (times.length < 3 || (performance.now() < until && times.length < 50)) times.push(await once());
    times.sort((x, y) => x - y);
    const ms = times[times.length >> 1];
    results.push({ label: c.label, gflops: (2 * m * k * n) / (ms * 1e6), ms });
    tf.dispose([a, b]);
  }
  return results;
}

async function child(backend: BackendRequest, sizes: number[], seconds: number): Promise<void> {
  const report = await initBackend(backend);
  const results = await measureMatmuls(sizes, seconds);
  process.stdout.write(JSON.stringify({ backend: report.name, detail: report.detail, results }) + '\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      backends: { type: 'string' },
      sizes: { type: 'string', default: '256,512,1024' },
      seconds: { type: 'string', default: '2' },
      child: { type: 'string' },
    },
  });
  const sizes = values.sizes.split(',').map(Number);
  const seconds = Number(values.seconds);
  if (values.child) return child(values.child as BackendRequest, sizes, seconds);

  const backends = values.backends?.split(',') ?? ['wasm', 'tensorflow'];
  const all: { backend: string; detail: string; results: { label: string; gflops: number; ms: number }[] }[] = [];
  for (const b of backends) {
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', __filename, '--child', b, '--sizes', values.sizes, '--seconds', String(seconds)],
      {
        encoding: 'utf8',
        env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' },
      },
    );
    const line = r.stdout.trim().split('\n').at(-1);
    if (r.status !== 0 || !line) {
      process.stderr.write(`${b}: not measured (${r.stderr.trim().split('\n').at(-1) ?? `exit ${r.status}`})\n`);
      continue;
    }
    all.push(JSON.parse(line));
  }
  if (all.length === 0) throw new Error('no backend could be measured');
  const labels = all[0].results.map((r) => r.label);
  const head = ['product', ...all.map((a) => `${a.backend} GFLOP/s`), ...all.map((a) => `${a.backend} ms`)];
  const rows = labels.map((l) => [
    l,
    ...all.map((a) => a.results.find((r) => r.label === l)!.gflops.toFixed(1)),
    ...all.map((a) => a.results.find((r) => r.label === l)!.ms.toFixed(2)),
  ]);
  const widths = head.map((_, i) => Math.max(head[i].length, ...rows.map((r) => r[i].length)));
  const fmt = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  process.stdout.write(
    [
      `matmul throughput (median of timed runs, float32); ${os.cpus()[0]?.model ?? 'cpu'}, ${os.cpus().length} cores, load ${os.loadavg()[0].toFixed(2)}`,
      ...all.map((a) => `${a.backend}: ${a.detail}`),
      '',
      fmt(head),
      widths.map((w) => '-'.repeat(w)).join('  '),
      ...rows.map(fmt),
      '',
    ].join('\n'),
  );
}

// Run as a script, not when scripts/bench.ts imports measureMatmuls.
if (require.main === module)
  main().catch((err: unknown) => {
    process.stderr.write(`matmul-bench: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
