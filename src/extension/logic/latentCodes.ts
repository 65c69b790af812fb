/**
 * Where the codes in a text are (latent `tvae2:`/`tvae1:` and lossless `tvz2:`/`tvz1:` codes), and
 * which of them a command acts on. Pure functions over plain strings and offsets: no vscode, no engine.
 */
import { findLatentCodes } from '../../core/latentCode';
import { findLosslessCodes } from '../../core/lossless/format';

/** Codes of both kinds, in text order. */
export function findCodes(text: string): FoundCode[] {
  return [...findLatentCodes(text), ...findLosslessCodes(text)].sort((a, b) => a.start - b.start);
}

export interface FoundCode {
  code: string;
  start: number;
  end: number;
}

/** Adjacent codes separated only by whitespace: they decode together into one text. */
export interface CodeRun {
  /** Offset of the first code. */
  start: number;
  /** Offset just after the last code. */
  end: number;
  codes: string[];
}

export interface OffsetRange {
  start: number;
  end: number;
}

const ONLY_WHITESPACE = /^\s*$/;

/** Groups codes (in any order) into maximal runs of codes separated only by whitespace in `text`. */
export function groupCodeRuns(text: string, codes: readonly FoundCode[]): CodeRun[] {
  const sorted = [...codes].sort((a, b) => a.start - b.start);
  const runs: CodeRun[] = [];
  for (const c of sorted) {
    const last = runs.at(-1);
    if (last && c.start >= last.end && ONLY_WHITESPACE.test(text.slice(last.end, c.start))) {
      last.end = c.end;
      last.codes.push(c.code);
    } else {
      runs.push({ start: c.start, end: c.end, codes: [c.code] });
    }
  }
  return runs;
}

/** The code that contains `offset` (a cursor just after a code's last character still counts). */
export function codeAt(text: string, offset: number): FoundCode | undefined {
  return findCodes(text).find((c) => c.start <= offset && offset <= c.end);
}

/**
 * The code runs a "reconstruct from code" command replaces, for each selection of the editor:
 * - an empty selection (a cursor) picks the whole run around the code under the cursor;
 * - a non-empty selection picks the codes that overlap it, grouped into runs.
 * Runs picked twice (two cursors on one run) are merged; the result is sorted and non-overlapping.
 */
export function planCodeRuns(text: string, selections: readonly OffsetRange[]): CodeRun[] {
  const codes = findCodes(text);
  if (codes.length === 0) return [];
  // Index of the global run each code belongs to.
  const runOf: number[] = [];
  let run = 0;
  for (let i = 0; i < codes.length; i++) {
    if (i > 0 && !ONLY_WHITESPACE.test(text.slice(codes[i - 1].end, codes[i].start))) run++;
    runOf.push(run);
  }
  // Picked ranges of code indices [first, last], contiguous within one global run.
  const picked: [number, number][] = [];
  for (const sel of selections) {
    const start = Math.min(sel.start, sel.end);
    const end = Math.max(sel.start, sel.end);
    if (start === end) {
      const i = codes.findIndex((c) => c.start <= start && start <= c.end);
      if (i < 0) continue;
      let first = i,
        last = i;
      while (first > 0 && runOf[first - 1] === runOf[i]) first--;
      while (last < codes.length - 1 && runOf[last + 1] === runOf[i]) last++;
      picked.push([first, last]);
    } else {
      let current: [number, number] | null = null;
      for (let i = 0; i < codes.length; i++) {
        const c = codes[i];
        if (!(c.start < end && c.end > start)) continue;
        if (current && current[1] === i - 1 && runOf[i] === runOf[i - 1]) current[1] = i;
        else picked.push((current = [i, i]));
      }
    }
  }
  picked.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const merged: [number, number][] = [];
  for (const p of picked) {
    const last = merged.at(-1);
    if (last && p[0] <= last[1]) last[1] = Math.max(last[1], p[1]);
    else merged.push([p[0], p[1]]);
  }
  return merged.map(([first, last]) => ({
    start: codes[first].start,
    end: codes[last].end,
    codes: codes.slice(first, last + 1).map((c) => c.code),
  }));
}
