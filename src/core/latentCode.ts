/**
 * Compact, copy-pasteable latent codes, in two versions:
 *
 *     tvae1:<fingerprint8>:<base64url payload>    fixed length: int8 per dimension (scheme 1)
 *     tvae2:<fingerprint8>:<base64url payload>    variable length: precision scheme (scheme 2)
 *
 * - `fingerprint8` is the first 8 lowercase hex characters of the model's
 *   sha256 fingerprint (see bundle.ts).
 * - The payload (base64url, no padding) is:
 *
 *       byte 0          quantisation scheme id (currently only SCHEME_INT8_CLAMP4 = 1)
 *       byte 1          number of latent dimensions n (1..255)
 *       bytes 2..n+1    one signed int8 per dimension
 *       bytes n+2..n+5  CRC-32 (IEEE, big-endian) over the ASCII prefix
 *                       "tvae1:<fp8>:" followed by payload bytes 0..n+1
 *
 *   Because the checksum covers the prefix, a code whose fingerprint was edited
 *   by hand is 'corrupt', while a code genuinely made by another model (intact,
 *   valid checksum) is reported as 'wrong-model'.
 *
 * Quantisation scheme 1: each z_i is clamped to [-4, 4] and stored as
 * q_i = round(z_i * 127 / 4), an integer in [-127, 127]; decoding gives
 * q_i * 4 / 127. The step is 4/127 ≈ 0.0315, so for |z_i| <= 4 the absolute
 * error is at most half a step, 2/127 ≈ 0.01575. Values outside [-4, 4]
 * (more than 4 standard deviations under the unit Gaussian prior) decode to ±4.
 *
 * Scheme 2 (tvae2, models whose config says codeScheme 'precision'): the payload is
 *
 *       bytes 0..n-1    the range-coded grid indices of every dimension (latentPrecision.ts);
 *                       the model knows the dimension count and each dimension's step
 *       bytes n..n+1    CRC-16 (CCITT, big-endian) over "tvae2:<fp8>:" and bytes 0..n-1
 *
 *   No header byte: the version in the prefix names the format (older TextVAE reports tvae2 as an
 *   unsupported version rather than misreading it). Two check bytes, not four: a code is ~20 bytes,
 *   and CRC-16 still detects every single edited character (any burst of up to 16 bits), the
 *   fingerprint's included, so a hand-edited prefix stays 'corrupt' and not 'wrong-model'; on top,
 *   only the exact bytes the encoder writes decode (the decoder re-encodes and compares).
 *   A scheme-2 code can only be decoded with its model (its steps); without one it can be checked.
 *
 * No Node- or browser-specific APIs are used, so this module also runs in a webview.
 */

import { codePattern, type FoundCode } from './codePattern';
import { LatentQuantiser, PrecisionCodeError } from './latentPrecision';

export type LatentCodeReason =
  'not-a-code' | 'unsupported-version' | 'truncated' | 'corrupt' | 'wrong-model' | 'bad-dimension' | 'needs-model';

export class LatentCodeError extends Error {
  readonly reason: LatentCodeReason;
  constructor(reason: LatentCodeReason, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'LatentCodeError';
    this.reason = reason;
  }
}

/** The version of scheme-1 codes (fixed length, int8 per dimension). */
export const LATENT_CODE_VERSION = 1;
/** The version of scheme-2 codes (precision-following steps, range-coded). */
export const PRECISION_CODE_VERSION = 2;
/** Quantisation scheme id 1: int8, clamp range [-LATENT_CLAMP, LATENT_CLAMP]. */
export const SCHEME_INT8_CLAMP4 = 1;
/** Clamp range of scheme 1. */
export const LATENT_CLAMP = 4;
/** Largest absolute quantisation error of scheme 1 for values inside the clamp range. */
export const LATENT_MAX_ERROR = LATENT_CLAMP / 127 / 2;
/** Largest number of latent dimensions a code can carry (one byte). */
export const MAX_LATENT_CODE_DIMS = 255;

const HEADER_BYTES = 2;
const CRC_BYTES = 4;
const CRC16_BYTES = 2;
const FP_LEN = 8;

const LATENT_CODES = codePattern('tvae');

/**
 * Finds latent codes (of any version, so that the editor can explain an
 * unsupported one) in arbitrary text. Global; the whole match is the code.
 * Prefer findLatentCodes, which does not share lastIndex state.
 */
export const LATENT_CODE_PATTERN: RegExp = LATENT_CODES.pattern;

const WHOLE_CODE = LATENT_CODES.whole;

/** Syntactic check only: `tvae<N>:<8 lowercase hex>:<base64url chars>`, any version N, surrounding whitespace allowed. */
export const isLatentCode: (s: string) => boolean = LATENT_CODES.is;

export const findLatentCodes: (text: string) => FoundCode[] = LATENT_CODES.find;

// ---------------------------------------------------------------- CRC-32

const CRC_TABLE: Uint32Array = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (IEEE 802.3, reflected, as in zip/png) of the concatenated byte arrays. */
export function crc32(...parts: Uint8Array[]): number {
  let c = 0xffffffff;
  for (const bytes of parts) {
    for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  }
  return (c ^ 0xffffffff) >>> 0;
}

/** CRC-16/CCITT (polynomial 0x1021, initial 0xffff, not reflected) of the concatenated byte arrays. */
export function crc16(...parts: Uint8Array[]): number {
  let c = 0xffff;
  for (const bytes of parts) {
    for (let i = 0; i < bytes.length; i++) {
      c ^= bytes[i] << 8;
      for (let k = 0; k < 8; k++) c = c & 0x8000 ? ((c << 1) ^ 0x1021) & 0xffff : (c << 1) & 0xffff;
    }
  }
  return c;
}

// ---------------------------------------------------------------- base64url

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const B64_INDEX: Int16Array = (() => {
  const idx = new Int16Array(128).fill(-1);
  for (let i = 0; i < B64.length; i++) idx[B64.charCodeAt(i)] = i;
  return idx;
})();

/** base64url without padding (RFC 4648 §5). */
export function base64urlEncode(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const v = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out += B64[v >>> 18] + B64[(v >>> 12) & 63] + B64[(v >>> 6) & 63] + B64[v & 63];
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const v = bytes[i] << 16;
    out += B64[v >>> 18] + B64[(v >>> 12) & 63];
  } else if (rest === 2) {
    const v = (bytes[i] << 16) | (bytes[i + 1] << 8);
    out += B64[v >>> 18] + B64[(v >>> 12) & 63] + B64[(v >>> 6) & 63];
  }
  return out;
}

/**
 * Decodes base64url without padding. Whole bytes only: bits of an incomplete
 * trailing group are reported in `leftover`, so that a cut-off code can be
 * told apart (truncated) from one with stray trailing bits (corrupt).
 * The caller has already checked that every character is in the alphabet.
 */
export function base64urlDecode(s: string): { bytes: Uint8Array; leftoverBits: number; leftover: number } {
  const bytes = new Uint8Array(Math.floor((s.length * 6) / 8));
  let acc = 0;
  let bits = 0;
  let j = 0;
  for (let i = 0; i < s.length; i++) {
    acc = ((acc << 6) | B64_INDEX[s.charCodeAt(i)]) & 0xffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes[j++] = (acc >>> bits) & 0xff;
    }
  }
  return { bytes, leftoverBits: bits, leftover: acc & ((1 << bits) - 1) };
}

// ---------------------------------------------------------------- format / parse

const ASCII = (s: string): Uint8Array => {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i) & 0x7f;
  return b;
};

/** Accepts a full hex fingerprint (or at least its first 8 hex chars) and returns the 8-char form. */
function shortFingerprint(fingerprint: string, what: string): string {
  const fp = String(fingerprint).trim().toLowerCase();
  if (!/^[0-9a-f]{8,}$/.test(fp)) {
    throw new TypeError(
      `${what} must be a hex model fingerprint of at least ${FP_LEN} characters (got ${JSON.stringify(fingerprint)})`,
    );
  }
  return fp.slice(0, FP_LEN);
}

export function formatLatentCode(z: ArrayLike<number>, modelFingerprint: string): string {
  const fp8 = shortFingerprint(modelFingerprint, 'formatLatentCode: modelFingerprint');
  const n = z.length;
  if (n < 1 || n > MAX_LATENT_CODE_DIMS) {
    throw new RangeError(`formatLatentCode: a latent code holds 1..${MAX_LATENT_CODE_DIMS} dimensions, got ${n}`);
  }
  const prefix = `tvae${LATENT_CODE_VERSION}:${fp8}:`;
  const payload = new Uint8Array(HEADER_BYTES + n + CRC_BYTES);
  payload[0] = SCHEME_INT8_CLAMP4;
  payload[1] = n;
  const scale = 127 / LATENT_CLAMP;
  for (let i = 0; i < n; i++) {
    const v = Number(z[i]);
    if (!Number.isFinite(v)) {
      throw new RangeError(`formatLatentCode: dimension ${i} is ${v}; only finite numbers can be encoded`);
    }
    const clamped = Math.min(LATENT_CLAMP, Math.max(-LATENT_CLAMP, v));
    const q = Math.max(-127, Math.min(127, Math.round(clamped * scale)));
    payload[HEADER_BYTES + i] = q & 0xff;
  }
  const body = payload.subarray(0, HEADER_BYTES + n);
  const crc = crc32(ASCII(prefix), body);
  new DataView(payload.buffer).setUint32(HEADER_BYTES + n, crc, false);
  return prefix + base64urlEncode(payload);
}

/** What a code is checked against: the active model. */
export interface ExpectedModel {
  /** The full fingerprint or its 8-character prefix. */
  fingerprint: string;
  latentDim: number;
  /** The model's scheme-2 quantiser; a model that writes scheme-1 codes has none. */
  quantiser?: LatentQuantiser;
}

/**
 * A scheme-2 code of a standardised latent vector (see the top of this file). Each value comes back
 * within half of its dimension's step, however large (outliers are escaped, not clamped).
 */
export function formatPrecisionCode(
  z: ArrayLike<number>,
  modelFingerprint: string,
  quantiser: LatentQuantiser,
): string {
  const fp8 = shortFingerprint(modelFingerprint, 'formatPrecisionCode: modelFingerprint');
  if (z.length !== quantiser.dims) {
    throw new RangeError(`formatPrecisionCode: the model codes ${quantiser.dims} dimensions, got ${z.length}`);
  }
  const prefix = `tvae${PRECISION_CODE_VERSION}:${fp8}:`;
  let body: Uint8Array;
  try {
    body = quantiser.encode(quantiser.indices(z));
  } catch (err) {
    throw new RangeError(`formatPrecisionCode: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  const payload = new Uint8Array(body.length + CRC16_BYTES);
  payload.set(body);
  const crc = crc16(ASCII(prefix), body);
  payload[body.length] = crc >>> 8;
  payload[body.length + 1] = crc & 0xff;
  return prefix + base64urlEncode(payload);
}

/**
 * Decodes a latent code of either version to its standardised latent vector. Checks, in order:
 * syntax, version, length, checksum (and quantisation scheme), then — when `expected` is given —
 * model fingerprint and dimension count. Throws LatentCodeError. A tvae2 code also needs
 * `expected.quantiser` to be decoded ('needs-model' without one).
 */
export function parseLatentCode(code: string, expected?: ExpectedModel): Float32Array {
  const text = typeof code === 'string' ? code.trim() : '';
  const m = WHOLE_CODE.exec(text);
  if (!m) {
    const shown = text.length > 40 ? `${text.slice(0, 37)}...` : text;
    throw new LatentCodeError(
      'not-a-code',
      `not a latent code: expected "tvae2:<8 hex chars>:<base64url>", got ${JSON.stringify(shown)}`,
    );
  }
  const [, versionText, fp8, payloadText] = m;
  if (versionText === String(PRECISION_CODE_VERSION)) return parsePrecisionCode(fp8, payloadText, expected);
  if (versionText !== String(LATENT_CODE_VERSION)) {
    throw new LatentCodeError(
      'unsupported-version',
      `latent code version tvae${versionText} is not supported by this version of TextVAE (supports tvae${LATENT_CODE_VERSION} and tvae${PRECISION_CODE_VERSION})`,
    );
  }
  const { bytes, leftoverBits, leftover } = base64urlDecode(payloadText);
  if (bytes.length < HEADER_BYTES) {
    throw new LatentCodeError(
      'truncated',
      `latent code is truncated: expected at least ${HEADER_BYTES + 1 + CRC_BYTES} payload bytes, found ${bytes.length}`,
    );
  }
  const n = bytes[1];
  const expectedBytes = HEADER_BYTES + n + CRC_BYTES;
  if (bytes.length < expectedBytes) {
    throw new LatentCodeError(
      'truncated',
      `latent code is truncated: expected ${expectedBytes} payload bytes for ${n} dimensions, found ${bytes.length}`,
    );
  }
  if (bytes.length > expectedBytes || leftover !== 0 || leftoverBits >= 6) {
    throw new LatentCodeError(
      'corrupt',
      `latent code is corrupt: payload is ${bytes.length} bytes${leftoverBits ? ' plus stray bits' : ''}, expected ${expectedBytes} for ${n} dimensions`,
    );
  }

  const prefix = `tvae${versionText}:${fp8}:`;
  const stored = new DataView(bytes.buffer, bytes.byteOffset, bytes.length).getUint32(HEADER_BYTES + n, false);
  const actual = crc32(ASCII(prefix), bytes.subarray(0, HEADER_BYTES + n));
  if (stored !== actual) {
    throw new LatentCodeError(
      'corrupt',
      'latent code is corrupt: checksum mismatch (was it edited or copied incompletely?)',
    );
  }
  if (bytes[0] !== SCHEME_INT8_CLAMP4) {
    throw new LatentCodeError(
      'unsupported-version',
      `latent code uses quantisation scheme ${bytes[0]}, which this version of TextVAE does not support (supports ${SCHEME_INT8_CLAMP4})`,
    );
  }
  if (n < 1) {
    throw new LatentCodeError('bad-dimension', 'latent code has 0 dimensions');
  }

  if (expected) checkModel(fp8, n, expected);

  const z = new Float32Array(n);
  const step = LATENT_CLAMP / 127;
  for (let i = 0; i < n; i++) {
    const b = bytes[HEADER_BYTES + i];
    const q = b > 127 ? b - 256 : b;
    z[i] = q * step;
  }
  return z;
}

/** Model before dimension: a code of another model is 'wrong-model' whatever its size. */
function checkModel(fp8: string, dims: number, expected: ExpectedModel): void {
  const activeFp8 = shortFingerprint(expected.fingerprint, 'parseLatentCode: expected.fingerprint');
  if (activeFp8 !== fp8) {
    throw new LatentCodeError('wrong-model', `this code was made by model ${fp8}; the active model is ${activeFp8}`);
  }
  if (dims !== expected.latentDim) {
    throw new LatentCodeError(
      'bad-dimension',
      `this code has ${dims} latent dimensions; the active model has ${expected.latentDim}`,
    );
  }
}

function parsePrecisionCode(fp8: string, payloadText: string, expected?: ExpectedModel): Float32Array {
  const { bytes, leftoverBits, leftover } = base64urlDecode(payloadText);
  if (bytes.length < CRC16_BYTES) {
    throw new LatentCodeError(
      'truncated',
      `latent code is truncated: expected at least ${CRC16_BYTES} payload bytes, found ${bytes.length}`,
    );
  }
  if (leftover !== 0 || leftoverBits >= 6) {
    throw new LatentCodeError(
      'corrupt',
      'latent code is corrupt: stray bits after its last byte (was it cut or edited?)',
    );
  }
  const body = bytes.subarray(0, bytes.length - CRC16_BYTES);
  const stored = (bytes[body.length] << 8) | bytes[body.length + 1];
  if (stored !== crc16(ASCII(`tvae${PRECISION_CODE_VERSION}:${fp8}:`), body)) {
    throw new LatentCodeError(
      'corrupt',
      'latent code is corrupt: checksum mismatch (was it edited or copied incompletely?)',
    );
  }
  if (!expected) {
    throw new LatentCodeError(
      'needs-model',
      `a tvae${PRECISION_CODE_VERSION} code can only be decoded by its model (${fp8})`,
    );
  }
  const { quantiser } = expected;
  // A model's fingerprint covers its config, so a model that wrote this code has a quantiser.
  checkModel(fp8, quantiser?.dims ?? expected.latentDim, expected);
  if (!quantiser) {
    throw new LatentCodeError(
      'unsupported-version',
      `the active model writes tvae${LATENT_CODE_VERSION} codes and cannot read this tvae${PRECISION_CODE_VERSION} code`,
    );
  }
  try {
    return quantiser.values(quantiser.decode(body));
  } catch (err) {
    if (!(err instanceof PrecisionCodeError)) throw err;
    throw new LatentCodeError(
      'corrupt',
      'latent code is corrupt: its payload codes no latent vector (was it edited?)',
      {
        cause: err,
      },
    );
  }
}
