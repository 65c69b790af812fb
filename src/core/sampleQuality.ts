/**
 * Scores generated texts the way a reader would judge them at a glance: loops, runs of one word,
 * variety, made-up words, sentences that look well-formed, and markup debris (issue 8, target 3).
 * Every score is a cheap, stated heuristic, not a parser; they are meant to be read next to the same
 * scores of real text of the same length (`textvae eval --samples N --reference PATH`), which shows
 * what each heuristic gives on text that is fine. Pure: no tfjs, no vscode. docs/benchmarks.md
 * ("Samples (target 3)") explains each score.
 */

import { splitForTraining } from './split';

/** Words: a letter, then letters, digits, underscores, apostrophes or inner hyphens. Lowercased. */
export function words(text: string): string[] {
  return (text.match(/\p{L}[\p{L}\p{N}_]*(?:['’-][\p{L}\p{N}_]+)*/gu) ?? []).map((w) => w.toLowerCase());
}

/** The set of (lowercased) words of some texts: the "real words" a sample's words are checked against. */
export function wordVocabulary(texts: Iterable<string>): Set<string> {
  const vocabulary = new Set<string>();
  for (const t of texts) for (const w of words(t)) vocabulary.add(w);
  return vocabulary;
}

/**
 * Length of the longest sequence that occurs twice (occurrences may overlap) among `items`, by
 * binary search on the length: if a sequence of length L repeats, so does its prefix of length L-1.
 */
function longestRepeat(count: number, key: (start: number, length: number) => string): number {
  let lo = 0;
  let hi = count - 1;
  while (lo < hi) {
    const length = Math.ceil((lo + hi) / 2);
    const seen = new Set<string>();
    let repeats = false;
    for (let i = 0; i + length <= count && !repeats; i++) {
      const k = key(i, length);
      if (seen.has(k)) repeats = true;
      seen.add(k);
    }
    if (repeats) lo = length;
    else hi = length - 1;
  }
  return Math.max(0, lo);
}

/** Characters past this are not searched for repeats (samples are a few hundred characters). */
export const MAX_REPEAT_CHARS = 8000;

/**
 * Words as a reader sees them in a run: whitespace-separated pieces holding a letter, lowercased,
 * without the punctuation around them. "time.time()" is one piece, so code and markup such as
 * `datetime.fromtimestamp(time.time())` or ``%s:%s`` make no run; "the, the" does.
 */
export function spacedWords(text: string): string[] {
  return text
    .split(/\s+/)
    .map((t) => t.toLowerCase().replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, ''))
    .filter((t) => /\p{L}/u.test(t));
}

/** Longest run of one word said again and again ("the the the" is 3); 0 for a text without words. */
export function longestWordRun(ws: readonly string[]): number {
  let best = ws.length > 0 ? 1 : 0;
  for (let i = 1, run = 1; i < ws.length; i++) {
    run = ws[i] === ws[i - 1] ? run + 1 : 1;
    best = Math.max(best, run);
  }
  return best;
}

/** A loop: some sequence of this many words occurs twice or more in one sample. */
export const LOOP_WORDS = 4;

/** Verbs and auxiliaries a sentence of documentation is likely to carry. */
const VERBS = new Set(
  (
    'is are was were be been being am has have had do does did can cannot could may might must shall should will would ' +
    'return returns raise raises use uses used call calls create creates set sets get gets take takes make makes ' +
    'give gives see provide provides contain contains allow allows need needs run runs read reads write writes add ' +
    'adds remove removes change changes define defines support supports show shows mean means apply applies work ' +
    'works follow follows require requires specify specifies accept accepts pass passes print prints open opens ' +
    'close closes consult find finds keep keeps start starts stop stops become becomes include includes refer refers ' +
    'describe describes handle handles produce produces let lets note try tries check checks install installs ' +
    'configure configures load loads save saves build builds depend depends exist exists happen happens point ' +
    'points match matches represent represents store stores generate generates implement implements'
  ).split(' '),
);

/** Words after which an -s word is a plural noun ("the values"), not a verb ("it returns"). */
const BEFORE_NOUNS = new Set(
  (
    'the a an of for in on at to with by from and or nor but as its their his her our your my all some many few ' +
    'two three four several these those other such no any each every both more most like than into onto per via'
  ).split(' '),
);

/**
 * A word that is likely a verb: a common verb or auxiliary, an -ed form, or an -s form after a word
 * that does not announce a noun ("it disassembles", "Performs matching"). Lenient by design: it
 * misses few real sentences and still fails verbless fragments ("The big red dog of the garden.").
 */
function hasVerbish(ws: readonly string[]): boolean {
  return ws.some(
    (w, i) =>
      VERBS.has(w) ||
      (w.length > 4 && w.endsWith('ed')) ||
      (w.length > 3 && /[^sui]s$/.test(w) && (i === 0 || !BEFORE_NOUNS.has(ws[i - 1]))),
  );
}

/** Abbreviations after which a full stop does not end a sentence. */
const ABBREVIATIONS = /(?:\b(?:e\.g|i\.e|etc|vs|cf|Mr|Mrs|Dr|No|approx|resp|al)|\b\p{Lu})\.$/u;

/** Lines that are markup or code rather than prose: directives, rules, table rows, prompts, # comments. */
const MARKUP_LINE = /^\s*(?:\.\.(?:\s|$)|#\s|([-=~^*+#_'`:])\1{2,}\s*$|\+[-=+]{2,}|\|\s|>>>|\.\.\.\s)/;
/** Markup anywhere in a line: RST roles and literals, directive or comment starts, rules, HTML tags. */
const MARKUP = /:[\w.+-]+:`|``|^\s*\.\.(?:\s|$)|^\s*([-=~^*+#_])\1{2,}|\+[-=+]{3,}\+|<\/?[A-Za-z][^<>]*>|&[a-z]+;/m;

/** Whether brackets nest properly and backticks and double quotes come in pairs. */
export function balanced(text: string): boolean {
  const stack: string[] = [];
  const closing: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
  for (const ch of text) {
    if (ch === '(' || ch === '[' || ch === '{') stack.push(ch);
    else if (ch in closing && stack.pop() !== closing[ch]) return false;
  }
  const count = (c: string) => text.split(c).length - 1;
  return stack.length === 0 && count('`') % 2 === 0 && count('"') % 2 === 0;
}

export interface Sentence {
  text: string;
  /** Capitalised start, at least 3 words, balanced brackets and quotes, a verb-ish word. */
  wellFormed: boolean;
  balanced: boolean;
  hasVerb: boolean;
}

/**
 * The complete sentences of a sample. Markup lines are dropped, paragraphs (blank-line separated)
 * are joined into one line each and cut after . ! ? (not after common abbreviations). A first
 * piece that does not start with a capital letter or digit most likely continues a sentence begun
 * before the sample (chunks often start at a line of hard-wrapped text), and a last piece
 * without end punctuation was cut off by the length limit: neither is judged, as neither is a
 * sentence the sample chose to write.
 */
export function sentences(text: string): Sentence[] {
  const out: Sentence[] = [];
  const paragraphs = text
    .split(/\n[^\S\n]*\n/)
    .map((p) =>
      p
        .split('\n')
        .filter((line) => !MARKUP_LINE.test(line))
        .join(' ')
        .replace(/\s+/g, ' ')
        .trim(),
    )
    .filter((p) => p !== '');
  paragraphs.forEach((paragraph, pi) => {
    const pieces: string[] = [];
    // A sentence ends at . ! ? (and closing quotes or brackets) before a piece that does not start in lower case.
    for (const piece of paragraph.split(/(?<=[.!?]['"’”)\]`*]*)\s+(?!\p{Ll})/u)) {
      const last = pieces.length - 1;
      if (last >= 0 && ABBREVIATIONS.test(pieces[last])) pieces[last] += ' ' + piece;
      else pieces.push(piece);
    }
    pieces.forEach((s, si) => {
      if (pi === 0 && si === 0 && !/^[\p{Lu}\p{N}]/u.test(s)) return;
      if (!/[.!?]['"’”)\]`*]*$/.test(s)) return;
      const ws = words(s);
      const isBalanced = balanced(s);
      const hasVerb = hasVerbish(ws);
      const capitalised = /^[\p{Lu}\p{N}`'"“(:*]/u.test(s);
      out.push({
        text: s,
        balanced: isBalanced,
        hasVerb,
        wellFormed: capitalised && ws.length >= 3 && isBalanced && hasVerb,
      });
    });
  });
  return out;
}

/** The scores of one text. */
export interface SampleScore {
  chars: number;
  words: number;
  /** Longest word sequence that occurs twice. */
  longestRepeatWords: number;
  /** Longest character sequence that occurs twice, whitespace runs counted as one space. */
  longestRepeatChars: number;
  longestWordRun: number;
  sentences: Sentence[];
  /** Non-blank lines, and those holding markup. */
  lines: number;
  markupLines: number;
}

export function scoreSample(text: string): SampleScore {
  const ws = words(text);
  const flat = text.replace(/\s+/g, ' ').trim().slice(0, MAX_REPEAT_CHARS);
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  return {
    chars: text.length,
    words: ws.length,
    longestRepeatWords: longestRepeat(ws.length, (i, n) => ws.slice(i, i + n).join(' ')),
    longestRepeatChars: longestRepeat(flat.length, (i, n) => flat.slice(i, i + n)),
    longestWordRun: longestWordRun(spacedWords(text)),
    sentences: sentences(text),
    lines: lines.length,
    markupLines: lines.filter((l) => MARKUP.test(l)).length,
  };
}

/** The scores of a set of texts, as `textvae eval --samples` reports them (snake_case, like its other keys). */
export interface SampleQuality {
  samples: number;
  /** Share of texts that are empty or blank. */
  empty_share: number;
  mean_chars: number;
  mean_words: number;
  /** Share of texts in which some LOOP_WORDS-word sequence occurs twice or more. */
  loop_share: number;
  /** Longest repeated word sequence: mean over texts, and the worst text. */
  longest_repeat_words_mean: number;
  longest_repeat_words_max: number;
  /** Longest repeated character sequence (whitespace collapsed): mean and worst. */
  longest_repeat_chars_mean: number;
  longest_repeat_chars_max: number;
  /** Share of texts with the same word twice in a row or more, and the longest such run. */
  word_run_share: number;
  longest_word_run: number;
  /** Distinct words and word pairs over all texts, divided by all words and pairs (Li et al., 2016). */
  distinct_1: number;
  distinct_2: number;
  /** Share of words found in the vocabulary; null without one. */
  known_word_share: number | null;
  /** The most frequent words not in the vocabulary, for a reader to look at. */
  unknown_words: string[];
  /** Complete sentences judged, per text, and the shares that pass each check. */
  sentences_per_sample: number;
  sentence_ok_share: number | null;
  sentence_balanced_share: number | null;
  sentence_verb_share: number | null;
  /** Share of non-blank lines that hold markup (RST roles, literals, directives, rules; HTML). */
  markup_line_share: number;
}

const mean = (xs: readonly number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
const share = (n: number, of: number) => (of > 0 ? n / of : null);

/** Distinct n-grams of words (within each text) over all n-grams. */
function distinct(perText: readonly string[][], n: number): number {
  const seen = new Set<string>();
  let total = 0;
  for (const ws of perText)
    for (let i = 0; i + n <= ws.length; i++) {
      seen.add(ws.slice(i, i + n).join(' '));
      total++;
    }
  return total > 0 ? seen.size / total : 0;
}

export function scoreSamples(texts: readonly string[], vocabulary?: ReadonlySet<string>): SampleQuality {
  if (texts.length === 0) throw new Error('no texts to score');
  const scores = texts.map(scoreSample);
  const perText = texts.map(words);
  const all = perText.flat();
  const allSentences = scores.flatMap((s) => s.sentences);
  const unknown = new Map<string, number>();
  let known = 0;
  if (vocabulary)
    for (const w of all) {
      if (vocabulary.has(w)) known++;
      else unknown.set(w, (unknown.get(w) ?? 0) + 1);
    }
  const lines = scores.reduce((a, s) => a + s.lines, 0);
  return {
    samples: texts.length,
    empty_share: texts.filter((t) => t.trim() === '').length / texts.length,
    mean_chars: mean(scores.map((s) => s.chars)),
    mean_words: mean(scores.map((s) => s.words)),
    loop_share: scores.filter((s) => s.longestRepeatWords >= LOOP_WORDS).length / texts.length,
    longest_repeat_words_mean: mean(scores.map((s) => s.longestRepeatWords)),
    longest_repeat_words_max: Math.max(...scores.map((s) => s.longestRepeatWords)),
    longest_repeat_chars_mean: mean(scores.map((s) => s.longestRepeatChars)),
    longest_repeat_chars_max: Math.max(...scores.map((s) => s.longestRepeatChars)),
    word_run_share: scores.filter((s) => s.longestWordRun >= 2).length / texts.length,
    longest_word_run: Math.max(...scores.map((s) => s.longestWordRun)),
    distinct_1: distinct(perText, 1),
    distinct_2: distinct(perText, 2),
    known_word_share: vocabulary ? (share(known, all.length) ?? 0) : null,
    unknown_words: [...unknown.entries()]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, 12)
      .map(([w]) => w),
    sentences_per_sample: allSentences.length / texts.length,
    sentence_ok_share: share(allSentences.filter((s) => s.wellFormed).length, allSentences.length),
    sentence_balanced_share: share(allSentences.filter((s) => s.balanced).length, allSentences.length),
    sentence_verb_share: share(allSentences.filter((s) => s.hasVerb).length, allSentences.length),
    markup_line_share: lines > 0 ? scores.reduce((a, s) => a + s.markupLines, 0) / lines : 0,
  };
}

/** What generated texts are compared with: words to check them against, and real chunks to score alike. */
export interface Reference {
  vocabulary: Set<string>;
  /** Up to `n` pieces of held-out text, each `chunksPerSample` consecutive chunks, spread evenly over it. */
  chunks: string[];
  trainFiles: number;
  heldOutFiles: number;
}

/**
 * Splits reference text the way training does: the vocabulary comes from the training part (the
 * words the model could have learnt), the chunks from the held-out part, cut by the model's own
 * chunker so they have the samples' length. With `chunksPerSample` > 1, each reference piece is that
 * many consecutive chunks of one document, as long as a paragraph sample. Without held-out text,
 * chunks is empty.
 */
export function referenceFor(
  files: readonly { relativePath: string; text: string }[],
  n: number,
  chunk: (text: string) => string[],
  valFraction: number,
  chunksPerSample = 1,
): Reference {
  const split = splitForTraining(files, valFraction);
  const pool = split.val.flatMap((text) => {
    const pieces = chunk(text).filter((c) => c.trim() !== '');
    return Array.from({ length: Math.floor(pieces.length / chunksPerSample) }, (_, i) =>
      pieces.slice(i * chunksPerSample, (i + 1) * chunksPerSample).join(''),
    );
  });
  const step = pool.length / Math.min(n, pool.length);
  return {
    vocabulary: wordVocabulary(split.train),
    chunks: pool.length ? Array.from({ length: Math.min(n, pool.length) }, (_, i) => pool[Math.floor(i * step)]) : [],
    trainFiles: split.train.length,
    heldOutFiles: split.heldOutFiles,
  };
}
