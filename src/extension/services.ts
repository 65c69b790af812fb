/** Things every command needs: the output channel, error reporting, settings. */
import * as vscode from 'vscode';
import type { DecodeOptions } from '../core/textVae';
import { INTERPOLATION_MODES, SETTING_RANGES, isOneOf } from '../core/choices';
import type { GeneratorSettings } from '../protocol/webview';
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

export function decodeOptions(): DecodeOptions {
  const config = vscode.workspace.getConfiguration('textvae.decoding');
  const strategy = config.get<string>('strategy') === 'greedy' ? 'greedy' : 'beam';
  const { min, max } = SETTING_RANGES.beamWidth;
  return strategy === 'beam'
    ? { strategy, beamWidth: clamp(config.get('beamWidth'), min, max, 4, true) }
    : { strategy };
}

export function clamp(value: unknown, min: number, max: number, fallback: number, integer = false): number {
  let v = Number(value);
  if (!Number.isFinite(v)) v = fallback;
  if (integer) v = Math.round(v);
  return Math.min(max, Math.max(min, v));
}

export function generatorSettings(): GeneratorSettings {
  const c = vscode.workspace.getConfiguration('textvae');
  const r = SETTING_RANGES;
  const mode = c.get('interpolation.mode');
  return {
    count: clamp(c.get('sampling.count'), r.sampleCount.min, r.sampleCount.max, 3, true),
    temperature: clamp(c.get('sampling.temperature'), r.temperature.min, r.temperature.max, 0.8),
    topP: clamp(c.get('sampling.topP'), r.topP.min, r.topP.max, 0.95),
    steps: clamp(c.get('interpolation.steps'), r.interpolationSteps.min, r.interpolationSteps.max, 5, true),
    mode: isOneOf(INTERPOLATION_MODES, mode) ? mode : 'spherical',
  };
}
