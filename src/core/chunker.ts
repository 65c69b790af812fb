/**
 * Splits documents into pieces of at most `maxTokens` tokens, cutting at the
 * most natural boundary available: paragraph ends, then line ends, then
 * sentence ends, then whitespace, and only as a last resort between two code
 * points. Whitespace stays with the preceding chunk, and the chunks always
 * concatenate back to the exact input.
 *
 * Nothing here depends on tfjs or vscode.
 */

/**
 * Boundary patterns, best first: a cut is made right after each match.
 * A final level (not listed) cuts between code points.
 */
const LEVELS: readonly RegExp[] = [
  // Paragraph end: a line break followed by at least one blank line.
  /\n(?:[^\S\n]*\n)+/g,
  // Line end.
  /\n/g,
  // Sentence end: ". ", "? ", "! " (with the whole whitespace run), or CJK marks.
  /[.?!][^\S\n]+|[。！？][^\S\n]*/g,
  // Any whitespace run.
  /\s+/g,
];

type Count = (s: string) => number;

/** Pieces of `text`, cut right after every match of `re` (the last piece may end without a match). */
function splitAfter(text: string, re: RegExp): string[] {
  const pieces: string[] = [];
  let start = 0;
  re.lastIndex = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const end = m.index + m[0].length;
    if (m[0].length === 0) {
      re.lastIndex++;
      continue;
    }
    if (end > start && end < text.length) {
      pieces.push(text.slice(start, end));
      start = end;
    }
  }
  re.lastIndex = 0;
  if (start < text.length) pieces.push(text.slice(start));
  return pieces;
}

/** Moves `i` back by one if it would split a surrogate pair. */
function codePointBoundary(text: string, i: number): number {
  if (i <= 0 || i >= text.length) return i;
  const hi = text.charCodeAt(i - 1);
  const lo = text.charCodeAt(i);
  return hi >= 0xd800 && hi <= 0xdbff && lo >= 0xdc00 && lo <= 0xdfff ? i - 1 : i;
}

/** Length (code units) of the code point starting at `i`. */
function codePointLength(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
    const d = text.charCodeAt(i + 1);
    if (d >= 0xdc00 && d <= 0xdfff) return 2;
  }
  return 1;
}

/**
 * Greedy packer. Units arrive in text order; the pending chunk is a run of
 * consecutive units with an estimated token count. The estimate adds, for each
 * unit after the first, its marginal cost next to its predecessor
 * (count(prev + unit) - count(prev)), which is exact for tokenizers whose
 * interactions stay local to a boundary; every chunk is verified before output.
 */
class Packer {
  readonly out: string[] = [];
  private units: string[] = [];
  private counts: number[] = []; // each pending unit counted alone
  private estimate = 0;

  constructor(
    private readonly count: Count,
    private readonly max: number,
  ) {}

  /** Appends a unit whose own count `c` is within the limit. */
  add(unit: string, c: number): void {
    const n = this.units.length;
    if (n > 0) {
      const prev = this.units[n - 1];
      const marginal = this.count(prev + unit) - this.counts[n - 1];
      if (this.estimate + marginal <= this.max) {
        this.units.push(unit);
        this.counts.push(c);
        this.estimate += marginal;
        return;
      }
      this.flush();
    }
    this.units.push(unit);
    this.counts.push(c);
    this.estimate = c;
  }

  /** Emits a piece directly (only valid when nothing is pending). */
  emit(piece: string): void {
    this.out.push(piece);
  }

  /** Outputs the pending units, verifying the real count and re-splitting if over. */
  flush(): void {
    let units = this.units;
    while (units.length > 0) {
      if (units.length === 1) {
        this.out.push(units[0]);
        break;
      }
      const text = units.join('');
      if (this.count(text) <= this.max) {
        this.out.push(text);
        break;
      }
      // Largest prefix of units that fits (a single unit always does).
      let lo = 1;
      let hi = units.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (this.count(units.slice(0, mid).join('')) <= this.max) lo = mid;
        else hi = mid - 1;
      }
      this.out.push(units.slice(0, lo).join(''));
      units = units.slice(lo);
    }
    this.units = [];
    this.counts = [];
    this.estimate = 0;
  }
}

/**
 * Splits `text` into chunks with `chunks.join('') === text` and
 * `countTokens(chunk) <= maxTokens` for every chunk. Greedy: as many whole
 * paragraphs as fit go into one chunk; a paragraph that does not fit alone is
 * cut at line ends, then sentence ends, then whitespace, then code points.
 * A single code point whose count exceeds `maxTokens` (possible only for tiny
 * limits) becomes a chunk on its own. Empty text gives [].
 */
export function chunkText(text: string, countTokens: (s: string) => number, maxTokens: number): string[] {
  if (typeof text !== 'string') throw new TypeError('chunkText: text must be a string');
  if (!(maxTokens >= 1)) throw new RangeError(`chunkText: maxTokens must be at least 1, got ${maxTokens}`);
  if (text.length === 0) return [];
  const packer = new Packer(countTokens, maxTokens);

  const feed = (segment: string, level: number, knownCount: number): void => {
    if (level >= LEVELS.length) {
      cutCodePoints(segment);
      return;
    }
    const units = splitAfter(segment, LEVELS[level]);
    if (units.length === 1) {
      // No boundary of this kind inside: go one level finer without recounting.
      if (Number.isNaN(knownCount)) knownCount = countTokens(segment);
      if (knownCount <= maxTokens) packer.add(segment, knownCount);
      else feed(segment, level + 1, knownCount);
      return;
    }
    for (const u of units) {
      const c = countTokens(u);
      if (c <= maxTokens) {
        packer.add(u, c);
      } else {
        packer.flush();
        feed(u, level + 1, c);
      }
    }
  };

  /**
   * Cuts the longest fitting prefixes (between code points) off an oversized unit. Only prefixes
   * up to about twice a chunk's length are ever counted, never the whole remainder: the work is
   * O(n log n) in the unit's length, not quadratic.
   */
  const cutCodePoints = (segment: string): void => {
    let rest = segment;
    let guess = Math.max(1, Math.floor(maxTokens));
    for (;;) {
      // Gallop: double a fitting length until one does not fit or the whole remainder does.
      let good = 0;
      let bad: number;
      let probe = codePointBoundary(rest, Math.min(guess, rest.length));
      if (probe === 0) probe = codePointLength(rest, 0);
      for (;;) {
        const c = countTokens(rest.slice(0, probe));
        if (c > maxTokens) {
          bad = probe;
          break;
        }
        if (probe >= rest.length) {
          packer.add(rest, c);
          return;
        }
        good = probe;
        probe = codePointBoundary(rest, Math.min(probe * 2, rest.length));
        if (probe <= good) probe = good + codePointLength(rest, good);
      }
      while (bad - good > 1) {
        const mid = codePointBoundary(rest, (good + bad) >> 1);
        if (mid <= good) break; // only a surrogate pair lies between good and bad
        if (countTokens(rest.slice(0, mid)) <= maxTokens) good = mid;
        else bad = mid;
      }
      if (good === 0) good = codePointLength(rest, 0); // a lone oversized code point
      packer.emit(rest.slice(0, good));
      guess = good;
      rest = rest.slice(good);
    }
  };

  feed(text, 0, NaN); // NaN: not counted yet
  packer.flush();
  return packer.out;
}

/** chunkText, then drops chunks that contain only whitespace. */
export function chunkForTraining(text: string, countTokens: (s: string) => number, maxTokens: number): string[] {
  return chunkText(text, countTokens, maxTokens).filter((c) => /\S/.test(c));
}
