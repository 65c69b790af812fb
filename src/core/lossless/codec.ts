/**
 * Lossless compression with the model: bytes -> tokens -> arithmetic code under the decoder's
 * next-token distribution (computed deterministically, see detDecoder.ts). Input is cut into
 * segments of at most SEGMENT_BYTES; each segment is coded by whichever of model, brotli or stored
 * bytes is shortest, so a code is never more than a few bytes longer than brotli's output. Inside a
 * segment the tokens are cut into blocks of the model's maxTokens, decoded together in lockstep.
 */
import * as zlib from 'node:zlib';
import type { ModelConfig, NamedWeights } from '../types';
import { BOS, FIRST_BYTE_ID, type Tokenizer } from '../tokenizer';
import { decodeWtf8, encodeWtf8, wtf8SequenceLength } from '../wtf8';
import { chunkText } from '../chunker';
import { crc32 } from '../latentCode';
import { DeterministicDecoder, JS_INT_MATMUL, type IntMatMul } from './detDecoder';
import { Q_CUM, latentBits, latentFrame, latentOf, quantiseLatent, type LatentFrame } from './latentPart';
import { RangeDecoder, RangeEncoder, RangeDecoderError, TOTAL } from './rangeCoder';
import { DocumentCache } from '../documentCache';
import { TVZ2_CACHE, mixFrequencies } from './cacheMix';
import {
  BINARY_HEADER_BYTES,
  LOSSLESS_VERSION,
  LosslessCodeError,
  MAX_BROTLI_SEGMENT_BYTES,
  Method,
  binaryHeader,
  binaryVersion,
  checkModel,
  decodeHead,
  formatLosslessCode,
  parseBinaryHeader,
  parseLosslessCode,
  readSegment,
  readVarint,
  writeSegment,
  type Segment,
} from './format';

/** Raw bytes per segment: bounds memory (the lockstep state of ~130 blocks) and the output's granularity. */
export const SEGMENT_BYTES = 32 * 1024;
/**
 * Version 3 carries the document cache from segment to segment, but starts it afresh at a segment
 * boundary once it has seen this many tokens (~300 KB of text, ~150 MB of cache): bounds memory.
 */
export const CARRY_TOKENS = 1 << 17;

/** Called with the number of original bytes handled so far. */
export type Progress = (doneBytes: number) => void;

/** Posterior means of texts: the model's encoder (tfjs). Only compression uses it, and only to choose z. */
export type LatentEncoder = (texts: string[]) => Promise<Float32Array[]>;

/**
 * Better grid points for blocks (token ids), starting from `grids`, in at most `sweeps` sweeps
 * (latentSearch.ts). Compression only: decoding reads the grid points from the code.
 */
export type LatentGridSearch = (
  blocks: Int32Array[],
  grids: Int32Array[],
  frame: LatentFrame,
  sweeps: number,
  onFraction?: (fraction: number) => void,
  signal?: AbortSignal,
) => Promise<Int32Array[]>;

/** What TextVae offers the coder (kept structural so this module does not load tfjs). */
export interface ModelSource {
  config: ModelConfig;
  tokenizer: Tokenizer;
  fingerprint: string;
  model: { exportWeights(): Promise<NamedWeights> };
  encodeChunks(chunks: string[]): Promise<Float32Array[]>;
  searchLatentGrids?: LatentGridSearch;
}

export class LosslessCoder {
  private readonly lm: DeterministicDecoder;
  private readonly tokenBytes: Uint8Array[];
  private readonly frame: LatentFrame;
  /** The format version `compress` writes (1: without the document cache, as older builds did). */
  version: number = LOSSLESS_VERSION;
  /**
   * Sweeps of the encoder's search for each block's grid point (0: the posterior mean, rounded).
   * losslessCoderFor sets the backend's default (choices.ts defaultSearchSweeps).
   */
  searchSweeps = 0;
  /** Raw bytes per segment `compress` writes (tests set fewer; decoders take any up to MAX_SEGMENT_BYTES). */
  segmentBytes = SEGMENT_BYTES;

  /** Without `latents`, every block is coded at the prior's centre (decoding never needs it). */
  constructor(
    readonly config: ModelConfig,
    weights: NamedWeights,
    private readonly tokenizer: Tokenizer,
    readonly fingerprint: string,
    private readonly latents?: LatentEncoder,
    matmul: IntMatMul = JS_INT_MATMUL,
    private readonly search?: LatentGridSearch,
  ) {
    this.lm = new DeterministicDecoder(config, weights, matmul);
    this.tokenBytes = Array.from({ length: tokenizer.vocabSize }, (_, id) => tokenizer.tokenBytes(id));
    this.frame = latentFrame(config, weights['latent.mean'].data, weights['latent.std'].data);
  }

  /** With the model's encoder for z; `matmul` may run the products elsewhere (same results). */
  static async fromModel(source: ModelSource, matmul: IntMatMul = JS_INT_MATMUL): Promise<LosslessCoder> {
    return new LosslessCoder(
      source.config,
      await source.model.exportWeights(),
      source.tokenizer,
      source.fingerprint,
      (texts) => source.encodeChunks(texts),
      matmul,
      source.searchLatentGrids && ((...args) => source.searchLatentGrids!(...args)),
    );
  }

  /** Frees what the products hold (tfjs tensors). */
  dispose(): void {
    this.lm.dispose();
  }

  // ---------------------------------------------------------------- whole inputs

  /** The payload (shared by the string and binary forms) of `bytes`. */
  async compress(bytes: Uint8Array, onProgress?: Progress, signal?: AbortSignal): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    const carried = carryCache(this.version, this.tokenizer.vocabSize);
    let pos = 0;
    do {
      if (signal) {
        // Between segments: let a worker receive a cancel, and stop if it came.
        await new Promise((resolve) => setImmediate(resolve));
        signal.throwIfAborted();
      }
      const end = segmentEnd(bytes, pos, bytes.length, this.segmentBytes);
      const base = pos;
      parts.push(
        await this.encodeSegment(
          bytes.subarray(pos, end),
          end === bytes.length,
          (d) => onProgress?.(base + d),
          signal,
          carried,
        ),
      );
      pos = end;
    } while (pos < bytes.length);
    const segmented = concat(parts);
    // Brotli over the whole input sees repeats across segments: never fall behind it.
    if (parts.length > 1 && bytes.length <= MAX_BROTLI_SEGMENT_BYTES) {
      const whole = writeSegment(
        { method: Method.Brotli, rawLength: bytes.length, last: true },
        brotliCompress(bytes),
        crc32(bytes),
      );
      if (whole.length < segmented.length) return whole;
    }
    return segmented;
  }

  async compressToCode(bytes: Uint8Array, onProgress?: Progress, signal?: AbortSignal): Promise<string> {
    const payload = await this.compress(bytes, onProgress, signal);
    return formatLosslessCode(payload, this.fingerprint, this.versionFor(readSegment(payload, 0).segment.last));
  }

  /** The binary form: header and payload. */
  async compressToBinary(bytes: Uint8Array, onProgress?: Progress): Promise<Uint8Array> {
    const payload = await this.compress(bytes, onProgress);
    return concat([binaryHeader(this.fingerprint, this.versionFor(readSegment(payload, 0).segment.last)), payload]);
  }

  /**
   * The version a code is labelled with: a payload of one segment decodes the same in versions 2
   * and 3 (the cache starts empty either way), so it keeps version 2, which older builds read.
   */
  private versionFor(oneSegment: boolean): number {
    return this.version === 3 && oneSegment ? 2 : this.version;
  }

  /** Decodes a whole payload of the given format version; every segment is checked before its bytes are kept. */
  decompressPayload(payload: Uint8Array, onProgress?: Progress, version = LOSSLESS_VERSION): Uint8Array {
    const parts: Uint8Array[] = [];
    const carried = carryCache(version, this.tokenizer.vocabSize);
    let pos = 0;
    let done = 0;
    for (;;) {
      const { segment, next } = readSegment(payload, pos);
      const base = done;
      parts.push(this.decodeSegment(segment, (d) => onProgress?.(base + d), version, carried));
      done += segment.rawLength;
      pos = next;
      if (segment.last) break;
      if (pos >= payload.length) {
        throw new LosslessCodeError('truncated', 'lossless code is truncated: its last segment is missing');
      }
    }
    if (pos !== payload.length) {
      throw new LosslessCodeError('corrupt', 'lossless code is corrupt: bytes follow its last segment');
    }
    return concat(parts);
  }

  /** A `tvz1:`, `tvz2:` or `tvz3:` string code -> the original bytes. */
  decompressCode(code: string, onProgress?: Progress): Uint8Array {
    const { fingerprint8, payload, version } = parseLosslessCode(code);
    checkModel(fingerprint8, this.fingerprint);
    return this.decompressPayload(payload, onProgress, version);
  }

  /** A binary code held in memory -> the original bytes. */
  decompressBinary(bytes: Uint8Array, onProgress?: Progress): Uint8Array {
    checkModel(parseBinaryHeader(bytes), this.fingerprint);
    return this.decompressPayload(bytes.subarray(BINARY_HEADER_BYTES), onProgress, binaryVersion(bytes));
  }

  // ---------------------------------------------------------------- streams (binary form)

  /**
   * Binary form of a byte stream, produced segment by segment (memory: one segment, and version 3's
   * cache). The header comes with the first segment, once it is known whether more follow (versionFor).
   */
  async *compressStream(source: AsyncIterable<Uint8Array>, onProgress?: Progress): AsyncGenerator<Uint8Array> {
    let header = true;
    let buf: Uint8Array = new Uint8Array(0);
    let done = 0;
    const size = this.segmentBytes;
    const carried = carryCache(this.version, this.tokenizer.vocabSize);
    const emit = async (end: number, last: boolean): Promise<Uint8Array> => {
      const base = done;
      const out = await this.encodeSegment(
        buf.subarray(0, end),
        last,
        (d) => onProgress?.(base + d),
        undefined,
        carried,
      );
      done += end;
      buf = buf.slice(end);
      if (!header) return out;
      header = false;
      return concat([binaryHeader(this.fingerprint, this.versionFor(last)), out]);
    };
    for await (const chunk of source) {
      buf = concat([buf, chunk]);
      // A segment is cut only when more bytes follow it, so that the last one is flagged.
      while (buf.length > size + 4) yield await emit(segmentEnd(buf, 0, buf.length, size), false);
    }
    while (buf.length > size) yield await emit(segmentEnd(buf, 0, buf.length, size), false);
    yield await emit(buf.length, true);
  }

  /** Original bytes of a binary code stream, segment by segment, each checked before it is given out. */
  async *decompressStream(source: AsyncIterable<Uint8Array>, onProgress?: Progress): AsyncGenerator<Uint8Array> {
    const reader = new ByteReader(source);
    await reader.fill(BINARY_HEADER_BYTES);
    checkModel(parseBinaryHeader(reader.peek(BINARY_HEADER_BYTES)), this.fingerprint);
    const version = binaryVersion(reader.peek(BINARY_HEADER_BYTES));
    reader.skip(BINARY_HEADER_BYTES);
    const carried = carryCache(version, this.tokenizer.vocabSize);
    let done = 0;
    for (;;) {
      await reader.fill(20);
      const head = readVarint(reader.peek(20), 0);
      if (!head) throw new LosslessCodeError('truncated', 'lossless code is truncated: a segment header is cut off');
      let segBytes: number;
      if (decodeHead(head.value).last) {
        // A body is never longer than its raw bytes (stored), plus the header and checksum.
        await reader.fillAll(decodeHead(head.value).rawLength + 32);
        segBytes = reader.available;
      } else {
        const len = readVarint(reader.peek(20), head.next);
        if (!len) throw new LosslessCodeError('truncated', 'lossless code is truncated: a segment header is cut off');
        segBytes = len.next + len.value + 4;
        await reader.fill(segBytes);
      }
      const { segment } = readSegment(reader.peek(segBytes), 0);
      reader.skip(segBytes);
      const base = done;
      yield this.decodeSegment(segment, (d) => onProgress?.(base + d), version, carried);
      done += segment.rawLength;
      if (segment.last) break;
      await reader.fill(1);
      if (reader.available === 0) {
        throw new LosslessCodeError('truncated', 'lossless code is truncated: its last segment is missing');
      }
    }
    await reader.fill(1);
    if (reader.available > 0) {
      throw new LosslessCodeError('corrupt', 'lossless code is corrupt: bytes follow its last segment');
    }
  }

  // ---------------------------------------------------------------- segments

  /**
   * Wire bytes of one segment, coded by the shortest method. `carried`: the code's cache in version 3
   * (carryCache), which this segment's model code reads and extends; afterSegment then keeps or resets it.
   */
  async encodeSegment(
    raw: Uint8Array,
    last: boolean,
    onProgress?: Progress,
    signal?: AbortSignal,
    carried: DocumentCache | null = null,
  ): Promise<Uint8Array> {
    const crc = crc32(raw);
    let method: Method = Method.Stored;
    let body = raw;
    if (raw.length > 0) {
      const brotli = brotliCompress(raw);
      if (brotli.length < body.length) {
        method = Method.Brotli;
        body = brotli;
      }
      const cache = carried ?? this.cacheFor(this.version);
      const model = await this.modelEncode(raw, (body.length - 1) * 8, cache, onProgress, signal);
      if (model && model.length < body.length) {
        method = Method.Model;
        body = model;
      }
    }
    if (carried) afterSegment(carried, method);
    onProgress?.(raw.length);
    return writeSegment({ method, rawLength: raw.length, last }, body, crc);
  }

  /**
   * A segment's original bytes; throws LosslessCodeError unless they match its checksum. Version 3
   * passes the code's `carried` cache (carryCache), as the encoder did.
   */
  decodeSegment(
    segment: Segment,
    onProgress?: Progress,
    version = LOSSLESS_VERSION,
    carried: DocumentCache | null = null,
  ): Uint8Array {
    let raw: Uint8Array;
    if (segment.method === Method.Stored) raw = segment.body;
    else if (segment.method === Method.Brotli) raw = brotliDecompress(segment.body, segment.rawLength);
    else raw = this.modelDecode(segment.body, segment.rawLength, onProgress, carried ?? this.cacheFor(version));
    if (raw.length !== segment.rawLength) {
      throw new LosslessCodeError(
        'truncated',
        `lossless code is corrupt or truncated: a segment decoded to ${raw.length} bytes where its header says ${segment.rawLength}`,
      );
    }
    if (crc32(raw) !== segment.crc) {
      throw new LosslessCodeError(
        'checksum',
        'lossless code failed its checksum: the decoded bytes are not the original (the code was damaged, or it was ' +
          'made by a TextVAE build whose coder differs from this one). Nothing was written.',
      );
    }
    if (carried) afterSegment(carried, segment.method);
    return raw;
  }

  /**
   * Token ids whose bytes are exactly `raw`: the tokenizer's tokens for well-formed runs, single byte
   * tokens for anything else (invalid UTF-8, binary). Decoding only concatenates token bytes, so any
   * covering works; the tokenizer's gives the model what it was trained on.
   */
  tokensOf(raw: Uint8Array): Int32Array {
    const out: number[] = [];
    const n = raw.length;
    let i = 0;
    while (i < n) {
      let j = i;
      for (let len = wtf8SequenceLength(raw, j); len > 0 && j < n; len = j < n ? wtf8SequenceLength(raw, j) : 0)
        j += len;
      if (j > i) {
        const run = raw.subarray(i, j);
        const ids = this.tokenizer.encode(decodeWtf8(run));
        if (this.covers(ids, run)) for (const id of ids) out.push(id);
        else for (const b of run) out.push(FIRST_BYTE_ID + b);
      }
      if (j < n) out.push(FIRST_BYTE_ID + raw[j++]);
      i = j;
    }
    return Int32Array.from(out);
  }

  private covers(ids: number[], run: Uint8Array): boolean {
    let p = 0;
    for (const id of ids) {
      const t = this.tokenBytes[id];
      if (t.length === 0 || p + t.length > run.length) return false;
      for (let k = 0; k < t.length; k++) if (run[p + k] !== t[k]) return false;
      p += t.length;
    }
    return p === run.length;
  }

  /**
   * Tokens of a segment and their blocks (at most maxTokens each). Where the segment is text, the
   * blocks are the chunker's pieces, cut at paragraph and sentence ends as in training, each
   * tokenised alone (measured: 15 % shorter codes than fixed cuts mid-sentence); elsewhere, fixed cuts.
   */
  private blocksOf(raw: Uint8Array): { tokens: Int32Array; lengths: number[] } {
    const L = this.lm.maxTokens;
    const text = decodeWtf8(raw);
    const again = encodeWtf8(text);
    const parts: Int32Array[] = [];
    if (again.length === raw.length && again.every((v, i) => v === raw[i])) {
      for (const piece of chunkText(text, (s) => this.tokenizer.encode(s).length, L))
        parts.push(this.tokensOf(encodeWtf8(piece)));
    } else parts.push(this.tokensOf(raw));
    const lengths: number[] = [];
    for (const p of parts) for (let i = 0; i < p.length; i += L) lengths.push(Math.min(L, p.length - i));
    const tokens = new Int32Array(parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of parts) {
      tokens.set(p, o);
      o += p.length;
    }
    return { tokens, lengths };
  }

  /**
   * Arithmetic code of `raw` under the model, or null once it passes `limitBits`. Body: one range
   * code of a one-block flag; where there are more blocks, the token count and each block's length
   * (one block's length follows from the raw length); each block's latent flag and grid indices;
   * then the tokens, step by step over the blocks (longest first). Each block gets z from the
   * encoder when that makes it shorter (z's own bits included), else the prior's centre: both are
   * tried side by side.
   */
  private async modelEncode(
    raw: Uint8Array,
    limitBits: number,
    cache: DocumentCache | null,
    onProgress?: Progress,
    signal?: AbortSignal,
  ): Promise<Uint8Array | null> {
    const { tokens, lengths } = this.blocksOf(raw);
    // Binary-looking data (about a token per byte) costs minutes and never wins: skip large ones.
    if (raw.length > 4096 && tokens.length > 0.75 * raw.length) return null;
    const blocks = lengths.length;
    const starts = blockStarts(lengths);
    const qs: (Int32Array | null)[] = new Array<Int32Array | null>(blocks).fill(null);
    // Progress: a sweep of the search takes about as long as the coding that follows it.
    const searching = this.latents && this.search && this.searchSweeps > 0 && blocks > 0;
    const searchShare = searching ? this.searchSweeps / (this.searchSweeps + 1) : 0;
    if (this.latents && blocks > 0) {
      const texts = lengths.map((n, b) => this.tokenizer.decode(tokens.subarray(starts[b], starts[b] + n)));
      const mus = await this.latents(texts);
      mus.forEach((mu, b) => (qs[b] = quantiseLatent(mu, this.frame)));
      if (searching) {
        const blockTokens = lengths.map((n, b) => tokens.slice(starts[b], starts[b] + n));
        const found = await this.search!(
          blockTokens,
          qs as Int32Array[],
          this.frame,
          this.searchSweeps,
          onProgress && ((f) => onProgress(Math.floor(f * searchShare * raw.length))),
          signal,
        );
        found.forEach((q, b) => (qs[b] = q));
      }
    }
    // Per block: with its z, and at the prior's centre (or only the centre without an encoder).
    const per = this.latents ? 2 : 1;
    const zs = Array.from({ length: blocks * per }, (_, i) =>
      i % per === 0 && per === 2 ? latentOf(qs[(i - (i % per)) / per]!, this.frame) : null,
    );
    const symStart = new Int32Array(tokens.length * per);
    const symFreq = new Int32Array(tokens.length * per);
    const rowBits = new Float64Array(blocks * per);
    for (let b = 0; b < blocks; b++) if (per === 2) rowBits[2 * b] = latentBits(qs[b]!);
    const ok = this.lockstep(
      lengths,
      zs,
      cache,
      onProgress && ((f) => onProgress(Math.floor((searchShare + f * (1 - searchShare)) * raw.length))),
      (idx, b, k, cum, base) => {
        const s = tokens[idx] - FIRST_BYTE_ID;
        const start = cum[base + s];
        const freq = cum[base + s + 1] - start;
        symStart[idx * per + k] = start;
        symFreq[idx * per + k] = freq;
        rowBits[b * per + k] += TOTAL_BITS_F - Math.log2(freq);
        return tokens[idx];
      },
      () => {
        let bits = 0;
        for (let b = 0; b < blocks; b++) bits += per === 2 ? Math.min(rowBits[2 * b], rowBits[2 * b + 1]) : rowBits[b];
        return bits <= limitBits;
      },
    );
    if (!ok) return null;
    const enc = new RangeEncoder();
    // One block (short snippets): no count, saving a byte; the decoder stops once the tokens spell
    // the segment's raw length, and every token spells at least one byte.
    const single = blocks <= 1;
    enc.encode(single ? 0 : ONE_BLOCK, single ? ONE_BLOCK : TOTAL - ONE_BLOCK);
    if (!single) encodeUniform(enc, tokens.length - 1, raw.length);
    // Block lengths: where the rest fits one block, a flag (7/8 yes) says whether it is the last (its
    // length then follows from the count); other lengths are uniform over 1..maxTokens.
    const L = this.lm.maxTokens;
    const lengthFreq = Math.floor(TOTAL / L);
    let rest = tokens.length;
    if (!single)
      for (const n of lengths) {
        if (rest <= L) {
          enc.encode(n === rest ? 0 : LAST, n === rest ? LAST : TOTAL - LAST);
          if (n === rest) break;
        }
        enc.encode((n - 1) * lengthFreq, lengthFreq);
        rest -= n;
      }
    const choice = Array.from({ length: blocks }, (_, b) =>
      per === 2 && rowBits[2 * b] < rowBits[2 * b + 1] ? 0 : per - 1,
    );
    for (let b = 0; b < blocks; b++) {
      const withZ = per === 2 && choice[b] === 0;
      enc.encode(withZ ? HALF : 0, HALF);
      if (withZ) for (const k of qs[b]!) enc.encode(Q_CUM[k], Q_CUM[k + 1] - Q_CUM[k]);
    }
    forEachSymbol(lengths, (idx, b) => {
      const c = idx * per + choice[b];
      enc.encode(symStart[c], symFreq[c]);
    });
    return enc.finish();
  }

  private modelDecode(
    body: Uint8Array,
    rawLength: number,
    onProgress: Progress | undefined,
    cache: DocumentCache | null,
  ): Uint8Array {
    const S = this.lm.symbols;
    const L = this.lm.maxTokens;
    let tokens: Int32Array;
    let dec: RangeDecoder;
    try {
      dec = new RangeDecoder(body, 0);
      const single = dec.target() < ONE_BLOCK;
      dec.consume(single ? 0 : ONE_BLOCK, single ? ONE_BLOCK : TOTAL - ONE_BLOCK);
      const lengths: number[] = [];
      // One block: at most L tokens, until they spell rawLength bytes (checked below).
      if (single && rawLength > 0) lengths.push(Math.min(L, rawLength));
      if (!single && rawLength < 2) {
        throw new LosslessCodeError('corrupt', 'lossless code is corrupt: its blocks do not fit its length');
      }
      const lengthFreq = Math.floor(TOTAL / L);
      for (let rest = single ? 0 : decodeUniform(dec, rawLength) + 1; rest > 0;) {
        if (rest <= L) {
          const last = dec.target() < LAST;
          dec.consume(last ? 0 : LAST, last ? LAST : TOTAL - LAST);
          if (last) {
            lengths.push(rest);
            break;
          }
        }
        const n = Math.floor(dec.target() / lengthFreq) + 1;
        if (n > L || n >= rest) {
          throw new LosslessCodeError('corrupt', 'lossless code is corrupt: its block lengths do not add up');
        }
        dec.consume((n - 1) * lengthFreq, lengthFreq);
        lengths.push(n);
        rest -= n;
      }
      const zs: (Float64Array | null)[] = [];
      for (let b = 0; b < lengths.length; b++) {
        const withZ = dec.target() >= HALF;
        dec.consume(withZ ? HALF : 0, HALF);
        if (!withZ) {
          zs.push(null);
          continue;
        }
        const q = new Int32Array(this.config.latentDim);
        for (let j = 0; j < q.length; j++) {
          const k = find(Q_CUM, Q_CUM.length - 2, 0, dec.target());
          dec.consume(Q_CUM[k], Q_CUM[k + 1] - Q_CUM[k]);
          q[j] = k;
        }
        zs.push(latentOf(q, this.frame));
      }
      tokens = new Int32Array(lengths.reduce((a, n) => a + n, 0));
      let count = 0;
      let bytes = 0;
      this.lockstep(
        lengths,
        zs,
        cache,
        onProgress && ((f) => onProgress(Math.floor(f * rawLength))),
        (idx, _b, _k, cum, base) => {
          const s = find(cum, S - 1, base, dec.target());
          dec.consume(cum[base + s], cum[base + s + 1] - cum[base + s]);
          tokens[idx] = s + FIRST_BYTE_ID;
          count++;
          bytes += this.tokenBytes[tokens[idx]].length;
          return tokens[idx];
        },
        () => !single || bytes < rawLength,
      );
      tokens = tokens.subarray(0, count);
    } catch (err) {
      if (err instanceof RangeDecoderError) {
        throw new LosslessCodeError('corrupt', 'lossless code is corrupt: its model-coded part is not a valid code');
      }
      throw err;
    }
    if (dec.consumed < body.length) {
      throw new LosslessCodeError('corrupt', 'lossless code is corrupt: a model-coded segment has bytes to spare');
    }
    let total = 0;
    for (const id of tokens) total += this.tokenBytes[id].length;
    if (total !== rawLength) {
      throw new LosslessCodeError(
        'truncated',
        `lossless code is corrupt or truncated: it decodes to ${total} bytes where its header says ${rawLength}`,
      );
    }
    const out = new Uint8Array(total);
    let p = 0;
    for (const id of tokens) {
      out.set(this.tokenBytes[id], p);
      p += this.tokenBytes[id].length;
    }
    return out;
  }

  /** A segment's own document cache: version 2 codes mix a fresh one in, version 1 codes none (3: carryCache). */
  private cacheFor(version: number): DocumentCache | null {
    return version >= 2 ? new DocumentCache(this.tokenizer.vocabSize, TVZ2_CACHE) : null;
  }

  /**
   * Runs the decoder over blocks of the given lengths (tokens block after block), all in lockstep;
   * `zs` holds `zs.length / blocks` z per block (one decoder row each). The rows go longest block
   * first, so the blocks still running are always a prefix. `symbol(index, block, k, cum, base)`
   * codes or decodes token `index` from the k-th row of its block, whose cumulative frequencies
   * are cum[base..], and returns it; the token is every row of the block's next input. With a
   * `cache`, each row's frequencies are first mixed with it (the block's own earlier tokens as its
   * context), and it sees every token as soon as it is coded.
   */
  private lockstep(
    lengths: number[],
    zs: (Float64Array | null)[],
    cache: DocumentCache | null,
    onFraction: ((f: number) => void) | undefined,
    symbol: (index: number, block: number, k: number, cum: Int32Array, base: number) => number,
    keepGoing: () => boolean = () => true,
  ): boolean {
    const blocks = lengths.length;
    if (blocks === 0) return true;
    const per = zs.length / blocks;
    const order = longestFirst(lengths);
    const starts = blockStarts(lengths);
    const state = this.lm.batch(order.flatMap((b) => zs.slice(b * per, (b + 1) * per)));
    const inputs = new Int32Array(zs.length).fill(BOS);
    const S = this.lm.symbols;
    const S1 = S + 1;
    const steps = lengths[order[0]];
    const contexts: number[][] = lengths.map(() => []);
    const cacheProbs = cache ? new Float64Array(cache.vocabSize) : null;
    const mixed = new Int32Array(S1);
    for (let t = 0; t < steps; t++) {
      let active = 0;
      while (active < blocks && lengths[order[active]] > t) active++;
      state.next(inputs, active * per);
      for (let r = 0; r < active; r++) {
        const b = order[r];
        const context = contexts[b];
        if (cache) cache.distribution(cacheProbs!, context);
        let tok = 0;
        for (let k = 0; k < per; k++) {
          const base = (r * per + k) * S1;
          tok =
            cache && mixFrequencies(state.cum, base, S, cache, context, cacheProbs!, mixed, 0)
              ? symbol(starts[b] + t, b, k, mixed, 0)
              : symbol(starts[b] + t, b, k, state.cum, base);
        }
        for (let k = 0; k < per; k++) inputs[r * per + k] = tok;
        if (cache) {
          cache.observe(tok, context);
          context.push(tok);
          if (context.length > cache.params.order) context.shift();
        }
      }
      if (!keepGoing()) return false;
      onFraction?.((t + 1) / steps);
    }
    return true;
  }
}

const HALF = TOTAL / 2;
/** Frequency of "the segment is one block": every short snippet. */
const ONE_BLOCK = (TOTAL / 4) * 3;
/** Largest range coded as one uniform symbol; larger ones go a byte at a time first. */
const UNIFORM_MAX = 1 << 12;

/** Codes v, uniform over 0..m-1 (1 <= m). */
export function encodeUniform(enc: RangeEncoder, v: number, m: number): void {
  for (; m > UNIFORM_MAX; m = Math.ceil(m / 256), v = Math.floor(v / 256)) enc.encode((v % 256) * 256, 256);
  const f = Math.floor(TOTAL / m);
  enc.encode(v * f, f);
}

export function decodeUniform(dec: RangeDecoder, m: number): number {
  const max = m;
  let v = 0;
  let scale = 1;
  for (; m > UNIFORM_MAX; m = Math.ceil(m / 256), scale *= 256) {
    const low = Math.floor(dec.target() / 256);
    dec.consume(low * 256, 256);
    v += low * scale;
  }
  const f = Math.floor(TOTAL / m);
  const high = Math.floor(dec.target() / f);
  if (high >= m || v + high * scale >= max) {
    throw new LosslessCodeError('corrupt', 'lossless code is corrupt: its token count does not fit its length');
  }
  dec.consume(high * f, f);
  return v + high * scale;
}
/** Frequency of "this block is the last" where the rest fits one block: usually so. */
const LAST = (TOTAL / 8) * 7;

function blockStarts(lengths: number[]): number[] {
  const starts: number[] = [];
  let o = 0;
  for (const n of lengths) {
    starts.push(o);
    o += n;
  }
  return starts;
}

/** Block indices, longest first (ties in block order): the order of the decoder's rows. */
function longestFirst(lengths: number[]): number[] {
  return lengths.map((_, b) => b).sort((a, b) => lengths[b] - lengths[a] || a - b);
}

/** Token indices in coding order: step by step, over the blocks longest first (as `lockstep` visits them). */
function forEachSymbol(lengths: number[], visit: (index: number, block: number) => void): void {
  const order = longestFirst(lengths);
  const starts = blockStarts(lengths);
  const steps = lengths.length ? lengths[order[0]] : 0;
  for (let t = 0; t < steps; t++) for (const b of order) if (lengths[b] > t) visit(starts[b] + t, b);
}

/** The symbol s in 0..last whose interval cum[base+s] <= target < cum[base+s+1]. */
function find(cum: Int32Array, last: number, base: number, target: number): number {
  let lo = 0;
  let hi = last;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (cum[base + mid] <= target) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

const TOTAL_BITS_F = Math.log2(TOTAL);

/**
 * Version 3's cache, one for a whole code: each model-coded segment reads it and adds its tokens;
 * null for older versions (a fresh cache per segment, or none).
 */
function carryCache(version: number, vocabSize: number): DocumentCache | null {
  return version >= 3 ? new DocumentCache(vocabSize, TVZ2_CACHE) : null;
}

/**
 * The rule both sides apply after each segment of a version 3 code: the cache goes on to the next
 * segment only after a model-coded one (it then holds exactly that segment's tokens, added as they
 * were coded) and while it holds fewer than CARRY_TOKENS tokens; otherwise it starts empty. So a
 * segment coded by brotli or stored bytes (whose model attempt may have stopped halfway on the
 * encoder) leaves the decoder nothing to mirror.
 */
export function afterSegment(cache: DocumentCache, method: Method): void {
  if (method !== Method.Model || cache.seen >= CARRY_TOKENS) cache.reset();
}

/** Where the segment starting at `pos` ends: at most `size` bytes on, after a line end or at least at a character boundary. */
function segmentEnd(bytes: Uint8Array, pos: number, end: number, size: number): number {
  const limit = pos + size;
  if (end <= limit) return end;
  for (let i = limit; i > limit - Math.min(2048, size >> 1); i--) if (bytes[i - 1] === 0x0a) return i;
  for (let i = limit; i > limit - 4; i--) if ((bytes[i] & 0xc0) !== 0x80) return i;
  return limit;
}

function brotliCompress(raw: Uint8Array): Uint8Array {
  return zlib.brotliCompressSync(raw, {
    params: {
      [zlib.constants.BROTLI_PARAM_QUALITY]: 11,
      [zlib.constants.BROTLI_PARAM_SIZE_HINT]: raw.length,
    },
  });
}

function brotliDecompress(body: Uint8Array, rawLength: number): Uint8Array {
  try {
    return zlib.brotliDecompressSync(body, { maxOutputLength: Math.max(1, rawLength) });
  } catch {
    throw new LosslessCodeError('corrupt', 'lossless code is corrupt: its brotli-coded part does not decompress');
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Buffered reads from an async byte stream. */
class ByteReader {
  private buf: Uint8Array = new Uint8Array(0);
  private pos = 0;
  private eof = false;
  private readonly it: AsyncIterator<Uint8Array>;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.it = source[Symbol.asyncIterator]();
  }

  get available(): number {
    return this.buf.length - this.pos;
  }

  /** Reads until `n` bytes are buffered or the stream ends. */
  async fill(n: number): Promise<void> {
    while (this.available < n && !this.eof) {
      const r = await this.it.next();
      if (r.done) this.eof = true;
      else {
        this.buf = concat([this.buf.subarray(this.pos), r.value]);
        this.pos = 0;
      }
    }
  }

  /** Reads to the end of the stream; more than `limit` bytes left is corrupt input. */
  async fillAll(limit: number): Promise<void> {
    while (!this.eof) {
      await this.fill(this.available + 1);
      if (this.available > limit) {
        throw new LosslessCodeError('corrupt', 'lossless code is corrupt: its last segment is too long');
      }
    }
  }

  peek(n: number): Uint8Array {
    return this.buf.subarray(this.pos, this.pos + Math.min(n, this.available));
  }

  skip(n: number): void {
    this.pos += n;
  }
}
