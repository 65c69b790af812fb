/**
 * The workspace documents TextVAE trains on (and maps): textvae.training.include minus
 * files.exclude, textvae.training.exclude and the .gitignore files of each folder, without files
 * over textvae.training.maxFileSizeKB or that look binary.
 */
import * as vscode from 'vscode';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { looksBinary } from '../core/corpus';
import { combineExcludes, excludeMatcher } from './logic/globs';
import { GitignoreTree } from './logic/gitignore';
import { filesExclude, trainingSettings } from './config';

export interface DocumentSelection {
  files: vscode.Uri[];
  skipped: { uri: vscode.Uri; reason: string }[];
  include: string[];
  /** Set when a cap (files or bytes) stopped the collection early. */
  truncated: boolean;
  totalBytes: number;
}

export interface CollectOptions {
  maxFiles?: number;
  maxTotalBytes?: number;
  token?: vscode.CancellationToken;
}

const MAX_SEARCH_RESULTS = 50_000;

async function readHead(file: string, bytes: number): Promise<Uint8Array> {
  const handle = await fs.open(file, 'r');
  try {
    const buf = new Uint8Array(bytes);
    const { bytesRead } = await handle.read(buf, 0, bytes, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** The .gitignore files of a folder, root and nested, read as the files under them are checked. */
function folderGitignore(folder: vscode.Uri): GitignoreTree {
  return new GitignoreTree((dir) =>
    fs.readFile(path.join(folder.fsPath, ...dir.split('/'), '.gitignore'), 'utf8').catch(() => undefined),
  );
}

/** Local workspace folders (the engine reads documents from disk). */
export function localFolders(): readonly vscode.WorkspaceFolder[] {
  return (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file');
}

export async function collectWorkspaceDocuments(options: CollectOptions = {}): Promise<DocumentSelection> {
  const settings = trainingSettings();
  const result: DocumentSelection = {
    files: [],
    skipped: [],
    include: settings.include,
    truncated: false,
    totalBytes: 0,
  };
  const seen = new Set<string>();
  for (const folder of localFolders()) {
    const { findFilesExclude, patterns } = combineExcludes(filesExclude(folder.uri), settings.exclude);
    const excluded = excludeMatcher(patterns);
    const gitignore = folderGitignore(folder.uri);
    const found: vscode.Uri[] = [];
    for (const glob of settings.include) {
      if (options.token?.isCancellationRequested) return result;
      found.push(
        ...(await vscode.workspace.findFiles(
          new vscode.RelativePattern(folder, glob),
          findFilesExclude,
          MAX_SEARCH_RESULTS,
          options.token,
        )),
      );
    }
    found.sort((a, b) => (a.fsPath < b.fsPath ? -1 : a.fsPath > b.fsPath ? 1 : 0));
    for (const uri of found) {
      if (options.token?.isCancellationRequested) return result;
      if (uri.scheme !== 'file' || seen.has(uri.fsPath)) continue;
      seen.add(uri.fsPath);
      const rel = path.relative(folder.uri.fsPath, uri.fsPath).split(path.sep).join('/');
      if (excluded(rel)) continue;
      if (await gitignore.ignores(rel)) continue;
      let size: number;
      try {
        const stat = await fs.stat(uri.fsPath);
        if (!stat.isFile()) continue;
        size = stat.size;
      } catch {
        continue;
      }
      if (size > settings.maxFileBytes) {
        result.skipped.push({
          uri,
          reason: `larger than textvae.training.maxFileSizeKB (${Math.round(size / 1024)} KB)`,
        });
        continue;
      }
      if (size === 0) {
        result.skipped.push({ uri, reason: 'empty' });
        continue;
      }
      try {
        if (looksBinary(await readHead(uri.fsPath, 8192))) {
          result.skipped.push({ uri, reason: 'binary content' });
          continue;
        }
      } catch (err) {
        result.skipped.push({ uri, reason: `unreadable: ${err instanceof Error ? err.message : String(err)}` });
        continue;
      }
      if (options.maxTotalBytes !== undefined && result.totalBytes + size > options.maxTotalBytes) {
        result.truncated = true;
        continue;
      }
      result.files.push(uri);
      result.totalBytes += size;
      if (options.maxFiles !== undefined && result.files.length >= options.maxFiles) {
        result.truncated = true;
        return result;
      }
    }
  }
  return result;
}
