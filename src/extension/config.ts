/**
 * The extension's one reader of settings: every `textvae.*` setting goes through the table in
 * protocol/settings.ts (type, default, range), and changes come as one event. Nothing else in the
 * extension calls `getConfiguration`.
 */
import * as vscode from 'vscode';
import type { DecodeOptions } from '../core/types';
import type { GeneratorSettings } from '../protocol/webview';
import { SETTINGS, settingId, type SettingKey, type SettingValue } from '../protocol/settings';
import type { TrainingChoices } from './logic/trainingRequest';

/** The setting's value, normalised (a missing or malformed value is its default). */
export function setting<K extends SettingKey>(key: K, scope?: vscode.ConfigurationScope): SettingValue<K> {
  const raw = vscode.workspace.getConfiguration('textvae', scope).get<unknown>(key);
  return SETTINGS[key].read(raw) as SettingValue<K>;
}

/** Those of `keys` that the user set somewhere (user, workspace or folder settings), not left at their defaults. */
export function setByUser(keys: readonly SettingKey[]): SettingKey[] {
  const config = vscode.workspace.getConfiguration('textvae');
  return keys.filter((key) => {
    const i = config.inspect<unknown>(key);
    return [i?.globalValue, i?.workspaceValue, i?.workspaceFolderValue].some((v) => v !== undefined);
  });
}

/**
 * Where textvae.modelPath is set, scope by scope (undefined: not set there). In an untrusted
 * workspace `get` hides workspace values of this restricted setting; `inspect` still shows them.
 */
export function modelPathByScope(): { global?: string; workspace?: string; workspaceFolder?: string } {
  const inspected = vscode.workspace.getConfiguration('textvae').inspect<unknown>('modelPath');
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  return {
    global: str(inspected?.globalValue),
    workspace: str(inspected?.workspaceValue),
    workspaceFolder: str(inspected?.workspaceFolderValue),
  };
}

/** Fires when any `textvae.*` setting changes; `changed(key)` tells which. */
export function onDidChangeSettings(listener: (changed: (key: SettingKey) => boolean) => void): vscode.Disposable {
  return vscode.workspace.onDidChangeConfiguration((e) => {
    if (e.affectsConfiguration('textvae')) listener((key) => e.affectsConfiguration(settingId(key)));
  });
}

/** VS Code's own files.exclude for a folder (training honours it). */
export function filesExclude(folder: vscode.Uri): Record<string, unknown> | undefined {
  const v = vscode.workspace.getConfiguration('files', folder).get<unknown>('exclude');
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/** textvae.decoding.*: how latent codes are decoded back to text. */
export function decodeOptions(): DecodeOptions {
  return setting('decoding.strategy') === 'beam'
    ? { strategy: 'beam', beamWidth: setting('decoding.beamWidth'), rerank: setting('decoding.rerank') }
    : { strategy: 'greedy' };
}

/** textvae.sampling.* and textvae.interpolation.*: the generator form's defaults. */
export function generatorSettings(): GeneratorSettings {
  return {
    count: setting('sampling.count'),
    temperature: setting('sampling.temperature'),
    topP: setting('sampling.topP'),
    steps: setting('interpolation.steps'),
    mode: setting('interpolation.mode'),
  };
}

/** The run's choices (logic/trainingRequest.ts turns them into the engine request) and which documents. */
export interface TrainingSettings extends TrainingChoices {
  include: string[];
  exclude: string[];
}

/** textvae.training.*: which documents, and the run's budget and model. */
export function trainingSettings(): TrainingSettings {
  return {
    include: setting('training.include'),
    exclude: setting('training.exclude'),
    maxFileBytes: Math.round(setting('training.maxFileSizeKB') * 1024),
    minutes: setting('training.minutes'),
    seed: setting('training.seed'),
    variant: setting('training.variant'),
    small: setting('training.modelSize') === 'small',
    startFrom: setting('training.startFrom'),
  };
}
