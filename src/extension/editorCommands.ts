/** Compress Selection, Reconstruct from Latent Code, Reconstruct Selection, and the code hover. */
import * as vscode from 'vscode';
import * as path from 'node:path';
import type { EngineClient } from './engineClient';
import { EngineRequestError, isCancelled } from './logic/engineConnection';
import { planEdits, type PlannedEdit } from './logic/edits';
import { codeAt, planCodeRuns } from './logic/latentCodes';
import { formatSimilarity, similarity } from '../core/similarity';
import { escapeMarkdown, markdownCodeBlock, oneLine } from './logic/format';
import type { Log } from './services';
import { decodeOptions, setting } from './config';
import { RECONSTRUCTION_SCHEME, type ReadOnlyDocuments } from './readOnlyDocuments';

const CHANGED_WHILE_WORKING =
  'The document changed while TextVAE was working, so nothing was replaced. Run the command again.';

function cancelled(): EngineRequestError {
  return new EngineRequestError('Cancelled.', 'cancelled');
}

export class EditorCommands {
  constructor(
    private readonly engine: EngineClient,
    private readonly log: Log,
    private readonly docs: ReadOnlyDocuments,
  ) {}

  /** Applies planned edits in one editor.edit call (one undo step), unless the document changed meanwhile. */
  private async applyEdits(editor: vscode.TextEditor, version: number, edits: PlannedEdit[]): Promise<boolean> {
    const doc = editor.document;
    if (doc.isClosed || doc.version !== version) {
      void vscode.window.showWarningMessage(CHANGED_WHILE_WORKING);
      return false;
    }
    let ok = false;
    try {
      ok = await editor.edit((b) => {
        for (const e of edits) b.replace(new vscode.Range(doc.positionAt(e.start), doc.positionAt(e.end)), e.text);
      });
    } catch (err) {
      this.log.line(`editing failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (!ok)
      void vscode.window.showErrorMessage(
        'TextVAE could not edit the document (was the editor closed?). Nothing was replaced.',
      );
    return ok;
  }

  async compressSelection(): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    if (!editor) {
      void vscode.window.showErrorMessage('Select some text to compress.');
      return;
    }
    const doc = editor.document;
    const version = doc.version;
    const selections = editor.selections
      .filter((s) => !s.isEmpty)
      .map((s) => ({ start: doc.offsetAt(s.start), end: doc.offsetAt(s.end), text: doc.getText(s) }))
      .filter((s) => s.text.length > 0)
      .sort((a, b) => a.start - b.start);
    if (selections.length === 0) {
      void vscode.window.showErrorMessage('Select some text to compress.');
      return;
    }
    const codes = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'TextVAE: Compressing selection…', cancellable: true },
      async (progress, token) => {
        const out: string[][] = [];
        for (const [i, s] of selections.entries()) {
          if (token.isCancellationRequested) throw cancelled();
          if (selections.length > 1)
            progress.report({ message: `${i + 1} of ${selections.length}`, increment: 100 / selections.length });
          out.push((await this.engine.request('encode', { text: s.text }, token)).codes);
        }
        return out;
      },
    );
    const total = codes.reduce((n, c) => n + c.length, 0);
    if (setting('codes.copyToClipboard')) {
      await vscode.env.clipboard.writeText(codes.map((c) => c.join(' ')).join('\n'));
      void vscode.window.showInformationMessage(
        `Copied ${total} latent code${total === 1 ? '' : 's'} to the clipboard.`,
      );
      return;
    }
    const edits = planEdits(
      selections,
      codes.map((c) => c.join(' ')),
    );
    if (await this.applyEdits(editor, version, edits)) {
      vscode.window.setStatusBarMessage(
        `TextVAE: compressed ${selections.length} selection${selections.length === 1 ? '' : 's'} into ${total} code${total === 1 ? '' : 's'}`,
        5000,
      );
    }
  }

  async reconstructFromCode(): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    if (!editor) {
      void vscode.window.showErrorMessage('No latent code (tvae1:…) under the cursor or in the selection.');
      return;
    }
    const doc = editor.document;
    const version = doc.version;
    const text = doc.getText();
    const runs = planCodeRuns(
      text,
      editor.selections.map((s) => ({ start: doc.offsetAt(s.start), end: doc.offsetAt(s.end) })),
    );
    if (runs.length === 0) {
      void vscode.window.showErrorMessage('No latent code (tvae1:…) under the cursor or in the selection.');
      return;
    }
    const codes = runs.flatMap((r) => r.codes);
    const texts = await vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: `TextVAE: Decoding ${codes.length} latent code${codes.length === 1 ? '' : 's'}…`,
        cancellable: true,
      },
      async (_p, token) => (await this.engine.request('decode', { codes, options: decodeOptions() }, token)).texts,
    );
    if (texts.length !== codes.length)
      throw new Error(`the engine decoded ${texts.length} codes out of ${codes.length}`);
    let k = 0;
    const replacements = runs.map((r) => r.codes.map(() => texts[k++]).join(''));
    await this.applyEdits(editor, version, planEdits(runs, replacements));
  }

  async reconstructSelection(): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    const selection = editor?.selection;
    if (!editor || !selection || selection.isEmpty) {
      void vscode.window.showErrorMessage('Select some text to reconstruct.');
      return;
    }
    const original = editor.document.getText(selection);
    const result = await vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: 'TextVAE: Reconstructing selection…',
        cancellable: true,
      },
      (_p, token) => this.engine.request('reconstruct', { text: original, options: decodeOptions() }, token),
    );
    const score = similarity(original, result.text);
    const ext = path.extname(editor.document.uri.path) || '.txt';
    const left = this.docs.put(RECONSTRUCTION_SCHEME, `Selection${ext}`, original);
    const right = this.docs.put(RECONSTRUCTION_SCHEME, `Reconstruction${ext}`, result.text);
    this.log.line(
      `reconstruction: ${result.chunks.length} chunk${result.chunks.length === 1 ? '' : 's'}, similarity ${score.toFixed(4)}`,
    );
    await vscode.commands.executeCommand(
      'vscode.diff',
      left,
      right,
      `Selection ↔ Reconstruction (similarity ${formatSimilarity(score)})`,
      { preview: true },
    );
  }
}

/** Shows the decoded text of the latent code under the mouse. */
export class LatentCodeHoverProvider implements vscode.HoverProvider {
  private readonly cache = new Map<string, string>();

  constructor(
    private readonly engine: EngineClient,
    private readonly log: Log,
  ) {}

  clearCache(): void {
    this.cache.clear();
  }

  async provideHover(
    document: vscode.TextDocument,
    position: vscode.Position,
    token: vscode.CancellationToken,
  ): Promise<vscode.Hover | undefined> {
    if (!setting('hover.enabled')) return undefined;
    const line = document.lineAt(position.line).text;
    if (!line.includes('tvae')) return undefined;
    const found = codeAt(line, position.character);
    if (!found || position.character >= found.end) return undefined;
    const range = new vscode.Range(position.line, found.start, position.line, found.end);
    const options = decodeOptions();
    const key = `${this.engine.model?.fingerprint ?? ''}|${options.strategy}|${options.beamWidth ?? ''}|${found.code}`;
    let text = this.engine.model ? this.cache.get(key) : undefined;
    const md = new vscode.MarkdownString();
    if (text === undefined) {
      try {
        text = (await this.engine.request('decode', { codes: [found.code], options }, token)).texts[0] ?? '';
        const model = this.engine.model;
        if (model) {
          this.cache.set(`${model.fingerprint}|${options.strategy}|${options.beamWidth ?? ''}|${found.code}`, text);
          if (this.cache.size > 200) this.cache.delete(this.cache.keys().next().value as string);
        }
      } catch (err) {
        if (isCancelled(err) || token.isCancellationRequested) return undefined;
        const message = err instanceof Error ? err.message : String(err);
        this.log.line(`hover: ${message}`);
        md.appendMarkdown(`**TextVAE:** ${escapeMarkdown(oneLine(message))}`);
        return new vscode.Hover(md, range);
      }
    }
    const fp = this.engine.model?.fingerprint.slice(0, 8);
    md.appendMarkdown(`**TextVAE** decoded${fp ? ` (model \`${fp}\`)` : ''}\n\n`);
    // A fence the decoded text cannot close: generated text is shown, never interpreted.
    md.appendMarkdown(markdownCodeBlock(text));
    return new vscode.Hover(md, range);
  }
}
