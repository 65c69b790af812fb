/** User-visible texts and small computations behind them; vscode-free so that they can be tested. */
import type { MetricsLine } from '../../core/types';
import { sampleSource } from '../../core/latentPrior';
import { formatBytes } from '../../core/units';
import type { TrainOutcome } from '../../protocol/engine';

/** Status-bar text shows `$(name)` as an icon: a user's string (a model folder) must show as typed. */
export function escapeCodicons(text: string): string {
  return text.replace(/\$\(/g, '\\$(');
}

export function statusBarText(modelName: string, backend: string | undefined): string {
  return `$(symbol-misc) TextVAE: ${escapeCodicons(modelName)} · ${escapeCodicons(backend ?? 'not started')}`;
}

/** Seconds left from the fraction done and the time spent, or undefined before there is a basis. */
export function estimateSecondsLeft(progress: number, elapsedSeconds: number): number | undefined {
  if (!(progress > 0) || !(elapsedSeconds > 0) || !Number.isFinite(progress) || !Number.isFinite(elapsedSeconds))
    return undefined;
  if (progress >= 1) return 0;
  return (elapsedSeconds * (1 - progress)) / progress;
}

export function formatDuration(seconds: number): string {
  if (seconds < 1) return 'less than a second';
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min`;
  const h = Math.floor(seconds / 3600);
  const m = Math.round((seconds - h * 3600) / 60);
  return m ? `${h} h ${m} min` : `${h} h`;
}

export function trainingProgressMessage(m: Pick<MetricsLine, 'progress' | 'elapsed_s' | 'loss' | 'step'>): string {
  const pct = Math.max(0, Math.min(100, Math.floor(m.progress * 100)));
  const left = estimateSecondsLeft(m.progress, m.elapsed_s);
  const parts = [`${pct}%`];
  if (left !== undefined) parts.push(`about ${formatDuration(left)} left`);
  if (Number.isFinite(m.loss)) parts.push(`loss ${m.loss.toFixed(3)}`);
  parts.push(`step ${m.step}`);
  return parts.join(' · ');
}

export function trainingFinishedMessage(outcome: Pick<TrainOutcome, 'final'>): string {
  const bpb = outcome.final.bits_per_byte;
  const on = outcome.final.evaluated_on === 'training' ? 'on training text (nothing was held out)' : 'held-out';
  return `Training finished: ${on} ${Number.isFinite(bpb) ? bpb.toFixed(3) : 'n/a'} bits/byte, ${outcome.final.active_units} active units. The new model is now active.`;
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** `model-YYYYMMDD-HHMMSS` in local time. */
export function modelFolderName(date: Date): string {
  return `model-${date.getFullYear()}${pad(date.getMonth() + 1)}${pad(date.getDate())}-${pad(date.getHours())}${pad(date.getMinutes())}${pad(date.getSeconds())}`;
}

/** The first of `base`, `base-2`, `base-3`... that does not exist yet: never an existing folder. */
export function uniqueName(base: string, exists: (name: string) => boolean, maxTries = 1000): string {
  if (!exists(base)) return base;
  for (let i = 2; i <= maxTries; i++) {
    const name = `${base}-${i}`;
    if (!exists(name)) return name;
  }
  throw new Error(`could not find a free folder name next to ${base}`);
}

export interface LagStats {
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  mean_ms: number;
  samples: number;
}

/**
 * From a perf_hooks event-loop delay histogram (nanoseconds) to milliseconds of lag. The histogram
 * records the whole time between samples, sampling interval included: that interval
 * (`resolutionMs`) is taken off, so an idle loop shows about 0.
 */
export function lagStats(
  h: { percentile(p: number): number; max: number; mean: number; count?: number },
  resolutionMs = 0,
): LagStats {
  const ms = (ns: number) => (Number.isFinite(ns) ? Math.round(Math.max(0, ns / 1e6 - resolutionMs) * 100) / 100 : 0);
  return {
    p50_ms: ms(h.percentile(50)),
    p99_ms: ms(h.percentile(99)),
    max_ms: ms(h.max),
    mean_ms: ms(h.mean),
    samples: h.count ?? 0,
  };
}

type Dict = Record<string, unknown>;
const isDict = (v: unknown): v is Dict => typeof v === 'object' && v !== null && !Array.isArray(v);

function fmtValue(v: unknown): string {
  if (typeof v === 'number') return Number.isInteger(v) ? v.toLocaleString('en') : String(+v.toFixed(4));
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (v === null || v === undefined) return 'n/a';
  return JSON.stringify(v);
}

/**
 * Text from outside (a bundle's manifest, a folder name, an error) as literal one-line Markdown:
 * control characters and line breaks become spaces, and every ASCII punctuation character is
 * backslash-escaped. No HTML, heading, link, image or table cell can start, and no text run is
 * left that a linkifier could turn into a link (it would need an unescaped "." or ":").
 */
export function escapeMarkdown(s: string): string {
  return s.replace(/[\p{Cc}\u2028\u2029]+/gu, ' ').replace(/[!-/:-@[-`{-~]/g, (c) => `\\${c}`);
}

/** `text` as a fenced code block that it cannot close early (the fence outgrows its backtick runs). */
export function markdownCodeBlock(text: string, language = 'text'): string {
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  // Control characters other than tab and line breaks carry nothing readable (terminal escapes).
  // eslint-disable-next-line no-control-regex -- finding control characters is this regex's purpose
  const shown = text.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '\ufffd');
  return `${fence}${language}\n${shown}\n${fence}\n`;
}

export interface ModelInfoLike {
  dir: string;
  fingerprint: string;
  variant: string;
  config: {
    latentDim: number;
    modelDim: number;
    maxTokens: number;
    vocabSize: number;
    decoderDilations: number[];
    encoderLayers: number;
    codeScheme?: string;
  };
  parameters: number;
  sizeBytes: number;
  vocabSize: number;
  training?: unknown;
  metrics?: unknown;
  prior?: { components: number; transition: boolean } | null;
  backend: string;
}

const METRIC_LABELS: [key: string, label: string][] = [
  ['bits_per_byte', 'Bits per byte'],
  // An eval's optional figures (textvae eval --cache on a bundle with prior.json).
  ['cache_bits_per_byte', '… with the document cache'],
  ['fitted_bits_per_byte', '… under the fitted prior'],
  ['fitted_cache_bits_per_byte', '… with the cache, under the fitted prior'],
  ['recon_bits_per_byte', 'Reconstruction bits per byte'],
  ['kl_bits_per_byte', 'KL bits per byte'],
  ['kl_nats', 'KL per example (nats)'],
  ['active_units', 'Active units'],
  ['mutual_information', 'Mutual information (nats)'],
  ['token_accuracy', 'Token accuracy'],
  ['sparsity', 'Sparsity'],
];

const TRAINING_LABELS: [key: string, label: string][] = [
  ['step', 'Steps'],
  ['elapsedSeconds', 'Training time (s)'],
  ['finished', 'Finished'],
  ['seed', 'Seed'],
  ['backend', 'Trained on backend'],
  ['batchSize', 'Batch size'],
  ['learningRate', 'Learning rate'],
  ['trainExamples', 'Training examples'],
  ['valExamples', 'Held-out examples'],
  ['files', 'Documents'],
  ['heldOutFiles', 'Held-out documents'],
  ['splitMethod', 'Held out by'],
  ['command', 'Command'],
];

/**
 * What a bundle's recorded figures were measured on: a training run's final evaluation says
 * `evaluated_on`, a `textvae eval` record its `split` (all: held-out and training files together).
 */
function evaluatedOn(metrics: Record<string, unknown>): 'held-out' | 'training' | 'all' | undefined {
  const on = metrics.evaluated_on ?? metrics.split;
  // scripts/gpu/import-model.ts writes 'held-out sample'.
  return (typeof on === 'string' && on.startsWith('held-out')) || on === 'val'
    ? 'held-out'
    : on === 'training' || on === 'train'
      ? 'training'
      : on === 'all'
        ? 'all'
        : undefined;
}

const EVALUATION_HEADINGS = {
  'held-out': ['Held-out evaluation', 'On held-out documents, which the model did not train on.'],
  training: ['Evaluation on training text', 'On text the model was trained on: no documents were held out.'],
  all: ['Evaluation', 'On held-out and training documents together.'],
  unknown: ['Evaluation', 'The bundle does not record which text these figures were measured on.'],
} as const;

/** Every fact about the active model as Markdown (for the preview and the output channel). */
export function modelInfoMarkdown(info: ModelInfoLike, name: string, backendDetail?: string): string {
  const lines: string[] = [];
  lines.push(`# TextVAE model: ${escapeMarkdown(name)}`, '');
  lines.push('| | |', '|---|---|');
  // Every value is escaped: the manifest, the folder name and the backend detail are not ours.
  const row = (k: string, v: unknown) =>
    lines.push(`| ${k} | ${typeof v === 'number' && Number.isFinite(v) ? fmtValue(v) : escapeMarkdown(fmtValue(v))} |`);
  row('Folder', info.dir);
  row('Backend', backendDetail ? `${info.backend} (${backendDetail})` : info.backend);
  row('Variant', info.variant);
  row('Fingerprint', info.fingerprint);
  // Text made here from numbers only.
  const own = (k: string, v: string) => lines.push(`| ${k} | ${v} |`);
  own('Size on disk', formatBytes(info.sizeBytes));
  row('Parameters', info.parameters);
  row('Latent dimensions', info.config.latentDim);
  row('Width', info.config.modelDim);
  own('Vocabulary', `${fmtValue(info.vocabSize)} tokens`);
  row('Tokens per code', info.config.maxTokens);
  own(
    'Codes',
    info.config.codeScheme === 'precision' ? 'tvae2: length follows the information' : 'tvae1: one byte per dimension',
  );
  own('Layers', `${fmtValue(info.config.encoderLayers)} encoder, ${info.config.decoderDilations.length} decoder`);
  // Numbers and fixed words only.
  own('Samples from', sampleSource(info));
  const metrics = isDict(info.metrics) ? info.metrics : {};
  const mRows = METRIC_LABELS.filter(([k]) => k in metrics);
  const [heading, note] = EVALUATION_HEADINGS[evaluatedOn(metrics) ?? 'unknown'];
  lines.push('', `## ${heading}`, '');
  if (mRows.length) {
    lines.push(note, '', '| | |', '|---|---|');
    for (const [k, label] of mRows) row(label, metrics[k]);
  } else lines.push('No metrics recorded in this bundle.');
  const training = isDict(info.training) ? info.training : {};
  const tRows = TRAINING_LABELS.filter(([k]) => k in training);
  lines.push('', '## Training', '');
  if (tRows.length) {
    lines.push('| | |', '|---|---|');
    for (const [k, label] of tRows) row(label, training[k]);
  } else lines.push('No training facts recorded in this bundle.');
  return lines.join('\n') + '\n';
}

/** One line for a notification. */
export function modelInfoSummary(info: ModelInfoLike, name: string): string {
  const metrics = isDict(info.metrics) ? info.metrics : {};
  const on = evaluatedOn(metrics);
  const bpb =
    typeof metrics.bits_per_byte === 'number'
      ? `, ${on === 'held-out' ? 'held-out ' : ''}${metrics.bits_per_byte.toFixed(3)} bits/byte${on === 'training' ? ' on training text' : ''}`
      : '';
  return `Model ${name} (${info.fingerprint.slice(0, 8)}, ${info.variant}) on ${info.backend}: ${info.parameters.toLocaleString('en')} parameters, ${formatBytes(info.sizeBytes)}${bpb}.`;
}

/** First line of an error message, trimmed to a notification-friendly length. */
export function oneLine(message: string, max = 400): string {
  const line =
    message
      .split(/\r?\n/)
      .find((l) => l.trim() !== '')
      ?.trim() ?? '';
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}
