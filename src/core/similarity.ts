/**
 * How close a reconstruction is to its original, from 0 (nothing in common) to 1 (identical).
 * Character-level edit distance for texts up to a few thousand characters; longer texts are
 * compared by word tokens, and very long ones by their bags of words. No dependencies: the
 * extension host (Reconstruct Selection) and the engine (`eval --sentences`) both use it.
 */

export const MAX_CHARS_FOR_CHARACTER_LEVEL = 4000;
export const MAX_TOKENS_FOR_TOKEN_LEVEL = 4000;

/** Levenshtein distance (insert, delete, substitute: cost 1) between two sequences. */
export function levenshtein<T>(a: readonly T[], b: readonly T[]): number {
  if (a.length < b.length) [a, b] = [b, a];
  const m = b.length;
  if (m === 0) return a.length;
  let prev = new Int32Array(m + 1);
  let curr = new Int32Array(m + 1);
  for (let j = 0; j <= m; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    curr[0] = i;
    const ai = a[i - 1];
    for (let j = 1; j <= m; j++) {
      const sub = prev[j - 1] + (ai === b[j - 1] ? 0 : 1);
      const del = prev[j] + 1;
      const ins = curr[j - 1] + 1;
      curr[j] = sub < del ? (sub < ins ? sub : ins) : del < ins ? del : ins;
    }
    [prev, curr] = [curr, prev];
  }
  return prev[m];
}

/** Words and runs of punctuation; whitespace separates but is not a token. */
export function tokenize(text: string): string[] {
  return text.match(/[\p{L}\p{N}_]+|[^\s\p{L}\p{N}_]+/gu) ?? [];
}

function sequenceSimilarity<T>(a: readonly T[], b: readonly T[]): number {
  const longest = Math.max(a.length, b.length);
  if (longest === 0) return 1;
  return 1 - levenshtein(a, b) / longest;
}

/** Dice coefficient of two multisets of tokens. */
function bagSimilarity(a: readonly string[], b: readonly string[]): number {
  if (a.length + b.length === 0) return 1;
  const counts = new Map<string, number>();
  for (const t of a) counts.set(t, (counts.get(t) ?? 0) + 1);
  let shared = 0;
  for (const t of b) {
    const n = counts.get(t) ?? 0;
    if (n > 0) {
      shared++;
      counts.set(t, n - 1);
    }
  }
  return (2 * shared) / (a.length + b.length);
}

export type SimilarityMethod = 'characters' | 'tokens' | 'bag-of-tokens';

export function similarityDetailed(a: string, b: string): { score: number; method: SimilarityMethod } {
  if (a === b) return { score: 1, method: 'characters' };
  const ca = Array.from(a),
    cb = Array.from(b);
  if (ca.length <= MAX_CHARS_FOR_CHARACTER_LEVEL && cb.length <= MAX_CHARS_FOR_CHARACTER_LEVEL) {
    return { score: sequenceSimilarity(ca, cb), method: 'characters' };
  }
  const ta = tokenize(a),
    tb = tokenize(b);
  if (ta.length <= MAX_TOKENS_FOR_TOKEN_LEVEL && tb.length <= MAX_TOKENS_FOR_TOKEN_LEVEL) {
    return { score: sequenceSimilarity(ta, tb), method: 'tokens' };
  }
  return { score: bagSimilarity(ta, tb), method: 'bag-of-tokens' };
}

export function similarity(a: string, b: string): number {
  return similarityDetailed(a, b).score;
}

/** "87%": rounded down so that only identical texts show 100%. */
export function formatSimilarity(score: number): string {
  const pct = score >= 1 ? 100 : Math.min(99, Math.floor(Math.max(0, score) * 100));
  return `${pct}%`;
}

/** Words (letters, digits, underscores), lower-cased: what word F1 counts. */
export function words(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}_]+/gu) ?? [];
}

/** F1 of the words of `output` against those of `reference`, as multisets (1 when both have none). */
export function wordF1(reference: string, output: string): number {
  // F1 of two multisets is their Dice coefficient.
  return bagSimilarity(words(reference), words(output));
}

export interface RoundTrip {
  text: string;
  /** The latent codes the text was encoded to (tvae1:<fp8>:<payload>). */
  codes: string[];
  output: string;
}

export interface SentenceMetrics {
  sentences: number;
  /** Fraction of sentences that came back identical (surrounding whitespace aside). */
  exact: number;
  /** Mean character similarity (1 - edit distance / longer length). */
  char_similarity: number;
  word_f1: number;
  /** Mean over sentences of: characters of the codes' payloads / characters of the sentence. */
  code_chars_per_text_char: number;
}

/** How faithfully texts came back from their codes. Outputs are compared without surrounding whitespace. */
export function sentenceMetrics(rows: readonly RoundTrip[]): SentenceMetrics {
  const n = rows.length;
  const mean = (f: (r: RoundTrip) => number) => (n ? rows.reduce((s, r) => s + f(r), 0) / n : NaN);
  // The payload is what a code adds beyond its fixed "tvae1:<fp8>:" prefix.
  const payload = (code: string) => code.length - code.lastIndexOf(':') - 1;
  return {
    sentences: n,
    exact: mean((r) => (r.output.trim() === r.text.trim() ? 1 : 0)),
    char_similarity: mean((r) => similarity(r.text.trim(), r.output.trim())),
    word_f1: mean((r) => wordF1(r.text, r.output)),
    code_chars_per_text_char: mean(
      (r) => r.codes.reduce((s, c) => s + payload(c), 0) / Math.max(1, Array.from(r.text.trim()).length),
    ),
  };
}
