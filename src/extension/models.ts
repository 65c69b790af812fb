/** The active model: where it comes from, Workspace Trust, the status bar, Select Model, Model Info. */
import * as vscode from 'vscode';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { EngineClient, LoadedModel } from './engineClient';
import { EngineRequestError } from './logic/engineConnection';
import {
  modelDisplayName,
  needsTrustPrompt,
  resolveModelChoice,
  samePath,
  type ModelChoice,
} from './logic/modelResolution';
import { modelInfoMarkdown, modelInfoSummary, oneLine, statusBarText } from './logic/format';
import { reportError, type Log } from './services';
import { modelPathByScope, setting } from './config';
import type { ReadOnlyDocuments } from './readOnlyDocuments';

export const ACTIVE_MODEL_KEY = 'textvae.activeModel';

export class ModelManager implements vscode.Disposable {
  readonly defaultDir: string;
  private readonly statusItem: vscode.StatusBarItem;
  private readonly disposables: vscode.Disposable[] = [];
  private engine: EngineClient | undefined;
  /** The model chosen or loaded in this session; a fresh worker reloads it. */
  private sessionDir: string | undefined;
  /** Folders the user agreed to load from an untrusted workspace, this session. */
  private readonly consented = new Set<string>();
  private readonly modelChangeEmitter = new vscode.EventEmitter<void>();
  readonly onDidChangeModel = this.modelChangeEmitter.event;
  private lastModelKey = '';

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly log: Log,
    private readonly docs: ReadOnlyDocuments,
  ) {
    this.defaultDir = path.join(context.extensionPath, 'models', 'default');
    this.statusItem = vscode.window.createStatusBarItem('textvae.model', vscode.StatusBarAlignment.Right, 100);
    this.statusItem.name = 'TextVAE Model';
    this.statusItem.command = 'textvae.showModelInfo';
    this.disposables.push(this.statusItem, this.modelChangeEmitter);
    this.updateStatusBar();
    this.statusItem.show();
  }

  attach(engine: EngineClient): void {
    this.engine = engine;
    this.disposables.push(
      engine.onDidChangeState(() => {
        const model = engine.model;
        if (model) this.sessionDir = model.dir;
        const key = model ? `${model.dir}|${model.fingerprint}|${model.backend}` : '';
        if (key !== this.lastModelKey) {
          this.lastModelKey = key;
          this.modelChangeEmitter.fire();
        }
        this.updateStatusBar();
      }),
    );
  }

  private folders(): string[] {
    return (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath);
  }

  /** The model the settings and workspace state ask for (no prompts). */
  choice(): ModelChoice {
    const scopes = modelPathByScope();
    // In an untrusted workspace VS Code hides workspace values of this restricted setting; they are
    // still honoured here, but only after asking (see resolveWithTrust).
    // `??`, not `||`: an empty workspace value deliberately overrides a user-level path.
    return resolveModelChoice(
      {
        setting: scopes.workspaceFolder ?? scopes.workspace ?? scopes.global ?? '',
        folders: this.folders(),
        stateDir: this.context.workspaceState.get<string>(ACTIVE_MODEL_KEY) || undefined,
        defaultDir: this.defaultDir,
      },
      process.env.HOME ?? process.env.USERPROFILE,
    );
  }

  private settingFromWorkspace(): boolean {
    const scopes = modelPathByScope();
    return Boolean(scopes.workspaceFolder || scopes.workspace);
  }

  /** The folder to load, after asking in an untrusted workspace when the model comes from the workspace. */
  async resolveWithTrust(): Promise<string> {
    const choice = this.choice();
    if (this.consented.has(choice.dir)) return choice.dir;
    if (
      !needsTrustPrompt(choice, {
        trusted: vscode.workspace.isTrusted,
        settingFromWorkspace: this.settingFromWorkspace(),
        folders: this.folders(),
      })
    )
      return choice.dir;
    const answer = await vscode.window.showWarningMessage(
      'Load model from untrusted workspace?',
      {
        modal: true,
        detail: `The model ${choice.dir} comes from this workspace, which is not trusted. Loading it reads files the workspace controls. You can use the bundled default model instead.`,
      },
      'Load',
      'Use Default Model',
    );
    if (answer === 'Load') {
      this.consented.add(choice.dir);
      return choice.dir;
    }
    this.log.line(`untrusted workspace: using the bundled default model instead of ${choice.dir}`);
    return this.defaultDir;
  }

  /** For a fresh engine worker: the model of this session, else the resolved one. */
  async startupModel(): Promise<string | undefined> {
    return this.sessionDir ?? (await this.resolveWithTrust());
  }

  /** The settings changed which model to use: forget the session's choice and load the new one if the engine runs. */
  async settingChanged(): Promise<void> {
    this.sessionDir = undefined;
    this.updateStatusBar();
    if (!this.engine?.running) return;
    try {
      await this.load(await this.resolveWithTrust());
    } catch (err) {
      this.reportLoadError(
        err,
        this.engine.model ? 'The current model stays active.' : 'Run "TextVAE: Select Model" to choose another.',
      );
    }
  }

  /** A model that could not be loaded: the loader's message, and what happens now. */
  reportLoadError(err: unknown, consequence: string): void {
    if (err instanceof EngineRequestError && (err.code === 'bundle' || err.code === 'bad-input')) {
      this.log.line(`could not load the model: ${err.message}`);
      void vscode.window.showErrorMessage(
        `Could not load the model: ${oneLine(err.message).replace(/[.\s]+$/, '')}. ${consequence}`,
      );
    } else reportError(this.log, 'loading the model', err);
  }

  /** Loads a model into the engine (the engine keeps its current model if this fails). */
  async load(dir: string, token?: vscode.CancellationToken): Promise<LoadedModel> {
    if (!this.engine) throw new Error('the engine is not ready');
    const info = await this.engine.request('loadModel', { dir }, token);
    this.sessionDir = info.dir || dir;
    this.log.line(`model loaded: ${info.dir} (${info.fingerprint.slice(0, 8)}, ${info.variant}) on ${info.backend}`);
    return info;
  }

  /** Makes `dir` the workspace's active model: loads it, then remembers it in the workspace state. */
  async activate(dir: string, token?: vscode.CancellationToken): Promise<LoadedModel> {
    const info = await this.load(dir, token);
    await this.context.workspaceState.update(ACTIVE_MODEL_KEY, samePath(dir, this.defaultDir) ? undefined : dir);
    this.updateStatusBar();
    return info;
  }

  displayName(): string {
    const loaded = this.engine?.model;
    if (loaded) return modelDisplayName(loaded.dir, this.defaultDir);
    if (this.sessionDir) return modelDisplayName(this.sessionDir, this.defaultDir);
    return this.choice().name;
  }

  updateStatusBar(): void {
    const engine = this.engine;
    let backend: string | undefined;
    let name = this.displayName();
    if (engine?.running) {
      backend = engine.backend?.name ?? 'starting';
      if (engine.backend && !engine.model) name = 'no model';
    }
    this.statusItem.text = statusBarText(name, backend);
    const model = engine?.model;
    const tip = new vscode.MarkdownString(undefined, true);
    tip.appendMarkdown('**TextVAE**\n\n');
    if (model) {
      tip.appendText(
        `Model: ${model.dir}\nFingerprint: ${model.fingerprint.slice(0, 8)} · ${model.variant}\nBackend: ${model.backend}`,
      );
    } else {
      tip.appendText(
        engine?.running
          ? `Engine running; model: ${this.sessionDir ?? this.choice().dir}`
          : `Engine not started; model: ${this.choice().dir}`,
      );
    }
    tip.appendMarkdown('\n\nClick for model info.');
    this.statusItem.tooltip = tip;
  }

  /** Folder where this workspace's trained models go (textvae.training.outputFolder or workspace storage). */
  outputRoot(): string | undefined {
    const folder = setting('training.outputFolder');
    const folders = this.folders();
    if (folder) {
      if (path.isAbsolute(folder)) return folder;
      if (folders.length) return path.resolve(folders[0], folder);
    }
    const storage = this.context.storageUri ?? this.context.globalStorageUri;
    return storage ? path.join(storage.fsPath, 'models') : undefined;
  }

  private trainedModels(): { dir: string; name: string; detail: string }[] {
    const root = this.outputRoot();
    if (!root || !fs.existsSync(root)) return [];
    const out: { dir: string; name: string; detail: string }[] = [];
    for (const entry of fs.readdirSync(root, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const dir = path.join(root, entry.name);
      const manifestPath = path.join(dir, 'manifest.json');
      if (!fs.existsSync(manifestPath)) continue;
      let detail = '';
      try {
        const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8')) as {
          metrics?: { bits_per_byte?: unknown };
          training?: { finished?: unknown };
        };
        const bpb = manifest.metrics?.bits_per_byte;
        if (typeof bpb === 'number') detail = `${bpb.toFixed(3)} bits/byte`;
        if (manifest.training?.finished === false) detail += detail ? ' · cancelled run' : 'cancelled run';
      } catch {
        detail = 'unreadable manifest';
      }
      out.push({ dir, name: entry.name, detail });
    }
    return out.sort((a, b) => (a.name < b.name ? 1 : a.name > b.name ? -1 : 0));
  }

  async selectModel(): Promise<void> {
    type Item = vscode.QuickPickItem & { dir?: string; browse?: boolean };
    const current = this.engine?.model?.dir ?? this.sessionDir ?? this.choice().dir;
    const mark = (dir: string) => (samePath(dir, current) ? ' · active' : '');
    const items: Item[] = [
      {
        label: '$(package) Bundled default model',
        description: `default${mark(this.defaultDir)}`,
        detail: this.defaultDir,
        dir: this.defaultDir,
      },
    ];
    const trained = this.trainedModels();
    if (trained.length) items.push({ label: 'Trained in this workspace', kind: vscode.QuickPickItemKind.Separator });
    for (const m of trained)
      items.push({ label: `$(beaker) ${m.name}`, description: `${m.detail}${mark(m.dir)}`, detail: m.dir, dir: m.dir });
    const stored = this.context.workspaceState.get<string>(ACTIVE_MODEL_KEY);
    if (stored && !trained.some((m) => samePath(m.dir, stored)))
      items.push({
        label: `$(folder) ${path.basename(stored)}`,
        description: `selected before${mark(stored)}`,
        detail: stored,
        dir: stored,
      });
    items.push(
      { label: '', kind: vscode.QuickPickItemKind.Separator },
      { label: '$(folder-opened) Browse…', description: 'a model bundle folder', browse: true },
    );
    const picked = await vscode.window.showQuickPick(items, {
      title: 'TextVAE: Select Model',
      placeHolder: 'Model to use in this workspace',
    });
    if (!picked) return;
    let dir = picked.dir;
    if (picked.browse) {
      const chosen = await vscode.window.showOpenDialog({
        canSelectFolders: true,
        canSelectFiles: false,
        canSelectMany: false,
        openLabel: 'Use Model',
        title: 'TextVAE: Model bundle folder',
      });
      if (!chosen?.length) return;
      dir = chosen[0].fsPath;
    }
    if (!dir) return;
    const target = dir;
    try {
      const info = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: 'TextVAE: Loading model…', cancellable: true },
        (_p, token) => this.activate(target, token),
      );
      void vscode.window.showInformationMessage(
        `Model ${modelDisplayName(info.dir, this.defaultDir)} (${info.fingerprint.slice(0, 8)}) is now active.`,
      );
      if (this.settingFromWorkspace() || setting('modelPath')) {
        void vscode.window.showWarningMessage(
          'The textvae.modelPath setting is set: it takes precedence again the next time the engine starts.',
        );
      }
    } catch (err) {
      this.reportLoadError(err, this.engine?.model ? 'The current model stays active.' : 'No model is loaded.');
    }
  }

  async showModelInfo(): Promise<void> {
    const engine = this.engine;
    if (!engine) return;
    const info = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'TextVAE: Reading model info…', cancellable: true },
      (_p, token) => (engine.model ? Promise.resolve(engine.model) : engine.request('modelInfo', {}, token)),
    );
    if (!info) {
      void vscode.window.showErrorMessage('No model is loaded. Run "TextVAE: Select Model" to choose one.');
      return;
    }
    const name = modelDisplayName(info.dir, this.defaultDir);
    const markdown = modelInfoMarkdown(info, name, engine.backend?.detail);
    this.log.raw(markdown);
    const uri = this.docs.put('textvae-info', 'Model Info.md', markdown);
    const answer = await vscode.window.showInformationMessage(modelInfoSummary(info, name), 'Show Details');
    if (answer === 'Show Details') {
      try {
        await vscode.commands.executeCommand('markdown.showPreview', uri);
      } catch {
        await vscode.window.showTextDocument(uri, { preview: true });
      }
    }
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
