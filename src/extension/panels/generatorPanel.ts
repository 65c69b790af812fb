/**
 * The generator webview panel: sample, interpolate, copy/insert results and the latent map.
 * One instance; its PanelHost owns the webview. The webview is destroyed while hidden: it keeps
 * its own state with setState, and what the host sends meanwhile is queued until its next `ready`.
 * Answers to a request carry the request's id (`replyTo`), so the webview can drop the answer to
 * a request it has cancelled.
 */
import * as vscode from 'vscode';
import type { EngineClient } from '../engineClient';
import type { MapDocument } from '../../protocol/engine';
import {
  GENERATOR_COMMANDS,
  type GeneratorCommand,
  type GeneratorModelState,
  type GeneratorNotifications,
  type GeneratorSettings,
} from '../../protocol/webview';
import { PanelHost, type PanelDescription, type Pending } from './panelHost';

export interface GeneratorHost {
  engine: EngineClient;
  getModelState(): GeneratorModelState | null;
  onDidChangeModel: vscode.Event<void>;
  collectMapDocuments(token: vscode.CancellationToken): Promise<MapDocument[]>;
  output: vscode.OutputChannel;
  /** The textvae.sampling.* / textvae.interpolation.* settings, already within their ranges. */
  getSettings(): GeneratorSettings;
}

type CommandOf<K extends GeneratorCommand['method']> = Extract<GeneratorCommand, { method: K }>;

const DESCRIPTION: PanelDescription<typeof GENERATOR_COMMANDS> = {
  viewType: 'textvae.generator',
  title: 'TextVAE Generator',
  app: 'generator',
  commands: GENERATOR_COMMANDS,
  whileHidden: 'queue',
  enableFindWidget: true,
};
const NO_EDITOR = 'Open a text editor to insert into.';
const NO_SELECTION = 'Select some text in an editor first.';

export class GeneratorPanel {
  static readonly viewType = DESCRIPTION.viewType;
  private static instance: GeneratorPanel | undefined;

  private readonly view: PanelHost<typeof GENERATOR_COMMANDS, GeneratorNotifications>;
  private request: vscode.CancellationTokenSource | undefined;
  private busyLabel: string | undefined;
  private lastEditor: vscode.TextEditor | undefined;
  private readonly mapUris = new Set<string>();
  private modelListener: vscode.Disposable | undefined;

  static createOrShow(extensionUri: vscode.Uri, host: GeneratorHost): GeneratorPanel {
    const existing = GeneratorPanel.instance;
    if (existing) {
      existing.setHost(host);
      existing.view.panel.reveal();
      return existing;
    }
    const column = vscode.window.activeTextEditor ? vscode.ViewColumn.Beside : vscode.ViewColumn.One;
    return new GeneratorPanel(PanelHost.createPanel(extensionUri, DESCRIPTION, column), extensionUri, host, false);
  }

  /** Called by the panel serializer after a reload; the webview restores its own state (getState). */
  static revive(
    panel: vscode.WebviewPanel,
    _state: unknown,
    extensionUri: vscode.Uri,
    host: GeneratorHost,
  ): GeneratorPanel {
    const existing = GeneratorPanel.instance;
    if (existing && existing.view.panel !== panel) {
      // createOrShow ran before the serializer: keep one panel.
      panel.dispose();
      return existing;
    }
    return new GeneratorPanel(panel, extensionUri, host, true);
  }

  private constructor(
    panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
    private host: GeneratorHost,
    restored: boolean,
  ) {
    GeneratorPanel.instance = this;
    this.view = new PanelHost(
      panel,
      extensionUri,
      DESCRIPTION,
      {
        onReady: (pending) => this.onReady(pending),
        onCommand: (command) => this.onCommand(command),
        onMalformed: () => {
          this.host.output.appendLine('[generator] ignored a malformed message from the webview');
          // The webview marks itself busy when it sends a request: tell it where things stand.
          this.postBusy();
        },
        onDispose: () => this.onDispose(),
      },
      restored,
    );
    this.setHost(host);
    this.lastEditor =
      usableEditor(vscode.window.activeTextEditor) ?? vscode.window.visibleTextEditors.find((e) => usableEditor(e));
    this.view.own(
      vscode.window.onDidChangeActiveTextEditor((e) => {
        if (usableEditor(e)) this.lastEditor = e;
      }),
      { dispose: () => this.modelListener?.dispose() },
    );
  }

  /** createOrShow may hand over a new host: follow its model changes. */
  private setHost(host: GeneratorHost): void {
    if (this.modelListener && host === this.host) return;
    this.modelListener?.dispose();
    this.host = host;
    this.modelListener = host.onDidChangeModel(() => this.post('model', { model: this.host.getModelState() }));
    if (this.view.live) this.post('model', { model: host.getModelState() });
  }

  dispose(): void {
    this.view.dispose();
  }

  private onDispose(): void {
    if (GeneratorPanel.instance === this) GeneratorPanel.instance = undefined;
    this.request?.cancel();
    this.request?.dispose();
    this.request = undefined;
  }

  // ------------------------------------------------------------ webview

  private post<K extends keyof GeneratorNotifications>(
    method: K,
    params: GeneratorNotifications[K],
    replyTo?: number,
  ): void {
    this.view.post(method, params, replyTo);
  }

  private onReady(pending: Pending<GeneratorNotifications>[]): void {
    this.post('model', { model: this.host.getModelState() });
    this.post('settings', this.host.getSettings());
    for (const p of pending) {
      if (p.method !== 'model' && p.method !== 'settings' && p.method !== 'busy')
        this.view.post(p.method, p.params, p.replyTo);
    }
    this.postBusy();
  }

  private postBusy(): void {
    this.post('busy', this.busyLabel === undefined ? { busy: false } : { busy: true, label: this.busyLabel });
  }

  private async onCommand(command: GeneratorCommand): Promise<void> {
    try {
      await this.handle(command);
    } catch (err) {
      this.fail(err, false, command.id);
    }
  }

  private async handle(c: GeneratorCommand): Promise<void> {
    switch (c.method) {
      case 'ready':
        return; // PanelHost answers it.
      case 'sample':
        return this.sample(c);
      case 'interpolate':
        return this.interpolate(c);
      case 'loadMap':
        return this.loadMap(c.id);
      case 'cancel':
        this.request?.cancel();
        return;
      case 'useSelection':
        return this.useSelection(c.params.slot);
      case 'copy':
        await vscode.env.clipboard.writeText(c.params.text);
        vscode.window.setStatusBarMessage('Copied', 2000);
        return;
      case 'insert':
        return this.insert(c.params.text);
      case 'openLocation':
        return this.openLocation(c.params.uri, c.params.offset);
    }
  }

  // ------------------------------------------------------------ requests to the engine

  /**
   * Runs one engine request at a time, with busy state, cancellation and error reporting. `id` is
   * the command's: what answers it carries it as `replyTo`.
   */
  private async run(
    id: number,
    label: string,
    work: (token: vscode.CancellationToken) => Promise<void>,
  ): Promise<void> {
    if (this.request) {
      this.post('error', { message: 'Another request is still running: wait for it or cancel it.' }, id);
      this.postBusy();
      return;
    }
    const cts = new vscode.CancellationTokenSource();
    this.request = cts;
    this.setBusy(label);
    try {
      await work(cts.token);
      if (cts.token.isCancellationRequested) this.post('notice', { message: 'Cancelled.' });
    } catch (err) {
      if (cts.token.isCancellationRequested || errorCode(err) === 'cancelled')
        this.post('notice', { message: 'Cancelled.' });
      else this.fail(err, true, id);
    } finally {
      if (this.request === cts) this.request = undefined;
      cts.dispose();
      this.setBusy(undefined);
    }
  }

  private setBusy(label: string | undefined): void {
    this.busyLabel = label;
    this.post('busy', label === undefined ? { busy: false } : { busy: true, label });
  }

  private fail(err: unknown, engine: boolean, replyTo: number): void {
    const message = err instanceof Error ? err.message : String(err);
    this.host.output.appendLine(`[generator] ${message}`);
    this.post('error', { message }, replyTo);
    if (engine) void vscode.window.showErrorMessage(`TextVAE: ${message}`);
  }

  private sample(c: CommandOf<'sample'>): Promise<void> {
    const { n, temperature, seed, maxTokens, chunks } = c.params;
    return this.run(c.id, `Sampling ${n} ${n === 1 ? 'paragraph' : 'paragraphs'}…`, async (token) => {
      const { topP } = this.host.getSettings();
      const result = await this.host.engine.request(
        'sample',
        { n, chunks, options: { strategy: 'sample', temperature, topP, seed, maxTokens } },
        token,
      );
      if (token.isCancellationRequested) return;
      if (!Array.isArray(result?.samples) || !result.samples.every((s) => typeof s === 'string'))
        throw new Error('The engine returned malformed samples.');
      this.post('samples', { items: result.samples }, c.id);
    });
  }

  private interpolate(c: CommandOf<'interpolate'>): Promise<void> {
    const { from, to, steps, mode } = c.params;
    if (!from.trim() || !to.trim()) {
      this.post('error', { message: 'Enter text in both From and To, or use an editor selection.' }, c.id);
      this.postBusy();
      return Promise.resolve();
    }
    return this.run(c.id, `Interpolating in ${steps} steps…`, async (token) => {
      const result = await this.host.engine.request('interpolate', { from, to, steps, mode }, token);
      if (token.isCancellationRequested) return;
      const items = Array.isArray(result?.steps)
        ? result.steps.filter((s) => typeof s?.alpha === 'number' && typeof s?.text === 'string')
        : [];
      if (!Array.isArray(result?.steps) || items.length !== result.steps.length)
        throw new Error('The engine returned a malformed interpolation.');
      this.post('interpolation', { items: items.map((s) => ({ alpha: s.alpha, text: s.text })) }, c.id);
    });
  }

  private loadMap(id: number): Promise<void> {
    return this.run(id, 'Collecting workspace documents…', async (token) => {
      const documents = await this.host.collectMapDocuments(token);
      if (token.isCancellationRequested) return;
      if (documents.length === 0) {
        this.post(
          'error',
          { message: 'No documents to map: the workspace has no text documents that match textvae.training.include.' },
          id,
        );
        return;
      }
      this.setBusy(`Mapping ${documents.length} ${documents.length === 1 ? 'document' : 'documents'}…`);
      const { points } = await this.host.engine.request('latentMap', { documents }, token);
      if (token.isCancellationRequested) return;
      this.mapUris.clear();
      for (const p of points) this.mapUris.add(p.uri);
      this.post('map', { points }, id);
    });
  }

  // ------------------------------------------------------------ editors

  /** The text editor the user last worked in (the webview has the focus now). */
  private async editor(): Promise<vscode.TextEditor | undefined> {
    const active = usableEditor(vscode.window.activeTextEditor);
    if (active) return active;
    const last = this.lastEditor;
    if (!last || last.document.isClosed) return undefined;
    const visible =
      vscode.window.visibleTextEditors.find((e) => e === last) ??
      vscode.window.visibleTextEditors.find((e) => e.document === last.document);
    if (visible) return visible;
    // Its tab is in the background: bring it back with the same selection.
    return vscode.window.showTextDocument(last.document, {
      viewColumn: last.viewColumn,
      selection: last.selection,
      preserveFocus: true,
      preview: false,
    });
  }

  private async useSelection(slot: 'from' | 'to'): Promise<void> {
    const editor =
      usableEditor(vscode.window.activeTextEditor) ??
      (this.lastEditor && !this.lastEditor.document.isClosed ? this.lastEditor : undefined);
    const text = editor?.selections
      .filter((s) => !s.isEmpty)
      .map((s) => editor.document.getText(s))
      .join('\n');
    if (!editor || !text || !text.trim()) {
      this.post('error', { message: NO_SELECTION });
      return;
    }
    this.post('selection', { slot, text });
  }

  private async insert(text: string): Promise<void> {
    const editor = await this.editor();
    if (!editor) {
      this.post('error', { message: NO_EDITOR });
      return;
    }
    // One edit: one undo step, at every selection.
    const ok = await editor.edit(
      (b) => {
        for (const s of editor.selections) b.replace(s, text);
      },
      { undoStopBefore: true, undoStopAfter: true },
    );
    if (!ok) {
      this.post('error', { message: `Could not insert into ${baseName(editor.document.uri)} (is it read-only?).` });
      return;
    }
    editor.revealRange(editor.selection, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
    this.post('notice', { message: `Inserted into ${baseName(editor.document.uri)}.` });
  }

  private async openLocation(uriText: string, offset: number): Promise<void> {
    let uri: vscode.Uri;
    try {
      uri = vscode.Uri.parse(uriText, true);
    } catch {
      this.post('error', { message: 'That location is not a valid document address.' });
      return;
    }
    // Only documents from the map, or anywhere in the workspace (after a reload the map comes from the webview's state).
    if (!this.mapUris.has(uriText) && !vscode.workspace.getWorkspaceFolder(uri)) {
      this.post('error', { message: 'That document is not part of the workspace.' });
      return;
    }
    const doc = await vscode.workspace.openTextDocument(uri);
    const pos = doc.positionAt(offset);
    const range = new vscode.Range(pos, pos);
    const column =
      this.lastEditor?.viewColumn ??
      (this.view.panel.viewColumn === vscode.ViewColumn.One ? vscode.ViewColumn.Beside : vscode.ViewColumn.One);
    const editor = await vscode.window.showTextDocument(doc, { viewColumn: column, selection: range, preview: true });
    editor.revealRange(range, vscode.TextEditorRevealType.InCenter);
  }
}

function usableEditor(e: vscode.TextEditor | undefined): vscode.TextEditor | undefined {
  // Output and debug-console "editors" are not places to insert into.
  return e && e.document.uri.scheme !== 'output' && e.document.uri.scheme !== 'debug' ? e : undefined;
}

function errorCode(err: unknown): unknown {
  return typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
}

function baseName(uri: vscode.Uri): string {
  const p = uri.path;
  return p.slice(p.lastIndexOf('/') + 1) || p;
}
