/** Things every command needs: the output channel and error reporting. */
import * as vscode from 'vscode';
import { EngineRequestError, isCancelled } from './logic/engineConnection';
import { oneLine } from './logic/format';

export class Log implements vscode.Disposable {
  readonly channel: vscode.OutputChannel = vscode.window.createOutputChannel('TextVAE');

  line(message: string): void {
    const t = new Date();
    const stamp = `${String(t.getHours()).padStart(2, '0')}:${String(t.getMinutes()).padStart(2, '0')}:${String(t.getSeconds()).padStart(2, '0')}`;
    this.channel.appendLine(`[${stamp}] ${message}`);
  }

  /** Text as is (Markdown dumps, lists). */
  raw(text: string): void {
    this.channel.appendLine(text);
  }

  dispose(): void {
    this.channel.dispose();
  }
}

/**
 * Shows a short notification for a failed command and puts the details in the output channel.
 * Cancellation is silent; a crash was already announced by the engine client's crash handler.
 */
export function reportError(log: Log, what: string, err: unknown): void {
  if (isCancelled(err)) {
    log.line(`${what}: cancelled`);
    return;
  }
  const message = err instanceof Error ? err.message : String(err);
  log.line(`${what} failed: ${message}`);
  if (err instanceof Error && err.stack && !(err instanceof EngineRequestError)) log.raw(err.stack);
  if (err instanceof EngineRequestError && err.code === 'crashed') return;
  const internal = !(err instanceof EngineRequestError) || err.code === 'internal';
  const text = internal ? `TextVAE: ${oneLine(message)} (details are in the TextVAE output channel)` : oneLine(message);
  void vscode.window.showErrorMessage(text);
}
