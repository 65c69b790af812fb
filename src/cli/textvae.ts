#!/usr/bin/env node
/** `textvae`: the engine from the command line. Exit codes: 0 success, 1 failure, 2 bad usage. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { initBackend, type BackendReport } from '../core/backend';
import { TextVae, type DecodeOptions, type SampleRun } from '../core/textVae';
import { collectCorpus, type CorpusFile } from '../core/corpus';
import { splitForTraining } from '../core/split';
import { DEFAULT_VAL_FRACTION, trainOnCorpus } from '../core/trainingRun';
import { DEFAULT_STEP_FACTOR } from '../core/latentStats';
import type { EvalMetrics, MetricsLine } from '../core/types';
import { findLatentCodes } from '../core/latentCode';
import { WEIGHTS_DTYPES, readManifest, samePath, type WeightsDtype } from '../core/bundle';
import { sentenceMetrics } from '../core/similarity';
import { DEFAULT_CACHE, parseCacheParams, type CacheParams } from '../core/documentCache';
import { referenceFor, scoreSamples, type SampleQuality } from '../core/sampleQuality';
import { runCompress, runDecompress } from './lossless';
import { losslessCoderFor } from '../core/lossless/tfMatMul';
import { binaryToCode, findLosslessCodes } from '../core/lossless/format';
import { brotliCompressSync, constants as zlibConstants } from 'node:zlib';
import { writeText } from './terminal';
import { checkModelOut, readInputText, statInputFile } from './files';
import { sampleSource } from '../core/latentPrior';
import { formatBytes } from '../core/units';
import {
  BACKEND_REQUESTS,
  CODE_SCHEMES,
  DECODE_STRATEGIES,
  EVAL_SPLITS,
  INTERPOLATION_MODES,
  LATENT_PRIORS,
  RANGES,
  VARIANTS,
  isOneOf,
  strategiesReading,
  strategyReads,
  type StrategyOption,
  type BackendRequest,
  type CodeScheme,
  type DecodeStrategy,
  type EvalSplit,
  type InterpolationMode,
  type LatentPriorChoice,
  type Variant,
} from '../core/choices';
import {
  UsageError,
  commandUsage,
  parseCommand,
  usageText,
  type CommandSpec,
  type OptionGroup,
  type OptionSet,
  type Opts,
} from './options';

// ---------------------------------------------------------------- options, in sets shared by commands

const COMMON: OptionSet = {
  backend: { kind: 'choice', choices: BACKEND_REQUESTS, help: 'tfjs backend (default auto; env TEXTVAE_BACKEND)' },
  verbose: { kind: 'flag', help: 'stack traces on errors' },
  help: { kind: 'flag', short: 'h', help: 'this help' },
};
const MODEL: OptionSet = {
  model: { kind: 'string', arg: 'DIR', help: 'model bundle (default: the bundled models/default)' },
};
const JSON_OUTPUT: OptionSet = { json: { kind: 'flag', help: 'machine-readable output' } };
const TEXT: OptionSet = { text: { kind: 'string', arg: 'T', help: 'the input text (instead of a file or stdin)' } };
const CODES_TEXT: OptionSet = { text: { kind: 'string', arg: 'T', help: 'the codes (instead of a file or stdin)' } };
const DECODING: OptionSet = {
  strategy: {
    kind: 'choice',
    choices: DECODE_STRATEGIES,
    help: 'how codes become text (default greedy, beam with --beam or --rerank, sample for `sample`)',
  },
  temperature: { kind: 'number', arg: 'T', range: RANGES.temperature, help: 'sample: sampling temperature' },
  'top-p': { kind: 'number', arg: 'P', range: RANGES.topP, help: 'sample: nucleus sampling, probability mass kept' },
  beam: { kind: 'number', arg: 'N', range: RANGES.beamWidth, help: 'beam: beam width' },
  rerank: {
    kind: 'number',
    arg: 'L',
    range: RANGES.rerank,
    help: 'beam: re-encode the candidates, pick the best beam score + L·log q(z|candidate) (0 = off)',
  },
  seed: {
    kind: 'number',
    arg: 'S',
    range: RANGES.seed,
    help: 'sample: random seed (`sample` and `eval --samples` also draw their codes with it)',
  },
  'max-tokens': { kind: 'number', arg: 'N', range: RANGES.decodeMaxTokens, help: 'most tokens decoded per code' },
  'no-repeat-ngram': {
    kind: 'number',
    arg: 'N',
    range: RANGES.noRepeatNgram,
    help: 'greedy and sample: never repeat an N-token sequence (sampling uses 3, 0 turns it off)',
  },
};
/** How `sample` and `eval --samples` draw codes (docs/benchmarks.md, "Samples (target 3)"). */
const SAMPLING: OptionSet = {
  chunks: {
    kind: 'number',
    arg: 'N',
    range: RANGES.paragraphChunks,
    help: 'chunks per sample: a paragraph of N codes, each following the previous one (1 unless given)',
  },
  latent: {
    kind: 'choice',
    choices: LATENT_PRIORS,
    help: "where codes come from: the model's fitted prior.json (default where it has one), or standard: N(0, I) for vae",
  },
  'latent-scale': {
    kind: 'number',
    arg: 'S',
    range: RANGES.latentScale,
    help: 'fitted prior: spread of each code around its component mean, 1 = as fitted',
  },
  candidates: {
    kind: 'number',
    arg: 'K',
    range: RANGES.sampleCandidates,
    help: 'draw K candidates per sample, keep the one the model finds likeliest per token (1 unless given)',
  },
};
const CORPUS: OptionSet = {
  data: { kind: 'string', arg: 'PATH', multiple: true, help: 'files or folders of text' },
  include: { kind: 'string', arg: 'GLOB', multiple: true, help: 'only files matching GLOB' },
  exclude: { kind: 'string', arg: 'GLOB', multiple: true, help: 'leave out files matching GLOB' },
  'val-fraction': {
    kind: 'number',
    arg: 'F',
    range: RANGES.valFraction,
    help: `share of the files held out for validation, ${DEFAULT_VAL_FRACTION} unless given`,
  },
};
const DILATIONS = { range: RANGES.dilation, count: RANGES.dilationLayers } as const;
const TRAINING: OptionSet = {
  out: { kind: 'string', arg: 'DIR', help: 'where the bundle is written (required): a new or empty folder' },
  overwrite: {
    kind: 'flag',
    help: "replace the model already in --out (it stays as it was until the run's first save)",
  },
  minutes: { kind: 'number', arg: 'M', range: RANGES.minutes, help: 'wall-clock budget' },
  steps: { kind: 'number', arg: 'N', range: RANGES.maxSteps, help: 'optimiser steps' },
  epochs: { kind: 'number', arg: 'E', range: RANGES.epochs, help: 'passes over the training text' },
  seed: { kind: 'number', arg: 'S', range: RANGES.seed, help: 'random seed, 1 unless given' },
  variant: { kind: 'choice', choices: VARIANTS, help: 'kind of autoencoder (vae unless given)' },
  'vocab-size': { kind: 'number', arg: 'N', range: RANGES.vocabSize, help: 'tokenizer vocabulary' },
  'latent-dim': { kind: 'number', arg: 'N', range: RANGES.latentDim, help: 'dimensions of a code' },
  'model-dim': { kind: 'number', arg: 'N', range: RANGES.modelDim, help: 'width of the network' },
  'max-tokens': { kind: 'number', arg: 'N', range: RANGES.trainMaxTokens, help: 'tokens per code' },
  'decoder-dilations': { kind: 'list', arg: '1,2,4,...', ...DILATIONS, help: 'one decoder layer per dilation' },
  'encoder-dilations': { kind: 'list', arg: '1,2,...', ...DILATIONS, help: 'one encoder layer per dilation' },
  'encoder-positions': { kind: 'flag', help: 'codes depend on word order, not only on local n-grams' },
  'pool-slots': { kind: 'number', arg: 'N', range: RANGES.slots, help: 'encoder pools by N attention queries' },
  'memory-slots': { kind: 'number', arg: 'N', range: RANGES.slots, help: 'decoder layers attend to z as N slots' },
  'code-scheme': {
    kind: 'choice',
    choices: CODE_SCHEMES,
    help: "precision: short tvae2 codes (new vae models); int8: fixed-length tvae1; --from keeps the parent's",
  },
  'code-step': {
    kind: 'number',
    arg: 'F',
    range: RANGES.codeStep,
    help: `tvae2 step in posterior standard deviations, ${DEFAULT_STEP_FACTOR} unless given`,
  },
  'no-prior': {
    kind: 'flag',
    help: "don't fit prior.json (where samples draw codes from) to the codes at the end of the run",
  },
  'batch-size': { kind: 'number', arg: 'N', range: RANGES.batchSize, help: 'examples per step' },
  lr: { kind: 'number', arg: 'X', range: RANGES.learningRate, help: 'peak learning rate' },
  'free-bits': {
    kind: 'number',
    arg: 'NATS',
    range: RANGES.freeBits,
    help: 'KL free bits per latent dimension, 0.5 unless given',
  },
  'token-dropout': {
    kind: 'number',
    arg: 'P',
    range: RANGES.tokenDropout,
    help: 'decoder input dropout, 0.25 unless given',
  },
  dropout: {
    kind: 'number',
    arg: 'P',
    range: RANGES.dropout,
    help: 'on residual branches while training, 0 unless given',
  },
  resume: { kind: 'string', arg: 'DIR', help: 'continue the run saved in DIR' },
  from: {
    kind: 'string',
    arg: 'DIR',
    help: "fine-tune: start from this bundle's weights, tokenizer and architecture (DIR is only read)",
  },
  'weights-dtype': {
    kind: 'choice',
    choices: WEIGHTS_DTYPES,
    help: 'how the bundle stores weights (float16: half the size; training is float32 either way)',
  },
  log: { kind: 'string', arg: 'FILE', help: 'append the metrics lines to FILE too' },
  'log-every': { kind: 'number', arg: 'N', range: RANGES.logEvery, help: 'steps between metrics lines' },
};

/** Shown once in the full usage; everything else is listed under its command. */
const GROUPS: OptionGroup[] = [
  { title: 'common options', options: COMMON },
  { title: 'model', options: MODEL },
  { title: 'output', options: JSON_OUTPUT },
  { title: 'decoding', options: DECODING },
  { title: 'corpus', options: CORPUS },
];

// ---------------------------------------------------------------- helpers of the commands

interface Context {
  backend: BackendReport;
  /** The command line, for the provenance record of a training run. */
  argv: readonly string[];
}

export function defaultModelDir(): string {
  const candidates = [
    path.join(__dirname, '..', 'models', 'default'),
    path.join(__dirname, '..', '..', 'models', 'default'),
  ];
  return candidates.find((d) => fs.existsSync(path.join(d, 'manifest.json'))) ?? candidates[0];
}

async function readTextInput(o: Opts): Promise<string> {
  const text = o.string('text');
  if (text !== undefined) return text;
  const file = o.positionals[0];
  if (file && file !== '-') {
    return readInputText(file);
  }
  if (process.stdin.isTTY) throw new UsageError('give text with --text, a file, or on standard input');
  const parts: Buffer[] = [];
  for await (const chunk of process.stdin) parts.push(chunk as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

/** The strategy decoding runs with: --strategy, else beam where --beam or --rerank asks for it, else `fallback`. */
function strategyOf(o: Opts, fallback: DecodeStrategy): DecodeStrategy {
  return o.choice<DecodeStrategy>('strategy', o.number('beam') || o.given('rerank') ? 'beam' : fallback);
}

function decodeOptions(o: Opts, fallback: DecodeStrategy = 'greedy'): DecodeOptions {
  return {
    strategy: strategyOf(o, fallback),
    temperature: o.number('temperature'),
    topP: o.number('top-p'),
    beamWidth: o.number('beam'),
    rerank: o.number('rerank'),
    seed: o.number('seed'),
    maxTokens: o.number('max-tokens'),
    noRepeatNgram: o.number('no-repeat-ngram'),
  };
}

/** `sample`'s decoding: sampling at temperature 0.8 and top-p 0.95 unless the options say otherwise. */
function sampleDecoding(o: Opts): SampleRun {
  return {
    temperature: 0.8,
    topP: 0.95,
    ...stripUndefined(decodeOptions(o, 'sample')),
    ...stripUndefined({
      chunks: o.number('chunks'),
      latentPrior: o.given('latent') ? o.choice<LatentPriorChoice>('latent') : undefined,
      latentScale: o.number('latent-scale'),
      candidates: o.number('candidates'),
    }),
  };
}

/** --latent fitted needs a model with prior.json. */
function checkLatent(o: Opts, vae: TextVae): void {
  if (o.given('latent') && o.choice('latent') === 'fitted' && !vae.prior)
    throw new UsageError(`${vae.dir} has no prior.json to sample from (fit one: scripts/fit-prior.ts)`);
}

/** `eval --samples`: N samples from the prior scored, next to N held-out chunks of --reference text. */
async function sampleReport(o: Opts, vae: TextVae) {
  const n = o.number('samples')!;
  const decoding = sampleDecoding(o);
  checkLatent(o, vae);
  const texts = await vae.sample(n, decoding);
  const paths = o.strings('reference');
  const reference = paths?.length
    ? referenceFor(
        (await collectCorpus(paths)).files,
        n,
        (t) => vae.chunk(t),
        o.number('val-fraction') ?? DEFAULT_VAL_FRACTION,
        decoding.chunks ?? 1,
      )
    : undefined;
  if (reference && reference.chunks.length === 0)
    process.stderr.write('the reference has no held-out text: only its words are used\n');
  return {
    sample_decoding: {
      strategy: decoding.strategy,
      temperature: decoding.temperature,
      top_p: decoding.topP,
      no_repeat_ngram: decoding.noRepeatNgram ?? 3,
      seed: decoding.seed ?? 0,
      latent: decoding.latentPrior ?? (vae.prior ? 'fitted' : 'standard'),
      chunks: decoding.chunks ?? 1,
      candidates: decoding.candidates ?? 1,
      ...(decoding.latentScale !== undefined ? { latent_scale: decoding.latentScale } : {}),
    },
    sample_quality: scoreSamples(texts, reference?.vocabulary),
    ...(reference?.chunks.length ? { reference_quality: scoreSamples(reference.chunks, reference.vocabulary) } : {}),
    sample_texts: texts,
  };
}

/** The sample scores as a table: one row per score, a column for the samples and one for the reference. */
function qualityTable(samples: SampleQuality, reference?: SampleQuality): string {
  const cell = (v: unknown) =>
    typeof v === 'number' ? String(+v.toFixed(3)) : Array.isArray(v) ? v.slice(0, 6).join(' ') : String(v);
  const rows = Object.keys(samples).map((k) => {
    const key = k as keyof SampleQuality;
    return `  ${k.padEnd(27)} ${cell(samples[key]).padEnd(12)} ${reference ? cell(reference[key]) : ''}`.trimEnd();
  });
  return [`  ${'score'.padEnd(27)} ${'samples'.padEnd(12)} ${reference ? 'reference' : ''}`.trimEnd(), ...rows].join(
    '\n',
  );
}

function print(o: Opts, json: unknown, text: string): void {
  if (o.flag('json')) process.stdout.write(JSON.stringify(json) + '\n');
  else writeText(process.stdout, text.endsWith('\n') ? text : text + '\n');
}

function modelDir(o: Opts): string {
  return o.string('model') ?? defaultModelDir();
}

function requireData(o: Opts): void {
  if (!o.strings('data')?.length) throw new UsageError('--data PATH is required (files or folders)');
}

async function gatherTexts(o: Opts): Promise<CorpusFile[]> {
  const data = o.strings('data') ?? [];
  const { files, skipped } = await collectCorpus(data, {
    include: o.strings('include'),
    exclude: o.strings('exclude'),
  });
  for (const s of skipped) process.stderr.write(`skipped ${s.path}: ${s.reason}\n`);
  if (files.length === 0) throw new Error(`no text files found in ${data.join(', ')}`);
  return files;
}

/** `eval --cache --cache-params FILE`: the parameters in FILE (undefined without the option). */
function cacheParamsFile(o: Opts): CacheParams | undefined {
  const file = o.string('cache-params');
  if (file === undefined) return undefined;
  statInputFile(file);
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file} is not JSON`, { cause: e });
  }
  try {
    return parseCacheParams(json);
  } catch (e) {
    throw new Error(`${file}: ${(e as Error).message}`, { cause: e });
  }
}

/** One `name  value` line per field, numbers to 4 decimals: eval's report and info's metrics. */
function fieldLines(fields: Record<string, unknown>, indent = ''): string[] {
  // The names' column is as wide as the longest name (fitted_cache_bits_per_byte is 26), at least 25.
  const width = Math.max(25, ...Object.keys(fields).map((k) => k.length));
  return Object.entries(fields).map(
    ([k, v]) =>
      `${indent}${k.padEnd(width)} ${typeof v === 'number' ? +v.toFixed(4) : typeof v === 'string' ? v : JSON.stringify(v)}`,
  );
}

/** info: the bundle's recorded evaluation, one field a line (model and fingerprint are shown above it). */
function metricsLines(metrics: unknown): string[] {
  if (metrics === undefined || metrics === null) return ['metrics:     none recorded'];
  if (typeof metrics !== 'object' || Array.isArray(metrics)) return [`metrics:     ${JSON.stringify(metrics)}`];
  const { model: _model, fingerprint: _fingerprint, ...rest } = metrics as Record<string, unknown>;
  return ['metrics (recorded when the model was saved):', ...fieldLines(rest, '  ')];
}

/** The non-blank lines of a text file, without their line ends. */
function readLines(file: string): string[] {
  const lines = readInputText(file)
    .split(/\r?\n/)
    .filter((l) => l.trim() !== '');
  if (lines.length === 0) throw new Error(`${file} has no sentences (every line is blank)`);
  return lines;
}

/** A resumed run whose bound the checkpoint already reached would train nothing: bad usage. */
async function checkResumeBound(o: Opts, resume: string): Promise<void> {
  const training = (await readManifest(resume)).training as { step?: unknown; elapsedSeconds?: unknown } | undefined;
  const step = typeof training?.step === 'number' ? training.step : 0;
  const elapsed = typeof training?.elapsedSeconds === 'number' ? training.elapsedSeconds : 0;
  const steps = o.number('steps');
  const minutes = o.number('minutes');
  if (steps !== undefined && steps <= step)
    throw new UsageError(
      `--steps ${steps} is not above the checkpoint's step ${step}: nothing would be trained (--steps is the total to reach)`,
    );
  if (minutes !== undefined && minutes * 60 <= elapsed)
    throw new UsageError(
      `--minutes ${minutes} is not above the checkpoint's ${+(elapsed / 60).toFixed(2)} minutes of training: nothing would be trained (--minutes is the total to reach)`,
    );
}

/** Lossless and latent codes look alike: point at the command that reads the one given. */
const LOSSLESS_TO_DECODE =
  'a lossless code (tvz2:...) is read by textvae decompress; decode reads latent codes (tvae2:...)';

/**
 * Where decode's codes come from. Each argument is read by what it is: '-' is standard input, an
 * existing file is read, and anything else must hold codes itself (padding and prose around them
 * are fine). No argument: --text, else standard input.
 */
async function decodeSource(o: Opts): Promise<string> {
  if (o.positionals.length === 0) return readTextInput(o);
  const parts: string[] = [];
  for (const arg of o.positionals) {
    if (arg === '-') parts.push(await readTextInput(o));
    else if (fs.existsSync(arg) && fs.statSync(arg).isFile()) parts.push(fs.readFileSync(arg, 'utf8'));
    else if (findLatentCodes(arg).length > 0) parts.push(arg);
    else if (fs.existsSync(arg)) throw new Error(`${arg} is a folder, not a file of latent codes`);
    else if (findLosslessCodes(arg).length > 0) throw new Error(LOSSLESS_TO_DECODE);
    else throw new Error(`'${arg}' is neither a file nor a latent code (tvae2:...)`);
  }
  return parts.join('\n');
}

/** Each decoding option's field in DecodeOptions, for the strategies that read it. */
const DECODING_FIELDS: Readonly<Record<string, StrategyOption>> = {
  temperature: 'temperature',
  'top-p': 'topP',
  beam: 'beamWidth',
  rerank: 'rerank',
  seed: 'seed',
  'no-repeat-ngram': 'noRepeatNgram',
};

/**
 * An option the strategy ignores would be dropped without a word: bad usage. `fallbacks`: the
 * strategy of each decoding the command runs when --strategy is not given (eval: none, one or
 * two); `seedDrawsCodes`: --seed also draws the codes (sampling from the prior), whatever the strategy.
 */
function checkDecoding(o: Opts, fallbacks: DecodeStrategy[], seedDrawsCodes = false): void {
  if (fallbacks.length === 0) {
    const given = ['strategy', 'max-tokens', ...Object.keys(DECODING_FIELDS)].find((f) => o.given(f));
    if (given) throw new UsageError(`--${given} applies to --sentences and --samples (--data decodes no text)`);
    return;
  }
  const strategies = [...new Set(fallbacks.map((f) => strategyOf(o, f)))];
  for (const [flag, field] of Object.entries(DECODING_FIELDS)) {
    if (!o.given(flag) || (field === 'seed' && seedDrawsCodes)) continue;
    if (strategies.some((s) => strategyReads(s, field))) continue;
    const why = o.given('strategy')
      ? `got --strategy ${strategies[0]}`
      : `${o.command} uses ${strategies.join(' and ')} unless --strategy says otherwise`;
    throw new UsageError(`--${flag} applies to --strategy ${strategiesReading(field).join(' or ')} only (${why})`);
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

// ---------------------------------------------------------------- the table of commands

/**
 * Every command: its usage line, its options and its handler. To add a command, add an entry
 * (options: the shared sets above it uses, spread, plus its own). To add an option to a command,
 * declare it in that command's options (or in a set it spreads) and read it in run() with
 * o.number / o.string / o.flag / o.choice / o.list. Values are checked against the declaration
 * before the backend starts; an option a command does not declare is a usage error (exit 2), and
 * the help text is generated from these declarations. One option name must have one type and
 * short form across commands (checked at start-up).
 */
const COMMANDS: Record<string, CommandSpec<Context>> = {
  info: {
    synopsis: '[--model DIR]',
    summary: 'backend, model and training facts',
    options: { ...COMMON, ...MODEL, ...JSON_OUTPUT },
    async run(o, { backend }) {
      const dir = modelDir(o);
      const vae = await TextVae.load(dir);
      const info = {
        ...vae.info(),
        backend: backend.name,
        backend_detail: backend.detail,
        backends_skipped: backend.skipped,
      };
      print(
        o,
        info,
        [
          `backend:     ${backend.name} (${backend.detail})`,
          ...backend.skipped.map((s) => `  skipped:   ${s}`),
          `model:       ${dir}`,
          `fingerprint: ${vae.fingerprint}`,
          `variant:     ${vae.config.variant}, latent ${vae.config.latentDim}, width ${vae.config.modelDim}, ${vae.config.decoderDilations.length} decoder layers, ${vae.config.maxTokens} tokens per code`,
          `parameters:  ${info.parameters.toLocaleString('en')} (${formatBytes(info.sizeBytes)} on disk)`,
          `vocabulary:  ${vae.tokenizer.vocabSize} byte-level BPE tokens`,
          `codes:       ${vae.config.codeScheme === 'precision' ? 'tvae2 (steps follow the posterior, range-coded)' : 'tvae1 (int8 per dimension)'}`,
          `samples:     from ${sampleSource(info)}`,
          ...metricsLines(info.metrics),
        ].join('\n'),
      );
      return 0;
    },
  },

  train: {
    synopsis: '--data PATH... --out DIR',
    summary: 'train a model (bound it: --minutes, --steps or --epochs)',
    options: { ...COMMON, ...CORPUS, ...TRAINING },
    async check(o) {
      const out = o.string('out');
      if (!out) throw new UsageError('--out DIR is required');
      requireData(o);
      // Which kind of run first: the bound's message depends on it.
      if (o.given('from') && o.given('resume'))
        throw new UsageError('--from starts a new run from a model and --resume continues one: give only one');
      if (!o.given('minutes') && !o.given('steps') && !o.given('epochs'))
        throw new UsageError(
          o.given('resume')
            ? 'bound the resumed run with --minutes, --steps or --epochs (the total to reach, counting the checkpoint)'
            : 'bound the run with --minutes, --steps or --epochs',
        );
      // Never the user's files; a model only when told (or when the run resumed is the one in --out).
      const from = o.string('from');
      if (from !== undefined && samePath(from, out))
        throw new UsageError(`--out must differ from --from ${from} (the model fine-tuned from is only read)`);
      const resume = o.string('resume');
      await checkModelOut(out, o.flag('overwrite') || (resume !== undefined && samePath(resume, out)));
    },
    async run(o, { backend, argv }) {
      // Mistakes that would waste the run before anything is read.
      const resume = o.string('resume');
      if (resume !== undefined) await checkResumeBound(o, resume);
      const files = await gatherTexts(o);
      const logPath = o.string('log');
      const logFile = logPath !== undefined ? fs.openSync(logPath, 'a') : null;
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
      const result = await trainOnCorpus({
        files,
        out: o.string('out')!,
        source: 'cli',
        command: ['textvae', ...argv].join(' '),
        valFraction: o.number('val-fraction'),
        architecture: {
          variant: o.given('variant') ? o.choice<Variant>('variant') : undefined,
          vocabSize: o.number('vocab-size'),
          latentDim: o.number('latent-dim'),
          modelDim: o.number('model-dim'),
          maxTokens: o.number('max-tokens'),
          decoderDilations: o.list('decoder-dilations'),
          encoderDilations: o.list('encoder-dilations'),
          encoderPositions: o.flag('encoder-positions'),
          poolSlots: o.number('pool-slots'),
          memorySlots: o.number('memory-slots'),
          codeScheme: o.given('code-scheme') ? o.choice<CodeScheme>('code-scheme') : undefined,
        },
        seed: o.number('seed'),
        batchSize: o.number('batch-size'),
        learningRate: o.number('lr'),
        minutes: o.number('minutes'),
        maxSteps: o.number('steps'),
        epochs: o.number('epochs'),
        resume: o.string('resume'),
        from: o.string('from'),
        weightsDtype: o.given('weights-dtype') ? o.choice<WeightsDtype>('weights-dtype') : undefined,
        freeNatsPerDim: o.number('free-bits'),
        codeStepFactor: o.number('code-step'),
        fitPrior: !o.flag('no-prior'),
        tokenDropout: o.number('token-dropout'),
        dropout: o.number('dropout'),
        logEvery: o.number('log-every'),
        signal: controller.signal,
        onMetrics: (m: MetricsLine) => emit(m),
        onLog: (msg) => process.stderr.write(msg + '\n'),
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
    },
  },

  eval: {
    synopsis: '--data PATH... | --sentences F | --samples N',
    summary: 'bits per byte, KL, active units of --data; sentences back from codes; sample quality',
    options: {
      ...COMMON,
      ...MODEL,
      ...JSON_OUTPUT,
      ...CORPUS,
      ...DECODING,
      ...SAMPLING,
      split: {
        kind: 'choice',
        choices: EVAL_SPLITS,
        default: 'all',
        help: 'val: the files a training run with the same --val-fraction held out',
      },
      sentences: {
        kind: 'string',
        arg: 'FILE',
        help: 'reconstruct each line of FILE from its code: exact, char_similarity, word_f1, code_chars_per_text_char',
      },
      samples: {
        kind: 'number',
        arg: 'N',
        range: RANGES.sampleCount,
        help: 'score N samples drawn as `sample` draws them: loops, word runs, distinct-n, sentences, markup',
      },
      reference: {
        kind: 'string',
        arg: 'PATH',
        multiple: true,
        help: 'text of the training domain: its training split gives the known words, its held-out split N chunks scored alike',
      },
      cache: {
        kind: 'flag',
        help: 'also score --data with a document cache: the earlier tokens of the same file mixed into the decoder (cache_bits_per_byte)',
      },
      'cache-params': {
        kind: 'string',
        arg: 'FILE',
        help: "with --cache: the cache's parameters as JSON (scripts/cache-tune.ts prints them) instead of the bundle's cache.json or the default",
      },
    },
    check(o) {
      const samples = o.given('samples');
      // A flag that belongs to a missing input names that input, before the general complaint.
      for (const flag of ['reference', ...Object.keys(SAMPLING)])
        if (o.given(flag) && !samples) throw new UsageError(`--${flag} applies to --samples N`);
      if (o.flag('cache') && !o.given('data')) throw new UsageError('--cache applies to --data');
      if (o.given('cache-params') && !o.flag('cache')) throw new UsageError('--cache-params applies to --cache');
      if (!o.given('data') && !o.given('sentences') && !samples)
        throw new UsageError('say what to evaluate: --data PATH..., --sentences FILE or --samples N');
      checkDecoding(
        o,
        [...(o.given('sentences') ? ['greedy' as const] : []), ...(samples ? ['sample' as const] : [])],
        samples,
      );
    },
    async run(o, { backend }) {
      const fromFile = cacheParamsFile(o);
      const vae = await TextVae.load(modelDir(o));
      let m: Partial<EvalMetrics> & { split?: EvalSplit; cache_params?: string } = {};
      if (o.given('data')) {
        const files = await gatherTexts(o);
        const split = o.choice<EvalSplit>('split');
        // The same deterministic split as training, so '--split val' is exactly the held-out text.
        const parts = splitForTraining(files, o.number('val-fraction') ?? DEFAULT_VAL_FRACTION);
        const chosen = split === 'all' ? files.map((f) => f.text) : parts[split];
        if (chosen.length === 0) throw new Error(`the ${split} split of the data is empty`);
        // The parameters: --cache-params FILE, else the bundle's cache.json, else the engine's default.
        const cache = fromFile ?? vae.cacheParams ?? DEFAULT_CACHE;
        const source = fromFile ? 'file' : vae.cacheParams ? 'bundle' : 'default';
        m = {
          split,
          ...(await vae.evaluateTexts(chosen, undefined, o.flag('cache') ? cache : undefined)),
          ...(o.flag('cache') && { cache_params: source }),
        };
      }
      const sentencesFile = o.string('sentences');
      if (sentencesFile !== undefined) {
        const lines = readLines(sentencesFile);
        const decoding = decodeOptions(o);
        Object.assign(m, sentenceMetrics(await vae.roundTrip(lines, decoding)), {
          strategy: decoding.strategy,
        });
      }
      const samples = o.given('samples') ? await sampleReport(o, vae) : undefined;
      const result = { model: vae.dir, fingerprint: vae.fingerprint, ...m, backend: backend.name };
      const lines = fieldLines(result);
      if (samples) {
        const d = samples.sample_decoding;
        lines.push(
          '',
          `samples (${d.strategy}, temperature ${d.temperature}, top-p ${d.top_p}, no-repeat-ngram ${d.no_repeat_ngram}, seed ${d.seed}, ` +
            `${d.latent} prior, ${d.chunks} chunk${d.chunks > 1 ? 's' : ''} each${d.candidates > 1 ? `, best of ${d.candidates}` : ''}):`,
          qualityTable(samples.sample_quality, samples.reference_quality),
          '',
          ...samples.sample_texts.slice(0, 3).map((t, i) => `--- sample ${i + 1}\n${t.trimEnd()}`),
        );
      }
      print(o, { ...result, ...samples }, lines.join('\n'));
      return 0;
    },
  },

  encode: {
    synopsis: '[FILE|-|--text T]',
    summary: 'text -> latent codes, one per line',
    options: {
      ...COMMON,
      ...MODEL,
      ...JSON_OUTPUT,
      ...TEXT,
      sample: { kind: 'flag', help: 'vae: draw codes from the posterior instead of taking its mean' },
      seed: { kind: 'number', arg: 'S', range: RANGES.seed, help: 'with --sample: random seed' },
    },
    positionals: true,
    check(o) {
      if (o.given('seed') && !o.flag('sample')) throw new UsageError('--seed applies to --sample');
    },
    async run(o, { backend }) {
      const vae = await TextVae.load(modelDir(o));
      // Only a vae has a posterior spread to draw from: the others' codes are the mean anyway.
      if (o.flag('sample') && vae.config.variant !== 'vae')
        throw new UsageError(
          `--sample draws from a vae's posterior; the model in ${vae.dir} is variant ${vae.config.variant}`,
        );
      const text = await readTextInput(o);
      if (text.length === 0) throw new Error('the input text is empty');
      const codes = await vae.encodeToCodes(text, { sample: o.flag('sample'), seed: o.number('seed') });
      print(o, { codes, backend: backend.name }, codes.join('\n'));
      return 0;
    },
  },

  decode: {
    synopsis: '[CODES...|FILE|-]',
    summary: 'latent codes -> text',
    options: { ...COMMON, ...MODEL, ...JSON_OUTPUT, ...DECODING, ...CODES_TEXT },
    positionals: true,
    check: (o) => checkDecoding(o, ['greedy']),
    async run(o, { backend }) {
      const vae = await TextVae.load(modelDir(o));
      const source = await decodeSource(o);
      const found = findLatentCodes(source).map((c) => c.code);
      if (found.length === 0)
        throw new Error(
          findLosslessCodes(source).length > 0 ? LOSSLESS_TO_DECODE : 'no latent codes (tvae2:...) found in the input',
        );
      const text = await vae.decodeCodes(found, decodeOptions(o));
      print(o, { text, codes: found.length, backend: backend.name }, text);
      return 0;
    },
  },

  reconstruct: {
    synopsis: '[FILE|-|--text T]',
    summary: 'text -> codes -> text',
    options: { ...COMMON, ...MODEL, ...JSON_OUTPUT, ...DECODING, ...TEXT },
    positionals: true,
    check: (o) => checkDecoding(o, ['greedy']),
    async run(o, { backend }) {
      const vae = await TextVae.load(modelDir(o));
      const text = await readTextInput(o);
      if (text.length === 0) throw new Error('the input text is empty');
      const r = await vae.reconstruct(text, decodeOptions(o));
      print(o, { ...r, backend: backend.name }, r.text);
      return 0;
    },
  },

  sample: {
    synopsis: '[-n N]',
    summary: 'paragraphs from the prior',
    options: {
      ...COMMON,
      ...MODEL,
      ...JSON_OUTPUT,
      ...DECODING,
      ...SAMPLING,
      n: { kind: 'number', arg: 'N', short: 'n', range: RANGES.sampleCount, default: 3, help: 'how many' },
    },
    check: (o) => checkDecoding(o, ['sample'], true),
    async run(o, { backend }) {
      const vae = await TextVae.load(modelDir(o));
      checkLatent(o, vae);
      const texts = await vae.sample(o.number('n')!, sampleDecoding(o));
      print(o, { samples: texts, backend: backend.name }, texts.map((t, i) => `--- sample ${i + 1}\n${t}`).join('\n'));
      return 0;
    },
  },

  interpolate: {
    synopsis: '--from T --to T [--steps N]',
    summary: 'texts along a path in latent space',
    options: {
      ...COMMON,
      ...MODEL,
      ...JSON_OUTPUT,
      ...DECODING,
      from: { kind: 'string', arg: 'T', help: 'the text at the start' },
      to: { kind: 'string', arg: 'T', help: 'the text at the end' },
      'from-file': { kind: 'string', arg: 'FILE', help: 'read the start text from FILE' },
      'to-file': { kind: 'string', arg: 'FILE', help: 'read the end text from FILE' },
      steps: {
        kind: 'number',
        arg: 'N',
        range: RANGES.interpolationSteps,
        default: 5,
        help: 'points on the path, ends included',
      },
      mode: {
        kind: 'choice',
        choices: INTERPOLATION_MODES,
        default: 'spherical',
        help: 'straight line or great circle',
      },
    },
    check(o) {
      checkDecoding(o, ['greedy']);
      if (!o.given('from') && !o.given('from-file')) throw new UsageError('--from TEXT (or --from-file) is required');
      if (!o.given('to') && !o.given('to-file')) throw new UsageError('--to TEXT (or --to-file) is required');
    },
    async run(o, { backend }) {
      const vae = await TextVae.load(modelDir(o));
      const fromFile = o.string('from-file');
      const toFile = o.string('to-file');
      const from = fromFile !== undefined ? readInputText(fromFile) : o.string('from')!;
      const to = toFile !== undefined ? readInputText(toFile) : o.string('to')!;
      const mode = o.choice<InterpolationMode>('mode');
      const path_ = await vae.interpolate(from, to, o.number('steps')!, mode, decodeOptions(o));
      print(
        o,
        { steps: path_, mode, backend: backend.name },
        path_.map((p) => `[${p.alpha.toFixed(2)}] ${p.text}`).join('\n'),
      );
      return 0;
    },
  },

  demo: {
    synopsis: '',
    summary: 'reconstruct, sample, interpolate and compress losslessly with the default model (or --model)',
    options: { ...COMMON, ...MODEL },
    async run(o, { backend }) {
      const vae = await TextVae.load(modelDir(o));
      const out = (s: string) => writeText(process.stdout, s + '\n');
      // Each text on one line of the terminal: the model's line breaks and trailing spaces would only blur it.
      const shown = (t: string) => t.replace(/\s+/g, ' ').trim();
      out(`TextVAE demo: model ${vae.dir} (${vae.fingerprint.slice(0, 8)}), backend ${backend.name}\n`);
      const sentences = [
        'The for statement iterates over the items of any sequence.',
        'This module provides access to the mathematical functions defined by the C standard.',
      ];
      for (const s of sentences) {
        const codes = await vae.encodeToCodes(s);
        const back = await vae.decodeCodes(codes, { strategy: 'beam', beamWidth: 4 });
        out(`original:      ${s}\ncode:          ${codes.join(' ')}\nreconstructed: ${shown(back)}\n`);
      }
      out('samples from the prior:');
      for (const t of await vae.sample(3, { temperature: 0.8, topP: 0.95, seed: 7 })) out(`  - ${shown(t)}`);
      out('\ninterpolation (spherical):');
      for (const p of await vae.interpolate(sentences[0], sentences[1], 5, 'spherical'))
        out(`  [${p.alpha.toFixed(2)}] ${shown(p.text)}`);
      out('\nlossless code (gives back the exact bytes):');
      const coder = await losslessCoderFor(vae);
      try {
        const bytes = new TextEncoder().encode(sentences[1]);
        const binary = await coder.compressToBinary(bytes);
        const code = binaryToCode(binary, coder.fingerprint);
        const exact = Buffer.from(coder.decompressCode(code)).equals(Buffer.from(bytes));
        const brotli = brotliCompressSync(bytes, {
          params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 11, [zlibConstants.BROTLI_PARAM_MODE]: 1 },
        }).length;
        out(`  ${code}`);
        out(`  ${bytes.length} bytes of text -> ${binary.length} bytes in binary form; brotli -q 11: ${brotli} bytes`);
        out(`  decoded back: ${exact ? 'identical' : 'DIFFERENT (please report this)'}`);
      } finally {
        coder.dispose();
      }
      const manifest = await readManifest(vae.dir);
      const metrics = manifest.metrics as Record<string, number> | undefined;
      if (metrics?.bits_per_byte) {
        // With the document cache and the fitted prior too, where the bundle's eval has them.
        const both = metrics.fitted_cache_bits_per_byte;
        out(
          `\nheld-out bits per byte (from the manifest): ${metrics.bits_per_byte.toFixed(3)}` +
            (typeof both === 'number' ? `; ${both.toFixed(3)} with the document cache, under the fitted prior` : ''),
        );
      }
      return 0;
    },
  },

  compress: {
    synopsis: '[FILE|-|--text T] [--out FILE]',
    summary:
      'lossless code of a file: prints a tvz2: code (tvz3: where it takes more than one 32 KiB segment), or writes the binary form with --out',
    options: {
      ...COMMON,
      ...MODEL,
      ...TEXT,
      out: { kind: 'string', arg: 'FILE', help: 'write the binary form here' },
      search: {
        kind: 'number',
        arg: 'N',
        range: RANGES.latentSearchSweeps,
        help: "sweeps of the search for each block's latent grid point: smaller codes, slower compression (0 = off; default 1 on tensorflow, 0 on wasm and cpu)",
      },
    },
    positionals: true,
    check(o) {
      if (o.positionals.length > 1) throw new UsageError('give one file (or - for standard input)');
      if (o.positionals.length && o.given('text')) throw new UsageError('give a file or --text, not both');
    },
    run: (o) => runCompress(o.positionals[0], o.string('text'), o.string('out'), modelDir(o), o.number('search')),
  },

  decompress: {
    synopsis: '[CODE|FILE|-] [--out FILE]',
    summary: 'the exact original bytes of a lossless code (a tvz1:, tvz2: or tvz3: code, or a file in either form)',
    options: {
      ...COMMON,
      ...MODEL,
      out: { kind: 'string', arg: 'FILE', help: 'write the bytes here (default: standard output)' },
    },
    positionals: true,
    check(o) {
      if (o.positionals.length > 1) throw new UsageError('give one code or file (or - for standard input)');
    },
    run: (o) => runDecompress(o.positionals[0], o.string('out'), modelDir(o)),
  },
};

const USAGE = usageText(COMMANDS, GROUPS, 'textvae: a text variational autoencoder');

// ---------------------------------------------------------------- dispatch

async function main(argv: string[]): Promise<number> {
  const command = argv[0];
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE + '\n');
    return command ? 0 : 2;
  }
  const o = parseCommand(COMMANDS, command, argv.slice(1));
  const spec = COMMANDS[command];
  if (o.flag('help')) {
    process.stdout.write(commandUsage(command, spec) + '\n');
    return 0;
  }
  const envBackend = process.env.TEXTVAE_BACKEND;
  if (envBackend && !isOneOf(BACKEND_REQUESTS, envBackend)) {
    throw new UsageError(`TEXTVAE_BACKEND must be one of ${BACKEND_REQUESTS.join(', ')} (got '${envBackend}')`);
  }
  // Every usage error surfaces before paying for backend start-up.
  await spec.check?.(o);
  const backend = await initBackend(o.choice<BackendRequest>('backend', (envBackend as BackendRequest) || 'auto'));
  return spec.run(o, { backend, argv });
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
