/**
 * The engine worker over IPC, forked as the extension forks it: killed during each kind of request
 * (the client must report an error and recover), and cancels racing with completions (host and
 * worker must agree afterwards).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadBundle, saveBundle } from '../../src/core/bundle';
import { EngineRequestError } from '../../src/extension/logic/engineConnection';
import type { EngineMethod, EngineMethods } from '../../src/protocol/engine';
import { makeTempDir } from '../helpers/tmp';
import { connectWorker, type WorkerHandle } from '../helpers/worker';
import type { Fixture } from './fixtures';
import { handled, unhandled, type Case, type Inputs, type Outcome } from './harness';

const LIMIT_MS = 180_000;

/** A second valid model with another fingerprint: one weight nudged, saved as a new bundle. */
async function otherModel(f: Fixture): Promise<string> {
  const b = await loadBundle(f.model);
  const first = Object.keys(b.weights)[0];
  b.weights[first].data[0] += 0.5;
  const dir = path.join(makeTempDir('textvae-hardening-other-'), 'model');
  await saveBundle(dir, {
    config: b.config,
    tokenizer: b.tokenizer,
    weights: b.weights,
    training: b.manifest.training,
  });
  return dir;
}

type Request = { [M in EngineMethod]: { method: M; params: EngineMethods[M]['params'] } }[EngineMethod];

function requestsOf(f: Fixture, inputs: Inputs, codes: string[], lossless: string): Request[] {
  const big = inputs.prose(60_000);
  return [
    { method: 'initialize', params: { backend: 'auto' } },
    { method: 'compressLossless', params: { text: big } },
    { method: 'decompressLossless', params: { codes: [lossless, lossless] } },
    { method: 'loadModel', params: { dir: f.model } },
    { method: 'modelInfo', params: {} },
    { method: 'encode', params: { text: big } },
    { method: 'decode', params: { codes } },
    { method: 'reconstruct', params: { text: big } },
    { method: 'sample', params: { n: 64 } },
    {
      method: 'interpolate',
      params: { from: big.slice(0, 5000), to: big.slice(5000, 10000), steps: 32, mode: 'spherical' },
    },
    { method: 'latentMap', params: { documents: [{ uri: 'file:///a.txt', text: big }] } },
    {
      method: 'train',
      params: {
        paths: [f.data],
        out: path.join(makeTempDir('textvae-hardening-wtrain-'), 'model'),
        maxSteps: 100_000,
        modelDim: 32,
        vocabSize: 300,
        latentDim: 8,
        logEvery: 1,
      },
    },
  ];
}

/** The worker is back: a fresh request works and the host knows the model the worker has. */
async function recovered(h: WorkerHandle, dir: string): Promise<string | undefined> {
  try {
    const r = await h.connection.request('encode', { text: 'After the crash.' });
    if (r.codes.length !== 1) return `encode after the crash gave ${r.codes.length} codes`;
    const info = await h.connection.request('modelInfo', {});
    if (!info || info.dir !== path.resolve(dir)) return `after the crash the worker has ${info?.dir ?? 'no model'}`;
    if (h.connection.model?.fingerprint !== info.fingerprint)
      return 'host and worker disagree on the model after the crash';
    return undefined;
  } catch (err) {
    return `not recovered: ${(err as Error).message}`;
  }
}

/** SIGKILL to the worker, then wait until the connection has seen it exit (its next request restarts it). */
async function killWorker(h: WorkerHandle): Promise<void> {
  const pid = h.pid();
  if (pid === undefined) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return; // already gone
  }
  while (h.connection.running && h.pid() === pid) await new Promise((r) => setTimeout(r, 10));
}

export async function workerCases(f: Fixture, inputs: Inputs): Promise<{ cases: Case[]; close(): void }> {
  const h = connectWorker(f.model);
  const other = await otherModel(f);
  const codes = (await h.connection.request('encode', { text: inputs.prose(20_000) })).codes;
  const lossless = (await h.connection.request('compressLossless', { text: inputs.prose(4000) })).code;
  const cases: Case[] = [];

  for (const req of requestsOf(f, inputs, codes, lossless)) {
    cases.push({
      group: 'worker over IPC',
      name: `worker killed during ${req.method}`,
      limitMs: LIMIT_MS,
      async run(): Promise<Outcome> {
        await h.connection.start();
        const controller = new AbortController();
        const started = h.connection.request(req.method, req.params as never, controller.signal).then(
          () => handled('finished before the kill'),
          (err: unknown) =>
            err instanceof EngineRequestError && err.code === 'crashed'
              ? handled('the client reported the crash')
              : unhandled(`the request failed with ${String(err)}`),
        );
        if (req.method === 'train') {
          // Kill once training is under way.
          await new Promise<void>((resolve) => {
            const off = h.connection.onNotification('trainMetrics', () => {
              off();
              resolve();
            });
          });
        } else await new Promise((r) => setTimeout(r, inputs.rng.int(40)));
        await killWorker(h);
        const settled = await started;
        if (settled.verdict !== 'handled') return settled;
        if (req.method === 'train') {
          const out = (req.params as EngineMethods['train']['params']).out;
          if (fs.existsSync(out)) {
            try {
              await loadBundle(out);
            } catch (err) {
              return unhandled(`a broken bundle after the crash: ${(err as Error).message}`);
            }
          }
        }
        const problem = await recovered(h, f.model);
        return problem ? unhandled(problem) : settled;
      },
    });
  }
  cases.push({
    group: 'worker over IPC',
    name: 'worker killed during its start-up initialize',
    limitMs: LIMIT_MS,
    async run() {
      const before = h.pid();
      const backends = h.logs.filter((l) => l.startsWith('backend: ')).length;
      const starting = h.connection.restart().then(
        () => 'started',
        (err: unknown) => String(err),
      );
      while (h.pid() === before) await new Promise((r) => setTimeout(r, 5));
      await new Promise((r) => setTimeout(r, inputs.rng.int(300)));
      const during = h.logs.filter((l) => l.startsWith('backend: ')).length === backends;
      await killWorker(h);
      const how = await starting;
      const problem = await recovered(h, f.model);
      if (problem) return unhandled(problem);
      return handled(during ? `killed before initialize answered: ${how.slice(0, 80)}` : 'initialize answered first');
    },
  });
  cases.push({
    group: 'worker over IPC',
    name: 'worker killed while it starts',
    limitMs: LIMIT_MS,
    async run() {
      const starting = h.connection.restart().then(
        () => 'started',
        (err: unknown) => String(err),
      );
      await killWorker(h);
      await starting;
      const problem = await recovered(h, f.model);
      return problem ? unhandled(problem) : handled();
    },
  });

  // Cancels racing with completions: whichever wins, the outcome is a result or "cancelled",
  // and afterwards host and worker agree on the model.
  const racers: (() => Request)[] = [
    () => ({ method: 'loadModel', params: { dir: inputs.pick([f.model, other]) } }),
    () => ({ method: 'encode', params: { text: inputs.prose(1 + inputs.rng.int(3000)) } }),
    () => ({ method: 'decode', params: { codes: codes.slice(0, 1 + inputs.rng.int(codes.length)) } }),
    () => ({ method: 'reconstruct', params: { text: inputs.prose(1 + inputs.rng.int(2000)) } }),
    () => ({ method: 'sample', params: { n: 1 + inputs.rng.int(8) } }),
    () => ({ method: 'compressLossless', params: { text: inputs.prose(1 + inputs.rng.int(2000)) } }),
    () => ({ method: 'decompressLossless', params: { codes: [lossless] } }),
  ];
  for (let k = 0; k < 18; k++) {
    const req = inputs.pick(racers)();
    const delay = inputs.rng.int(30);
    cases.push({
      group: 'cancel racing completion',
      name: `${req.method} cancelled after ${delay} ms`,
      limitMs: LIMIT_MS,
      async run() {
        const controller = new AbortController();
        const pending = h.connection.request(req.method, req.params as never, controller.signal);
        setTimeout(() => controller.abort(), delay);
        let how: string;
        try {
          await pending;
          how = 'completed first';
        } catch (err) {
          // Codes made before a racing load switched the model are refused by name: a clear error.
          const clear = err instanceof EngineRequestError && (err.code === 'cancelled' || err.code === 'bad-code');
          if (!clear) return unhandled(`neither a result nor "cancelled": ${String(err)}`);
          how = err.code === 'cancelled' ? 'cancelled first' : `refused: ${err.message}`;
        }
        const info = await h.connection.request('modelInfo', {});
        if (info?.fingerprint !== h.connection.model?.fingerprint)
          return unhandled(
            `${how}; the worker has ${info?.fingerprint.slice(0, 8)}, the host shows ${h.connection.model?.fingerprint.slice(0, 8)}`,
          );
        const after = await h.connection.request('encode', { text: 'still works' });
        return after.codes.length === 1
          ? handled(how)
          : unhandled(`${how}; the next request gave ${after.codes.length} codes`);
      },
    });
  }
  return { cases, close: () => h.connection.dispose() };
}
