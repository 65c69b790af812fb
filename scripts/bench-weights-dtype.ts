/**
 * 16-bit weight storage, measured: writes a float16 copy of a model (scripts/convert-weights.ts)
 * and, for comparison, a bfloat16 variant (weights rounded to bfloat16, to nearest even, stored as
 * float32: it evaluates exactly as a bfloat16 bundle would). Prints each one's weights.bin size,
 * rounding error and load times (medians of --loads: the bundle alone, read, checked and decoded;
 * and the whole model, tfjs tensors included), then the `textvae eval` commands that compare them.
 *
 *   node --import tsx scripts/bench-weights-dtype.ts [--model models/default] --out /tmp/wd [--loads 5]
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend } from '../src/core/backend';
import { loadBundle, saveBundle } from '../src/core/bundle';
import type { NamedWeights } from '../src/core/types';
import { TextVae } from '../src/core/textVae';
import { convertWeights } from './convert-weights';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** x rounded to the nearest bfloat16 (8 mantissa bits), ties to even. */
function roundBfloat16(x: number): number {
  f32[0] = x;
  const b = u32[0];
  if (Number.isNaN(x)) return x;
  u32[0] = ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) << 16;
  return f32[0];
}

function errors(a: NamedWeights, b: NamedWeights): { maxAbs: number; rms: number; relRms: number } {
  let maxAbs = 0;
  let sq = 0;
  let ref = 0;
  let n = 0;
  for (const [name, w] of Object.entries(a)) {
    const v = b[name].data;
    for (let i = 0; i < v.length; i++) {
      const d = v[i] - w.data[i];
      maxAbs = Math.max(maxAbs, Math.abs(d));
      sq += d * d;
      ref += w.data[i] * w.data[i];
      n++;
    }
  }
  return { maxAbs, rms: Math.sqrt(sq / n), relRms: Math.sqrt(sq / ref) };
}

function bundleBytes(dir: string): number {
  return fs.readdirSync(dir).reduce((s, f) => s + fs.statSync(path.join(dir, f)).size, 0);
}

/** Median full load time of each folder; one warm-up load, then the folders in turn, so that load changes hit all. */
async function medianLoadMs(dirs: string[], loads: number, load: (dir: string) => Promise<unknown>): Promise<number[]> {
  const times = dirs.map(() => [] as number[]);
  await load(dirs[0]);
  for (let i = 0; i < loads; i++) {
    for (const [k, dir] of dirs.entries()) {
      const t = performance.now();
      await load(dir);
      times[k].push(performance.now() - t);
    }
  }
  return times.map((t) => t.sort((x, y) => x - y)[Math.floor(t.length / 2)]);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: 'string', default: 'models/default' },
      out: { type: 'string' },
      loads: { type: 'string', default: '5' },
    },
  });
  if (!values.out) throw new Error('usage: --out NEW_DIR [--model DIR] [--loads N]');
  if (fs.existsSync(values.out)) throw new Error(`--out ${values.out} exists; choose a new folder`);
  const model = values.model!;
  const loads = Number(values.loads);
  await initBackend('auto');
  const half = path.join(values.out, 'float16');
  const bf16 = path.join(values.out, 'bfloat16-as-float32');
  await convertWeights(model, half, 'float16');
  const source = await loadBundle(model);
  const rounded: NamedWeights = {};
  for (const [name, w] of Object.entries(source.weights)) {
    rounded[name] = { shape: w.shape, data: w.data.map(roundBfloat16) };
  }
  await saveBundle(bf16, { config: source.config, tokenizer: source.tokenizer, weights: rounded });

  const halfWeights = (await loadBundle(half)).weights;
  const rows = [
    ['float32 (source)', model, 4, source.weights],
    ['float16', half, 2, halfWeights],
    ['bfloat16 (stored as float32)', bf16, 2, rounded],
  ] as const;
  process.stdout.write(
    '| storage | weights.bin bytes | bundle bytes | max abs error | relative RMS error | loadBundle ms | TextVae.load ms |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n',
  );
  // The bfloat16 variant is stored as float32: its load time would be float32's.
  const fileMs = await medianLoadMs([model, half], loads, (d) => loadBundle(d));
  const ms = await medianLoadMs([model, half], loads, async (d) => (await TextVae.load(d)).dispose());
  for (const [k, [label, dir, bytesPerValue, weights]] of rows.entries()) {
    const values16 = Object.values(weights).reduce((n, w) => n + w.data.length, 0);
    const binBytes = label.startsWith('bfloat16')
      ? values16 * bytesPerValue
      : fs.statSync(path.join(dir, 'weights.bin')).size;
    const e = errors(source.weights, weights);
    process.stdout.write(
      `| ${label} | ${binBytes} | ${label.startsWith('bfloat16') ? '—' : bundleBytes(dir)} | ${e.maxAbs.toExponential(2)} | ${e.relRms.toExponential(2)} | ${k < 2 ? fileMs[k].toFixed(0) : '—'} | ${k < 2 ? ms[k].toFixed(0) : '—'} |\n`,
    );
  }
  process.stdout.write(
    `\nThen, for DIR in ${model} ${half} ${bf16}:\n` +
      '  node dist/cli.js eval --model DIR --data .corpora/python-docs --split val --json\n' +
      '  node dist/cli.js eval --model DIR --sentences /tmp/python-held.txt --json\n',
  );
}

main().catch((err) => {
  process.stderr.write(`bench-weights-dtype: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
