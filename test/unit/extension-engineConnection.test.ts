import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  EngineConnection,
  EngineRequestError,
  PendingRequests,
  crashMessage,
  type WorkerProcess,
} from '../../src/extension/logic/engineConnection';
import { parseHostMessage, parseWorkerMessage, type HostToWorker } from '../../src/protocol/engine';

/** A scripted stand-in for the worker process. */
class FakeWorker implements WorkerProcess {
  static nextPid = 1000;
  readonly pid = FakeWorker.nextPid++;
  readonly sent: HostToWorker[] = [];
  killed = false;
  private messageListeners: ((m: unknown) => void)[] = [];
  private exitListeners: ((code: number | null, signal: string | null) => void)[] = [];
  private outputListeners: ((t: string) => void)[] = [];
  /** Answers requests automatically (by method); return undefined to leave one pending. */
  constructor(
    private readonly auto: (msg: Extract<HostToWorker, { kind: 'request' }>) => unknown | undefined = defaultAuto,
  ) {}

  send(message: HostToWorker, callback: (error: Error | null) => void): void {
    this.sent.push(message);
    callback(null);
    if (message.kind === 'request') {
      const answer = this.auto(message);
      if (answer !== undefined) queueMicrotask(() => this.emit(answer));
    }
  }
  kill(): void {
    this.killed = true;
  }
  onMessage(l: (m: unknown) => void): void {
    this.messageListeners.push(l);
  }
  onExit(l: (code: number | null, signal: string | null) => void): void {
    this.exitListeners.push(l);
  }
  onError(): void {}
  onOutput(l: (t: string) => void): void {
    this.outputListeners.push(l);
  }
  emit(message: unknown): void {
    for (const l of this.messageListeners) l(message);
  }
  exit(code: number | null, signal: string | null = null): void {
    for (const l of this.exitListeners) l(code, signal);
  }
  output(text: string): void {
    for (const l of this.outputListeners) l(text);
  }
  requests(method?: string): Extract<HostToWorker, { kind: 'request' }>[] {
    return this.sent.filter(
      (m): m is Extract<HostToWorker, { kind: 'request' }> => m.kind === 'request' && (!method || m.method === method),
    );
  }
}

const BACKEND = { name: 'cpu', detail: 'pure JavaScript', skipped: [] };
const modelFor = (dir: string) => ({
  dir,
  fingerprint: 'f'.repeat(64),
  variant: 'vae',
  config: {},
  parameters: 1,
  sizeBytes: 1,
  vocabSize: 300,
  backend: 'cpu',
});

function defaultAuto(msg: Extract<HostToWorker, { kind: 'request' }>): unknown {
  if (msg.method === 'initialize') return { kind: 'response', id: msg.id, result: BACKEND };
  if (msg.method === 'loadModel')
    return { kind: 'response', id: msg.id, result: modelFor((msg.params as { dir: string }).dir) };
  return undefined;
}

function setup(
  options: {
    startupModel?: (previous: string | undefined) => string | undefined;
    auto?: ConstructorParameters<typeof FakeWorker>[0];
  } = {},
) {
  const workers: FakeWorker[] = [];
  const logs: string[] = [];
  const startupCalls: (string | undefined)[] = [];
  const connection = new EngineConnection({
    spawn: () => {
      const w = new FakeWorker(options.auto);
      workers.push(w);
      return w;
    },
    log: (l) => logs.push(l),
    getBackend: () => 'cpu',
    getStartupModel: (previous) => {
      startupCalls.push(previous);
      return options.startupModel ? options.startupModel(previous) : undefined;
    },
  });
  return { connection, workers, logs, startupCalls };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('parseWorkerMessage', () => {
  test('accepts well-formed messages', () => {
    assert.ok(parseWorkerMessage({ kind: 'ready', pid: 12 }));
    assert.ok(parseWorkerMessage({ kind: 'response', id: 1, result: null }));
    assert.ok(parseWorkerMessage({ kind: 'response', id: 2, error: { message: 'x', code: 'bad-code' } }));
    assert.ok(parseWorkerMessage({ kind: 'notification', method: 'trainLog', params: { message: 'hi' } }));
  });

  test('rejects malformed messages', () => {
    for (const bad of [
      null,
      'response',
      { kind: 'ready' },
      { kind: 'ready', pid: -1 },
      { kind: 'response', id: 1.5, result: 1 },
      { kind: 'response', id: 0, result: 1 },
      { kind: 'response', id: 1 },
      { kind: 'response', id: 1, error: 'boom' },
      { kind: 'response', id: 1, error: { message: 3 } },
      { kind: 'response', id: 1, error: { message: 'x', code: 7 } },
      { kind: 'notification', method: 'evil', params: {} },
      { kind: 'notification', method: 'trainLog', params: 'text' },
      { kind: 'request', id: 1, method: 'encode', params: {} },
    ]) {
      assert.equal(parseWorkerMessage(bad), null, JSON.stringify(bad));
    }
  });
});

describe('parseHostMessage (the worker side)', () => {
  test('requests and cancels; an unknown method still parses so that the worker can answer it', () => {
    assert.deepEqual(parseHostMessage({ kind: 'request', id: 3, method: 'encode', params: { text: 'x' } }), {
      kind: 'request',
      id: 3,
      method: 'encode',
      params: { text: 'x' },
    });
    assert.deepEqual(parseHostMessage({ kind: 'cancel', id: 3 }), { kind: 'cancel', id: 3 });
    assert.equal(parseHostMessage({ kind: 'request', id: 4, method: 'nope', params: {} })?.kind, 'request');
    for (const bad of [
      null,
      { kind: 'cancel' },
      { kind: 'cancel', id: 'x' },
      { kind: 'request', id: 1.5, method: 'encode', params: {} },
      { kind: 'request', id: 1, method: 7, params: {} },
      { kind: 'response', id: 1, result: 1 },
    ])
      assert.equal(parseHostMessage(bad), null, JSON.stringify(bad));
  });
});

describe('PendingRequests', () => {
  test('ids are unique and increasing; responses settle the matching request once', async () => {
    const p = new PendingRequests();
    const results: unknown[] = [];
    const a = p.add(
      'encode',
      (v) => results.push(['a', v]),
      () => {},
    );
    const b = p.add(
      'decode',
      (v) => results.push(['b', v]),
      () => {},
    );
    assert.ok(b > a);
    assert.equal(p.settle({ kind: 'response', id: b, result: 2 }), true);
    assert.equal(p.settle({ kind: 'response', id: b, result: 3 }), false);
    assert.equal(p.settle({ kind: 'response', id: 999, result: 3 }), false);
    assert.deepEqual(results, [['b', 2]]);
    assert.equal(p.size, 1);
    assert.equal(p.methodOf(a), 'encode');
  });

  test('error responses reject with the engine code; unknown codes become internal', () => {
    const p = new PendingRequests();
    const errors: EngineRequestError[] = [];
    const a = p.add(
      'decode',
      () => {},
      (e) => errors.push(e as EngineRequestError),
    );
    const b = p.add(
      'decode',
      () => {},
      (e) => errors.push(e as EngineRequestError),
    );
    p.settle({ kind: 'response', id: a, error: { message: 'wrong model', code: 'bad-code' } });
    p.settle({ kind: 'response', id: b, error: { message: 'odd', code: 'made-up' } });
    assert.deepEqual(
      errors.map((e) => [e.message, e.code]),
      [
        ['wrong model', 'bad-code'],
        ['odd', 'internal'],
      ],
    );
  });

  test('rejectAll rejects every pending request and empties the map', () => {
    const p = new PendingRequests();
    const rejected: string[] = [];
    for (let i = 0; i < 3; i++)
      p.add(
        'encode',
        () => {},
        (e) => rejected.push(e.message),
      );
    assert.equal(p.rejectAll(new Error('gone')), 3);
    assert.deepEqual(rejected, ['gone', 'gone', 'gone']);
    assert.equal(p.size, 0);
  });
});

describe('EngineConnection', () => {
  test('does not start a worker until the first request; then initialises before the request', async () => {
    const { connection, workers } = setup({
      auto: (m) => defaultAuto(m) ?? { kind: 'response', id: m.id, result: { codes: ['c'], chunks: ['t'] } },
    });
    assert.equal(workers.length, 0);
    assert.equal(connection.running, false);
    const result = await connection.request('encode', { text: 't' });
    assert.deepEqual(result, { codes: ['c'], chunks: ['t'] });
    assert.equal(workers.length, 1);
    assert.deepEqual(
      workers[0].requests().map((m) => m.method),
      ['initialize', 'encode'],
    );
    assert.deepEqual(workers[0].requests('initialize')[0].params, { backend: 'cpu' });
    assert.equal(connection.backend?.name, 'cpu');
  });

  test('loads the startup model after initialising and tracks it', async () => {
    const { connection, workers } = setup({
      startupModel: () => '/models/a',
      auto: (m) => defaultAuto(m) ?? { kind: 'response', id: m.id, result: null },
    });
    await connection.request('modelInfo', {});
    assert.deepEqual(
      workers[0].requests().map((m) => m.method),
      ['initialize', 'loadModel', 'modelInfo'],
    );
    assert.equal(connection.model?.dir, '/models/a');
  });

  test('a crash rejects every pending request with the crash message; the next request starts a fresh worker that reloads the model', async () => {
    const crashes: string[] = [];
    const { connection, workers, startupCalls } = setup({ startupModel: (previous) => previous ?? '/models/a' });
    connection.onCrash((m) => crashes.push(m));
    const first = connection.request('encode', { text: 'one' });
    const second = connection.request('decode', { codes: ['x'] });
    await tick();
    await tick();
    assert.equal(connection.pendingCount, 2);
    workers[0].exit(3);
    for (const p of [first, second]) {
      await assert.rejects(
        p,
        (err: unknown) =>
          err instanceof EngineRequestError && err.code === 'crashed' && err.message === crashMessage(3, null),
      );
    }
    assert.match(
      crashes[0],
      /^The TextVAE engine stopped unexpectedly \(exit code 3\)\. It will restart on the next command\. Details are in the TextVAE output channel\.$/,
    );
    assert.equal(connection.running, false);
    assert.equal(connection.model, null);

    const third = connection.request('encode', { text: 'three' });
    await tick();
    await tick();
    assert.equal(workers.length, 2);
    // The fresh worker is initialised and given back the model the dead one had.
    assert.deepEqual(startupCalls, [undefined, '/models/a']);
    assert.deepEqual(
      workers[1].requests().map((m) => m.method),
      ['initialize', 'loadModel', 'encode'],
    );
    const id = workers[1].requests('encode')[0].id;
    workers[1].emit({ kind: 'response', id, result: { codes: ['z'], chunks: ['three'] } });
    assert.deepEqual(await third, { codes: ['z'], chunks: ['three'] });
  });

  test('a signal-killed worker reports the signal', () => {
    assert.match(crashMessage(null, 'SIGKILL'), /\(exit code SIGKILL\)/);
  });

  test('malformed messages are ignored (logged) and do not settle anything', async () => {
    const { connection, workers, logs } = setup();
    const p = connection.request('encode', { text: 'x' });
    await tick();
    await tick();
    const id = workers[0].requests('encode')[0].id;
    workers[0].emit({ kind: 'response', id: String(id), result: 'wrong' });
    workers[0].emit({ kind: 'response', id });
    workers[0].emit(42);
    assert.equal(connection.pendingCount, 1);
    assert.equal(logs.filter((l) => l.startsWith('ignored a malformed message')).length, 3);
    workers[0].emit({ kind: 'response', id, result: { codes: [], chunks: [] } });
    assert.deepEqual(await p, { codes: [], chunks: [] });
  });

  test('messages from a stopped worker are ignored', async () => {
    const { connection, workers } = setup();
    const p = connection.request('encode', { text: 'x' });
    await tick();
    await tick();
    const id = workers[0].requests('encode')[0].id;
    const old = workers[0];
    void connection.restart().catch(() => {});
    await assert.rejects(p, (err: unknown) => err instanceof EngineRequestError && err.code === 'stopped');
    assert.equal(old.killed, true);
    old.emit({ kind: 'response', id, result: { codes: ['late'], chunks: [] } });
    // An exit of the old worker after a deliberate stop is not a crash.
    const crashes: string[] = [];
    connection.onCrash((m) => crashes.push(m));
    old.exit(0);
    assert.deepEqual(crashes, []);
    assert.equal(workers.length, 2);
  });

  test('progress reports reach only the request they name, clamped, and stop once it is answered', async () => {
    const { connection, workers } = setup();
    const heard: [string, number, number][] = [];
    const a = connection.request('compressLossless', { text: 'a' }, undefined, (d, t) => heard.push(['a', d, t]));
    const b = connection.request('compressLossless', { text: 'b' }, undefined, (d, t) => heard.push(['b', d, t]));
    await tick();
    await tick();
    const [idA, idB] = workers[0].requests('compressLossless').map((r) => r.id);
    const progress = (params: unknown) => workers[0].emit({ kind: 'notification', method: 'requestProgress', params });
    progress({ id: idA, done: 10, total: 40 });
    progress({ id: idB, done: 50, total: 40 });
    progress({ id: idA, done: 'x', total: 40 });
    progress({ id: idA, done: 5, total: 0 });
    progress({ id: 999, done: 1, total: 2 });
    assert.deepEqual(heard, [
      ['a', 10, 40],
      ['b', 40, 40],
    ]);
    workers[0].emit({ kind: 'response', id: idA, result: { code: 'tvz2:x', bytes: 1, codeBytes: 1 } });
    await a;
    progress({ id: idA, done: 40, total: 40 });
    assert.equal(heard.length, 2, 'a late report for an answered request is dropped');
    workers[0].emit({ kind: 'response', id: idB, result: { code: 'tvz2:y', bytes: 1, codeBytes: 1 } });
    await b;
  });

  test('cancelling sends a cancel for the request id and settles with the worker answer', async () => {
    const { connection, workers } = setup();
    const controller = new AbortController();
    const p = connection.request('sample', { n: 3 }, controller.signal);
    await tick();
    await tick();
    const id = workers[0].requests('sample')[0].id;
    controller.abort();
    assert.deepEqual(workers[0].sent.at(-1), { kind: 'cancel', id });
    workers[0].emit({ kind: 'response', id, error: { message: 'Cancelled.', code: 'cancelled' } });
    await assert.rejects(p, (err: unknown) => err instanceof EngineRequestError && err.code === 'cancelled');
  });

  test('an already-cancelled signal never reaches the worker', async () => {
    const { connection, workers } = setup();
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(
      connection.request('sample', { n: 1 }, controller.signal),
      (err: unknown) => err instanceof EngineRequestError && err.code === 'cancelled',
    );
    assert.equal(workers.length, 0);
  });

  test('an initialise failure is reported as a start failure and the worker is discarded', async () => {
    const { connection, workers } = setup({
      auto: (m) =>
        m.method === 'initialize'
          ? {
              kind: 'response',
              id: m.id,
              error: { message: "backend 'tensorflow' is not available", code: 'internal' },
            }
          : undefined,
    });
    await assert.rejects(
      connection.request('encode', { text: 'x' }),
      (err: unknown) =>
        err instanceof EngineRequestError &&
        err.code === 'start-failed' &&
        /could not start: backend 'tensorflow' is not available/.test(err.message),
    );
    assert.equal(workers[0].killed, true);
    assert.equal(connection.running, false);
    // The next request tries again with a new worker.
    await assert.rejects(connection.request('encode', { text: 'x' }));
    assert.equal(workers.length, 2);
  });

  test('a failing startup model does not fail the request', async () => {
    const { connection, logs } = setup({
      startupModel: () => '/models/broken',
      auto: (m) =>
        m.method === 'loadModel'
          ? {
              kind: 'response',
              id: m.id,
              error: { message: '/models/broken: manifest.json is missing', code: 'bundle' },
            }
          : (defaultAuto(m) ?? { kind: 'response', id: m.id, result: null }),
    });
    assert.equal(await connection.request('modelInfo', {}), null);
    assert.ok(logs.some((l) => l.includes('could not load the model /models/broken')));
    assert.equal(connection.model, null);
  });

  test('notifications reach their listeners only', async () => {
    const { connection, workers } = setup({
      auto: (m) => defaultAuto(m) ?? { kind: 'response', id: m.id, result: null },
    });
    const logs: string[] = [];
    let metrics = 0;
    const off = connection.onNotification('trainLog', (p) => logs.push(p.message));
    connection.onNotification('trainMetrics', () => metrics++);
    await connection.request('modelInfo', {});
    workers[0].emit({ kind: 'notification', method: 'trainLog', params: { message: 'hello' } });
    off();
    workers[0].emit({ kind: 'notification', method: 'trainLog', params: { message: 'after unsubscribe' } });
    assert.deepEqual(logs, ['hello']);
    assert.equal(metrics, 0);
  });

  test('worker output goes to the log line by line', async () => {
    const { connection, workers, logs } = setup({
      auto: (m) => defaultAuto(m) ?? { kind: 'response', id: m.id, result: null },
    });
    await connection.request('modelInfo', {});
    workers[0].output('first line\nsecond line\n');
    assert.ok(logs.includes('[engine] first line') && logs.includes('[engine] second line'));
  });

  test('after dispose requests fail and no worker starts', async () => {
    const { connection, workers } = setup();
    connection.dispose();
    await assert.rejects(
      connection.request('modelInfo', {}),
      (err: unknown) => err instanceof EngineRequestError && err.code === 'stopped',
    );
    assert.equal(workers.length, 0);
  });
});
