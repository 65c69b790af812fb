/** Train on Workspace Documents, Cancel Training, Show Training Curves. */
import * as vscode from 'vscode';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { MetricsLine } from '../core/types';
import type { TrainOutcome, TrainParams } from '../protocol/engine';
import type { EngineClient } from './engineClient';
import type { ModelManager } from './models';
import { collectWorkspaceDocuments, localFolders } from './documents';
import { trainingSettings } from './config';
import {
  lagStats,
  modelFolderName,
  trainingFinishedMessage,
  trainingProgressMessage,
  uniqueName,
  type LagStats,
} from './logic/format';
import { isCancelled } from './logic/engineConnection';
import { trainingRequest } from './logic/trainingRequest';
import { reportError, type Log } from './services';
import { TrainingPanel } from './panels/trainingPanel';

interface RunHistory {
  title: string;
  metrics: MetricsLine[];
  done?: { message: string; cancelled: boolean };
}

/** Sampling interval of the event-loop delay histogram. */
const LAG_RESOLUTION_MS = 10;

export class TrainingController implements vscode.Disposable {
  private cts: vscode.CancellationTokenSource | undefined;
  private history: RunHistory | undefined;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly engine: EngineClient,
    private readonly models: ModelManager,
    private readonly log: Log,
    /** Told the backend when a run starts (the offer to install the native one). */
    private readonly onTrainingBackend: (backend: string | undefined) => void = () => undefined,
  ) {}

  get running(): boolean {
    return this.cts !== undefined;
  }

  cancel(): void {
    if (!this.cts) {
      void vscode.window.showInformationMessage('No training run is in progress.');
      return;
    }
    this.log.line('training: cancel requested (the last checkpoint will be kept)');
    this.cts.cancel();
  }

  private readonly onPanelCancel = () => {
    if (this.cts) this.cancel();
  };

  showPanel(): void {
    const existed = TrainingPanel.current() !== undefined;
    const panel = TrainingPanel.show(this.context.extensionUri, this.onPanelCancel);
    if (existed) return;
    const h = this.history;
    if (!h) {
      panel.reset('No training run yet: run "TextVAE: Train on Workspace Documents" to start one.', { idle: true });
      return;
    }
    panel.reset(h.title);
    for (const m of h.metrics) panel.addMetrics(m);
    if (h.done) panel.done(h.done.message, h.done.cancelled);
  }

  revivePanel(webviewPanel: vscode.WebviewPanel, state: unknown): void {
    TrainingPanel.revive(webviewPanel, state, this.context.extensionUri, this.onPanelCancel);
  }

  private resolveOutputFolder(): string {
    const root = this.models.outputRoot();
    if (!root) throw new Error('There is no folder to save trained models in: set textvae.training.outputFolder.');
    fs.mkdirSync(root, { recursive: true });
    const name = uniqueName(modelFolderName(new Date()), (n) => fs.existsSync(path.join(root, n)));
    return path.join(root, name);
  }

  async train(): Promise<void> {
    if (this.cts) {
      void vscode.window.showInformationMessage('A training run is already in progress.');
      this.showPanel();
      return;
    }
    const folders = localFolders();
    if (folders.length === 0) {
      void vscode.window.showErrorMessage('Open a folder to train on its documents.');
      return;
    }
    if (!vscode.workspace.isTrusted) {
      const answer = await vscode.window.showWarningMessage(
        'Train on the documents of an untrusted workspace?',
        {
          modal: true,
          detail:
            'Training reads the documents of this workspace, which is not trusted, and saves a new model from them.',
        },
        'Train',
      );
      if (answer !== 'Train') return;
    }
    const settings = trainingSettings();
    const selection = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'TextVAE: Finding documents…', cancellable: true },
      async (_p, token) => {
        const found = await collectWorkspaceDocuments({ token });
        return token.isCancellationRequested ? undefined : found;
      },
    );
    if (!selection) return;
    for (const s of selection.skipped) this.log.line(`skipped ${s.uri.fsPath}: ${s.reason}`);
    if (selection.files.length === 0) {
      const globs = settings.include.map((g) => `"${g}"`).join(', ');
      void vscode.window.showErrorMessage(
        `No documents to train on: nothing in this workspace matches ${globs}. Change textvae.training.include to choose the documents.`,
      );
      return;
    }
    const out = this.resolveOutputFolder();
    // The model in use: what "Train on Workspace Documents" fine-tunes unless told to start from scratch.
    const activeModel =
      settings.startFrom === 'activeModel' ? (this.engine.model?.dir ?? (await this.models.startupModel())) : undefined;
    const params = trainingRequest(settings, { paths: selection.files.map((u) => u.fsPath), out, activeModel });
    await this.run(params, selection.files.length);
  }

  private async run(params: TrainParams, documents: number): Promise<void> {
    const cts = new vscode.CancellationTokenSource();
    this.cts = cts;
    const what = params.from ? `Fine-tuning ${path.basename(params.from)}` : 'Training';
    const title = `${what} on ${documents} document${documents === 1 ? '' : 's'} → ${path.basename(params.out)}`;
    const history: RunHistory = { title, metrics: [] };
    this.history = history;
    void vscode.commands.executeCommand('setContext', 'textvae.training', true);
    const panel = TrainingPanel.show(this.context.extensionUri, this.onPanelCancel);
    panel.reset(title);
    this.log.line(
      `training: ${documents} documents, ${params.minutes} min, ${params.from ? `fine-tuning ${params.from}` : params.modelDim ? `from scratch, small model (width ${params.modelDim})` : 'from scratch, default model size'}, output ${params.out}`,
    );

    const lag = monitorEventLoopDelay({ resolution: LAG_RESOLUTION_MS });
    lag.enable();
    const started = Date.now();
    let stats: LagStats | undefined;
    let outcome: TrainOutcome | undefined;
    const subscriptions: vscode.Disposable[] = [];
    try {
      outcome = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: 'TextVAE: Training', cancellable: true },
        async (progress, token) => {
          subscriptions.push(token.onCancellationRequested(() => cts.cancel()));
          let reported = 0;
          let sawMetrics = false;
          subscriptions.push(
            this.engine.onNotification('trainMetrics', (m) => {
              sawMetrics = true;
              history.metrics.push(m);
              TrainingPanel.current()?.addMetrics(m);
              const pct = Math.max(0, Math.min(100, m.progress * 100));
              progress.report({ increment: Math.max(0, pct - reported), message: trainingProgressMessage(m) });
              reported = Math.max(reported, pct);
            }),
            this.engine.onNotification('trainLog', ({ message }) => {
              this.log.line(`training: ${message}`);
              if (!sawMetrics && !message.startsWith('skipped ')) progress.report({ message });
            }),
          );
          const result = this.engine.request('train', params, cts.token);
          // The request starts the engine; once it runs, its backend is known.
          void this.engine.start().then(
            () => this.onTrainingBackend(this.engine.backend?.name),
            () => undefined,
          );
          return result;
        },
      );
      stats = lagStats(lag, LAG_RESOLUTION_MS);
      for (const s of outcome.skipped) this.log.line(`training skipped ${s.path}: ${s.reason}`);
      this.log.line(
        `training ${outcome.cancelled ? 'cancelled' : 'finished'}: ${outcome.steps} steps in ${Math.round(outcome.elapsedSeconds)} s, ${outcome.files} documents, ${outcome.final.evaluated_on === 'training' ? 'on training text' : 'held-out'} ${outcome.final.bits_per_byte.toFixed(4)} bits/byte, ${outcome.final.active_units} active units, KL ${outcome.final.kl_bits_per_byte.toFixed(4)} bits/byte, MI ${outcome.final.mutual_information.toFixed(3)} nats; saved ${outcome.out}`,
      );
      if (outcome.cancelled) {
        const message = `Training cancelled after ${outcome.steps} steps. The last checkpoint was saved in ${outcome.out}.`;
        history.done = { message, cancelled: true };
        TrainingPanel.current()?.done(message, true);
        void vscode.window.showInformationMessage(message, 'Use This Model').then(async (answer) => {
          if (answer !== 'Use This Model') return;
          try {
            await this.models.activate(outcome!.out);
            void vscode.window.showInformationMessage('The checkpoint is now the active model.');
          } catch (err) {
            reportError(this.log, 'loading the checkpoint', err);
          }
        });
      } else {
        await this.models.activate(outcome.out);
        const message = trainingFinishedMessage(outcome);
        history.done = { message, cancelled: false };
        TrainingPanel.current()?.done(message, false);
        void vscode.window.showInformationMessage(message);
      }
    } catch (err) {
      stats ??= lagStats(lag, LAG_RESOLUTION_MS);
      const message = isCancelled(err)
        ? 'Training cancelled.'
        : `Training failed: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`;
      history.done = { message, cancelled: isCancelled(err) };
      TrainingPanel.current()?.done(message, isCancelled(err));
      reportError(this.log, 'training', err);
    } finally {
      lag.disable();
      for (const s of subscriptions) s.dispose();
      cts.dispose();
      this.cts = undefined;
      void vscode.commands.executeCommand('setContext', 'textvae.training', false);
      if (stats) this.recordLag(stats, (Date.now() - started) / 1000);
    }
  }

  /**
   * A diagnostic in the output channel: how long the extension host's event loop stalled while
   * training ran in the engine process (the end-to-end tests read this line).
   */
  private recordLag(stats: LagStats, seconds: number): void {
    this.log.line(
      `extension host event-loop lag during training: p50 ${stats.p50_ms} ms, p99 ${stats.p99_ms} ms, max ${stats.max_ms} ms (${stats.samples} samples over ${Math.round(seconds)} s)`,
    );
  }

  dispose(): void {
    this.cts?.cancel();
  }
}
