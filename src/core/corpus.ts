/** Finds the text files a run trains or evaluates on, and says why others were skipped. */
import * as fs from 'node:fs/promises';
import * as fsSync from 'node:fs';
import * as path from 'node:path';
import picomatch from 'picomatch';

export interface CorpusOptions {
  /** Globs (relative to each folder given) that select files; default: every file. */
  include?: string[];
  exclude?: string[];
  /** Larger files are skipped. */
  maxFileBytes?: number;
  /** Stop after this many bytes of accepted text. */
  maxTotalBytes?: number;
}

export interface CorpusFile {
  /** Absolute path. */
  path: string;
  /** Path relative to the root it was found under (stable across machines: used for splits). */
  relativePath: string;
  text: string;
  bytes: number;
}

export interface SkippedFile {
  path: string;
  reason: string;
}

export const DEFAULT_EXCLUDES = ['**/node_modules/**', '**/.git/**', '**/.*/**'];
export const DEFAULT_MAX_FILE_BYTES = 4 * 1024 * 1024;

/** True when a buffer looks binary: a NUL byte, or many bytes that are not valid UTF-8 text. */
export function looksBinary(buf: Uint8Array): boolean {
  const n = Math.min(buf.length, 8192);
  if (buf.subarray(0, n).includes(0)) return true;
  const text = new TextDecoder('utf-8', { fatal: false }).decode(buf.subarray(0, n));
  let bad = 0;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 0xfffd) bad++;
  // The sample may end inside a character: allow a little slack.
  return bad > 4 && bad / Math.max(1, text.length) > 0.01;
}

async function* walk(dir: string): AsyncGenerator<string> {
  let entries;
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) yield* walk(full);
    else if (e.isFile()) yield full;
  }
}

/** Reads files and folders in a deterministic order. Missing inputs are an error; bad files are skipped with a reason. */
export async function collectCorpus(
  inputs: string[],
  options: CorpusOptions = {},
): Promise<{ files: CorpusFile[]; skipped: SkippedFile[] }> {
  const include = options.include?.length ? picomatch(options.include, { dot: false }) : () => true;
  const exclude = picomatch([...DEFAULT_EXCLUDES, ...(options.exclude ?? [])], { dot: true });
  const maxFileBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  const files: CorpusFile[] = [];
  const skipped: SkippedFile[] = [];
  let total = 0;
  for (const input of inputs) {
    const abs = path.resolve(input);
    let stat;
    try {
      stat = await fs.stat(abs);
    } catch {
      throw new Error(`no such file or folder: ${input}`);
    }
    const root = stat.isDirectory() ? abs : path.dirname(abs);
    const candidates = stat.isDirectory()
      ? walk(abs)
      : (async function* () {
          yield abs;
        })();
    for await (const file of candidates) {
      const rel = path.relative(root, file).split(path.sep).join('/');
      if (stat.isDirectory() && (!include(rel) || exclude(rel))) continue;
      const size = (await fs.stat(file)).size;
      if (size > maxFileBytes) {
        skipped.push({ path: file, reason: `larger than ${maxFileBytes} bytes (${size})` });
        continue;
      }
      const buf = await fs.readFile(file);
      if (looksBinary(buf)) {
        skipped.push({ path: file, reason: 'binary content' });
        continue;
      }
      const text = buf.toString('utf8');
      if (text.trim() === '') {
        skipped.push({ path: file, reason: 'empty' });
        continue;
      }
      if (options.maxTotalBytes !== undefined && total + buf.length > options.maxTotalBytes) {
        skipped.push({ path: file, reason: `over the total budget of ${options.maxTotalBytes} bytes` });
        continue;
      }
      total += buf.length;
      files.push({ path: file, relativePath: rel, text, bytes: buf.length });
    }
  }
  return { files, skipped };
}

/** Training input the user can fix (nothing left to read, nothing readable): a 'bad-input' error for the worker. */
export class CorpusError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CorpusError';
  }
}

/** Longest common folder of absolute paths (folders count as themselves, files as their folder). */
export function commonRoot(paths: string[]): string {
  const dirs = paths.map((p) => {
    try {
      return fsSync.statSync(p).isDirectory() ? p : path.dirname(p);
    } catch {
      return path.dirname(p);
    }
  });
  let root = dirs[0];
  for (const d of dirs.slice(1)) {
    while (root !== path.dirname(root) && path.relative(root, d).startsWith('..')) root = path.dirname(root);
  }
  return root;
}

/**
 * Reads documents chosen elsewhere (the extension's workspace search). A path that vanished since
 * is skipped, not an error. Relative paths, which decide the held-out split, are taken from the
 * documents' common folder, so the split is stable and equal names in different folders differ.
 */
export async function collectDocuments(
  paths: string[],
  options: CorpusOptions & { onLog?: (message: string) => void } = {},
): Promise<{ files: CorpusFile[]; skipped: SkippedFile[] }> {
  const log = options.onLog ?? (() => {});
  const absolute = paths.map((x) => path.resolve(x));
  const present = absolute.filter((x) => fsSync.existsSync(x));
  const skipped: SkippedFile[] = absolute
    .filter((x) => !fsSync.existsSync(x))
    .map((x) => ({ path: x, reason: 'no longer exists' }));
  if (present.length === 0) throw new CorpusError('none of the documents to train on exist any more');
  log(`reading ${present.length} document${present.length === 1 ? '' : 's'}`);
  const corpus = await collectCorpus(present, options);
  skipped.push(...corpus.skipped);
  for (const s of corpus.skipped) log(`skipped ${s.path}: ${s.reason}`);
  if (corpus.files.length === 0)
    throw new CorpusError(`none of the ${present.length} documents can be trained on (binary, empty or too large)`);
  const root = commonRoot(present);
  const files = corpus.files.map((f) => ({
    ...f,
    relativePath: path.relative(root, f.path).split(path.sep).join('/'),
  }));
  return { files, skipped };
}
