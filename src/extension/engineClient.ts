/** The extension host's handle on the engine worker process (vscode types around EngineConnection). */
import * as vscode from 'vscode';
import type { BackendReport } from '../core/types';
import type { BackendRequest } from '../core/choices';
import type { EngineMethod, EngineMethods, EngineNotifications } from '../protocol/engine';
import { EngineConnection, forkEngineWorker, type LoadedModel, type RequestProgress } from './logic/engineConnection';

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
      spawn: () => forkEngineWorker(options.workerPath, [], options.getEnv?.()),
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
    onProgress?: RequestProgress,
  ): Promise<EngineMethods[M]['result']> {
    if (!token) return this.connection.request(method, params, undefined, onProgress);
    const controller = new AbortController();
    if (token.isCancellationRequested) controller.abort();
    const sub = token.onCancellationRequested(() => controller.abort());
    try {
      return await this.connection.request(method, params, controller.signal, onProgress);
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
