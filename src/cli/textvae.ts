#!/usr/bin/env node
/** `textvae`: the engine from the command line. Exit codes: 0 success, 1 failure, 2 bad usage. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { initBackend, BACKEND_CHOICES, type BackendRequest } from '../core/backend';
import { TextVae, type DecodeOptions, type DecodeStrategy, type InterpolationMode } from '../core/textVae';
import { collectCorpus, type CorpusFile } from '../core/corpus';
import { splitForTraining } from '../core/split';
import { train, type MetricsLine } from '../core/train';
import { DEFAULT_CONFIG, parameterCount } from '../core/model';
import type { ModelConfig, Variant } from '../core/types';
import { findLatentCodes } from '../core/latentCode';
import { readManifest } from '../core/bundle';

class UsageError extends Error {}

const USAGE = `textvae: a text variational autoencoder

usage: textvae <command> [options]

commands:
  info         [--model DIR]                    backend, model and training facts
  train        --data PATH... --out DIR         train a model (bound it: --minutes, --steps or --epochs)
  eval         --model DIR --data PATH...       held-out bits per byte, KL, active units
  encode       [FILE|-|--text T]                text -> latent codes, one per line
  decode       [CODES...|FILE|-]                latent codes -> text
  reconstruct  [FILE|-|--text T]                text -> codes -> text
  sample       [-n N]                           paragraphs from the prior
  interpolate  --from T --to T [--steps N]      texts along a path in latent space
  demo                                          reconstruct, sample and interpolate with the default model

common options:
  --model DIR          model bundle (default: the bundled models/default)
  --backend NAME       auto | tensorflow | wasm | cpu (default auto; env TEXTVAE_BACKEND)
  --json               machine-readable output
  --verbose            stack traces on errors
decoding:  --strategy greedy|sample|beam  --temperature T  --top-p P  --beam N  --seed S  --max-tokens N
           --no-repeat-ngram N (never repeat an N-token sequence; sampling uses 3, 0 turns it off)
training:  --seed S  --variant vae|ae|sparse  --val-fraction F  --include GLOB  --exclude GLOB
           --vocab-size N  --latent-dim N  --model-dim N  --max-tokens N  --batch-size N  --lr X
           --decoder-dilations 1,2,4,...  --encoder-dilations 1,2,...  --encoder-positions
           --resume DIR  --log FILE  --log-every N
           --free-bits NATS (per latent dimension, default 0.5)  --token-dropout P (default 0.25)
           --dropout P (on residual branches while training, default 0)
eval:      --split all|val|train (val: the files a training run with the same --val-fraction held out)`;

const OPTIONS: ParseArgsConfig['options'] = {
  model: { type: 'string' },
  backend: { type: 'string' },
  json: { type: 'boolean' },
  verbose: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  data: { type: 'string', multiple: true },
  out: { type: 'string' },
  minutes: { type: 'string' },
  steps: { type: 'string' },
  epochs: { type: 'string' },
  seed: { type: 'string' },
  variant: { type: 'string' },
  'val-fraction': { type: 'string' },
  include: { type: 'string', multiple: true },
  exclude: { type: 'string', multiple: true },
  'vocab-size': { type: 'string' },
  'latent-dim': { type: 'string' },
  'model-dim': { type: 'string' },
  'max-tokens': { type: 'string' },
  'decoder-dilations': { type: 'string' },
  'encoder-dilations': { type: 'string' },
  'encoder-positions': { type: 'boolean' },
  'batch-size': { type: 'string' },
  lr: { type: 'string' },
  resume: { type: 'string' },
  'free-bits': { type: 'string' },
  'token-dropout': { type: 'string' },
  dropout: { type: 'string' },
  'no-repeat-ngram': { type: 'string' },
  log: { type: 'string' },
  'log-every': { type: 'string' },
  split: { type: 'string' },
  text: { type: 'string' },
  sample: { type: 'boolean' },
  strategy: { type: 'string' },
  temperature: { type: 'string' },
  'top-p': { type: 'string' },
  beam: { type: 'string' },
  n: { type: 'string', short: 'n' },
  from: { type: 'string' },
  to: { type: 'string' },
  'from-file': { type: 'string' },
  'to-file': { type: 'string' },
  mode: { type: 'string' },
};

type Values = Record<string, string | boolean | string[] | undefined>;

function num(
  values: Values,
  name: string,
  opts: { int?: boolean; min?: number; max?: number } = {},
): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (
    !Number.isFinite(n) ||
    (opts.int && !Number.isInteger(n)) ||
    (opts.min !== undefined && n < opts.min) ||
    (opts.max !== undefined && n > opts.max)
  ) {
    const range =
      opts.min !== undefined && opts.max !== undefined
        ? ` from ${opts.min} to ${opts.max}`
        : opts.min !== undefined
          ? ` of at least ${opts.min}`
          : '';
    throw new UsageError(
      `${name.length === 1 ? '-' : '--'}${name} must be ${opts.int ? 'an integer' : 'a number'}${range} (got '${raw}')`,
    );
  }
  return n;
}

/** A comma-separated list of dilations, e.g. "1,2,4,8". */
function dilations(values: Values, name: string): number[] | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const list = String(raw)
    .split(',')
    .map((x) => Number(x.trim()));
  if (list.length === 0 || list.length > 64 || list.some((d) => !Number.isInteger(d) || d < 1 || d > 4096)) {
    throw new UsageError(`--${name} must be a comma-separated list of 1 to 64 integers from 1 to 4096 (got '${raw}')`);
  }
  return list;
}

function choice<T extends string>(values: Values, name: string, allowed: readonly T[], fallback: T): T {
  const raw = values[name];
  if (raw === undefined) return fallback;
  if (!allowed.includes(raw as T))
    throw new UsageError(
      `${name.length === 1 ? '-' : '--'}${name} must be one of ${allowed.join(', ')} (got '${raw}')`,
    );
  return raw as T;
}

export function defaultModelDir(): string {
  const candidates = [
    path.join(__dirname, '..', 'models', 'default'),
    path.join(__dirname, '..', '..', 'models', 'default'),
  ];
  return candidates.find((d) => fs.existsSync(path.join(d, 'manifest.json'))) ?? candidates[0];
}

async function readTextInput(values: Values, positionals: string[]): Promise<string> {
  if (typeof values.text === 'string') return values.text;
  const file = positionals[0];
  if (file && file !== '-') {
    if (!fs.existsSync(file)) throw new Error(`no such file: ${file}`);
    return fs.readFileSync(file, 'utf8');
  }
  if (process.stdin.isTTY) throw new UsageError('give text with --text, a file, or on standard input');
  const parts: Buffer[] = [];
  for await (const chunk of process.stdin) parts.push(chunk as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

function decodeOptions(values: Values): DecodeOptions {
  const beam = num(values, 'beam', { int: true, min: 1, max: 16 });
  const strategy = choice<DecodeStrategy>(values, 'strategy', ['greedy', 'sample', 'beam'], beam ? 'beam' : 'greedy');
  return {
    strategy,
    temperature: num(values, 'temperature', { min: 0.01, max: 10 }),
    topP: num(values, 'top-p', { min: 0.01, max: 1 }),
    beamWidth: beam,
    seed: num(values, 'seed', { int: true, min: 0 }),
    maxTokens: num(values, 'max-tokens', { int: true, min: 1, max: 4096 }),
    noRepeatNgram: num(values, 'no-repeat-ngram', { int: true, min: 0, max: 16 }),
  };
}

function print(values: Values, json: unknown, text: string): void {
  process.stdout.write(values.json ? JSON.stringify(json) + '\n' : text.endsWith('\n') ? text : text + '\n');
}

async function loadModel(values: Values): Promise<TextVae> {
  return TextVae.load(typeof values.model === 'string' ? values.model : defaultModelDir());
}

async function gatherTexts(values: Values): Promise<CorpusFile[]> {
  const data = values.data as string[] | undefined;
  if (!data?.length) throw new UsageError('--data PATH is required (files or folders)');
  const { files, skipped } = await collectCorpus(data, {
    include: values.include as string[] | undefined,
    exclude: values.exclude as string[] | undefined,
  });
  for (const s of skipped) process.stderr.write(`skipped ${s.path}: ${s.reason}\n`);
  if (files.length === 0) throw new Error(`no text files found in ${data.join(', ')}`);
  return files;
}

async function main(argv: string[]): Promise<number> {
  const command = argv[0];
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE + '\n');
    return command ? 0 : 2;
  }
  let parsed;
  try {
    parsed = parseArgs({ args: argv.slice(1), options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message.split('\n')[0]);
  }
  const values = parsed.values as Values;
  const positionals = parsed.positionals;
  if (values.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  const envBackend = process.env.TEXTVAE_BACKEND;
  if (envBackend && !BACKEND_CHOICES.includes(envBackend as BackendRequest)) {
    throw new UsageError(`TEXTVAE_BACKEND must be one of ${BACKEND_CHOICES.join(', ')} (got '${envBackend}')`);
  }
  const backendRequest = choice<BackendRequest>(
    values,
    'backend',
    BACKEND_CHOICES,
    (envBackend as BackendRequest) || 'auto',
  );
  const known = ['info', 'train', 'eval', 'encode', 'decode', 'reconstruct', 'sample', 'interpolate', 'demo'];
  if (!known.includes(command)) throw new UsageError(`unknown command '${command}' (try: textvae --help)`);
  // Validate usage before paying for backend start-up.
  const decoding = decodeOptions(values);
  if (command === 'train' && !values.out) throw new UsageError('--out DIR is required');
  if (command === 'interpolate' && !(values.from ?? values['from-file']))
    throw new UsageError('--from TEXT (or --from-file) is required');
  if (command === 'interpolate' && !(values.to ?? values['to-file']))
    throw new UsageError('--to TEXT (or --to-file) is required');
  // Range checks of numbers that are read later, so bad usage exits 2 before any slow start-up.
  num(values, 'n', { int: true, min: 1, max: 256 });
  num(values, 'steps', { int: true, min: 1 });
  num(values, 'minutes', { min: 0.01 });
  num(values, 'epochs', { min: 0.01 });
  num(values, 'seed', { int: true, min: 0 });
  dilations(values, 'decoder-dilations');
  dilations(values, 'encoder-dilations');
  num(values, 'dropout', { min: 0, max: 0.9 });
  const backend = await initBackend(backendRequest);

  switch (command) {
    case 'info': {
      const dir = typeof values.model === 'string' ? values.model : defaultModelDir();
      const vae = await TextVae.load(dir);
      const info = {
        ...vae.info(),
        backend: backend.name,
        backend_detail: backend.detail,
        backends_skipped: backend.skipped,
      };
      print(
        values,
        info,
        [
          `backend:     ${backend.name} (${backend.detail})`,
          ...backend.skipped.map((s) => `  skipped:   ${s}`),
          `model:       ${dir}`,
          `fingerprint: ${vae.fingerprint}`,
          `variant:     ${vae.config.variant}, latent ${vae.config.latentDim}, width ${vae.config.modelDim}, ${vae.config.decoderDilations.length} decoder layers, ${vae.config.maxTokens} tokens per code`,
          `parameters:  ${info.parameters.toLocaleString('en')} (${(info.sizeBytes / 1e6).toFixed(1)} MB on disk)`,
          `vocabulary:  ${vae.tokenizer.vocabSize} byte-level BPE tokens`,
          `metrics:     ${JSON.stringify(info.metrics ?? {})}`,
        ].join('\n'),
      );
      return 0;
    }
    case 'train': {
      const files = await gatherTexts(values);
      const valFraction = num(values, 'val-fraction', { min: 0, max: 0.5 }) ?? 0.05;
      const split = splitForTraining(files, valFraction);
      const variant = choice<Variant>(values, 'variant', ['vae', 'ae', 'sparse'], 'vae');
      const config: Partial<ModelConfig> = { variant };
      const vocab = num(values, 'vocab-size', { int: true, min: 260, max: 65536 });
      if (vocab) config.vocabSize = vocab;
      const latent = num(values, 'latent-dim', { int: true, min: 1, max: 255 });
      if (latent) config.latentDim = latent;
      const width = num(values, 'model-dim', { int: true, min: 8, max: 2048 });
      if (width) config.modelDim = width;
      const maxTokens = num(values, 'max-tokens', { int: true, min: 4, max: 1024 });
      if (maxTokens) config.maxTokens = maxTokens;
      const decoderDilations = dilations(values, 'decoder-dilations');
      if (decoderDilations) config.decoderDilations = decoderDilations;
      const encoderDilations = dilations(values, 'encoder-dilations');
      if (encoderDilations) Object.assign(config, { encoderDilations, encoderLayers: encoderDilations.length });
      if (values['encoder-positions']) config.encoderPositions = true;
      const minutes = num(values, 'minutes', { min: 0.01 });
      const steps = num(values, 'steps', { int: true, min: 1 });
      const epochs = num(values, 'epochs', { min: 0.01 });
      if (!minutes && !steps && !epochs && !values.resume)
        throw new UsageError('bound the run with --minutes, --steps or --epochs');
      const logFile = typeof values.log === 'string' ? fs.openSync(values.log, 'a') : null;
      const controller = new AbortController();
      let interrupts = 0;
      process.on('SIGINT', () => {
        if (++interrupts > 1) process.exit(130);
        process.stderr.write('\ncancelling: saving the last checkpoint (Ctrl-C again to quit at once)\n');
        controller.abort();
      });
      process.on('SIGTERM', () => controller.abort());
      const emit = (line: object) => {
        const s = JSON.stringify(line) + '\n';
        process.stdout.write(s);
        if (logFile !== null) fs.writeSync(logFile, s);
      };
      process.stderr.write(
        `${files.length} files; held out: ${split.method === 'paragraphs' ? 'some paragraphs' : `${split.heldOutFiles} files`}; backend ${backend.name}\n`,
      );
      const result = await train({
        train: split.train,
        val: split.val,
        out: values.out as string,
        config,
        seed: num(values, 'seed', { int: true, min: 0 }) ?? 1,
        batchSize: num(values, 'batch-size', { int: true, min: 1, max: 1024 }),
        learningRate: num(values, 'lr', { min: 1e-6, max: 1 }),
        minutes,
        maxSteps: steps,
        epochs,
        resume: values.resume as string | undefined,
        freeNatsPerDim: num(values, 'free-bits', { min: 0, max: 20 }),
        tokenDropout: num(values, 'token-dropout', { min: 0, max: 0.9 }),
        dropout: num(values, 'dropout', { min: 0, max: 0.9 }),
        logEvery: num(values, 'log-every', { int: true, min: 1 }),
        signal: controller.signal,
        onMetrics: (m: MetricsLine) => emit(m),
        onLog: (msg) => process.stderr.write(msg + '\n'),
        provenance: {
          command: ['textvae', ...argv].join(' '),
          heldOutFiles: split.heldOutFiles,
          splitMethod: split.method,
          valFraction,
          parameters: parameterCount({ ...DEFAULT_CONFIG, ...config }),
        },
      });
      emit({
        type: 'done',
        out: result.out,
        fingerprint: result.fingerprint,
        steps: result.steps,
        cancelled: result.cancelled,
        elapsed_s: Math.round(result.elapsedSeconds),
        ...result.final,
        backend: backend.name,
      });
      if (logFile !== null) fs.closeSync(logFile);
      return result.cancelled ? 130 : 0;
    }
    case 'eval': {
      const vae = await loadModel(values);
      const files = await gatherTexts(values);
      const split = choice(values, 'split', ['all', 'val', 'train'] as const, 'all');
      // The same deterministic split as training, so '--split val' is exactly the held-out text.
      const parts = splitForTraining(files, num(values, 'val-fraction', { min: 0, max: 0.5 }) ?? 0.05);
      const chosen = split === 'all' ? files.map((f) => f.text) : parts[split];
      if (chosen.length === 0) throw new Error(`the ${split} split of the data is empty`);
      const m = await vae.evaluateTexts(chosen);
      const result = { model: vae.dir, fingerprint: vae.fingerprint, split, ...m, backend: backend.name };
      print(
        values,
        result,
        Object.entries(result)
          .map(([k, v]) => `${k.padEnd(20)} ${typeof v === 'number' ? +v.toFixed(4) : v}`)
          .join('\n'),
      );
      return 0;
    }
    case 'encode': {
      const vae = await loadModel(values);
      const text = await readTextInput(values, positionals);
      if (text.length === 0) throw new Error('the input text is empty');
      const codes = await vae.encodeToCodes(text, { sample: Boolean(values.sample), seed: decoding.seed });
      print(values, { codes, backend: backend.name }, codes.join('\n'));
      return 0;
    }
    case 'decode': {
      const vae = await loadModel(values);
      const source =
        positionals.length && positionals.every((p) => p.startsWith('tvae'))
          ? positionals.join(' ')
          : await readTextInput(values, positionals);
      const found = findLatentCodes(source).map((c) => c.code);
      if (found.length === 0) throw new Error('no latent codes (tvae1:...) found in the input');
      const text = await vae.decodeCodes(found, decoding);
      print(values, { text, codes: found.length, backend: backend.name }, text);
      return 0;
    }
    case 'reconstruct': {
      const vae = await loadModel(values);
      const text = await readTextInput(values, positionals);
      if (text.length === 0) throw new Error('the input text is empty');
      const r = await vae.reconstruct(text, decoding);
      print(values, { ...r, backend: backend.name }, r.text);
      return 0;
    }
    case 'sample': {
      const vae = await loadModel(values);
      const n = num(values, 'n', { int: true, min: 1, max: 256 }) ?? 3;
      const texts = await vae.sample(n, {
        temperature: 0.8,
        topP: 0.95,
        ...stripUndefined(decoding),
        strategy: decoding.strategy === 'greedy' && values.strategy === undefined ? 'sample' : decoding.strategy,
      });
      print(
        values,
        { samples: texts, backend: backend.name },
        texts.map((t, i) => `--- sample ${i + 1}\n${t}`).join('\n'),
      );
      return 0;
    }
    case 'interpolate': {
      const vae = await loadModel(values);
      const from =
        typeof values['from-file'] === 'string'
          ? fs.readFileSync(values['from-file'], 'utf8')
          : (values.from as string);
      const to =
        typeof values['to-file'] === 'string' ? fs.readFileSync(values['to-file'], 'utf8') : (values.to as string);
      const steps = num(values, 'steps', { int: true, min: 2, max: 64 }) ?? 5;
      const mode = choice<InterpolationMode>(values, 'mode', ['linear', 'spherical'], 'spherical');
      const path_ = await vae.interpolate(from, to, steps, mode, decoding);
      print(
        values,
        { steps: path_, mode, backend: backend.name },
        path_.map((p) => `[${p.alpha.toFixed(2)}] ${p.text}`).join('\n'),
      );
      return 0;
    }
    case 'demo': {
      const vae = await loadModel(values);
      const out = (s: string) => process.stdout.write(s + '\n');
      out(`TextVAE demo: model ${vae.dir} (${vae.fingerprint.slice(0, 8)}), backend ${backend.name}\n`);
      const sentences = [
        'The for statement iterates over the items of any sequence.',
        'This module provides access to the mathematical functions defined by the C standard.',
      ];
      for (const s of sentences) {
        const codes = await vae.encodeToCodes(s);
        const back = await vae.decodeCodes(codes, { strategy: 'beam', beamWidth: 4 });
        out(`original:      ${s}\ncode:          ${codes.join(' ')}\nreconstructed: ${back}\n`);
      }
      out('samples from the prior:');
      for (const t of await vae.sample(3, { temperature: 0.8, topP: 0.95, seed: 7 }))
        out(`  - ${t.replace(/\s+/g, ' ').trim()}`);
      out('\ninterpolation (spherical):');
      for (const p of await vae.interpolate(sentences[0], sentences[1], 5, 'spherical'))
        out(`  [${p.alpha.toFixed(2)}] ${p.text.replace(/\s+/g, ' ').trim()}`);
      const manifest = await readManifest(vae.dir);
      const metrics = manifest.metrics as Record<string, number> | undefined;
      if (metrics?.bits_per_byte)
        out(`\nheld-out bits per byte (from the manifest): ${metrics.bits_per_byte.toFixed(3)}`);
      return 0;
    }
  }
  return 2;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    const verbose = process.argv.includes('--verbose');
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`textvae: ${message.split('\n')[0]}\n`);
    if (verbose && err instanceof Error && err.stack) process.stderr.write(err.stack + '\n');
    process.exit(err instanceof UsageError ? 2 : 1);
  },
);
