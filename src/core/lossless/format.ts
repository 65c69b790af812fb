/**
 * Lossless codes: the container, with no model and no Node APIs, so the extension host can recognise
 * and describe a code (hover) without the engine.
 *
 * String form:  tvz<version>:<fingerprint8>:<base64url payload>
 * Binary form:  one magic byte 0xF4 + version (0xF5 for version 1, 0xF6 for 2, 0xF7 for 3: bytes
 *               0xF5..0xFF never occur in UTF-8 text), the first 4 bytes of the model fingerprint, payload.
 * Version 2 codes model segments with a document cache mixed in (cacheMix.ts), fresh in each segment;
 * version 3 carries the cache from segment to segment (codec.ts carryCache); version 1 has none.
 *
 * Payload: one or more segments, each
 *     varint head = rawLength * 8 + last * 4 + method   (method: 0 stored, 1 brotli, 2 model)
 *     varint bodyLength                                 (absent in the last segment: its body runs
 *                                                        to 4 bytes before the end)
 *     body
 *     CRC-32 (big-endian) of the segment's original bytes
 * The original length is the sum of the segments' raw lengths. Every segment is checked before any
 * of its bytes are given out, so damaged codes never yield wrong text. A one-segment code of a
 * 60-byte sentence spends 2 + 4 bytes on this (plus 5 bytes of magic and fingerprint in the binary form).
 */
import { codePattern, type FoundCode } from '../codePattern';
import { base64urlDecode, base64urlEncode } from '../latentCode';

/** The version codes are written in. */
export const LOSSLESS_VERSION = 3;
/** The versions this build decodes. */
export const LOSSLESS_VERSIONS: readonly number[] = [1, 2, 3];
/** The magic byte of version v is LOSSLESS_MAGIC_BASE + v. */
export const LOSSLESS_MAGIC_BASE = 0xf4;
const FP_LEN = 8;
const CRC_BYTES = 4;
/** Bytes before the payload in the binary form. */
export const BINARY_HEADER_BYTES = 5;
/** Largest raw segment a decoder accepts: keeps memory bounded on hostile input. */
export const MAX_SEGMENT_BYTES = 1 << 20;
/** A whole input coded by brotli in one segment (where that beats segments) may be this long. */
export const MAX_BROTLI_SEGMENT_BYTES = 64 << 20;

export const Method = { Stored: 0, Brotli: 1, Model: 2 } as const;
export type Method = (typeof Method)[keyof typeof Method];
export const METHOD_NAMES = ['stored', 'brotli', 'model'] as const;

export type LosslessCodeReason =
  'not-a-code' | 'unsupported-version' | 'truncated' | 'corrupt' | 'wrong-model' | 'checksum';

export class LosslessCodeError extends Error {
  constructor(
    readonly reason: LosslessCodeReason,
    message: string,
  ) {
    super(message);
    this.name = 'LosslessCodeError';
  }
}

const LOSSLESS_CODES = codePattern('tvz');
/** Lossless codes (any version) in arbitrary text; the whole match is the code. Global. */
export const LOSSLESS_CODE_PATTERN: RegExp = LOSSLESS_CODES.pattern;
const WHOLE_CODE = LOSSLESS_CODES.whole;
/** Syntactic check only (any version, surrounding whitespace allowed), like isLatentCode. */
export const isLosslessCode: (s: string) => boolean = LOSSLESS_CODES.is;
export const findLosslessCodes: (text: string) => FoundCode[] = LOSSLESS_CODES.find;

/** A parsed container: the model it needs (first 8 hex characters of its fingerprint), the version and the payload. */
export interface LosslessContainer {
  fingerprint8: string;
  version: number;
  payload: Uint8Array;
}

export function formatLosslessCode(payload: Uint8Array, fingerprint: string, version = LOSSLESS_VERSION): string {
  return `tvz${version}:${fingerprint.slice(0, FP_LEN).toLowerCase()}:${base64urlEncode(payload)}`;
}

/** The string form of a whole binary code (its header says the version). */
export function binaryToCode(binary: Uint8Array, fingerprint: string): string {
  return formatLosslessCode(binary.subarray(BINARY_HEADER_BYTES), fingerprint, binaryVersion(binary));
}

export function parseLosslessCode(code: string): LosslessContainer {
  const text = code.trim();
  const m = WHOLE_CODE.exec(text);
  if (!m) {
    const shown = text.length > 40 ? `${text.slice(0, 37)}...` : text;
    throw new LosslessCodeError(
      'not-a-code',
      `not a lossless code: expected "tvz${LOSSLESS_VERSION}:<8 hex chars>:<base64url>", got ${JSON.stringify(shown)}`,
    );
  }
  const version = Number(m[1]);
  checkVersion(version);
  const { bytes, leftoverBits, leftover } = base64urlDecode(m[3]);
  if (leftoverBits >= 6 || leftover !== 0) {
    throw new LosslessCodeError('corrupt', 'lossless code is corrupt: its last character is not a possible ending');
  }
  return { fingerprint8: m[2], version, payload: bytes };
}

function checkVersion(version: number): void {
  if (!LOSSLESS_VERSIONS.includes(version)) {
    throw new LosslessCodeError(
      'unsupported-version',
      `lossless code version ${version} is not supported by this version of TextVAE (supports ${LOSSLESS_VERSIONS.slice(0, -1).join(', ')} and ${LOSSLESS_VERSIONS.at(-1)})`,
    );
  }
}

/** The binary header: magic, version, 4 fingerprint bytes. */
export function binaryHeader(fingerprint: string, version = LOSSLESS_VERSION): Uint8Array {
  const out = new Uint8Array(BINARY_HEADER_BYTES);
  out[0] = LOSSLESS_MAGIC_BASE + version;
  for (let i = 0; i < 4; i++) out[1 + i] = parseInt(fingerprint.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** True when `bytes` start like the binary form (magic and any version). */
export function looksLikeLosslessBinary(bytes: Uint8Array): boolean {
  return bytes.length >= 1 && bytes[0] > LOSSLESS_MAGIC_BASE;
}

/** Reads the binary header; returns the fingerprint prefix. */
export function parseBinaryHeader(bytes: Uint8Array): string {
  if (!looksLikeLosslessBinary(bytes)) {
    throw new LosslessCodeError(
      'not-a-code',
      'not a lossless code file: it does not start with a magic byte 0xF5..0xFF',
    );
  }
  checkVersion(bytes[0] - LOSSLESS_MAGIC_BASE);
  if (bytes.length < BINARY_HEADER_BYTES) {
    throw new LosslessCodeError('truncated', 'lossless code file is truncated: the header is incomplete');
  }
  return Array.from(bytes.subarray(1, 5), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** The version of a binary code whose header parseBinaryHeader accepted. */
export function binaryVersion(bytes: Uint8Array): number {
  return bytes[0] - LOSSLESS_MAGIC_BASE;
}

export function checkModel(fingerprint8: string, activeFingerprint: string, activeName?: string): void {
  const active = activeFingerprint.slice(0, FP_LEN).toLowerCase();
  if (fingerprint8 !== active) {
    throw new LosslessCodeError(
      'wrong-model',
      `this lossless code was made by model ${fingerprint8}; the active model is ${active}${activeName ? ` (${activeName})` : ''}. Load model ${fingerprint8} to decode it.`,
    );
  }
}

// ---------------------------------------------------------------- varints and segments

export function writeVarint(out: number[], v: number): void {
  while (v >= 128) {
    out.push((v % 128) | 128);
    v = Math.floor(v / 128);
  }
  out.push(v);
}

/** Reads a varint at `pos`; null when the bytes end first. */
export function readVarint(bytes: Uint8Array, pos: number): { value: number; next: number } | null {
  let value = 0;
  let mul = 1;
  for (let i = pos; i < bytes.length; i++) {
    const b = bytes[i];
    value += (b & 127) * mul;
    if (b < 128) return { value, next: i + 1 };
    mul *= 128;
    if (mul > 2 ** 42) throw new LosslessCodeError('corrupt', 'lossless code is corrupt: a length field is too long');
  }
  return null;
}

export interface SegmentHead {
  method: Method;
  rawLength: number;
  last: boolean;
}

/** Wire bytes of one segment. */
export function writeSegment(head: SegmentHead, body: Uint8Array, crc: number): Uint8Array {
  const pre: number[] = [];
  writeVarint(pre, head.rawLength * 8 + (head.last ? 4 : 0) + head.method);
  if (!head.last) writeVarint(pre, body.length);
  const out = new Uint8Array(pre.length + body.length + CRC_BYTES);
  out.set(pre, 0);
  out.set(body, pre.length);
  new DataView(out.buffer).setUint32(pre.length + body.length, crc >>> 0, false);
  return out;
}

export interface Segment extends SegmentHead {
  body: Uint8Array;
  crc: number;
}

const TRUNCATED = (): LosslessCodeError =>
  new LosslessCodeError('truncated', 'lossless code is truncated: it ends in the middle of a segment');

/**
 * Parses the segment at `pos` of a complete payload (string form, or a whole file in memory).
 * Returns the segment and where the next begins.
 */
export function readSegment(payload: Uint8Array, pos: number): { segment: Segment; next: number } {
  const head = readVarint(payload, pos);
  if (!head) throw TRUNCATED();
  const seg = decodeHead(head.value);
  let start = head.next;
  let end: number;
  if (seg.last) {
    end = payload.length - CRC_BYTES;
    if (end < start) throw TRUNCATED();
  } else {
    const len = readVarint(payload, start);
    if (!len) throw TRUNCATED();
    start = len.next;
    end = start + len.value;
    if (end + CRC_BYTES > payload.length) throw TRUNCATED();
  }
  const crc = new DataView(payload.buffer, payload.byteOffset + end, CRC_BYTES).getUint32(0, false);
  return { segment: { ...seg, body: payload.subarray(start, end), crc }, next: end + CRC_BYTES };
}

export function decodeHead(value: number): SegmentHead {
  const method = value % 4;
  const rawLength = Math.floor(value / 8);
  if (method > Method.Model) {
    throw new LosslessCodeError('corrupt', `lossless code is corrupt: unknown coding method ${method}`);
  }
  if (rawLength > (method === Method.Brotli ? MAX_BROTLI_SEGMENT_BYTES : MAX_SEGMENT_BYTES)) {
    throw new LosslessCodeError('corrupt', `lossless code is corrupt: a segment claims ${rawLength} bytes`);
  }
  return { method: method as Method, rawLength, last: (value & 4) !== 0 };
}

/** What a code holds, without decoding it: for hovers and `--info`. */
export interface LosslessSummary {
  fingerprint8: string;
  originalBytes: number;
  codeBytes: number;
  methods: string[];
}

/** Walks the segments (checking the structure only). */
export function summarisePayload(container: LosslessContainer, codeBytes: number): LosslessSummary {
  const methods = new Set<string>();
  let originalBytes = 0;
  let pos = 0;
  for (;;) {
    const { segment, next } = readSegment(container.payload, pos);
    originalBytes += segment.rawLength;
    methods.add(METHOD_NAMES[segment.method]);
    pos = next;
    if (segment.last) break;
    if (pos >= container.payload.length) throw TRUNCATED();
  }
  if (pos !== container.payload.length) {
    throw new LosslessCodeError('corrupt', 'lossless code is corrupt: bytes follow its last segment');
  }
  return { fingerprint8: container.fingerprint8, originalBytes, codeBytes, methods: [...methods] };
}
