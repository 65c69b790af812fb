// Builds the workspace the tests open: real documents, plus files that training must skip.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** test/fixtures (see its README): documents written for the tests, kept in the repository. */
const FIXTURES = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', 'fixtures');
/** Short English documents in nested folders, all under 20 kB. */
const DOCS = path.join(FIXTURES, 'workspace');
const CHINESE = path.join(FIXTURES, 'multilingual', 'zh-autoencoders.md');

/** The path of a fixture document (relative to test/fixtures/workspace), for scenarios to copy. */
export function fixtureDoc(rel) {
  return path.join(DOCS, rel);
}

/** Files training must leave out: binary content and a document over textvae.training.maxFileSizeKB (2048). */
export const BINARY_FILE = 'assets/blob.txt';
export const BIG_FILE = 'big/huge.txt';
export const BIG_FILE_BYTES = 2200 * 1024;

export function buildWorkspace(ws) {
  fs.cpSync(DOCS, path.join(ws, 'docs'), { recursive: true });
  fs.mkdirSync(path.join(ws, 'zh'), { recursive: true });
  fs.copyFileSync(CHINESE, path.join(ws, 'zh', 'vae.md'));

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
