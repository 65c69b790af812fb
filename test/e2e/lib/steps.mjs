// Small building blocks the scenarios share.
import { CODE_RE } from '../messages.mjs';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export class AssertionError extends Error {}

export function check(cond, message) {
  if (!cond) throw new AssertionError(message);
}

/** 1-based line and column of a character offset (LF line ends). */
export function positionOf(text, offset) {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - (before.lastIndexOf('\n') + 1) + 1;
  return { line, column };
}

/** Selects `needle` (its first occurrence in `text`, the editor's content) with the keyboard. */
export async function selectText(wb, text, needle) {
  const at = text.indexOf(needle);
  check(at >= 0, `the document does not contain ${JSON.stringify(needle.slice(0, 60))}`);
  const { line, column } = positionOf(text, at);
  // Shift+Right moves one character; an LF line end counts as one.
  await wb.selectRange(line, column, [...needle].length);
  return at;
}

/** Puts the cursor at a character offset of `text`. */
export async function cursorAt(wb, text, offset) {
  const { line, column } = positionOf(text, offset);
  await wb.gotoLine(line, column);
}

export function codesIn(text) {
  return [...text.matchAll(CODE_RE)].map((m) => ({ code: m[0], fp: m[1], start: m.index, end: m.index + m[0].length }));
}

/**
 * Polls the rendered editor lines (what is on screen) until `predicate(text)` holds.
 * Monaco renders spaces as U+00A0; they are turned back into spaces.
 */
export async function waitForEditor(wb, predicate, what, { timeout = 60_000 } = {}) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    last = (await wb.visibleEditorText().catch(() => '')).replace(/\u00a0/g, ' ');
    if (predicate(last)) return last;
    if (Date.now() > end) {
      const toasts = await wb.toastTexts();
      throw new AssertionError(
        `timed out after ${timeout / 1000} s waiting for the editor to show ${what}; notifications: ${JSON.stringify(toasts)}; editor shows: ${JSON.stringify(last.slice(0, 300))}`,
      );
    }
    await sleep(250);
  }
}

/** A sentence of prose from a document: the first one of the given length range that ends in a period. */
export function firstSentence(text, { min = 40, max = 160 } = {}) {
  const paragraphs = text.split(/\n\s*\n/);
  for (const p of paragraphs) {
    if (/^\s|^[.:=\-*`#|]/.test(p) || !/^[A-Z]/.test(p)) continue;
    const m = p.match(/^[\s\S]*?[a-z)]\.(?=\s|$)/);
    if (m && m[0].length >= min && m[0].length <= max && !/[`*:<>_\\|]/.test(m[0])) return m[0];
  }
  throw new Error('no plain sentence found in the document');
}
