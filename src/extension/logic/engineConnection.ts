/**
 * The host side of the engine protocol without vscode: starting the worker on demand, request ids
 * and the pending map, strict validation of what the worker sends, crash handling (every pending
 * request is rejected; the next request starts a fresh worker) and cancellation.
 * engineClient.ts wraps it in vscode types; unit tests drive it with a fake worker.
 */
import { fork, type ChildProcess } from 'node:child_process';
import type { BackendReport, ModelInfo } from '../../core/types';
import type { BackendRequest } from '../../core/choices';
import {
  parseWorkerMessage,
  type EngineErrorCode,
  type EngineMethod,
  type EngineMethods,
  type EngineNotifications,
  type HostToWorker,
  type WorkerToHost,
} from '../../protocol/engine';

/** Engine error codes plus the host's own: the worker died, was stopped, or could not start. */
export type ClientErrorCode = EngineErrorCode | 'crashed' | 'stopped' | 'start-failed';

const ENGINE_ERROR_CODES: readonly EngineErrorCode[] = [
  'cancelled',
  'no-model',
  'bad-code',
  'bad-input',
  'bundle',
  'internal',
];

export class EngineRequestError extends Error {
  readonly code: ClientErrorCode;
  constructor(message: string, code: ClientErrorCode) {
    super(message);
    this.name = 'EngineRequestError';
    this.code = code;
  }
}

export function isCancelled(err: unknown): boolean {
  return err instanceof EngineRequestError && err.code === 'cancelled';
}

export function crashMessage(code: number | null, signal: string | null): string {
  const how = code !== null ? String(code) : (signal ?? 'unknown');
  return `The TextVAE engine stopped unexpectedly (exit code ${how}). It will restart on the next command. Details are in the TextVAE output channel.`;
}

type ResponseMessage = Extract<WorkerToHost, { kind: 'response' }>;
type NotificationMessage = Extract<WorkerToHost, { kind: 'notification' }>;

interface PendingEntry {
  method: EngineMethod;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  onProgress?: RequestProgress;
}

/** `done` of `total` units of a request (bytes of a lossless compression). */
export type RequestProgress = (done: number, total: number) => void;

/** Request ids and the promises waiting for their responses. */
export class PendingRequests {
  private nextId = 1;
  private readonly entries = new Map<number, PendingEntry>();

  add(
    method: EngineMethod,
    resolve: (value: unknown) => void,
    reject: (err: Error) => void,
    onProgress?: RequestProgress,
  ): number {
    const id = this.nextId++;
    this.entries.set(id, { method, resolve, reject, onProgress });
    return id;
  }

  /** Passes a progress report to the request it names; one for no waiting request is dropped. */
  progress(report: unknown): void {
    const r = report as Partial<Record<'id' | 'done' | 'total', unknown>>;
    const numbers = [r.id, r.done, r.total].every((x) => typeof x === 'number' && Number.isFinite(x));
    if (!numbers || !((r.total as number) > 0)) return;
    const done = Math.max(0, Math.min(r.done as number, r.total as number));
    try {
      this.entries.get(r.id as number)?.onProgress?.(done, r.total as number);
    } catch {
      // A listener's failure must not break the connection.
    }
  }

  get size(): number {
    return this.entries.size;
  }

  has(id: number): boolean {
    return this.entries.has(id);
  }

  methodOf(id: number): EngineMethod | undefined {
    return this.entries.get(id)?.method;
  }

  /** Settles the request a response answers; false when no request waits for it (late or unknown id). */
  settle(message: ResponseMessage): boolean {
    const entry = this.entries.get(message.id);
    if (!entry) return false;
    this.entries.delete(message.id);
    if (message.error) {
      const code = (ENGINE_ERROR_CODES as readonly string[]).includes(message.error.code ?? '')
        ? (message.error.code as EngineErrorCode)
        : 'internal';
      entry.reject(new EngineRequestError(message.error.message, code));
    } else {
      entry.resolve(message.result);
    }
    return true;
  }

  reject(id: number, err: Error): boolean {
    const entry = this.entries.get(id);
    if (!entry) return false;
    this.entries.delete(id);
    entry.reject(err);
    return true;
  }

  /** Rejects everything still waiting (the worker died or was stopped); returns how many. */
  rejectAll(err: Error): number {
    const all = [...this.entries.values()];
    this.entries.clear();
    for (const e of all) e.reject(err);
    return all.length;
  }
}

/** What the connection needs from a worker process (child_process.ChildProcess adapts to it). */
export interface WorkerProcess {
  readonly pid: number | undefined;
  send(message: HostToWorker, callback: (error: Error | null) => void): void;
  kill(): void;
  onMessage(listener: (message: unknown) => void): void;
  onExit(listener: (code: number | null, signal: string | null) => void): void;
  onError(listener: (err: Error) => void): void;
  /** Text the process writes to stderr or stdout. */
  onOutput(listener: (text: string) => void): void;
}

/** Adapts a forked child process to what the connection needs. */
function adapt(child: ChildProcess): WorkerProcess {
  return {
    get pid() {
      return child.pid;
    },
    send: (message, callback) => {
      if (!child.connected) {
        callback(new Error('the engine process is not connected'));
        return;
      }
      child.send(message, (err) => callback(err ?? null));
    },
    kill: () => {
      child.kill();
    },
    onMessage: (listener) => child.on('message', (m) => listener(m)),
    onExit: (listener) => child.on('exit', (code, signal) => listener(code, signal)),
    onError: (listener) => child.on('error', listener),
    onOutput: (listener) => {
      child.stderr?.setEncoding('utf8').on('data', (d: string) => listener(d));
      child.stdout?.setEncoding('utf8').on('data', (d: string) => listener(d));
    },
  };
}

/**
 * Starts the engine worker as the extension does. `execArgv` is empty there (never inherit the
 * extension host's inspector flags: port clashes); tests pass a loader to run the TypeScript source.
 */
export function forkEngineWorker(
  workerPath: string,
  execArgv: string[] = [],
  env: Record<string, string> = {},
): WorkerProcess {
  return adapt(
    fork(workerPath, [], {
      // VS Code's own Node (Electron run as Node): no separate runtime needed.
      execPath: process.execPath,
      execArgv,
      env: { ...process.env, ...env, ELECTRON_RUN_AS_NODE: '1' },
      serialization: 'advanced',
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    }),
  );
}

export type LoadedModel = ModelInfo & { backend: string };

export interface EngineConnectionOptions {
  spawn(): WorkerProcess;
  log(line: string): void;
  getBackend(): BackendRequest;
  /**
   * The model a fresh worker loads after initialising: `previous` is the folder the last worker
   * had loaded (undefined on the first start). Undefined: load nothing.
   */
  getStartupModel(previous: string | undefined): Promise<string | undefined> | string | undefined;
  /** The startup model did not load (the worker runs on, without a model). */
  onStartupModelError?(dir: string, err: Error): void;
}

type Listener<T> = (value: T) => void;

class Emitter<T> {
  private readonly listeners = new Set<Listener<T>>();
  on(listener: Listener<T>): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  fire(value: T): void {
    for (const l of [...this.listeners]) {
      try {
        l(value);
      } catch {
        // A listener's failure must not break the connection.
      }
    }
  }
}

export class EngineConnection {
  private worker: WorkerProcess | undefined;
  private startup: Promise<void> | undefined;
  /** Bumped for every worker: events from an older worker are ignored. */
  private generation = 0;
  private readonly pending = new PendingRequests();
  private lastModelDir: string | undefined;
  private disposed = false;
  private backendReport: BackendReport | undefined;
  private loadedModel: LoadedModel | null = null;

  private readonly crashEmitter = new Emitter<string>();
  private readonly stateEmitter = new Emitter<void>();
  private readonly notificationEmitters = new Map<keyof EngineNotifications, Emitter<unknown>>();

  constructor(private readonly options: EngineConnectionOptions) {}

  /** True while a worker process is running (started or starting). */
  get running(): boolean {
    return this.worker !== undefined;
  }

  /** The backend the current worker initialised, once it has. */
  get backend(): BackendReport | undefined {
    return this.backendReport;
  }

  /** The model the current worker has loaded, or null. */
  get model(): LoadedModel | null {
    return this.loadedModel;
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  onCrash(listener: (message: string) => void): () => void {
    return this.crashEmitter.on(listener);
  }

  /** Started, stopped, backend known, model loaded or lost. */
  onStateChange(listener: () => void): () => void {
    return this.stateEmitter.on(listener);
  }

  onNotification<K extends keyof EngineNotifications>(
    method: K,
    listener: (params: EngineNotifications[K]) => void,
  ): () => void {
    let emitter = this.notificationEmitters.get(method);
    if (!emitter) this.notificationEmitters.set(method, (emitter = new Emitter<unknown>()));
    return emitter.on(listener as Listener<unknown>);
  }

  /**
   * Sends a request, starting the worker first if none runs. Aborting `signal` asks the worker to
   * cancel; the promise still settles with the worker's answer (an error with code 'cancelled',
   * or for training the outcome with cancelled: true), or at once if the request was not sent yet.
   * `onProgress` hears the worker's progress reports for this request (lossless compression).
   */
  async request<M extends EngineMethod>(
    method: M,
    params: EngineMethods[M]['params'],
    signal?: AbortSignal,
    onProgress?: RequestProgress,
  ): Promise<EngineMethods[M]['result']> {
    if (this.disposed) throw new EngineRequestError('The TextVAE engine has been shut down.', 'stopped');
    if (signal?.aborted) throw new EngineRequestError('Cancelled.', 'cancelled');
    await this.start();
    if (signal?.aborted) throw new EngineRequestError('Cancelled.', 'cancelled');
    return this.send(method, params, signal, onProgress);
  }

  /** Starts the worker (initialize, then the startup model) unless one runs; resolves when it is ready. */
  start(): Promise<void> {
    if (this.disposed)
      return Promise.reject(new EngineRequestError('The TextVAE engine has been shut down.', 'stopped'));
    if (this.worker && this.startup) return this.startup;
    const generation = ++this.generation;
    let worker: WorkerProcess;
    try {
      worker = this.options.spawn();
    } catch (err) {
      const message = `The TextVAE engine could not start: ${errorText(err)}`;
      this.options.log(message);
      return Promise.reject(new EngineRequestError(message, 'start-failed'));
    }
    this.worker = worker;
    worker.onMessage((m) => this.handleMessage(generation, m));
    worker.onExit((code, signal) => this.handleExit(generation, code, signal));
    worker.onError((err) => {
      this.options.log(`engine process error: ${err.message}`);
      // A process that failed to spawn never exits: treat the error as its end.
      if (worker.pid === undefined) this.handleExit(generation, null, 'spawn-error');
    });
    worker.onOutput((text) => {
      for (const line of text.split(/\r?\n/)) if (line.trim()) this.options.log(`[engine] ${line}`);
    });
    this.options.log(`starting the engine${worker.pid ? ` (pid ${worker.pid})` : ''}`);
    const startup = (async () => {
      let report: BackendReport;
      try {
        report = await this.send('initialize', { backend: this.options.getBackend() });
      } catch (err) {
        if (err instanceof EngineRequestError && (err.code === 'crashed' || err.code === 'stopped')) throw err;
        throw new EngineRequestError(
          `The TextVAE engine could not start: ${errorText(err)}. Check the textvae.backend setting, then run "TextVAE: Restart Engine".`,
          'start-failed',
        );
      }
      if (generation !== this.generation) throw new EngineRequestError('The TextVAE engine was restarted.', 'stopped');
      this.backendReport = report;
      this.options.log(
        `backend: ${report.name} (${report.detail})${report.skipped.length ? `; skipped ${report.skipped.join('; ')}` : ''}`,
      );
      this.stateEmitter.fire();
      let dir: string | undefined;
      try {
        dir = await this.options.getStartupModel(this.lastModelDir);
      } catch (err) {
        this.options.log(`no model loaded at start: ${errorText(err)}`);
      }
      if (dir && generation === this.generation) {
        try {
          await this.send('loadModel', { dir });
        } catch (err) {
          if (err instanceof EngineRequestError && (err.code === 'crashed' || err.code === 'stopped')) throw err;
          this.options.log(`could not load the model ${dir}: ${errorText(err)}`);
          this.options.onStartupModelError?.(dir, err instanceof Error ? err : new Error(String(err)));
        }
      }
    })();
    this.startup = startup;
    startup.catch((err) => {
      // A worker that could not initialise is of no use: stop it so the next request starts afresh.
      if (generation === this.generation && err instanceof EngineRequestError && err.code === 'start-failed')
        this.stop(err.message, 'start-failed');
    });
    return startup;
  }

  /** Stops the worker and starts a fresh one. */
  restart(): Promise<void> {
    this.stop('The TextVAE engine was restarted.');
    return this.start();
  }

  /** Stops the worker (if any); pending requests reject with `reason`. */
  stop(reason = 'The TextVAE engine was stopped.', code: ClientErrorCode = 'stopped'): void {
    const worker = this.worker;
    this.generation++;
    this.worker = undefined;
    this.startup = undefined;
    this.backendReport = undefined;
    this.setModel(null);
    this.pending.rejectAll(new EngineRequestError(reason, code));
    if (worker) {
      try {
        worker.kill();
      } catch (err) {
        this.options.log(`could not stop the engine process: ${errorText(err)}`);
      }
      this.stateEmitter.fire();
    }
  }

  dispose(): void {
    this.stop('The TextVAE engine has been shut down.');
    this.disposed = true;
  }

  private send<M extends EngineMethod>(
    method: M,
    params: EngineMethods[M]['params'],
    signal?: AbortSignal,
    onProgress?: RequestProgress,
  ): Promise<EngineMethods[M]['result']> {
    const worker = this.worker;
    if (!worker) return Promise.reject(new EngineRequestError('The TextVAE engine is not running.', 'stopped'));
    return new Promise<EngineMethods[M]['result']>((resolve, reject) => {
      const onAbort = () => {
        if (this.pending.has(id) && this.worker === worker) this.post(worker, { kind: 'cancel', id });
      };
      const id = this.pending.add(
        method,
        (value) => {
          signal?.removeEventListener('abort', onAbort);
          if (method === 'loadModel' && this.worker === worker) {
            const info = value as LoadedModel;
            this.lastModelDir = info.dir || (params as EngineMethods['loadModel']['params']).dir;
            this.setModel(info);
          }
          resolve(value as EngineMethods[M]['result']);
        },
        (err) => {
          signal?.removeEventListener('abort', onAbort);
          reject(err);
        },
        onProgress,
      );
      signal?.addEventListener('abort', onAbort, { once: true });
      this.post(worker, { kind: 'request', id, method, params }, (err) => {
        this.pending.reject(
          id,
          new EngineRequestError(`Could not reach the TextVAE engine: ${err.message}`, 'crashed'),
        );
      });
    });
  }

  private post(worker: WorkerProcess, message: HostToWorker, onError?: (err: Error) => void): void {
    try {
      worker.send(message, (err) => {
        if (err) onError?.(err);
      });
    } catch (err) {
      onError?.(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private setModel(model: LoadedModel | null): void {
    if (model === this.loadedModel) return;
    this.loadedModel = model;
    this.stateEmitter.fire();
  }

  private handleMessage(generation: number, raw: unknown): void {
    if (generation !== this.generation) return;
    const message = parseWorkerMessage(raw);
    if (!message) {
      this.options.log(`ignored a malformed message from the engine: ${preview(raw)}`);
      return;
    }
    switch (message.kind) {
      case 'ready':
        this.options.log(`engine process ready (pid ${message.pid})`);
        return;
      case 'response':
        this.pending.settle(message);
        return;
      case 'notification':
        if (message.method === 'requestProgress') this.pending.progress(message.params);
        this.notificationEmitters.get((message as NotificationMessage).method)?.fire(message.params);
        return;
    }
  }

  private handleExit(generation: number, code: number | null, signal: string | null): void {
    if (generation !== this.generation || !this.worker) return;
    this.generation++;
    this.worker = undefined;
    this.startup = undefined;
    this.backendReport = undefined;
    const message = crashMessage(code, signal);
    this.options.log(message);
    this.setModel(null);
    this.pending.rejectAll(new EngineRequestError(message, 'crashed'));
    this.stateEmitter.fire();
    this.crashEmitter.fire(message);
  }
}

function errorText(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split(/\r?\n/)[0].replace(/[.\s]+$/, '');
}

function preview(value: unknown): string {
  let s: string;
  try {
    s = JSON.stringify(value) ?? String(value);
  } catch {
    s = String(value);
  }
  return s.length > 200 ? `${s.slice(0, 200)}…` : s;
}
