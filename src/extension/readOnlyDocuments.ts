/** In-memory, read-only documents under custom URI schemes (reconstruction diffs, model info). */
import * as vscode from 'vscode';

export const RECONSTRUCTION_SCHEME = 'textvae-reconstruction';
export const INFO_SCHEME = 'textvae-info';

export class ReadOnlyDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly contents = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private counter = 0;
  private readonly disposables: vscode.Disposable[];

  constructor(private readonly maxDocuments = 40) {
    this.disposables = [
      vscode.workspace.registerTextDocumentContentProvider(RECONSTRUCTION_SCHEME, this),
      vscode.workspace.registerTextDocumentContentProvider(INFO_SCHEME, this),
      this.changed,
    ];
  }

  /** Stores text under `<scheme>:/<n>/<name>` (a new n each time, so editors never show stale text). */
  put(scheme: string, name: string, text: string): vscode.Uri {
    const uri = vscode.Uri.from({ scheme, path: `/${++this.counter}/${name}` });
    this.contents.set(uri.toString(), text);
    while (this.contents.size > this.maxDocuments) this.contents.delete(this.contents.keys().next().value as string);
    return uri;
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.contents.get(uri.toString()) ?? '(this TextVAE document is no longer available)';
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
    this.contents.clear();
  }
}
