// Builds the workspace the tests open: real documents, plus files that training must skip.
import * as fs from 'node:fs';
import * as path from 'node:path';

const SHARED = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', '..', '..', 'shared');
export const PYTHON_DOCS = process.env.TEXTVAE_E2E_DOCS || path.join(SHARED, 'corpora', 'python-docs');
export const SEEDS = process.env.TEXTVAE_E2E_SEEDS || path.join(SHARED, 'seeds');

/** Small English documents from the Python docs (all under 20 kB), nested as in the corpus. */
export const DOCS = [
  'tutorial/appetite.rst.txt',
  'tutorial/interpreter.rst.txt',
  'tutorial/whatnow.rst.txt',
  'library/copy.rst.txt',
  'library/bisect.rst.txt',
  'library/errno.rst.txt',
  'library/keyword.rst.txt',
  'faq/installed.rst.txt',
];
export const CHINESE = '002_997ab8aba8d9ae46.txt';

/** Files training must leave out: binary content and a document over textvae.training.maxFileSizeKB (2048). */
export const BINARY_FILE = 'assets/blob.txt';
export const BIG_FILE = 'big/huge.txt';
export const BIG_FILE_BYTES = 2200 * 1024;

export function buildWorkspace(ws) {
  const missing = [];
  for (const rel of DOCS) {
    const src = path.join(PYTHON_DOCS, rel);
    if (!fs.existsSync(src)) {
      missing.push(src);
      continue;
    }
    const size = fs.statSync(src).size;
    if (size >= 20 * 1024) throw new Error(`workspace document ${src} is ${size} bytes (want < 20 kB)`);
    fs.mkdirSync(path.join(ws, 'docs', path.dirname(rel)), { recursive: true });
    fs.copyFileSync(src, path.join(ws, 'docs', rel));
  }
  const zh = path.join(SEEDS, CHINESE);
  if (!fs.existsSync(zh)) missing.push(zh);
  else {
    fs.mkdirSync(path.join(ws, 'zh'), { recursive: true });
    fs.copyFileSync(zh, path.join(ws, 'zh', 'vae.txt'));
  }
  if (missing.length)
    throw new Error(`corpus files not found (set TEXTVAE_E2E_DOCS / TEXTVAE_E2E_SEEDS?):\n  ${missing.join('\n  ')}`);

  // Binary: a .txt name (so the include globs match it) with NUL bytes and random data.
  fs.mkdirSync(path.join(ws, path.dirname(BINARY_FILE)), { recursive: true });
  const bin = Buffer.alloc(64 * 1024);
  let x = 12345;
  for (let i = 0; i < bin.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    bin[i] = x >>> 24;
  }
  bin.fill(0, 0, 16);
  fs.writeFileSync(path.join(ws, BINARY_FILE), bin);

  // Big: plain text over the 2048 kB default limit.
  fs.mkdirSync(path.join(ws, path.dirname(BIG_FILE)), { recursive: true });
  const line = 'This document is far too large to be used for training and must be skipped. ';
  fs.writeFileSync(path.join(ws, BIG_FILE), line.repeat(Math.ceil(BIG_FILE_BYTES / line.length)));

  // Scratch files the scenarios edit (each scenario its own, so they stay independent).
  fs.mkdirSync(path.join(ws, 'notes'), { recursive: true });
}

/** The path of a workspace document, and its text. */
export function doc(ws, rel) {
  const p = path.join(ws, rel);
  return { path: p, text: fs.readFileSync(p, 'utf8') };
}
