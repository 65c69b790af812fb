/**
 * The text shape shared by every kind of code, `<prefix><version>:<fingerprint8>:<base64url>`:
 * how to find codes in prose and how to tell whether a string is one. Pure (no Node or browser
 * APIs), so the extension host and webviews can use it.
 */

// Characters that may not touch a code on either side: a code is never part of
// a longer identifier, base64 run, `a:b:c` chain or path segment.
const TOKEN_CHARS = 'A-Za-z0-9_\\-';
const FP_LEN = 8;

export interface FoundCode {
  code: string;
  start: number;
  end: number;
}

export interface CodePattern {
  /** Codes of any version in arbitrary text; global, the whole match is the code. Prefer `find`. */
  pattern: RegExp;
  /** A whole (trimmed) code; groups: version, fingerprint8, payload. */
  whole: RegExp;
  /**
   * Syntactic check of a whole string (any version, checksum not checked). Surrounding whitespace
   * is allowed, as the parsers trim it too: whatever `is` accepts, the parser reads.
   */
  is(s: string): boolean;
  /** Codes in text with their offsets; keeps no regex state between calls. */
  find(text: string): FoundCode[];
}

/** The pattern pair for codes that start with `prefix` (a plain lowercase word, e.g. "tvae"). */
export function codePattern(prefix: string): CodePattern {
  if (!/^[a-z]+$/.test(prefix)) throw new Error(`codePattern: bad prefix ${JSON.stringify(prefix)}`);
  const body = `${prefix}([0-9]+):([0-9a-f]{${FP_LEN}}):([${TOKEN_CHARS}]+)`;
  const pattern = new RegExp(`(?<![${TOKEN_CHARS}:/.])${body}(?![${TOKEN_CHARS}:/])`, 'g');
  const whole = new RegExp(`^${body}$`);
  return {
    pattern,
    whole,
    is: (s) => whole.test(s.trim()),
    find(text) {
      const re = new RegExp(pattern.source, pattern.flags);
      const out: FoundCode[] = [];
      for (let m = re.exec(text); m !== null; m = re.exec(text))
        out.push({ code: m[0], start: m.index, end: m.index + m[0].length });
      return out;
    },
  };
}
