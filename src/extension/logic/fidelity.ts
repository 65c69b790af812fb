/**
 * The notice after Compress Selection to Latent Code: how faithfully the new codes read back (measured
 * by decoding them), and the edits behind its Undo and Use Lossless Code buttons. No `vscode` here.
 */
import { formatSimilarity, similarityDetailed } from '../../core/similarity';
import { truncate } from '../../webview/common/format';
import type { PlannedEdit } from './edits';

/** Characters of the reconstruction quoted in the notice. */
export const PREVIEW_CHARS = 60;

/**
 * Most codes decoded for the notice. The engine runs requests one at a time, so a long check would
 * hold up the user's next command: 32 codes (about 4,000 characters) take about 15 s with beam 16 and
 * reranking on a busy 2-core machine (native TensorFlow), greedy decoding about a second.
 */
export const MAX_CHECKED_CODES = 32;

/** Why `codes` codes are not decoded for the notice (fidelityNotice's Error), or undefined where they are. */
export function tooManyToCheck(codes: number): Error | undefined {
  return codes > MAX_CHECKED_CODES
    ? new Error(`${codes} codes are more than the ${MAX_CHECKED_CODES} TextVAE decodes for this notice.`)
    : undefined;
}

/** One replaced selection: its text before, and the codes that took its place. */
export interface Replaced {
  original: string;
  codes: string[];
}

/** Where each edit's new text lies once the whole batch is applied (edits sorted and disjoint, as planEdits makes them). */
export function placedRanges(edits: readonly PlannedEdit[]): PlannedEdit[] {
  let shift = 0;
  return edits.map((e) => {
    const start = e.start + shift;
    shift += e.text.length - (e.end - e.start);
    return { start, end: start + e.text.length, text: e.text };
  });
}

/**
 * The edits that put `replacements[i]` where `placed[i].text` lies, or undefined unless the document
 * (`textAt(start, end)`) still holds each of those texts exactly there: a document edited meanwhile
 * is never patched at stale offsets.
 */
export function planReplaceBack(
  textAt: (start: number, end: number) => string,
  placed: readonly PlannedEdit[],
  replacements: readonly string[],
): PlannedEdit[] | undefined {
  if (placed.length !== replacements.length)
    throw new Error(`${placed.length} ranges but ${replacements.length} replacements`);
  if (placed.some((p) => textAt(p.start, p.end) !== p.text)) return undefined;
  return placed.map((p, i) => ({ start: p.start, end: p.end, text: replacements[i] }));
}

/** "1 selection" / "2 selections". */
function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function replacedLine(replaced: readonly Replaced[]): string {
  const codes = replaced.reduce((n, r) => n + r.codes.length, 0);
  return `Replaced ${count(replaced.length, 'selection')} with ${codes === 1 ? 'a latent code' : `${codes} latent codes`}.`;
}

/**
 * The notice's text. `decoded[i]` is what the codes of `replaced[i]` reconstruct as (their texts joined,
 * as Reconstruct from Code writes them); an Error where they could not be decoded.
 */
export function fidelityNotice(replaced: readonly Replaced[], decoded: readonly string[] | Error): string {
  const head = replacedLine(replaced);
  const several = replaced.length > 1 || replaced[0]?.codes.length > 1;
  if (decoded instanceof Error)
    return `${head} Latent codes are approximate, and TextVAE could not check how ${several ? 'these reconstruct' : 'this one reconstructs'}: ${decoded.message.replace(/[^.!?…]$/, '$&.')}`;
  // One figure for all: the selections' texts against their reconstructions, in order.
  const { score, method } = similarityDetailed(replaced.map((r) => r.original).join('\n'), decoded.join('\n'));
  if (score >= 1) return `${head} ${several ? 'They reconstruct' : 'It reconstructs'} exactly as written.`;
  const unit = method === 'characters' ? 'characters' : 'words';
  const preview = `“${truncate(decoded[0] ?? '', PREVIEW_CHARS)}”`;
  if (replaced.length > 1)
    return `${head} Latent codes are approximate: the first reconstructs as ${preview}; ${formatSimilarity(score)} of ${unit} match overall.`;
  return `${head} Latent codes are approximate: ${several ? 'they reconstruct' : 'it reconstructs'} as ${preview} (${formatSimilarity(score)} of ${unit} match).`;
}
