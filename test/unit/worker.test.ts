/** The engine worker process, driven over IPC as the extension drives it. */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TextVae } from '../../src/core/textVae';
import { EngineRequestError } from '../../src/extension/logic/engineConnection';
import { SENTENCES, setupBackend, TINY_DOC, sharedTiny } from '../helpers/engine';
import { makeTempDir } from '../helpers/tmp';
import { connectWorker, type WorkerHandle } from '../helpers/worker';

let modelA: string;
let modelB: string;
/** Writes tvae2 codes. */
let modelP: string;
let handle: WorkerHandle;

before(async () => {
  await setupBackend();
  modelA = (await sharedTiny({ maxSteps: 20, seed: 1 })).dir;
  modelB = (await sharedTiny({ maxSteps: 20, seed: 2 })).dir;
  modelP = (await sharedTiny({ maxSteps: 20, seed: 3, config: { codeScheme: 'precision' } })).dir;
  handle = connectWorker();
});
after(() => handle.connection.dispose());

describe('engine worker', () => {
  test('lossless codes give back the exact text, lone surrogates included, and name the model when it differs', async () => {
    const { connection } = handle;
    await connection.request('loadModel', { dir: modelA });
    const text = `${SENTENCES[0]}\r\n\tnaïve 数据 😀 \ud800 end`;
    const reports: [number, number][] = [];
    const made = await connection.request('compressLossless', { text }, undefined, (done, total) =>
      reports.push([done, total]),
    );
    assert.match(made.code, /^tvz2:[0-9a-f]{8}:/);
    assert.ok(made.bytes > 0 && made.codeBytes > 0);
    // Progress in the text's bytes, never backwards, ending at all of them.
    assert.ok(reports.length > 0, 'the worker reports progress');
    assert.ok(reports.every(([d, t], i) => t === made.bytes && d >= (reports[i - 1]?.[0] ?? 0)));
    assert.deepEqual(reports.at(-1), [made.bytes, made.bytes]);
    // The setting's sweeps of the latent search: any count gives a code that decodes exactly.
    const searched = await connection.request('compressLossless', { text, searchSweeps: 3 });
    const rounded = await connection.request('compressLossless', { text, searchSweeps: 0 });
    await assert.rejects(connection.request('compressLossless', { text, searchSweeps: 17 }), (err: unknown) => {
      assert.ok(err instanceof EngineRequestError && err.code === 'bad-input', String(err));
      return true;
    });
    const other = await connection.request('compressLossless', { text: SENTENCES[1] });
    const back = await connection.request('decompressLossless', {
      codes: [made.code, other.code, searched.code, rounded.code],
    });
    assert.deepEqual(back.texts, [text, SENTENCES[1], text, text]);
    await connection.request('loadModel', { dir: modelB });
    await assert.rejects(connection.request('decompressLossless', { codes: [made.code] }), (err: unknown) => {
      assert.ok(err instanceof EngineRequestError && err.code === 'bad-code', String(err));
      assert.match(err.message, /made by model [0-9a-f]{8}; the active model is [0-9a-f]{8}/);
      return true;
    });
  });

  test('encode writes the codes the engine writes, and decode reads them back to the same vectors', async () => {
    const { connection } = handle;
    for (const dir of [modelA, modelP]) {
      await connection.request('loadModel', { dir });
      const made = await connection.request('encode', { text: TINY_DOC });
      const vae = await TextVae.load(dir);
      try {
        assert.deepEqual(made.codes, await vae.encodeToCodes(TINY_DOC));
        assert.match(made.codes[0], vae.config.codeScheme === 'precision' ? /^tvae2:/ : /^tvae1:/);
        const back = await connection.request('decode', { codes: made.codes, options: { strategy: 'greedy' } });
        assert.deepEqual(back.texts, await vae.decode(vae.parseCodes(made.codes), { strategy: 'greedy' }));
      } finally {
        vae.dispose();
      }
    }
  });

  test('decode carries rerank to the engine (the extension default: beam 16, rerank 0.3); a bad weight is bad input', async () => {
    const { connection } = handle;
    await connection.request('loadModel', { dir: modelA });
    const codes = (await connection.request('encode', { text: TINY_DOC })).codes.slice(0, 2);
    const options = { strategy: 'beam', beamWidth: 16, rerank: 0.3 } as const;
    const vae = await TextVae.load(modelA);
    try {
      const back = await connection.request('decode', { codes, options });
      assert.deepEqual(back.texts, await vae.decode(vae.parseCodes(codes), options));
    } finally {
      vae.dispose();
    }
    await assert.rejects(
      connection.request('decode', { codes, options: { ...options, rerank: -0.5 } }),
      (err: unknown) => err instanceof EngineRequestError && err.code === 'bad-input' && /rerank/.test(err.message),
    );
  });

  test('a cancelled "Loading model…" leaves host and worker on the same model', async () => {
    const { connection } = handle;
    await connection.request('loadModel', { dir: modelA });
    let cancelled = 0;
    for (let i = 0; i < 6; i++) {
      const dir = i % 2 === 0 ? modelB : modelA;
      const controller = new AbortController();
      const loading = connection.request('loadModel', { dir }, controller.signal);
      // Once the request is out (after the microtasks of request()), the user presses Cancel.
      setImmediate(() => controller.abort());
      try {
        await loading;
      } catch (err) {
        assert.ok(err instanceof EngineRequestError && err.code === 'cancelled', String(err));
        cancelled++;
      }
      const inWorker = await connection.request('modelInfo', {});
      assert.equal(inWorker?.fingerprint, connection.model?.fingerprint, `round ${i}: host and worker disagree`);
    }
    assert.ok(cancelled > 0, 'no cancel reached the worker while it was loading');
  });

  test('requests during training are served between steps, not interleaved with dozens of them', async () => {
    const { connection } = handle;
    const docs = makeTempDir('textvae-worker-train-');
    const file = path.join(docs, 'doc.txt');
    fs.writeFileSync(file, TINY_DOC.repeat(4));
    let step = 0;
    const off = connection.onNotification('trainMetrics', (m) => (step = m.step));
    const controller = new AbortController();
    const training = connection.request(
      'train',
      {
        paths: [file],
        out: path.join(docs, 'model'),
        maxSteps: 100_000,
        logEvery: 1,
        modelDim: 32,
        vocabSize: 300,
        latentDim: 8,
      },
      controller.signal,
    );
    while (step < 3) await new Promise((r) => setTimeout(r, 20));
    const stepsDuring: number[] = [];
    // Counted per request: between two requests training runs freely, as it should.
    for (let i = 0; i < 3; i++) {
      let before = step;
      await connection.request('loadModel', { dir: modelA });
      stepsDuring.push(step - before);
      before = step;
      await connection.request('encode', { text: SENTENCES.join(' ') });
      stepsDuring.push(step - before);
    }
    controller.abort();
    const outcome = await training;
    off();
    assert.equal(outcome.cancelled, true);
    // Interleaved with training, a load waited one step per file operation: about 18 steps.
    // Served between steps, a request lets at most the step in progress (and its report) finish.
    assert.ok(Math.max(...stepsDuring) <= 3, `training steps during each load and encode: ${stepsDuring}`);
  });

  test('training into a regular file or a non-empty folder is refused as bad input; both are kept', async () => {
    const { connection } = handle;
    const root = makeTempDir('textvae-worker-out-');
    const doc = path.join(root, 'doc.txt');
    fs.writeFileSync(doc, TINY_DOC);
    const file = path.join(root, 'notes.txt');
    fs.writeFileSync(file, 'mine');
    for (const out of [file, root]) {
      await assert.rejects(
        connection.request('train', { paths: [doc], out, maxSteps: 2 }),
        (err: unknown) =>
          err instanceof EngineRequestError && err.code === 'bad-input' && /already exists/.test(err.message),
      );
    }
    assert.equal(fs.readFileSync(file, 'utf8'), 'mine');
  });

  test('cancelling a long reconstruct frees the worker for the next request', { timeout: 300_000 }, async () => {
    const { connection } = handle;
    await connection.request('loadModel', { dir: modelA });
    const controller = new AbortController();
    // Thousands of chunks: minutes of decoding if it were not interrupted.
    const long = connection.request('reconstruct', { text: TINY_DOC.repeat(3000) }, controller.signal);
    setTimeout(() => controller.abort(), 200);
    await assert.rejects(long, (err: unknown) => err instanceof EngineRequestError && err.code === 'cancelled');
    const after = await connection.request('encode', { text: SENTENCES[0] });
    assert.equal(after.codes.length, 1);
  });
});

describe('engine cancellation in process', () => {
  test('reconstruct, encode, sample and interpolate stop when their signal is aborted', async () => {
    const vae = await TextVae.load(modelA);
    try {
      const text = TINY_DOC.repeat(50);
      const runs: [string, (signal: AbortSignal) => Promise<unknown>][] = [
        ['reconstruct', (signal) => vae.reconstruct(text, { signal })],
        ['encode', (signal) => vae.encode(text, { signal })],
        ['sample', (signal) => vae.sample(8, { signal })],
        ['interpolate', (signal) => vae.interpolate(text, SENTENCES[0], 8, 'spherical', { signal })],
      ];
      for (const [name, run] of runs) {
        const controller = new AbortController();
        const pending = run(controller.signal);
        controller.abort();
        await assert.rejects(pending, (err: unknown) => (err as Error).name === 'AbortError', name);
      }
    } finally {
      vae.dispose();
    }
  });
});
