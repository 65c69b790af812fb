/**
 * The engine process: runs tfjs away from the extension host. Started by the host with
 * child_process.fork (advanced serialization); speaks only the protocol in src/protocol/engine.ts.
 *
 * Requests run one at a time, in order. Two exceptions: `cancel` is handled at once, and a
 * `train` request runs in its own lane so that editor commands keep working during a long run
 * (training yields between steps; inference interleaves there).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { initBackend, activeBackend } from '../core/backend';
import { TextVae } from '../core/textVae';
import { CorpusError } from '../core/corpus';
import { trainOnDocuments } from '../core/trainingRun';
import { LatentCodeError } from '../core/latentCode';
import type { LosslessCoder } from '../core/lossless/codec';
import { losslessCoderFor } from '../core/lossless/tfMatMul';
import { defaultSearchSweeps } from '../core/choices';
import { BINARY_HEADER_BYTES, LosslessCodeError } from '../core/lossless/format';
import { decodeWtf8, encodeWtf8 } from '../core/wtf8';
import { BundleError } from '../core/bundle';
import {
  parseHostMessage,
  type EngineErrorCode,
  type EngineMethod,
  type EngineMethods,
  type EngineNotifications,
  type WorkerToHost,
} from '../protocol/engine';
import { BadInputError, isEngineMethod, validateParams } from '../protocol/validateParams';

class EngineError extends Error {
  constructor(
    readonly code: EngineErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'EngineError';
  }
}

interface Job {
  id: number;
  method: EngineMethod;
  params: unknown;
  /** Set once a response went out: a later result of a cancelled job is dropped. */
  responded: boolean;
  controller?: AbortController;
}

// ------------------------------------------------------------------ messaging

function send(message: WorkerToHost): void {
  if (!process.send || !process.connected) return;
  process.send(message, undefined, undefined, (err: Error | null) => {
    if (err) process.stderr.write(`textvae engine: could not send a message to the host: ${err.message}\n`);
  });
}

function notify<K extends keyof EngineNotifications>(method: K, params: EngineNotifications[K]): void {
  send({ kind: 'notification', method, params });
}

function oneLine(message: string): string {
  const line =
    message
      .split(/\r?\n/)
      .find((l) => l.trim() !== '')
      ?.trim() ?? 'unknown error';
  return line.length > 500 ? `${line.slice(0, 499)}…` : line;
}

function classify(err: unknown, method: EngineMethod): { message: string; code: EngineErrorCode } {
  const raw = err instanceof Error ? err.message : String(err);
  if (err instanceof EngineError) return { message: oneLine(raw), code: err.code };
  if (err instanceof BadInputError || err instanceof CorpusError) return { message: oneLine(raw), code: 'bad-input' };
  if (err instanceof LatentCodeError || err instanceof LosslessCodeError)
    return { message: oneLine(raw), code: 'bad-code' };
  if (err instanceof BundleError) return { message: oneLine(raw), code: 'bundle' };
  // Anything that goes wrong while loading a bundle is a problem with that bundle.
  if (method === 'loadModel') return { message: oneLine(raw), code: 'bundle' };
  if (err instanceof Error && err.stack) process.stderr.write(`textvae engine: ${method} failed: ${err.stack}\n`);
  return { message: oneLine(raw), code: 'internal' };
}

function respond(job: Job, outcome: { result: unknown } | { error: { message: string; code: EngineErrorCode } }): void {
  if (job.responded) return;
  job.responded = true;
  send({ kind: 'response', id: job.id, ...outcome });
}

// ------------------------------------------------------------------ state

let active: TextVae | null = null;
const queue: Job[] = [];
let running: Job | null = null;
let training: Job | null = null;

/** Reports a job's progress to the host, at most every PROGRESS_MS (and always the end). */
function progressOf(job: Job, total: number): (done: number) => void {
  let last = 0;
  let sent = -1;
  return (done) => {
    const now = Date.now();
    done = Math.min(done, total);
    if (done === sent || (done < total && now - last < PROGRESS_MS)) return;
    last = now;
    sent = done;
    notify('requestProgress', { id: job.id, done, total });
  };
}
const PROGRESS_MS = 200;

/** The job's cancellation signal (every job gets a controller when it starts). */
function signalOf(job: Job): AbortSignal {
  return (job.controller ??= new AbortController()).signal;
}

let coderOf: { vae: TextVae; coder: Promise<LosslessCoder> } | null = null;

/** The lossless coder of the active model, built once per model. */
function losslessCoder(): Promise<LosslessCoder> {
  const vae = requireModel();
  if (coderOf?.vae !== vae) {
    void coderOf?.coder.then(
      (c) => c.dispose(),
      () => undefined,
    );
    coderOf = { vae, coder: losslessCoderFor(vae) };
  }
  return coderOf.coder;
}

function requireModel(): TextVae {
  if (!active) throw new EngineError('no-model', 'No model is loaded. Run "TextVAE: Select Model" to choose one.');
  return active;
}

async function ensureBackend(): Promise<string> {
  return (activeBackend() ?? (await initBackend('auto'))).name;
}

async function modelInfo(vae: TextVae): Promise<EngineMethods['loadModel']['result']> {
  return { ...vae.info(), backend: await ensureBackend() };
}

// ------------------------------------------------------------------ handlers

type Handlers = {
  [M in EngineMethod]: (params: EngineMethods[M]['params'], job: Job) => Promise<EngineMethods[M]['result']>;
};

const handlers: Handlers = {
  async initialize(p) {
    return initBackend(p.backend);
  },

  async loadModel(p, job) {
    const backend = await ensureBackend();
    const dir = path.resolve(p.dir);
    if (!fs.existsSync(dir)) throw new EngineError('bundle', `${dir}: no such model folder`);
    // Load first: a bad bundle never costs the working model.
    const next = await TextVae.load(dir);
    // Cancelled while loading: the host was told so and keeps showing the previous model, so the
    // worker keeps it too. From here to the response nothing awaits, so no cancel can slip in.
    if (job.responded) {
      next.dispose();
      throw new EngineError('cancelled', 'Cancelled.');
    }
    const previous = active;
    active = next;
    if (previous && previous !== next) previous.dispose();
    return { ...next.info(), backend };
  },

  async modelInfo() {
    return active ? modelInfo(active) : null;
  },

  async encode(p, job) {
    const vae = requireModel();
    const chunks = vae.chunk(p.text);
    const zs = await vae.encodeChunks(chunks, { sample: p.sample, seed: p.seed, signal: signalOf(job) });
    return { codes: vae.codesOf(zs), chunks };
  },

  async decode(p, job) {
    const vae = requireModel();
    // Parse every code before decoding any: one bad code fails the request as a whole.
    const zs = vae.parseCodes(p.codes);
    // One text per code: the text of a run of codes is their concatenation.
    return { texts: await vae.decode(zs, { ...p.options, signal: signalOf(job) }) };
  },

  async compressLossless(p, job) {
    const coder = await losslessCoder();
    // WTF-8: every editor string, lone surrogates included, comes back exactly.
    const bytes = encodeWtf8(p.text);
    coder.searchSweeps = p.searchSweeps ?? defaultSearchSweeps(activeBackend()?.name ?? '');
    const progress = progressOf(job, bytes.length);
    const code = await coder.compressToCode(bytes, progress, signalOf(job));
    progress(bytes.length); // segments stored or left to brotli report nothing on their way
    const payloadChars = code.length - code.lastIndexOf(':') - 1;
    return { code, bytes: bytes.length, codeBytes: BINARY_HEADER_BYTES + Math.floor((payloadChars * 6) / 8) };
  },

  async decompressLossless(p) {
    const coder = await losslessCoder();
    // Check every code before returning any text: one bad code fails the request as a whole.
    const texts = p.codes.map((code) => {
      const bytes = coder.decompressCode(code);
      const text = decodeWtf8(bytes);
      const again = encodeWtf8(text);
      if (again.length !== bytes.length || again.some((b, i) => b !== bytes[i])) {
        throw new LosslessCodeError(
          'not-a-code',
          'this lossless code holds bytes that are not text (binary data); get them with `textvae decompress CODE --out FILE`',
        );
      }
      return text;
    });
    return { texts };
  },

  async reconstruct(p, job) {
    return requireModel().reconstruct(p.text, { ...p.options, signal: signalOf(job) });
  },

  async sample(p, job) {
    return { samples: await requireModel().sample(p.n, { ...p.options, chunks: p.chunks, signal: signalOf(job) }) };
  },

  async interpolate(p, job) {
    const options = { ...p.options, signal: signalOf(job) };
    return { steps: await requireModel().interpolate(p.from, p.to, p.steps, p.mode, options) };
  },

  async train(p, job) {
    await ensureBackend();
    const { paths, include, exclude, maxFileBytes, out, valFraction, seed, minutes, maxSteps, logEvery } = p;
    const { split: _split, ...outcome } = await trainOnDocuments({
      ...{ paths, include, exclude, maxFileBytes, valFraction, seed, minutes, maxSteps, logEvery },
      out: path.resolve(out),
      from: p.from === undefined ? undefined : path.resolve(p.from),
      architecture: { variant: p.variant, modelDim: p.modelDim, vocabSize: p.vocabSize, latentDim: p.latentDim },
      signal: job.controller!.signal,
      // Requests that arrive during training are served between steps, not interleaved with them.
      betweenSteps: whenIdle,
      onMetrics: (m) => notify('trainMetrics', m),
      onLog: (message) => notify('trainLog', { message }),
    });
    return outcome;
  },

  async latentMap(p, job) {
    return { points: await requireModel().latentMap(p.documents, p.maxPoints, signalOf(job)) };
  },
};

// ------------------------------------------------------------------ scheduling

async function execute(job: Job): Promise<void> {
  try {
    const params = validateParams(job.method, job.params);
    const handler = handlers[job.method] as (params: unknown, job: Job) => Promise<unknown>;
    const result = await handler(params, job);
    respond(job, { result });
  } catch (err) {
    respond(job, { error: classify(err, job.method) });
  }
}

/** Resolved when no request runs or waits: training resumes only then. */
let idleWaiters: (() => void)[] = [];

function whenIdle(): Promise<void> {
  if (!running && queue.length === 0) return Promise.resolve();
  return new Promise((resolve) => idleWaiters.push(resolve));
}

async function pump(): Promise<void> {
  if (running) return;
  while (queue.length > 0) {
    const job = queue.shift()!;
    job.controller = new AbortController();
    running = job;
    await execute(job);
    running = null;
  }
  const waiters = idleWaiters;
  idleWaiters = [];
  for (const resolve of waiters) resolve();
}

function startTraining(job: Job): void {
  if (training) {
    respond(job, { error: { message: 'a training run is already in progress: cancel it first', code: 'bad-input' } });
    return;
  }
  training = job;
  job.controller = new AbortController();
  void execute(job).finally(() => {
    if (training === job) training = null;
  });
}

function cancel(id: number): void {
  const queued = queue.findIndex((j) => j.id === id);
  if (queued >= 0) {
    const [job] = queue.splice(queued, 1);
    respond(job, { error: { message: 'Cancelled.', code: 'cancelled' } });
    return;
  }
  if (training?.id === id) {
    // train() stops after the current step, saves the checkpoint and resolves with cancelled: true.
    training.controller?.abort();
    return;
  }
  if (running?.id === id) {
    // Answer now; the work stops at its next pause point (between batches or decoding steps),
    // and whatever it still produces is dropped.
    respond(running, { error: { message: 'Cancelled.', code: 'cancelled' } });
    running.controller?.abort();
  }
}

function onMessage(value: unknown): void {
  const raw = parseHostMessage(value);
  if (!raw) {
    process.stderr.write(`textvae engine: ignored a malformed message\n`);
    return;
  }
  if (raw.kind === 'cancel') {
    cancel(raw.id);
    return;
  }
  // The method is checked just below; the job is needed to answer an unknown one.
  const job: Job = { id: raw.id, method: raw.method as EngineMethod, params: raw.params, responded: false };
  if (!isEngineMethod(raw.method)) {
    respond(job, { error: { message: `unknown method ${JSON.stringify(raw.method)}`, code: 'bad-input' } });
    return;
  }
  if (raw.method === 'train') {
    startTraining(job);
    return;
  }
  queue.push(job);
  void pump();
}

function fatal(kind: string, err: unknown): void {
  const text = err instanceof Error ? (err.stack ?? err.message) : String(err);
  // Exit only once the message is out (stderr may be an asynchronous pipe), but never hang.
  setTimeout(() => process.exit(70), 2000);
  try {
    process.stderr.write(`textvae engine: ${kind}: ${text}\n`, () => process.exit(70));
  } catch {
    process.exit(70);
  }
}

process.on('uncaughtException', (err) => fatal('uncaught exception', err));
process.on('unhandledRejection', (err) => fatal('unhandled promise rejection', err));
// The host went away: nothing left to serve.
process.on('disconnect', () => process.exit(0));
process.on('message', onMessage);

if (!process.send) {
  process.stderr.write('textvae engine: this program is started by the TextVAE extension (it needs an IPC channel)\n');
  process.exit(2);
}
send({ kind: 'ready', pid: process.pid });
