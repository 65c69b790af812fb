/** Compress Selection (to a latent or a lossless code), Reconstruct from Code, Reconstruct Selection, and the code hover. */
import * as vscode from 'vscode';
import * as path from 'node:path';
import type { EngineClient } from './engineClient';
import { EngineRequestError, isCancelled } from './logic/engineConnection';
import { planEdits, type PlannedEdit } from './logic/edits';
import { codeAt, planCodeRuns, type FoundCode } from './logic/latentCodes';
import { fidelityNotice, placedRanges, planReplaceBack, tooManyToCheck, type Replaced } from './logic/fidelity';
import { isLosslessCode, parseLosslessCode, summarisePayload, BINARY_HEADER_BYTES } from '../core/lossless/format';
import { formatSimilarity, similarity } from '../core/similarity';
import { LOSSLESS_SEARCH_SWEEPS } from '../core/choices';
import { escapeMarkdown, markdownCodeBlock, oneLine } from './logic/format';
import type { Log } from './services';
import { decodeOptions, setting } from './config';
import { RECONSTRUCTION_SCHEME, type ReadOnlyDocuments } from './readOnlyDocuments';
import { rememberActive, targetEditor } from './logic/targetEditor';

const NO_CODE = 'No code (tvae2:… or tvz2:…) under the cursor or in the selection.';
const CODES_MOVED =
  'The latent codes are no longer where TextVAE wrote them (the document changed), so nothing was replaced. Edit › Undo still steps back through your edits.';
const UNDO = 'Undo';
const USE_LOSSLESS = 'Use Lossless Code';
const CHANGED_WHILE_WORKING =
  'The document changed while TextVAE was working, so nothing was replaced. Run the command again.';

function cancelled(): EngineRequestError {
  return new EngineRequestError('Cancelled.', 'cancelled');
}

export class EditorCommands implements vscode.Disposable {
  private recent: vscode.TextEditor[] = [];
  private readonly watch: vscode.Disposable;

  constructor(
    private readonly engine: EngineClient,
    private readonly log: Log,
    private readonly docs: ReadOnlyDocuments,
  ) {
    this.recent = rememberActive([], vscode.window.activeTextEditor);
    this.watch = vscode.window.onDidChangeActiveTextEditor((e) => (this.recent = rememberActive(this.recent, e)));
  }

  dispose(): void {
    this.watch.dispose();
  }

  /** The active text editor or, with the focus elsewhere (a walkthrough button), the visible one. */
  private editor(): vscode.TextEditor | undefined {
    return targetEditor(vscode.window.activeTextEditor, vscode.window.visibleTextEditors, this.recent);
  }

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

  /** Lossy: codes that stand for the meaning of the selection. */
  compressSelection(): Promise<void> {
    return this.compress('latent');
  }

  /** Exact: one code per selection that gives back the text byte for byte. */
  compressSelectionLossless(): Promise<void> {
    return this.compress('lossless');
  }

  private async compress(kind: 'latent' | 'lossless'): Promise<void> {
    const editor = this.editor();
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
      {
        location: vscode.ProgressLocation.Notification,
        title: kind === 'latent' ? 'TextVAE: Compressing selection…' : 'TextVAE: Compressing selection losslessly…',
        cancellable: true,
      },
      async (progress, token) => {
        const out: string[][] = [];
        const share = 100 / selections.length;
        for (const [i, s] of selections.entries()) {
          if (token.isCancellationRequested) throw cancelled();
          const message = selections.length > 1 ? `${i + 1} of ${selections.length}` : undefined;
          if (kind === 'latent') {
            if (message) progress.report({ message, increment: share });
            out.push((await this.engine.request('encode', { text: s.text }, token)).codes);
          } else {
            if (message) progress.report({ message });
            out.push([await this.losslessCode(s.text, share, progress, token)]);
          }
        }
        return out;
      },
    );
    const total = codes.reduce((n, c) => n + c.length, 0);
    if (setting('codes.copyToClipboard')) {
      await vscode.env.clipboard.writeText(codes.map((c) => c.join(' ')).join('\n'));
      void vscode.window.showInformationMessage(
        `Copied ${total} ${kind} code${total === 1 ? '' : 's'} to the clipboard.`,
      );
      return;
    }
    const edits = planEdits(
      selections,
      codes.map((c) => c.join(' ')),
    );
    if (!(await this.applyEdits(editor, version, edits))) return;
    vscode.window.setStatusBarMessage(
      `TextVAE: compressed ${selections.length} selection${selections.length === 1 ? '' : 's'} into ${total} code${total === 1 ? '' : 's'}`,
      5000,
    );
    if (kind === 'latent' && setting('codes.fidelityNotice')) {
      // Each edit's text and codes (planEdits sorts, and merges a range selected twice, never others).
      const at = new Map(selections.map((s, i) => [`${s.start}:${s.end}`, { original: s.text, codes: codes[i] }]));
      const replaced = edits.map((e) => at.get(`${e.start}:${e.end}`));
      // After the edit, so that measuring never delays it; the command ends here. Without every
      // original in hand there is nothing safe to put back, so no notice.
      if (replaced.every((r) => r !== undefined)) void this.fidelityNotice(doc.uri, placedRanges(edits), replaced);
    }
  }

  /** One lossless code; its share of the bar follows the worker's bytes (seconds per 10 KB). */
  private async losslessCode(
    text: string,
    share: number,
    progress: vscode.Progress<{ increment?: number }>,
    token: vscode.CancellationToken,
  ): Promise<string> {
    let reported = 0;
    const searchSweeps = LOSSLESS_SEARCH_SWEEPS[setting('lossless.search')];
    const params = { text, ...(searchSweeps !== undefined && { searchSweeps }) };
    const r = await this.engine.request('compressLossless', params, token, (done, total) => {
      const now = (share * done) / total;
      if (now > reported) progress.report({ increment: now - reported });
      reported = Math.max(reported, now);
    });
    if (reported < share) progress.report({ increment: share - reported });
    this.log.line(`lossless code: ${r.bytes} bytes of text in ${r.codeBytes} bytes`);
    return r.code;
  }

  /**
   * Decodes the new latent codes as Reconstruct from Code would, says how close they come to the
   * text they replaced, and offers to put the text back or to swap in lossless codes instead.
   */
  private async fidelityNotice(uri: vscode.Uri, placed: PlannedEdit[], replaced: Replaced[]): Promise<void> {
    let decoded: string[] | Error;
    try {
      const codes = replaced.flatMap((r) => r.codes);
      const tooMany = tooManyToCheck(codes.length);
      if (tooMany) throw tooMany;
      const texts = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Window, title: 'TextVAE: checking the latent codes' },
        async () => (await this.engine.request('decode', { codes, options: decodeOptions() })).texts,
      );
      if (texts.length !== codes.length)
        throw new Error(`the engine decoded ${texts.length} codes out of ${codes.length}`);
      let k = 0;
      decoded = replaced.map((r) => r.codes.map(() => texts[k++]).join(''));
    } catch (err) {
      const message = oneLine(err instanceof Error ? err.message : String(err));
      this.log.line(`checking the latent codes: ${message}`);
      decoded = new Error(message);
    }
    const choice = await vscode.window.showInformationMessage(fidelityNotice(replaced, decoded), UNDO, USE_LOSSLESS);
    try {
      if (choice === UNDO) {
        if (await this.replaceBack(uri, placed, () => replaced.map((r) => r.original)))
          vscode.window.setStatusBarMessage('TextVAE: the original text is back', 5000);
      } else if (choice === USE_LOSSLESS) {
        await this.replaceBack(uri, placed, () => this.losslessCodes(replaced.map((r) => r.original)));
      }
    } catch (err) {
      if (isCancelled(err)) return;
      const message = oneLine(err instanceof Error ? err.message : String(err));
      this.log.line(`replacing the latent codes: ${message}`);
      void vscode.window.showErrorMessage(`TextVAE could not replace the latent codes: ${message}`);
    }
  }

  /** Lossless codes of `texts`, under one cancellable progress notification. */
  private losslessCodes(texts: string[]): Thenable<string[]> {
    return vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: 'TextVAE: Compressing the original text losslessly…',
        cancellable: true,
      },
      async (progress, token) => {
        const out: string[] = [];
        for (const t of texts) {
          if (token.isCancellationRequested) throw cancelled();
          out.push(await this.losslessCode(t, 100 / texts.length, progress, token));
        }
        return out;
      },
    );
  }

  /**
   * Puts `replacements()` where the codes were written (one undoable edit), provided the document still
   * holds them there, before and after working out the replacements; else says so and changes nothing.
   */
  private async replaceBack(
    uri: vscode.Uri,
    placed: PlannedEdit[],
    replacements: () => string[] | Thenable<string[]>,
  ): Promise<boolean> {
    const doc = await vscode.workspace.openTextDocument(uri);
    const textAt = (start: number, end: number) =>
      doc.getText(new vscode.Range(doc.positionAt(start), doc.positionAt(end)));
    const plan = (texts: string[]) => (doc.isClosed ? undefined : planReplaceBack(textAt, placed, texts));
    // Checked before the work (lossless codes take a while) and again after it.
    const edits = plan(placed.map((p) => p.text)) && plan(await replacements());
    if (!edits) {
      void vscode.window.showWarningMessage(CODES_MOVED);
      return false;
    }
    const edit = new vscode.WorkspaceEdit();
    for (const e of edits) edit.replace(uri, new vscode.Range(doc.positionAt(e.start), doc.positionAt(e.end)), e.text);
    if (!(await vscode.workspace.applyEdit(edit))) {
      void vscode.window.showErrorMessage('TextVAE could not edit the document. Nothing was replaced.');
      return false;
    }
    return true;
  }

  async reconstructFromCode(): Promise<void> {
    const editor = this.editor();
    if (!editor) {
      void vscode.window.showErrorMessage(NO_CODE);
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
      void vscode.window.showErrorMessage(NO_CODE);
      return;
    }
    const codes = runs.flatMap((r) => r.codes);
    const texts = await vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: `TextVAE: Decoding ${codes.length} code${codes.length === 1 ? '' : 's'}…`,
        cancellable: true,
      },
      async (_p, token) => {
        // Each kind goes to its own request; the texts come back in the codes' order.
        const lossless = codes.filter((c) => isLosslessCode(c));
        const latent = codes.filter((c) => !isLosslessCode(c));
        const exact = lossless.length
          ? (await this.engine.request('decompressLossless', { codes: lossless }, token)).texts
          : [];
        const decoded = latent.length
          ? (await this.engine.request('decode', { codes: latent, options: decodeOptions() }, token)).texts
          : [];
        if (exact.length !== lossless.length || decoded.length !== latent.length)
          throw new Error(`the engine decoded ${exact.length + decoded.length} codes out of ${codes.length}`);
        let i = 0,
          j = 0;
        return codes.map((c) => (isLosslessCode(c) ? exact[i++] : decoded[j++]));
      },
    );
    if (texts.length !== codes.length)
      throw new Error(`the engine decoded ${texts.length} codes out of ${codes.length}`);
    let k = 0;
    const replacements = runs.map((r) => r.codes.map(() => texts[k++]).join(''));
    await this.applyEdits(editor, version, planEdits(runs, replacements));
  }

  async reconstructSelection(): Promise<void> {
    const editor = this.editor();
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
    if (!line.includes('tvae') && !line.includes('tvz')) return undefined;
    const found = codeAt(line, position.character);
    if (!found || position.character >= found.end) return undefined;
    const range = new vscode.Range(position.line, found.start, position.line, found.end);
    if (isLosslessCode(found.code)) return this.losslessHover(found, range, token);
    const options = decodeOptions();
    // Every decoding option is in the key: a changed setting must not show an old decoding.
    const key = (fingerprint: string) => `${fingerprint}|${JSON.stringify(options)}|${found.code}`;
    let text = this.engine.model ? this.cache.get(key(this.engine.model.fingerprint)) : undefined;
    const md = new vscode.MarkdownString();
    if (text === undefined) {
      try {
        text = (await this.engine.request('decode', { codes: [found.code], options }, token)).texts[0] ?? '';
        const model = this.engine.model;
        if (model) {
          this.cache.set(key(model.fingerprint), text);
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
    md.appendMarkdown(
      `**TextVAE** latent code (${found.code.length} characters, lossy), decoded to ${text.length} characters${fp ? ` by model \`${fp}\`` : ''}\n\n`,
    );
    // A fence the decoded text cannot close: generated text is shown, never interpreted.
    md.appendMarkdown(markdownCodeBlock(text));
    return new vscode.Hover(md, range);
  }

  /** Kind, size against the text, model, and the exact text when the active model made the code. */
  private async losslessHover(
    found: FoundCode,
    range: vscode.Range,
    token: vscode.CancellationToken,
  ): Promise<vscode.Hover | undefined> {
    const md = new vscode.MarkdownString();
    let summary;
    try {
      const container = parseLosslessCode(found.code);
      summary = summarisePayload(container, BINARY_HEADER_BYTES + container.payload.length);
    } catch (err) {
      md.appendMarkdown(`**TextVAE:** ${escapeMarkdown(oneLine(err instanceof Error ? err.message : String(err)))}`);
      return new vscode.Hover(md, range);
    }
    const { originalBytes, codeBytes, fingerprint8 } = summary;
    const bpb = originalBytes ? ` (${((8 * codeBytes) / originalBytes).toFixed(2)} bits/byte)` : '';
    md.appendMarkdown(
      `**TextVAE** lossless code · ${originalBytes.toLocaleString('en')} bytes of text in ${codeBytes.toLocaleString('en')} bytes${bpb} · model \`${fingerprint8}\`\n\n`,
    );
    const active = this.engine.model?.fingerprint.slice(0, 8);
    if (active !== fingerprint8) {
      md.appendMarkdown(
        escapeMarkdown(
          `Made by model ${fingerprint8}; the active model is ${active ?? 'none'}. Select model ${fingerprint8} to decode it.`,
        ),
      );
      return new vscode.Hover(md, range);
    }
    let text = this.cache.get(`${active}|lossless|${found.code}`);
    if (text === undefined) {
      try {
        text = (await this.engine.request('decompressLossless', { codes: [found.code] }, token)).texts[0] ?? '';
        this.cache.set(`${active}|lossless|${found.code}`, text);
        if (this.cache.size > 200) this.cache.delete(this.cache.keys().next().value as string);
      } catch (err) {
        if (isCancelled(err) || token.isCancellationRequested) return undefined;
        md.appendMarkdown(`**TextVAE:** ${escapeMarkdown(oneLine(err instanceof Error ? err.message : String(err)))}`);
        return new vscode.Hover(md, range);
      }
    }
    const shown = text.length > HOVER_TEXT_CHARS ? `${text.slice(0, HOVER_TEXT_CHARS)}…` : text;
    md.appendMarkdown(markdownCodeBlock(shown));
    return new vscode.Hover(md, range);
  }
}

/** Longer texts are cut in the hover (Reconstruct from Code gives all of it). */
const HOVER_TEXT_CHARS = 2000;
