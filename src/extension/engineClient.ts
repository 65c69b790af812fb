/** The extension host's handle on the engine worker process (vscode types around EngineConnection). */
import * as vscode from 'vscode';
import { fork, type ChildProcess } from 'node:child_process';
import type { BackendReport, BackendRequest } from '../core/backend';
import type { EngineMethod, EngineMethods, EngineNotifications } from '../protocol/engine';
import { EngineConnection, type LoadedModel, type WorkerProcess } from './logic/engineConnection';

export { EngineRequestError, isCancelled } from './logic/engineConnection';
export type { LoadedModel } from './logic/engineConnection';

export interface EngineClientOptions {
  /** dist/worker.js */
  workerPath: string;
  log(line: string): void;
  getBackend(): BackendRequest;
  /** Extra environment of the worker, read at each start (e.g. where the native backend is installed). */
  getEnv?(): Record<string, string>;
  getStartupModel(previous: string | undefined): Promise<string | undefined>;
  onStartupModelError?(dir: string, err: Error): void;
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

export class EngineClient implements vscode.Disposable {
  private readonly connection: EngineConnection;
  private readonly crashEmitter = new vscode.EventEmitter<string>();
  private readonly stateEmitter = new vscode.EventEmitter<void>();
  private readonly unsubscribe: (() => void)[] = [];

  /** Fires with the user-facing message when the worker dies unexpectedly. */
  readonly onDidCrash: vscode.Event<string> = this.crashEmitter.event;
  /** Fires when the worker starts or stops, the backend is known, or the loaded model changes. */
  readonly onDidChangeState: vscode.Event<void> = this.stateEmitter.event;

  constructor(options: EngineClientOptions) {
    this.connection = new EngineConnection({
      spawn: () =>
        adapt(
          fork(options.workerPath, [], {
            // VS Code's own Node (Electron run as Node): no separate runtime needed.
            execPath: process.execPath,
            // Never inherit the extension host's inspector flags (port clashes).
            execArgv: [],
            env: { ...process.env, ...options.getEnv?.(), ELECTRON_RUN_AS_NODE: '1' },
            serialization: 'advanced',
            stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
          }),
        ),
      log: options.log,
      getBackend: options.getBackend,
      getStartupModel: options.getStartupModel,
      onStartupModelError: options.onStartupModelError,
    });
    this.unsubscribe.push(
      this.connection.onCrash((m) => this.crashEmitter.fire(m)),
      this.connection.onStateChange(() => this.stateEmitter.fire()),
    );
  }

  get running(): boolean {
    return this.connection.running;
  }

  get backend(): BackendReport | undefined {
    return this.connection.backend;
  }

  get model(): LoadedModel | null {
    return this.connection.model;
  }

  get pendingCount(): number {
    return this.connection.pendingCount;
  }

  /**
   * Starts the worker if needed, then sends the request. Cancelling `token` asks the worker to
   * cancel (the promise then rejects with an EngineRequestError of code 'cancelled', except for
   * training, which resolves with the outcome of the cancelled run).
   */
  async request<M extends EngineMethod>(
    method: M,
    params: EngineMethods[M]['params'],
    token?: vscode.CancellationToken,
  ): Promise<EngineMethods[M]['result']> {
    if (!token) return this.connection.request(method, params);
    const controller = new AbortController();
    if (token.isCancellationRequested) controller.abort();
    const sub = token.onCancellationRequested(() => controller.abort());
    try {
      return await this.connection.request(method, params, controller.signal);
    } finally {
      sub.dispose();
    }
  }

  /** Starts the worker (and loads the startup model) without sending anything else. */
  start(): Promise<void> {
    return this.connection.start();
  }

  onNotification<K extends keyof EngineNotifications>(
    method: K,
    handler: (params: EngineNotifications[K]) => void,
  ): vscode.Disposable {
    const off = this.connection.onNotification(method, handler);
    return new vscode.Disposable(off);
  }

  restart(): Promise<void> {
    return this.connection.restart();
  }

  dispose(): void {
    // Detach first: listeners (status bar, panels) may already be gone at shutdown.
    for (const off of this.unsubscribe) off();
    this.connection.dispose();
    this.crashEmitter.dispose();
    this.stateEmitter.dispose();
  }
}
