/**
 * The training webview panel: live curves and the latest metrics of a training run. One
 * instance; its PanelHost owns the webview. The host keeps the whole view state (the same
 * reducer as the webview) and sends it as a snapshot whenever the webview says `ready`, because a
 * hidden webview is destroyed and misses what is posted meanwhile.
 */
import * as vscode from 'vscode';
import type { MetricsLine } from '../../core/types';
import {
  TRAINING_COMMANDS,
  parseMetricsLine,
  parseTrainingViewState,
  type MethodCall,
  type TrainingNotifications,
  type TrainingViewState,
} from '../../protocol/webview';
import { canCancel, emptyTrainingState, reduce, toAction } from '../../protocol/trainingState';
import { PanelHost, type PanelDescription } from './panelHost';

const DESCRIPTION: PanelDescription<typeof TRAINING_COMMANDS> = {
  viewType: 'textvae.training',
  title: 'TextVAE Training',
  app: 'training',
  commands: TRAINING_COMMANDS,
  // Nothing is queued: the snapshot sent on the next `ready` carries it.
  whileHidden: 'drop',
};
const DETACHED = 'The window was reloaded: this run is no longer connected to the panel.';

export class TrainingPanel {
  static readonly viewType = DESCRIPTION.viewType;
  private static instance: TrainingPanel | undefined;

  private readonly view: PanelHost<typeof TRAINING_COMMANDS, TrainingNotifications>;

  static show(extensionUri: vscode.Uri, onCancel: () => void): TrainingPanel {
    const existing = TrainingPanel.instance;
    if (existing) {
      existing.onCancel = onCancel;
      existing.view.panel.reveal(undefined, true);
      return existing;
    }
    const panel = PanelHost.createPanel(extensionUri, DESCRIPTION, {
      viewColumn: vscode.ViewColumn.Beside,
      preserveFocus: true,
    });
    return new TrainingPanel(panel, extensionUri, onCancel, emptyTrainingState(), false);
  }

  /**
   * Called by the panel serializer after a reload with the webview's saved state: the curves
   * come back, but the run that produced them is gone with the old extension host.
   */
  static revive(
    panel: vscode.WebviewPanel,
    state: unknown,
    extensionUri: vscode.Uri,
    onCancel: () => void,
  ): TrainingPanel {
    const existing = TrainingPanel.instance;
    if (existing && existing.view.panel !== panel) {
      panel.dispose();
      return existing;
    }
    let restored = parseTrainingViewState(state) ?? emptyTrainingState();
    if (!restored.done && (restored.latest || restored.points.length))
      restored = reduce(restored, { type: 'done', message: DETACHED, cancelled: true });
    return new TrainingPanel(panel, extensionUri, onCancel, restored, true);
  }

  static current(): TrainingPanel | undefined {
    return TrainingPanel.instance;
  }

  private constructor(
    panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
    private onCancel: () => void,
    private state: TrainingViewState,
    restored: boolean,
  ) {
    TrainingPanel.instance = this;
    this.view = new PanelHost(
      panel,
      extensionUri,
      DESCRIPTION,
      {
        onReady: () => this.view.post('snapshot', this.state),
        onCommand: (command) => {
          if (command.method !== 'cancel' || !canCancel(this.state)) return;
          this.state = reduce(this.state, { type: 'cancelRequested' });
          this.view.post('snapshot', this.state);
          this.onCancel();
        },
        onDispose: () => {
          if (TrainingPanel.instance === this) TrainingPanel.instance = undefined;
        },
      },
      restored,
    );
  }

  /**
   * Starts a new run: clears the curves and offers Cancel. With `{ idle: true }` the title is
   * only a placeholder (e.g. "No training run yet") and no run is attached: no Cancel.
   */
  reset(title: string, options: { idle?: boolean } = {}): void {
    this.apply('reset', options.idle === true ? { title, idle: true } : { title });
  }

  addMetrics(m: MetricsLine): void {
    // Same checks as the webview: NaN may arrive as null after JSON.
    const line = parseMetricsLine(m);
    if (line) this.apply('metrics', line);
  }

  done(message: string, cancelled: boolean): void {
    this.apply('done', { message, cancelled });
  }

  dispose(): void {
    this.view.dispose();
  }

  /** Applies a notification to the host's copy of the state, then sends it. */
  private apply<K extends keyof TrainingNotifications>(method: K, params: TrainingNotifications[K]): void {
    this.state = reduce(this.state, toAction({ method, params } as MethodCall<TrainingNotifications>));
    this.view.post(method, params);
  }
}
