/**
 * WTF-8: UTF-8 extended so that lone UTF-16 surrogates are encoded as their
 * generalized 3-byte form (ED A0..BF 80..BF). Every JavaScript string therefore
 * round-trips losslessly through bytes, lone surrogates included.
 *
 * Decoding is total: any byte sequence decodes to a string, with one U+FFFD per
 * maximal invalid subpart (the W3C/Unicode "best practice" substitution), so
 * arbitrary model output can always be shown.
 *
 * Nothing here depends on tfjs or vscode.
 */

const REPLACEMENT = 0xfffd;
/** Code units converted per String.fromCharCode call (stays well below argument limits). */
const FROM_CHAR_CODE_CHUNK = 0x2000;

/** Encodes any JavaScript string as WTF-8 bytes (standard UTF-8 when the string is well formed). */
export function encodeWtf8(s: string): Uint8Array {
  const n = s.length;
  // Each UTF-16 code unit needs at most 3 bytes (a surrogate pair needs 4 bytes for 2 units).
  const out = new Uint8Array(n * 3);
  let p = 0;
  for (let i = 0; i < n; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      out[p++] = c;
    } else if (c < 0x800) {
      out[p++] = 0xc0 | (c >> 6);
      out[p++] = 0x80 | (c & 0x3f);
    } else {
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
        const d = s.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          i++;
          out[p++] = 0xf0 | (c >> 18);
          out[p++] = 0x80 | ((c >> 12) & 0x3f);
          out[p++] = 0x80 | ((c >> 6) & 0x3f);
          out[p++] = 0x80 | (c & 0x3f);
          continue;
        }
      }
      // BMP character, or a lone surrogate in its generalized 3-byte form.
      out[p++] = 0xe0 | (c >> 12);
      out[p++] = 0x80 | ((c >> 6) & 0x3f);
      out[p++] = 0x80 | (c & 0x3f);
    }
  }
  return out.slice(0, p);
}

/**
 * Length of the well-formed WTF-8 sequence starting at `i`, or 0 when the byte at
 * `i` does not start one (invalid lead byte, truncated or bad continuation).
 */
export function wtf8SequenceLength(bytes: ArrayLike<number>, i: number): number {
  const n = bytes.length;
  const b0 = bytes[i] & 0xff;
  if (b0 < 0x80) return 1;
  if (b0 < 0xc2) return 0;
  if (b0 < 0xe0) return i + 1 < n && isCont(bytes[i + 1]) ? 2 : 0;
  let need: number;
  let lo = 0x80;
  let hi = 0xbf;
  if (b0 < 0xf0) {
    need = 3;
    if (b0 === 0xe0) lo = 0xa0; // no overlong forms
  } else if (b0 < 0xf5) {
    need = 4;
    if (b0 === 0xf0) lo = 0x90;
    else if (b0 === 0xf4) hi = 0x8f; // nothing above U+10FFFF
  } else {
    return 0;
  }
  if (i + need > n) return 0;
  const b1 = bytes[i + 1] & 0xff;
  if (b1 < lo || b1 > hi) return 0;
  for (let k = 2; k < need; k++) if (!isCont(bytes[i + k])) return 0;
  return need;
}

function isCont(b: number): boolean {
  return (b & 0xc0) === 0x80;
}

/**
 * Decodes WTF-8 (and therefore UTF-8) bytes. Never throws: each maximal invalid
 * subpart becomes one U+FFFD. Values of a number[] are taken modulo 256.
 */
export function decodeWtf8(bytes: Uint8Array | number[]): string {
  const n = bytes.length;
  if (n === 0) return '';
  // One byte never yields more than one UTF-16 code unit (4 bytes -> 2 units).
  const units = new Uint16Array(n);
  let u = 0;
  let i = 0;
  while (i < n) {
    const b0 = bytes[i] & 0xff;
    if (b0 < 0x80) {
      units[u++] = b0;
      i++;
      continue;
    }
    const len = wtf8SequenceLength(bytes, i);
    if (len === 2) {
      units[u++] = ((b0 & 0x1f) << 6) | (bytes[i + 1] & 0x3f);
    } else if (len === 3) {
      units[u++] = ((b0 & 0x0f) << 12) | ((bytes[i + 1] & 0x3f) << 6) | (bytes[i + 2] & 0x3f);
    } else if (len === 4) {
      const cp =
        ((b0 & 0x07) << 18) | ((bytes[i + 1] & 0x3f) << 12) | ((bytes[i + 2] & 0x3f) << 6) | (bytes[i + 3] & 0x3f);
      const v = cp - 0x10000;
      units[u++] = 0xd800 | (v >> 10);
      units[u++] = 0xdc00 | (v & 0x3ff);
    } else {
      units[u++] = REPLACEMENT;
      i += invalidSubpartLength(bytes, i);
      continue;
    }
    i += len;
  }
  return unitsToString(units, u);
}

/**
 * Length of the maximal invalid subpart at `i` (at least 1): the longest prefix of
 * a well-formed sequence that is present before the sequence breaks off.
 */
function invalidSubpartLength(bytes: ArrayLike<number>, i: number): number {
  const n = bytes.length;
  const b0 = bytes[i] & 0xff;
  let need: number;
  let lo = 0x80;
  let hi = 0xbf;
  if (b0 >= 0xc2 && b0 < 0xe0) need = 2;
  else if (b0 >= 0xe0 && b0 < 0xf0) {
    need = 3;
    if (b0 === 0xe0) lo = 0xa0;
  } else if (b0 >= 0xf0 && b0 < 0xf5) {
    need = 4;
    if (b0 === 0xf0) lo = 0x90;
    else if (b0 === 0xf4) hi = 0x8f;
  } else {
    return 1;
  }
  let k = 1;
  if (i + 1 < n) {
    const b1 = bytes[i + 1] & 0xff;
    if (b1 >= lo && b1 <= hi) {
      k = 2;
      while (k < need && i + k < n && isCont(bytes[i + k])) k++;
    }
  }
  return k;
}

function unitsToString(units: Uint16Array, count: number): string {
  if (count <= FROM_CHAR_CODE_CHUNK) {
    return String.fromCharCode.apply(null, units.subarray(0, count) as unknown as number[]);
  }
  const parts: string[] = [];
  for (let s = 0; s < count; s += FROM_CHAR_CODE_CHUNK) {
    const e = Math.min(count, s + FROM_CHAR_CODE_CHUNK);
    parts.push(String.fromCharCode.apply(null, units.subarray(s, e) as unknown as number[]));
  }
  return parts.join('');
}
