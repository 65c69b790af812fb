/** Turns per-range replacement texts into one consistent batch of edits (one undo step). */

export interface PlannedEdit {
  start: number;
  end: number;
  text: string;
}

/**
 * Pairs ranges with replacements (same index). Ranges without a replacement (undefined) or
 * that are empty are left alone; the same range twice is edited once. Overlapping different
 * ranges cannot be applied in one batch: that throws. The result is sorted by position.
 */
export function planEdits(
  ranges: readonly { start: number; end: number }[],
  replacements: readonly (string | undefined)[],
): PlannedEdit[] {
  if (ranges.length !== replacements.length)
    throw new Error(`${ranges.length} ranges but ${replacements.length} replacements`);
  const edits: PlannedEdit[] = [];
  ranges.forEach((r, i) => {
    const text = replacements[i];
    const start = Math.min(r.start, r.end);
    const end = Math.max(r.start, r.end);
    if (text === undefined || start === end) return;
    edits.push({ start, end, text });
  });
  edits.sort((a, b) => a.start - b.start || a.end - b.end);
  const out: PlannedEdit[] = [];
  for (const e of edits) {
    const last = out.at(-1);
    if (last && last.start === e.start && last.end === e.end) {
      if (last.text !== e.text) throw new Error(`two different replacements for the range ${e.start}-${e.end}`);
      continue;
    }
    if (last && e.start < last.end)
      throw new Error(`the ranges ${last.start}-${last.end} and ${e.start}-${e.end} overlap`);
    out.push(e);
  }
  return out;
}

/** The text a batch of edits produces (what the editor will show after applying them). */
export function applyEdits(text: string, edits: readonly PlannedEdit[]): string {
  let out = '';
  let pos = 0;
  for (const e of [...edits].sort((a, b) => a.start - b.start)) {
    out += text.slice(pos, e.start) + e.text;
    pos = e.end;
  }
  return out + text.slice(pos);
}
