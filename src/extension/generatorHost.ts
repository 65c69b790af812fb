/** What the generator panel needs from the extension (see panels/generatorPanel.ts: GeneratorHost). */
import * as vscode from 'vscode';
import * as fs from 'node:fs/promises';
import type { MapDocument } from '../protocol/engine';
import type { GeneratorModelState } from '../protocol/webview';
import type { EngineClient } from './engineClient';
import type { ModelManager } from './models';
import type { GeneratorHost } from './panels/generatorPanel';
import { collectWorkspaceDocuments } from './documents';
import { modelDisplayName } from './logic/modelResolution';
import type { Log } from './services';
import { generatorSettings } from './config';

/** Caps for the latent map: enough for a picture, small enough to stay quick. */
export const MAP_MAX_FILES = 200;
export const MAP_MAX_BYTES = 2 * 1024 * 1024;

export async function collectMapDocuments(token: vscode.CancellationToken, log: Log): Promise<MapDocument[]> {
  const selection = await collectWorkspaceDocuments({ token, maxFiles: MAP_MAX_FILES, maxTotalBytes: MAP_MAX_BYTES });
  if (selection.truncated)
    log.line(
      `latent map: limited to ${selection.files.length} documents (${MAP_MAX_FILES} files / ${MAP_MAX_BYTES / 1024 / 1024} MB at most)`,
    );
  // Open documents may hold unsaved edits: map what the user sees.
  const open = new Map(vscode.workspace.textDocuments.map((d) => [d.uri.toString(), d]));
  const out: MapDocument[] = [];
  for (const uri of selection.files) {
    if (token.isCancellationRequested) break;
    const doc = open.get(uri.toString());
    try {
      const text = doc ? doc.getText() : await fs.readFile(uri.fsPath, 'utf8');
      if (text.trim()) out.push({ uri: uri.toString(), text });
    } catch (err) {
      log.line(`latent map: could not read ${uri.fsPath}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return out;
}

export function createGeneratorHost(engine: EngineClient, models: ModelManager, log: Log): GeneratorHost {
  return {
    engine,
    getModelState(): GeneratorModelState | null {
      const m = engine.model;
      return m
        ? {
            name: modelDisplayName(m.dir, models.defaultDir),
            fingerprint: m.fingerprint,
            variant: m.variant,
            backend: m.backend,
          }
        : null;
    },
    onDidChangeModel: models.onDidChangeModel,
    collectMapDocuments: (token) => collectMapDocuments(token, log),
    output: log.channel,
    getSettings: generatorSettings,
  };
}
