/**
 * Training and inference benchmark, one backend per child process (a process holds one tfjs backend).
 *
 *   npm run bench                      # 2 minutes per backend: tensorflow (if it loads) and wasm
 *   npm run bench -- --minutes 1 --backends wasm,cpu --eval-kb 100 --parallel
 *
 * Each child trains the default model configuration on ../shared/corpora/python-docs (relative to
 * the repository) for a fixed wall-clock budget, on the deterministic split the CLI uses
 * (splitFiles, val fraction 0.05), then measures on the held-out files: bits per byte (capped at
 * --eval-kb kB of text), encode latency (median over single paragraphs) and greedy decode latency
 * (median over one code each). The parent prints a table with gzip and brotli on the same held-out
 * text, and writes everything to .bench/results-<timestamp>.json.
 *
 * Backends run one after the other by default so that they do not share the CPU; --parallel runs
 * them at the same time. This is a benchmark, not a test: nothing here asserts a speed.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import * as zlib from 'node:zlib';

import { initBackend, type BackendRequest } from '../src/core/backend';
import { collectCorpus, type CorpusFile } from '../src/core/corpus';
import { splitFiles } from '../src/core/dataset';
import { DEFAULT_CONFIG, parameterCount } from '../src/core/model';
import { TextVae } from '../src/core/textVae';
import { train, type MetricsLine } from '../src/core/train';

const REPO = path.resolve(__dirname, '..');
const DEFAULT_DATA = path.join(REPO, '..', 'shared', 'corpora', 'python-docs');
const VAL_FRACTION = 0.05;

const OPTIONS = {
  minutes: { type: 'string', default: '2' },
  backends: { type: 'string' },
  data: { type: 'string', default: DEFAULT_DATA },
  'eval-kb': { type: 'string', default: '200' },
  latency: { type: 'string', default: '15' },
  seed: { type: 'string', default: '1' },
  parallel: { type: 'boolean', default: false },
  // Internal: run one backend and write its result to --result.
  child: { type: 'string' },
  result: { type: 'string' },
} as const;

interface BackendResult {
  backend: string;
  available: boolean;
  error?: string;
  detail?: string;
  steps?: number;
  /** Steady-state throughput: the logged intervals after the first (warm-up) one. */
  tokens_per_s?: number;
  bytes_per_s?: number;
  train_seconds?: number;
  heldout_bytes?: number;
  heldout_bits_per_byte?: number;
  heldout_recon_bits_per_byte?: number;
  heldout_kl_bits_per_byte?: number;
  active_units?: number;
  encode_ms_median?: number;
  decode_ms_median?: number;
  latency_samples?: number;
  eval_seconds?: number;
}

function log(msg: string): void {
  process.stderr.write(`[bench] ${msg}\n`);
}

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The held-out files' text, in corpus order, cut at `capBytes` UTF-8 bytes (at a line end when possible). */
function heldOutText(files: CorpusFile[], capBytes: number): string[] {
  const { val } = splitFiles(files, VAL_FRACTION);
  const out: string[] = [];
  let used = 0;
  for (const f of val) {
    if (used >= capBytes) break;
    let text = f.text;
    const room = capBytes - used;
    if (Buffer.byteLength(text) > room) {
      text = Buffer.from(text)
        .subarray(0, room)
        .toString('utf8')
        .replace(/\uFFFD$/, '');
      const cut = text.lastIndexOf('\n');
      if (cut > 0) text = text.slice(0, cut + 1);
    }
    out.push(text);
    used += Buffer.byteLength(text);
  }
  return out;
}

/** Prose-like paragraphs of the held-out text, for latency samples. */
function paragraphs(texts: string[], n: number): string[] {
  const out: string[] = [];
  for (const t of texts) {
    for (const p of t.split(/\n\s*\n/)) {
      const s = p.trim();
      if (s.length >= 80 && s.length <= 400 && /^[A-Za-z]/.test(s)) out.push(s);
      if (out.length >= n) return out;
    }
  }
  return out;
}

/** Weighted mean of per-interval rates, skipping the first interval (it includes warm-up). */
function steadyRate(metrics: MetricsLine[], key: 'tokens_per_s' | 'bytes_per_s'): number {
  if (metrics.length === 0) return NaN;
  if (metrics.length === 1) return metrics[0][key];
  let amount = 0;
  let secs = 0;
  for (let i = 1; i < metrics.length; i++) {
    const dt = Math.max(1e-9, metrics[i].elapsed_s - metrics[i - 1].elapsed_s);
    amount += metrics[i][key] * dt;
    secs += dt;
  }
  return amount / secs;
}

async function runChild(
  backend: BackendRequest,
  values: Record<string, string | boolean | undefined>,
): Promise<BackendResult> {
  let report;
  try {
    report = await initBackend(backend);
  } catch (err) {
    return { backend, available: false, error: (err as Error).message };
  }
  const minutes = Number(values.minutes);
  const { files } = await collectCorpus([values.data as string]);
  const { train: trainFiles, val: valFiles } = splitFiles(files, VAL_FRACTION);
  log(`${backend}: ${trainFiles.length} training files, ${valFiles.length} held out; training for ${minutes} min`);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), `textvae-bench-${backend}-`));
  const out = path.join(work, 'model');
  const metrics: MetricsLine[] = [];
  const t0 = Date.now();
  try {
    const result = await train({
      train: trainFiles.map((f) => f.text),
      // Held-out figures are measured below, on a fixed amount of text, outside the training budget.
      val: [],
      out,
      seed: Number(values.seed),
      minutes,
      logEvery: 5,
      checkpointMinutes: 1e9,
      maxValExamples: 64,
      onMetrics: (m) => {
        metrics.push(m);
        log(`${backend}: step ${m.step}, ${m.tokens_per_s} tokens/s, loss ${m.loss}`);
      },
    });
    const trainSeconds = (Date.now() - t0) / 1000;
    const vae = await TextVae.load(out);
    const t1 = Date.now();
    const held = heldOutText(files, Number(values['eval-kb']) * 1000);
    log(`${backend}: evaluating on ${held.reduce((s, t) => s + Buffer.byteLength(t), 0)} held-out bytes`);
    const m = await vae.evaluateTexts(held);
    const evalSeconds = (Date.now() - t1) / 1000;

    const samples = paragraphs(held, Number(values.latency));
    const encodeMs: number[] = [];
    const decodeMs: number[] = [];
    // Warm-up: the first calls of a backend include one-off set-up.
    await vae.decodeCodes(await vae.encodeToCodes(samples[0]));
    for (const p of samples) {
      const chunk = vae.chunk(p)[0];
      let t = performance.now();
      const codes = await vae.encodeToCodes(chunk);
      encodeMs.push(performance.now() - t);
      t = performance.now();
      await vae.decodeCodes(codes.slice(0, 1), { strategy: 'greedy' });
      decodeMs.push(performance.now() - t);
    }
    vae.dispose();
    return {
      backend,
      available: true,
      detail: report.detail,
      steps: result.steps,
      tokens_per_s: round(steadyRate(metrics, 'tokens_per_s'), 1),
      bytes_per_s: round(steadyRate(metrics, 'bytes_per_s'), 1),
      train_seconds: round(trainSeconds, 1),
      heldout_bytes: m.bytes,
      heldout_bits_per_byte: round(m.bits_per_byte, 4),
      heldout_recon_bits_per_byte: round(m.recon_bits_per_byte, 4),
      heldout_kl_bits_per_byte: round(m.kl_bits_per_byte, 4),
      active_units: m.active_units,
      encode_ms_median: round(median(encodeMs), 2),
      decode_ms_median: round(median(decodeMs), 1),
      latency_samples: samples.length,
      eval_seconds: round(evalSeconds, 1),
    };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Runs one backend in a child process; resolves with its result (or why it is unavailable). */
function spawnBackend(
  backend: string,
  values: Record<string, string | boolean | undefined>,
  resultFile: string,
): Promise<BackendResult> {
  const args = ['--import', 'tsx', __filename, '--child', backend, '--result', resultFile];
  for (const k of ['minutes', 'data', 'eval-kb', 'latency', 'seed'] as const) args.push(`--${k}`, String(values[k]));
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, {
      cwd: REPO,
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' },
    });
    child.on('close', (code) => {
      try {
        resolve(JSON.parse(fs.readFileSync(resultFile, 'utf8')) as BackendResult);
      } catch {
        resolve({ backend, available: false, error: `child process exited with code ${code} and no result` });
      }
    });
  });
}

function compressionBitsPerByte(texts: string[]): { bytes: number; gzip: number; brotli: number } {
  const buf = Buffer.from(texts.join(''), 'utf8');
  const gz = zlib.gzipSync(buf, { level: zlib.constants.Z_BEST_COMPRESSION });
  const br = zlib.brotliCompressSync(buf, {
    params: {
      [zlib.constants.BROTLI_PARAM_QUALITY]: zlib.constants.BROTLI_MAX_QUALITY,
      [zlib.constants.BROTLI_PARAM_LGWIN]: zlib.constants.BROTLI_MAX_WINDOW_BITS,
      [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_TEXT,
      [zlib.constants.BROTLI_PARAM_SIZE_HINT]: buf.length,
    },
  });
  return { bytes: buf.length, gzip: (8 * gz.length) / buf.length, brotli: (8 * br.length) / buf.length };
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(rows[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

async function tensorflowLoads(): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-e', "require('@tensorflow/tfjs-node')"], {
      cwd: REPO,
      stdio: 'ignore',
      env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3' },
    });
    child.on('close', (code) => resolve(code === 0));
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: OPTIONS, strict: true });
  const minutes = Number(values.minutes);
  if (!(minutes > 0)) throw new Error(`--minutes must be a positive number (got ${values.minutes})`);
  if (!fs.existsSync(values.data)) throw new Error(`no corpus at ${values.data}`);

  if (values.child) {
    const result = await runChild(values.child as BackendRequest, values);
    fs.writeFileSync(values.result!, JSON.stringify(result));
    return;
  }

  const backends = values.backends
    ? values.backends.split(',')
    : [...((await tensorflowLoads()) ? ['tensorflow'] : []), 'wasm'];
  if (!values.backends && !backends.includes('tensorflow'))
    log('@tensorflow/tfjs-node does not load here (run `npm run setup:native`); benchmarking wasm only');
  const started = new Date();
  const load0 = os.loadavg();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'textvae-bench-'));
  const results: BackendResult[] = [];
  try {
    if (values.parallel) {
      results.push(
        ...(await Promise.all(backends.map((b, i) => spawnBackend(b, values, path.join(tmp, `${i}.json`))))),
      );
    } else {
      for (const [i, b] of backends.entries()) results.push(await spawnBackend(b, values, path.join(tmp, `${i}.json`)));
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  const load1 = os.loadavg();

  const { files } = await collectCorpus([values.data]);
  const held = heldOutText(files, Number(values['eval-kb']) * 1000);
  const compression = compressionBitsPerByte(held);

  const ok = results.filter((r) => r.available);
  const fmt = (x: number | undefined, d: number) => (x === undefined ? '-' : x.toFixed(d));
  const rows = [
    ['backend', 'steps', 'tokens/s', 'bytes/s', 'held-out bits/byte', 'encode ms (median)', 'decode ms (median)'],
  ];
  for (const r of ok) {
    rows.push([
      `${r.backend} (${r.detail})`,
      String(r.steps),
      fmt(r.tokens_per_s, 0),
      fmt(r.bytes_per_s, 0),
      fmt(r.heldout_bits_per_byte, 3),
      fmt(r.encode_ms_median, 1),
      fmt(r.decode_ms_median, 0),
    ]);
  }
  rows.push(['gzip -9', '', '', '', compression.gzip.toFixed(3), '', '']);
  rows.push(['brotli -q 11', '', '', '', compression.brotli.toFixed(3), '', '']);
  const tfr = ok.find((r) => r.backend === 'tensorflow');
  const wasm = ok.find((r) => r.backend === 'wasm');
  const ratio = tfr && wasm ? tfr.tokens_per_s! / wasm.tokens_per_s! : null;

  const cpu = os.cpus();
  const machine = {
    cpu: cpu[0]?.model ?? 'unknown',
    cores: cpu.length,
    memory_gb: round(os.totalmem() / 2 ** 30, 1),
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    loadavg_before: load0.map((x) => round(x, 2)),
    loadavg_after: load1.map((x) => round(x, 2)),
  };
  process.stdout.write(
    [
      '',
      `TextVAE benchmark: default config (${parameterCount(DEFAULT_CONFIG).toLocaleString('en')} parameters), ${minutes} min of training per backend, ${values.parallel ? 'backends in parallel' : 'one backend at a time'}`,
      `corpus ${path.relative(REPO, values.data)}; held-out: ${compression.bytes} bytes of the val-fraction ${VAL_FRACTION} files; latency: median of ${ok[0]?.latency_samples ?? 0} paragraphs`,
      `machine: ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}; load average ${load0[0].toFixed(2)} before, ${load1[0].toFixed(2)} after`,
      '',
      table(rows),
      '',
      ratio === null
        ? 'tensorflow/wasm tokens/s: n/a (both are needed)'
        : `tensorflow/wasm tokens/s: ${ratio.toFixed(2)}x`,
      ...results.filter((r) => !r.available).map((r) => `${r.backend}: not available (${r.error})`),
      '',
    ].join('\n'),
  );

  const dir = path.join(REPO, '.bench');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `results-${started.toISOString().replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(
    file,
    JSON.stringify(
      {
        started: started.toISOString(),
        minutes,
        parallel: values.parallel,
        data: path.relative(REPO, values.data),
        val_fraction: VAL_FRACTION,
        config: DEFAULT_CONFIG,
        parameters: parameterCount(DEFAULT_CONFIG),
        machine,
        results,
        compression: {
          heldout_bytes: compression.bytes,
          gzip_bits_per_byte: round(compression.gzip, 4),
          brotli_bits_per_byte: round(compression.brotli, 4),
        },
        tensorflow_over_wasm_tokens_per_s: ratio === null ? null : round(ratio, 3),
      },
      null,
      2,
    ) + '\n',
  );
  log(`results written to ${path.relative(REPO, file)}`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
