/**
 * The training webview panel: live curves and the latest metrics of a training run. One
 * instance; it owns its disposables. The host keeps the whole view state (the same reducer as
 * the webview) and sends it as a snapshot whenever the webview says `ready`, because a hidden
 * webview is destroyed (retainContextWhenHidden: false) and misses what is posted meanwhile.
 */
import * as vscode from 'vscode';
import { randomBytes } from 'node:crypto';
import type { MetricsLine } from '../../core/types';
import type { TrainingNotifications, TrainingViewState, WebviewMessage } from '../../protocol/webview';
import { renderWebviewHtml } from '../../webview/shared/html';
import { canCancel, emptyTrainingState, reduce, type TrainingAction } from '../../webview/training/state';
import { parseMetricsLine, parseTrainingCommand, parseTrainingViewState } from '../../webview/training/validate';

const TITLE = 'TextVAE Training';
const DETACHED = 'The window was reloaded: this run is no longer connected to the panel.';

export class TrainingPanel {
  static readonly viewType = 'textvae.training';
  private static instance: TrainingPanel | undefined;

  private readonly disposables: vscode.Disposable[] = [];
  private live = false;
  private nextId = 0;
  private disposed = false;

  static show(extensionUri: vscode.Uri, onCancel: () => void): TrainingPanel {
    const existing = TrainingPanel.instance;
    if (existing) {
      existing.onCancel = onCancel;
      existing.panel.reveal(undefined, true);
      return existing;
    }
    const panel = vscode.window.createWebviewPanel(
      TrainingPanel.viewType,
      TITLE,
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      { ...TrainingPanel.webviewOptions(extensionUri), retainContextWhenHidden: false },
    );
    return new TrainingPanel(panel, extensionUri, onCancel, emptyTrainingState());
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
    if (existing && existing.panel !== panel) {
      panel.dispose();
      return existing;
    }
    let restored = parseTrainingViewState(state) ?? emptyTrainingState();
    if (!restored.done && (restored.latest || restored.points.length))
      restored = reduce(restored, { type: 'done', message: DETACHED, cancelled: true });
    panel.webview.options = TrainingPanel.webviewOptions(extensionUri);
    return new TrainingPanel(panel, extensionUri, onCancel, restored);
  }

  static current(): TrainingPanel | undefined {
    return TrainingPanel.instance;
  }

  private static webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
    return {
      enableScripts: true,
      enableCommandUris: false,
      localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'media')],
    };
  }

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    private readonly extensionUri: vscode.Uri,
    private onCancel: () => void,
    private state: TrainingViewState,
  ) {
    TrainingPanel.instance = this;
    panel.title = TITLE;
    panel.iconPath = {
      light: vscode.Uri.joinPath(extensionUri, 'media', 'icon-light.svg'),
      dark: vscode.Uri.joinPath(extensionUri, 'media', 'icon-dark.svg'),
    };
    panel.webview.html = this.html();
    this.disposables.push(
      panel.onDidDispose(() => this.dispose()),
      panel.webview.onDidReceiveMessage((m) => this.onMessage(m)),
      panel.onDidChangeViewState(() => {
        if (!panel.visible) this.live = false;
      }),
    );
  }

  /**
   * Starts a new run: clears the curves and offers Cancel. With `{ idle: true }` the title is
   * only a placeholder (e.g. "No training run yet") and no run is attached: no Cancel.
   */
  reset(title: string, options: { idle?: boolean } = {}): void {
    const idle = options.idle === true;
    this.apply({ type: 'reset', title, idle }, 'reset', idle ? { title, idle } : { title });
  }

  addMetrics(m: MetricsLine): void {
    // Same checks as the webview: NaN may arrive as null after JSON.
    const line = parseMetricsLine(m);
    if (!line) return;
    this.apply({ type: 'metrics', line }, 'metrics', line);
  }

  done(message: string, cancelled: boolean): void {
    this.apply({ type: 'done', message, cancelled }, 'done', { message, cancelled });
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (TrainingPanel.instance === this) TrainingPanel.instance = undefined;
    this.panel.dispose();
    for (const d of this.disposables.splice(0)) d.dispose();
  }

  private apply<K extends keyof TrainingNotifications>(
    action: TrainingAction,
    method: K,
    params: TrainingNotifications[K],
  ): void {
    if (this.disposed) return;
    this.state = reduce(this.state, action);
    this.post(method, params);
  }

  private post<K extends keyof TrainingNotifications>(method: K, params: TrainingNotifications[K]): void {
    // Not live: the snapshot sent on the next `ready` carries it.
    if (!this.live || this.disposed) return;
    const message: WebviewMessage<TrainingNotifications, K> = { id: ++this.nextId, method, params };
    void this.panel.webview.postMessage(message);
  }

  private onMessage(raw: unknown): void {
    const command = parseTrainingCommand(raw);
    if (!command) return;
    switch (command.method) {
      case 'ready':
        this.live = true;
        this.post('snapshot', this.state);
        return;
      case 'cancel':
        if (!canCancel(this.state)) return;
        this.state = reduce(this.state, { type: 'cancelRequested' });
        this.post('snapshot', this.state);
        this.onCancel();
        return;
    }
  }

  private html(): string {
    const webview = this.panel.webview;
    const media = (...p: string[]) =>
      webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'media', ...p)).toString();
    return renderWebviewHtml({
      cspSource: webview.cspSource,
      nonce: randomBytes(18).toString('base64'),
      title: TITLE,
      styles: [media('common.css'), media('training.css')],
      script: media('dist', 'training.js'),
      bodyClass: 'training',
    });
  }
}
