/** TextVAE: Install Native Backend, and the offer to run it when training starts on wasm. */
import * as vscode from 'vscode';
import * as path from 'node:path';
import {
  NativeInstallCancelled,
  NativeInstallError,
  cleanLeftovers,
  installNative,
  nativeDir,
  readInstall,
  removeInstall,
  type NativeInstallInfo,
} from './logic/nativeInstall';
import type { Log } from './services';

const DONT_ASK_KEY = 'textvae.nativeOffer.dismissed';

export class NativeBackend {
  private installing: Promise<NativeInstallInfo | undefined> | undefined;
  private offered = false;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly log: Log,
    /** Restarts the engine (false while a training run must not be interrupted). */
    private readonly restartEngine: () => Promise<boolean>,
  ) {
    try {
      for (const n of cleanLeftovers(this.storageDir)) this.log.line(`native backend: removed leftover ${n}`);
    } catch (err) {
      this.log.line(`native backend: could not clean leftovers: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private get storageDir(): string {
    return this.context.globalStorageUri.fsPath;
  }

  /** The folder the engine resolves @tensorflow/tfjs-node from, when a complete install is there. */
  get dir(): string | undefined {
    return readInstall(this.storageDir) ? nativeDir(this.storageDir) : undefined;
  }

  /** The command. Resolves when the install ends (or at once when one is already running). */
  install(): Promise<NativeInstallInfo | undefined> {
    return (this.installing ??= this.runInstall().finally(() => (this.installing = undefined)));
  }

  private async runInstall(): Promise<NativeInstallInfo | undefined> {
    const existing = readInstall(this.storageDir);
    if (existing) {
      const again = await vscode.window.showInformationMessage(
        `The native TensorFlow backend is already installed (${mb(existing.bytes)}, ${existing.route} route).`,
        'Restart Engine',
        'Reinstall',
        'Remove',
      );
      if (again === 'Restart Engine') await this.restartEngine();
      if (again === 'Remove') {
        removeInstall(this.storageDir);
        this.log.line(`native backend: removed ${nativeDir(this.storageDir)}`);
        const restart = await vscode.window.showInformationMessage(
          `The native backend was removed (${mb(existing.bytes)} freed). The engine uses WebAssembly after it restarts.`,
          'Restart Engine',
        );
        if (restart === 'Restart Engine') await this.restartEngine();
        return undefined;
      }
      if (again !== 'Reinstall') return existing;
    }
    this.log.line(`native backend: installing into ${nativeDir(this.storageDir)}`);
    const controller = new AbortController();
    let info: NativeInstallInfo;
    try {
      info = await vscode.window.withProgress(
        {
          location: vscode.ProgressLocation.Notification,
          title: 'TextVAE: Installing the native backend',
          cancellable: true,
        },
        (progress, token) => {
          token.onCancellationRequested(() => controller.abort());
          return installNative({
            storageDir: this.storageDir,
            setupScript: path.join(this.context.extensionPath, 'scripts', 'setup-native.sh'),
            runtime: { execPath: process.execPath, env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' } },
            env: process.env,
            signal: controller.signal,
            log: (l) => this.log.line(`native backend: ${l}`),
            progress: (message) => progress.report({ message }),
          });
        },
      );
    } catch (err) {
      if (err instanceof NativeInstallCancelled) {
        this.log.line('native backend: install cancelled; nothing was kept');
        void vscode.window.showInformationMessage('Installing the native backend was cancelled; nothing was kept.');
        return undefined;
      }
      const message = err instanceof Error ? err.message : String(err);
      this.log.line(`native backend: install failed: ${message}`);
      const choice = await vscode.window.showErrorMessage(
        err instanceof NativeInstallError ? message : `Could not install the native backend: ${message}`,
        'Show Output',
      );
      if (choice === 'Show Output') this.log.channel.show(true);
      return undefined;
    }
    this.log.line(
      `native backend: installed by the ${info.route} route in ${info.seconds} s, ${mb(info.bytes)} on disk; ${info.check}`,
    );
    const choice = await vscode.window.showInformationMessage(
      `Native TensorFlow backend installed (${mb(info.bytes)}, ${Math.round(info.seconds)} s). It is used after the engine restarts.`,
      'Restart Engine',
    );
    if (choice === 'Restart Engine') await this.restartEngine();
    return info;
  }

  /**
   * Called when a training run starts: on wasm, with no install yet, offer one (once a session;
   * "Don't Ask Again" for good). Never blocks the training.
   */
  offerOnTraining(backend: string | undefined, setting: string): void {
    if (backend !== 'wasm' || setting !== 'auto' || this.offered || this.installing || this.dir) return;
    if (this.context.globalState.get<boolean>(DONT_ASK_KEY)) return;
    this.offered = true;
    this.log.line('native backend: training runs on wasm; offering to install the native backend');
    void vscode.window
      .showInformationMessage(
        'TextVAE is training on WebAssembly. Native TensorFlow trains about 4–5 times faster: install it (about 800 MB)?',
        'Install Native Backend',
        'Not Now',
        "Don't Ask Again",
      )
      .then((a) => {
        if (a === 'Install Native Backend') void vscode.commands.executeCommand('textvae.installNativeBackend');
        else if (a === "Don't Ask Again") void this.context.globalState.update(DONT_ASK_KEY, true);
      });
  }
}

function mb(bytes: number): string {
  return `${Math.round(bytes / 1e6)} MB`;
}
