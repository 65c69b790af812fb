/**
 * What every TextVAE webview panel needs from the extension host, in one place: webview options
 * (scripts on, command URIs off, only media/ readable), the HTML shell with a strict CSP and a
 * fresh nonce, the icon, the `ready` handshake, parsing every command against the protocol's
 * schemas, typed notifications, and disposal. A panel class (generatorPanel.ts, trainingPanel.ts)
 * owns one host and handles its commands.
 *
 * Webviews are destroyed while hidden (retainContextWhenHidden: false) and say `ready` again when
 * shown; until then nothing can be delivered. `whileHidden` says what happens to notifications
 * meanwhile: 'queue' keeps the newest of each kind for the next `ready`, 'drop' forgets them
 * (the panel sends its whole state on `ready` instead).
 */
import * as vscode from 'vscode';
import { randomBytes } from 'node:crypto';
import { parseMessage, type MessageSchemas, type ParamsOf, type WebviewMessage } from '../../protocol/webview';
import { renderWebviewHtml } from './html';

export interface PanelDescription<C extends MessageSchemas> {
  viewType: string;
  title: string;
  /** The app's name: media/dist/<app>.js, media/<app>.css and the <body> class. */
  app: string;
  /** The commands the webview may send (`ready` included); anything else is malformed. */
  commands: C;
  whileHidden: 'queue' | 'drop';
  enableFindWidget?: boolean;
}

export interface PanelHandlers<C extends MessageSchemas, N> {
  /** The webview (re)loaded and said `ready`; `pending` holds what was queued meanwhile, oldest first. */
  onReady(pending: Pending<N>[]): void;
  /** Every valid command other than `ready`. */
  onCommand(command: WebviewMessage<ParamsOf<C>>): void | Promise<void>;
  /** Something that is not a valid command arrived. */
  onMalformed?(raw: unknown): void;
  /** The panel is going away (closed by the user or disposed). */
  onDispose?(): void;
}

export type Pending<N> = { [K in keyof N]: { method: K; params: N[K]; replyTo?: number } }[keyof N];

export class PanelHost<C extends MessageSchemas, N> implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  private readonly pending = new Map<keyof N, Pending<N>>();
  private isLive = false;
  private nextId = 0;
  private disposed = false;

  /** Creates the vscode panel with the options every TextVAE panel uses. */
  static createPanel<C extends MessageSchemas>(
    extensionUri: vscode.Uri,
    description: PanelDescription<C>,
    show: vscode.ViewColumn | { viewColumn: vscode.ViewColumn; preserveFocus?: boolean },
  ): vscode.WebviewPanel {
    return vscode.window.createWebviewPanel(description.viewType, description.title, show, {
      ...PanelHost.webviewOptions(extensionUri),
      retainContextWhenHidden: false,
      ...(description.enableFindWidget ? { enableFindWidget: true } : {}),
    });
  }

  private static webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
    return {
      enableScripts: true,
      enableCommandUris: false,
      localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'media')],
    };
  }

  /**
   * Takes over `panel`: one from createPanel, or one a serializer restored after a reload
   * (`restored`: its webview options are set again, as they are not persisted).
   */
  constructor(
    readonly panel: vscode.WebviewPanel,
    private readonly extensionUri: vscode.Uri,
    private readonly description: PanelDescription<C>,
    private readonly handlers: PanelHandlers<C, N>,
    restored: boolean,
  ) {
    if (restored) panel.webview.options = PanelHost.webviewOptions(extensionUri);
    panel.title = description.title;
    panel.iconPath = {
      light: vscode.Uri.joinPath(extensionUri, 'media', 'icon-light.svg'),
      dark: vscode.Uri.joinPath(extensionUri, 'media', 'icon-dark.svg'),
    };
    panel.webview.html = this.html();
    this.disposables.push(
      panel.onDidDispose(() => this.dispose()),
      panel.webview.onDidReceiveMessage((m) => void this.onMessage(m)),
      panel.onDidChangeViewState(() => {
        // A hidden webview is destroyed; it says `ready` again when it is shown.
        if (!panel.visible) this.isLive = false;
      }),
    );
  }

  /** The webview has said `ready` since it was last (re)loaded. */
  get live(): boolean {
    return this.isLive && !this.disposed;
  }

  /** Disposed with the panel. */
  own(...disposables: vscode.Disposable[]): void {
    if (this.disposed) for (const d of disposables) d.dispose();
    else this.disposables.push(...disposables);
  }

  /** Sends a notification; `replyTo` is the id of the command it answers. */
  post<K extends keyof N>(method: K, params: N[K], replyTo?: number): void {
    if (this.disposed) return;
    const item = (replyTo === undefined ? { method, params } : { method, params, replyTo }) as Pending<N>;
    if (!this.isLive) {
      this.queue(item);
      return;
    }
    const message = { id: ++this.nextId, ...item };
    this.panel.webview.postMessage(message).then(
      (delivered) => {
        if (!delivered) this.queue(item);
      },
      () => this.queue(item),
    );
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.handlers.onDispose?.();
    this.panel.dispose();
    for (const d of this.disposables.splice(0)) d.dispose();
  }

  private queue(item: Pending<N>): void {
    if (this.description.whileHidden === 'drop' || this.disposed) return;
    // Keep only the newest of each kind, in the order they were last sent.
    this.pending.delete(item.method);
    this.pending.set(item.method, item);
  }

  private async onMessage(raw: unknown): Promise<void> {
    const command = parseMessage(this.description.commands, raw);
    if (!command) {
      this.handlers.onMalformed?.(raw);
      return;
    }
    if (command.method === 'ready') {
      this.isLive = true;
      const pending = [...this.pending.values()];
      this.pending.clear();
      this.handlers.onReady(pending);
      return;
    }
    await this.handlers.onCommand(command);
  }

  private html(): string {
    const webview = this.panel.webview;
    const media = (...p: string[]) =>
      webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'media', ...p)).toString();
    const app = this.description.app;
    return renderWebviewHtml({
      cspSource: webview.cspSource,
      nonce: randomBytes(18).toString('base64'),
      title: this.description.title,
      styles: [media('common.css'), media(`${app}.css`)],
      script: media('dist', `${app}.js`),
      bodyClass: app,
    });
  }
}
