/**
 * Lossless codes: exact round trips of any bytes, the fallback bound, and every rejection.
 * A tiny model trained in-process does the coding; the coder itself uses no tfjs. Its decoder's
 * probabilities are the model's (bounded gap), also for a model with z as decoder memory.
 */
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';

import { loadBundle } from '../../src/core/bundle';
import * as tf from '@tensorflow/tfjs-core';
import { weightShapes } from '../../src/core/model';
import { BOS, FIRST_BYTE_ID, Tokenizer } from '../../src/core/tokenizer';
import { DeterministicDecoder } from '../../src/core/lossless/detDecoder';
import { encodeWtf8 } from '../../src/core/wtf8';
import { Random } from '../../src/core/random';
import {
  CARRY_TOKENS,
  LosslessCoder,
  SEGMENT_BYTES,
  afterSegment,
  decodeUniform,
  encodeUniform,
} from '../../src/core/lossless/codec';
import { RangeDecoder, RangeEncoder, TOTAL } from '../../src/core/lossless/rangeCoder';
import { expNeg } from '../../src/core/lossless/detMath';
import { TVZ2_CACHE, mixFrequencies } from '../../src/core/lossless/cacheMix';
import { DocumentCache } from '../../src/core/documentCache';
import {
  BINARY_HEADER_BYTES,
  LosslessCodeError,
  Method,
  binaryToCode,
  findLosslessCodes,
  readSegment,
  formatLosslessCode,
  parseLosslessCode,
  summarisePayload,
  type LosslessCodeReason,
} from '../../src/core/lossless/format';
import { SENTENCES, TINY_DOC, setupBackend, sharedTiny } from '../helpers/engine';
import { REPO } from '../helpers/cli';
import { TextVae } from '../../src/core/textVae';
import { searchLatentGrids } from '../../src/core/latentSearch';
import { defaultSearchSweeps } from '../../src/core/choices';
import { QMAX, latentBits, latentFrame, proposeGridMoves, quantiseLatent } from '../../src/core/lossless/latentPart';
import { losslessCoderFor } from '../../src/core/lossless/tfMatMul';

let coder: LosslessCoder;
let other: LosslessCoder;

/** Without the engine's encoder: every block at the prior's centre. */
async function plainCoderFrom(dir: string): Promise<LosslessCoder> {
  const b = await loadBundle(dir, { expectedShapes: weightShapes });
  return new LosslessCoder(b.config, b.weights, Tokenizer.fromJSON(b.tokenizer), b.fingerprint);
}

let plain: LosslessCoder;
/** Writes version 2: the cache starts afresh in each segment. */
let v2Coder: LosslessCoder;
let onTfjs: LosslessCoder;
let vae: TextVae;
/** A tiny model with attention pooling and z as decoder memory. */
let slotted: TextVae;

before(async () => {
  await setupBackend();
  const dir = (await sharedTiny({ maxSteps: 80 })).dir;
  vae = await TextVae.load(dir);
  slotted = await TextVae.load((await sharedTiny({ maxSteps: 80, config: { poolSlots: 2, memorySlots: 4 } })).dir);
  coder = await LosslessCoder.fromModel(vae);
  onTfjs = await losslessCoderFor(vae);
  plain = await plainCoderFrom(dir);
  v2Coder = await LosslessCoder.fromModel(vae);
  v2Coder.version = 2;
  other = await plainCoderFrom((await sharedTiny({ maxSteps: 10, seed: 3 })).dir);
});

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Both forms decode to the input, also by a coder that has no encoder (decoding never needs z's source). */
async function roundTrip(bytes: Uint8Array): Promise<string> {
  const code = await await coder.compressToCode(bytes);
  assert.deepEqual(coder.decompressCode(code), bytes);
  assert.deepEqual(plain.decompressCode(code), bytes);
  const file = await await coder.compressToBinary(bytes);
  assert.deepEqual(coder.decompressBinary(file), bytes);
  return code;
}

function brotliSize(bytes: Uint8Array): number {
  return zlib.brotliCompressSync(bytes, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
}

function randomUnicode(rng: Random, n: number): string {
  const pools = [
    () => String.fromCharCode(32 + Math.floor(rng.next() * 95)),
    () => String.fromCodePoint(0x4e00 + Math.floor(rng.next() * 2000)), // CJK
    () => String.fromCodePoint(0x1f600 + Math.floor(rng.next() * 80)), // emoji (surrogate pairs)
    () => ['\r\n', '\t', '\n', ' '][Math.floor(rng.next() * 4)],
    () => String.fromCharCode(0xd800 + Math.floor(rng.next() * 0x800)), // lone surrogates
    () => String.fromCharCode(0x80 + Math.floor(rng.next() * 0x700)),
  ];
  let s = '';
  for (let i = 0; i < n; i++) s += pools[Math.floor(rng.next() * pools.length)]();
  return s;
}

function expectReason(fn: () => unknown, reason: LosslessCodeReason, message?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof LosslessCodeError, String(err));
    assert.equal(err.reason, reason, err.message);
    if (message) assert.match(err.message, message);
    return true;
  });
}

describe('round trips', () => {
  test('empty input and every single byte', async () => {
    await roundTrip(new Uint8Array(0));
    for (let b = 0; b < 256; b++) await roundTrip(Uint8Array.of(b));
  });

  test('the training sentences, one at a time and together (several blocks), are coded by the model', async () => {
    for (const s of [...SENTENCES, TINY_DOC]) {
      const bytes = utf8(s);
      const code = await roundTrip(bytes);
      const summary = summarisePayload(parseLosslessCode(code), 0);
      assert.equal(summary.originalBytes, bytes.length);
      assert.deepEqual(summary.methods, ['model'], s);
    }
    await roundTrip(utf8(TINY_DOC + '\n' + TINY_DOC));
    assert.ok(coder.tokensOf(utf8(TINY_DOC)).length > 2 * coder.config.maxTokens, 'TINY_DOC spans several blocks');
  });

  test('random Unicode (CJK, emoji, CRLF, tabs, lone surrogates as WTF-8)', async () => {
    const rng = new Random(5);
    for (const n of [1, 7, 60, 400]) {
      const s = randomUnicode(rng, n);
      await roundTrip(encodeWtf8(s));
      await roundTrip(utf8(s)); // lone surrogates become U+FFFD here: other bytes, same guarantee
    }
  });

  test('random bytes, invalid UTF-8 and binary files', async () => {
    const rng = new Random(9);
    for (const n of [2, 3, 33, 500, 5000])
      await roundTrip(Uint8Array.from({ length: n }, () => Math.floor(rng.next() * 256)));
    await roundTrip(
      Uint8Array.of(
        0xc3,
        0x28,
        0xa0,
        0xa1,
        0xe2,
        0x28,
        0xa1,
        0xf0,
        0x90,
        0x28,
        0xbc,
        0xed,
        0xa0,
        0x80,
        0xed,
        0xb0,
        0x80,
      ),
    );
    await roundTrip(new Uint8Array(fs.readFileSync(path.join(REPO, 'models/default/weights.bin')).subarray(0, 3000)));
  });

  test('real files, including one of several segments', async () => {
    await roundTrip(new Uint8Array(fs.readFileSync(path.join(REPO, 'src/core/tokenizer.ts'))).subarray(0, 3000));
    const big = new Uint8Array(fs.readFileSync(path.join(REPO, 'README.md')));
    const long = new Uint8Array(SEGMENT_BYTES * 2 + 777);
    for (let i = 0; i < long.length; i++) long[i] = big[i % big.length];
    const code = await roundTrip(long);
    assert.equal(summarisePayload(parseLosslessCode(code), 0).originalBytes, long.length);
  });
});

describe('format versions and the document cache', () => {
  /** The training text twice: the second copy repeats every block of the first. */
  const repetitive = utf8(`${TINY_DOC}\n\n${TINY_DOC}`);

  test('version 2 codes mix in the cache and are shorter on repetitive text; version 1 codes still decode', async () => {
    // One segment decodes the same in versions 2 and 3: it is labelled 2, which older builds read.
    assert.match(await roundTrip(repetitive), /^tvz2:/);
    const v2 = await coder.compress(repetitive);
    assert.deepEqual(v2, await v2Coder.compress(repetitive));
    assert.equal((await coder.compressToBinary(repetitive))[0], 0xf6);
    const old = await LosslessCoder.fromModel(vae);
    old.version = 1;
    const code1 = await old.compressToCode(repetitive);
    assert.match(code1, /^tvz1:/);
    const file1 = await old.compressToBinary(repetitive);
    assert.equal(file1[0], 0xf5, 'the version 1 magic byte');
    // Decoded by coders that write version 3, as a newer build would.
    assert.deepEqual(coder.decompressCode(code1), repetitive);
    assert.deepEqual(plain.decompressBinary(file1), repetitive);
    const v1 = parseLosslessCode(code1).payload;
    assert.deepEqual(summarisePayload(parseLosslessCode(code1), 0).methods, ['model']);
    assert.ok(v2.length < v1.length, `with the cache ${v2.length} bytes, without ${v1.length}`);
    // Read as the other version, a code is refused rather than giving wrong text.
    assert.throws(() => coder.decompressPayload(v1, undefined, 2), LosslessCodeError);
  });

  test('mixing keeps frequencies ≥ 1 summing to TOTAL, and λ = 0 leaves the model row alone', () => {
    const S = 40;
    const rng = new Random(12);
    const model = new Int32Array(S + 1);
    let total = 0;
    const f = Array.from({ length: S }, () => 1 + Math.floor(rng.next() * 3000));
    f[7] += TOTAL - f.reduce((a, b) => a + b, 0);
    f.forEach((x, s) => (model[s + 1] = total += x));
    assert.equal(model[S], TOTAL);
    const V = S + FIRST_BYTE_ID;
    const cache = new DocumentCache(V, { ...TVZ2_CACHE });
    const out = new Int32Array(S + 1);
    const probs = new Float64Array(V);
    assert.equal(mixFrequencies(model, 0, S, cache, [], cache.distribution(probs), out, 0), false, 'empty cache');
    for (const t of [3, 4, 5, 3, 4]) cache.observe(FIRST_BYTE_ID + t);
    const context = [FIRST_BYTE_ID + 3];
    assert.equal(mixFrequencies(model, 0, S, cache, context, cache.distribution(probs, context), out, 0), true);
    assert.equal(out[0], 0);
    assert.equal(out[S], TOTAL);
    for (let s = 0; s < S; s++) assert.ok(out[s + 1] - out[s] >= 1, `symbol ${s}`);
    // After "3", 4 followed twice: it gains; a token the cache never saw loses.
    assert.ok(out[5] - out[4] > model[5] - model[4]);
    assert.ok(out[11] - out[10] < model[11] - model[10]);
    const zero = new DocumentCache(V, { ...TVZ2_CACHE, lambdas: TVZ2_CACHE.lambdas.map(() => 0) });
    zero.observe(FIRST_BYTE_ID + 3);
    assert.equal(mixFrequencies(model, 0, S, zero, context, zero.distribution(probs, context), out, 0), false);
  });
});

describe('version 3: the cache carried from segment to segment', () => {
  /** The training text three times (the model codes it): later segments repeat earlier ones. */
  const lines = utf8([TINY_DOC, TINY_DOC, TINY_DOC].join('\n\n'));
  const SMALL = 200;
  const small = (c: LosslessCoder): LosslessCoder => Object.assign(c, { segmentBytes: SMALL });

  /** Segments of a payload: method and where each ends. */
  function segments(payload: Uint8Array): { method: number; rawLength: number; end: number }[] {
    const out: { method: number; rawLength: number; end: number }[] = [];
    for (let pos = 0; ;) {
      const { segment, next } = readSegment(payload, pos);
      out.push({ method: segment.method, rawLength: segment.rawLength, end: next });
      pos = next;
      if (segment.last) return out;
    }
  }

  async function* chunks(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
    for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
  }
  async function streamed(parts: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
    const out: Uint8Array[] = [];
    for await (const p of parts) out.push(p);
    return new Uint8Array(Buffer.concat(out));
  }

  let c3: LosslessCoder;
  before(async () => {
    c3 = small(await LosslessCoder.fromModel(vae));
  });

  test('multi-segment inputs round-trip in both forms, in memory and streamed, and the stream is the same code', async () => {
    const file = await c3.compressToBinary(lines);
    assert.equal(file[0], 0xf7, 'the version 3 magic byte');
    const segs = segments(file.subarray(BINARY_HEADER_BYTES));
    assert.ok(segs.length >= 5, `${segs.length} segments`);
    assert.ok(
      segs.every((s) => s.method === Method.Model),
      'every segment model-coded',
    );
    const code = await c3.compressToCode(lines);
    assert.match(code, /^tvz3:/);
    assert.equal(binaryToCode(file, c3.fingerprint), code);
    // Decoders need no particular segment size or encoder.
    assert.deepEqual(coder.decompressCode(code), lines);
    assert.deepEqual(plain.decompressCode(code), lines);
    assert.deepEqual(plain.decompressBinary(file), lines);
    const fromStream = await streamed(c3.compressStream(chunks(lines, 333)));
    assert.deepEqual(fromStream, file);
    assert.deepEqual(await streamed(plain.decompressStream(chunks(file, 101))), lines);
    // One segment (or none): labelled version 2 in the stream too, the same bytes as in memory.
    for (const short of [utf8(SENTENCES[0]), new Uint8Array(0)]) {
      const one = await streamed(c3.compressStream(chunks(short, 7)));
      assert.equal(one[0], 0xf6);
      assert.match(binaryToCode(one, c3.fingerprint), /^tvz2:/);
      assert.deepEqual(one, await c3.compressToBinary(short));
    }
  });

  test('carrying the cache makes later segments shorter than version 2; version 2 codes still decode', async () => {
    // Segments of 500 bytes: version 2 codes them with the model too, rather than brotli over the whole.
    const [w3, w2] = [await LosslessCoder.fromModel(vae), await LosslessCoder.fromModel(vae)];
    Object.assign(w3, { segmentBytes: 500 });
    Object.assign(w2, { segmentBytes: 500, version: 2 });
    const [v3, v2] = [await w3.compress(lines), await w2.compress(lines)];
    assert.equal(segments(v2).length, 2);
    assert.ok(v3.length < v2.length, `version 3 ${v3.length} bytes, version 2 ${v2.length}`);
    // The first segment has nothing to carry: the same bytes in both versions.
    const first = segments(v2)[0].end;
    assert.deepEqual(v3.subarray(0, first), v2.subarray(0, first));
    const code2 = await w2.compressToCode(lines);
    assert.match(code2, /^tvz2:/);
    assert.deepEqual(plain.decompressCode(code2), lines);
    const file2 = await w2.compressToBinary(lines);
    assert.equal(file2[0], 0xf6);
    assert.deepEqual(plain.decompressBinary(file2), lines);
    assert.deepEqual(await streamed(plain.decompressStream(chunks(file2, 64))), lines);
    // Read as the other version, the second segment fails its checks instead of giving other text.
    assert.throws(() => plain.decompressPayload(v2, undefined, 3), LosslessCodeError);
    assert.throws(() => plain.decompressPayload(v3, undefined, 2), LosslessCodeError);
  });

  test('segments coded by brotli or stored bytes between model-coded ones decode in both paths', async () => {
    const rng = new Random(17);
    const noise = Uint8Array.from({ length: 2 * SMALL }, () => Math.floor(rng.next() * 256));
    const runs = utf8('abcabcabcabc '.repeat(60));
    const mixed = new Uint8Array(Buffer.concat([lines.subarray(0, 600), noise, runs, lines.subarray(600)]));
    // The stream has no brotli over the whole input to fall back to: its segments are as cut.
    const file = await streamed(c3.compressStream(chunks(mixed, 256)));
    const methods = segments(file.subarray(BINARY_HEADER_BYTES)).map((s) => s.method);
    for (const m of [Method.Stored, Method.Brotli])
      assert.ok(methods.includes(m), JSON.stringify(segments(file.subarray(BINARY_HEADER_BYTES))));
    assert.equal(methods[0], Method.Model);
    assert.equal(methods.at(-1), Method.Model);
    assert.deepEqual(plain.decompressBinary(file), mixed);
    assert.deepEqual(await streamed(plain.decompressStream(chunks(file, 999))), mixed);
    assert.deepEqual(plain.decompressBinary(await c3.compressToBinary(mixed)), mixed);
  });

  test('the carried cache goes on after a model-coded segment, and starts afresh after any other or when full', () => {
    const cache = new DocumentCache(vae.config.vocabSize, TVZ2_CACHE);
    const fill = (n: number) => {
      for (let i = 0; i < n; i++) cache.observe(FIRST_BYTE_ID + (i % 200));
    };
    fill(100);
    afterSegment(cache, Method.Model);
    assert.equal(cache.seen, 100);
    for (const method of [Method.Brotli, Method.Stored]) {
      afterSegment(cache, method);
      assert.equal(cache.seen, 0);
      assert.equal(cache.lambda(), 0, 'an empty cache mixes nothing in');
      fill(100);
    }
    fill(CARRY_TOKENS);
    afterSegment(cache, Method.Model);
    assert.equal(cache.seen, 0);
  });

  test('around the segment size, in memory and streamed: version 3 exactly where there are several segments', async () => {
    // The stream cuts a segment only once more than 4 bytes follow; compress cuts wherever more follow.
    for (const n of [0, 1, SMALL - 1, SMALL, SMALL + 1, SMALL + 4, SMALL + 5, 2 * SMALL + 4]) {
      const bytes = lines.subarray(0, n);
      const forms = [await c3.compressToBinary(bytes)];
      for (const size of [1, SMALL + 4]) forms.push(await streamed(c3.compressStream(chunks(bytes, size))));
      for (const file of forms) {
        const several = segments(file.subarray(BINARY_HEADER_BYTES)).length > 1;
        assert.equal(file[0], several ? 0xf7 : 0xf6, `${n} bytes`);
        assert.deepEqual(plain.decompressBinary(file), bytes, `${n} bytes`);
        assert.deepEqual(await streamed(plain.decompressStream(chunks(file, 5))), bytes, `${n} bytes`);
      }
      const code = await c3.compressToCode(bytes);
      assert.equal(code, binaryToCode(forms[0], c3.fingerprint));
      assert.deepEqual(plain.decompressCode(code), bytes);
    }
  });

  test('a code damaged in its second segment is an error, never other text', async () => {
    const file = await c3.compressToBinary(lines);
    const payload = file.subarray(BINARY_HEADER_BYTES);
    const segs = segments(payload);
    const [start, end] = [segs[0].end, segs[1].end];
    const firstBytes = segs[0].rawLength;
    const damaged: Uint8Array[] = [file.subarray(0, BINARY_HEADER_BYTES + start + 3)];
    for (let i = start + 2; i < end; i += 7) {
      const bad = file.slice();
      bad[BINARY_HEADER_BYTES + i] ^= 0x10;
      damaged.push(bad);
    }
    for (const bad of damaged) {
      assert.throws(() => plain.decompressBinary(bad), LosslessCodeError);
      // Streamed: the first segment (checked) may come out, then the error; nothing else.
      const out: Uint8Array[] = [];
      await assert.rejects(async () => {
        for await (const p of plain.decompressStream(chunks(bad, 50))) out.push(p);
      }, LosslessCodeError);
      const got = Buffer.concat(out);
      assert.ok(got.length <= firstBytes, `${got.length} bytes given out`);
      assert.deepEqual(new Uint8Array(got), lines.subarray(0, got.length));
    }
  });
});

describe('determinism', () => {
  test('products on the tfjs backend give the same codes as plain JavaScript, and decode each other', async () => {
    const rng = new Random(21);
    const inputs = [utf8(TINY_DOC), encodeWtf8(randomUnicode(rng, 200)), utf8(SENTENCES.join(' ').repeat(3))];
    for (const bytes of inputs) {
      const a = await coder.compress(bytes);
      assert.deepEqual(await onTfjs.compress(bytes), a);
      assert.deepEqual(onTfjs.decompressPayload(a), bytes);
    }
  });
});

/**
 * gap: the largest gap, in bits, between the coder's probability of a token and the model's
 * (renormalised over the tokens the coder codes), over every step of the sentences and every token
 * the model gives at least 1/256; each sentence decoded from its own code. bits: what the coder's
 * probabilities make the sentences' tokens cost.
 */
async function probabilityGap(lm: DeterministicDecoder, source: TextVae): Promise<{ gap: number; bits: number }> {
  const rows = SENTENCES.map((s) => [BOS, ...source.tokenizer.encode(s)]);
  const zs = (await source.encodeChunks(SENTENCES)).map((z) => Float64Array.from(z));
  const state = lm.batch(zs);
  const z = tf.tensor2d(zs.map((v) => Array.from(v)));
  const model = source.model.startDecoding(z);
  const B = rows.length;
  const V = source.config.vocabSize;
  const S1 = lm.symbols + 1;
  let gap = 0;
  let bits = 0;
  for (let t = 0; t < Math.max(...rows.map((r) => r.length)); t++) {
    const tokens = Int32Array.from(rows, (r) => r[Math.min(t, r.length - 1)]);
    state.next(tokens, B);
    const lp = model.next(tokens);
    const logp = (await lp.data()) as Float32Array;
    lp.dispose();
    for (let b = 0; b < B; b++) {
      const next = rows[b][t + 1] - FIRST_BYTE_ID;
      if (t + 1 < rows[b].length) bits -= Math.log2((state.cum[b * S1 + next + 1] - state.cum[b * S1 + next]) / TOTAL);
      let mass = 0;
      for (let v = FIRST_BYTE_ID; v < V; v++) mass += Math.exp(logp[b * V + v]);
      for (let s = 0; s < lm.symbols; s++) {
        const p = Math.exp(logp[b * V + FIRST_BYTE_ID + s]) / mass;
        if (p < 1 / 256) continue;
        const f = state.cum[b * S1 + s + 1] - state.cum[b * S1 + s];
        gap = Math.max(gap, Math.abs(Math.log2(f / TOTAL) - Math.log2(p)));
      }
    }
  }
  model.dispose();
  z.dispose();
  return { gap, bits };
}

describe("the coder's probabilities are the model's", () => {
  // Quantised products and 16-bit frequencies: measured 0.020 (bias) and 0.024 (memory) bits on the
  // tensorflow backend; 0.83 when the coder leaves the memory out.
  const BOUND = 0.05;

  test('a decoder whose layers are biased by z', async () => {
    const lm = new DeterministicDecoder(vae.config, await vae.model.exportWeights());
    const { gap } = await probabilityGap(lm, vae);
    assert.ok(gap < BOUND, `gap ${gap} bits`);
  });

  test('a decoder that reads z as memory; without the memory read-out the gap is far larger', async () => {
    const weights = await slotted.model.exportWeights();
    const mirrored = await probabilityGap(new DeterministicDecoder(slotted.config, weights), slotted);
    assert.ok(mirrored.gap < BOUND, `gap ${mirrored.gap} bits`);
    const { memorySlots: _, ...withoutMemory } = slotted.config;
    const ignored = await probabilityGap(new DeterministicDecoder(withoutMemory, weights), slotted);
    assert.ok(ignored.gap > 10 * BOUND, `without memory: gap ${ignored.gap} bits`);
    // And the sentences cost more bits under the coder that leaves the memory out.
    assert.ok(ignored.bits > mirrored.bits, `${ignored.bits} bits without memory, ${mirrored.bits} with`);
  });

  test('a model with attention pooling and memory codes and decodes exactly (z from its encoder)', async () => {
    const c = await LosslessCoder.fromModel(slotted);
    const decoder = new LosslessCoder(
      slotted.config,
      await slotted.model.exportWeights(),
      slotted.tokenizer,
      slotted.fingerprint,
    );
    for (const bytes of [utf8(TINY_DOC), utf8(SENTENCES.slice(2).join(' ')), utf8('')]) {
      const code = await c.compressToCode(bytes);
      assert.deepEqual(decoder.decompressCode(code), bytes);
    }
  });
});

describe('never much worse than brotli', () => {
  test('random bytes cost at most a few bytes more than brotli -q 11', async () => {
    const rng = new Random(11);
    for (const n of [10, 100, 1000, 20000]) {
      const bytes = Uint8Array.from({ length: n }, () => Math.floor(rng.next() * 256));
      const payload = await coder.compress(bytes);
      assert.ok(payload.length <= Math.min(brotliSize(bytes), n) + 8, `${n} bytes -> ${payload.length}`);
    }
  });

  test('an input of many segments is never much longer than brotli over all of it', async () => {
    const rng = new Random(13);
    const block = Uint8Array.from({ length: 20000 }, () => Math.floor(rng.next() * 256));
    const bytes = new Uint8Array(SEGMENT_BYTES * 3);
    for (let i = 0; i < bytes.length; i++) bytes[i] = block[i % block.length];
    const payload = await coder.compress(bytes);
    assert.ok(payload.length <= brotliSize(bytes) + 8, `${payload.length} vs brotli ${brotliSize(bytes)}`);
    assert.deepEqual(coder.decompressPayload(payload), bytes);
  });

  test('repetitive text that brotli handles well falls back to brotli', async () => {
    const bytes = utf8('abcabcabc '.repeat(400));
    const payload = await coder.compress(bytes);
    assert.ok(payload.length <= brotliSize(bytes) + 8);
  });
});

describe('streams', () => {
  test('the streamed binary form decodes, from odd-sized chunks', async () => {
    const text = utf8((TINY_DOC + '\n').repeat(900));
    assert.ok(text.length > SEGMENT_BYTES);
    async function* chunks(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
    }
    const parts: Uint8Array[] = [];
    for await (const p of coder.compressStream(chunks(text, 5000))) parts.push(p);
    const streamed = Buffer.concat(parts);
    // In memory, brotli over the whole (repetitive) input wins; the stream cannot look back.
    assert.deepEqual(coder.decompressBinary(await coder.compressToBinary(text)), text);
    const back: Uint8Array[] = [];
    for await (const p of coder.decompressStream(chunks(streamed, 777))) back.push(p);
    assert.deepEqual(new Uint8Array(Buffer.concat(back)), text);
  });
});

describe('rejections', () => {
  const sentence = utf8(SENTENCES[0]);

  test('a code from another model names both models', async () => {
    const code = await other.compressToCode(sentence);
    expectReason(
      () => coder.decompressCode(code),
      'wrong-model',
      new RegExp(`${other.fingerprint.slice(0, 8)}.*${coder.fingerprint.slice(0, 8)}`),
    );
    const file = await other.compressToBinary(sentence);
    expectReason(() => coder.decompressBinary(file), 'wrong-model');
  });

  test('truncated codes and files are refused, never decoded to other text', async () => {
    const code = await coder.compressToCode(utf8(TINY_DOC));
    for (let cut = 1; cut < code.length - 14; cut += 3) {
      assert.throws(() => coder.decompressCode(code.slice(0, code.length - cut)), LosslessCodeError, `cut ${cut}`);
    }
    const file = await coder.compressToBinary(utf8(TINY_DOC));
    for (const n of [1, 3, BINARY_HEADER_BYTES, BINARY_HEADER_BYTES + 2, file.length - 1]) {
      assert.throws(() => coder.decompressBinary(file.subarray(0, n)), LosslessCodeError, `first ${n} bytes`);
    }
  });

  test('any flipped character is refused', async () => {
    const code = await coder.compressToCode(utf8(SENTENCES[1]));
    const start = code.lastIndexOf(':') + 1;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    for (let i = start; i < code.length; i++) {
      const c = alphabet[(alphabet.indexOf(code[i]) + 17) % 64];
      const bad = code.slice(0, i) + c + code.slice(i + 1);
      assert.throws(() => coder.decompressCode(bad), LosslessCodeError, `position ${i}`);
    }
  });

  test('a bad checksum is an error that says what it means', async () => {
    const { payload } = parseLosslessCode(await coder.compressToCode(sentence));
    payload[payload.length - 1] ^= 1;
    expectReason(
      () => coder.decompressCode(formatLosslessCode(payload, coder.fingerprint)),
      'checksum',
      /not the original/,
    );
  });

  test('other versions and non-codes are refused by name', async () => {
    const code = await coder.compressToCode(sentence);
    expectReason(
      () => coder.decompressCode(code.replace('tvz2', 'tvz7')),
      'unsupported-version',
      /supports 1, 2 and 3/,
    );
    expectReason(() => coder.decompressCode('hello'), 'not-a-code');
    const file = await coder.compressToBinary(sentence);
    expectReason(() => coder.decompressBinary(utf8('plain text')), 'not-a-code');
    file[0] = 0xf9;
    expectReason(() => coder.decompressBinary(file), 'unsupported-version');
  });

  test('codes are found in text only as whole tokens', async () => {
    const code = await coder.compressToCode(sentence);
    assert.deepEqual(
      findLosslessCodes(`see ${code}.`).map((m) => m.code),
      [code],
    );
    assert.equal(findLosslessCodes(`x${code}`).length, 0);
  });
});

describe("the encoder's search for each block's grid point", () => {
  test('proposals follow the gradient, stay on the grid, and gather the moves guessed to gain', () => {
    const frame = latentFrame(
      { variant: 'vae', latentDim: 4 } as Parameters<typeof latentFrame>[0],
      new Float32Array(4),
      new Float32Array(4),
    );
    const q = Int32Array.from([QMAX, QMAX, 2 * QMAX, 0]);
    // Raising z₁ gains the most; z₂ is at the top of the grid, so its (promising) rise is not proposed.
    const gradient = [0.5, -20, -40, 0];
    const moves = proposeGridMoves(q, gradient, frame, 3);
    const diff = (c: Int32Array) => Array.from(c, (v, j) => v - q[j]);
    assert.deepEqual(diff(moves[0]), [0, 1, 0, 0]);
    for (const c of moves) for (const v of c) assert.ok(v >= 0 && v <= 2 * QMAX, `${v} is on the grid`);
    assert.ok(!moves.some((c) => c[2] > 2 * QMAX));
    assert.equal(moves.length, 4, 'three single moves, then the gaining ones together');
    // z₁ up (the gradient), z₃ up from the grid's edge (z's own bits); z₂ down and z₀ either way lose.
    assert.deepEqual(diff(moves[1]), [0, 0, 0, 1]);
    assert.deepEqual(diff(moves[3]), [0, 1, 0, 1]);
  });

  test('searching lowers bits(z) + bits(block | z) and reports it truly; codes stay readable without the search', async () => {
    const blocks = SENTENCES.map((s) => Int32Array.from(vae.tokenizer.encode(s)));
    const frame = latentFrame(
      vae.config,
      new Float32Array(vae.config.latentDim),
      new Float32Array(vae.config.latentDim),
    );
    const start = (await vae.encodeChunks(SENTENCES)).map((mu) => quantiseLatent(mu, frame));
    const none = await searchLatentGrids(vae.model, blocks, start, frame, 0);
    assert.deepEqual(none.grids, start);
    assert.equal(none.bitsAfter, none.bitsBefore);
    const found = await searchLatentGrids(vae.model, blocks, start, frame, 3);
    assert.ok(found.bitsAfter < found.bitsBefore, `${found.bitsAfter} against ${found.bitsBefore}`);
    for (const q of found.grids) for (const v of q) assert.ok(Number.isInteger(v) && v >= 0 && v <= 2 * QMAX);
    // The figure it reports is what the points cost, measured afresh.
    const again = await searchLatentGrids(vae.model, blocks, found.grids, frame, 0);
    assert.ok(Math.abs(again.bitsBefore - found.bitsAfter) < 1e-3 * found.bitsAfter);
    assert.ok(
      found.grids.some((q, b) => latentBits(q) !== latentBits(start[b]) || q.some((v, j) => v !== start[b][j])),
    );
    // The engine's coder searches where products are native (one sweep), not on wasm or cpu.
    const searched = await losslessCoderFor(vae);
    assert.equal(searched.searchSweeps, tf.getBackend() === 'tensorflow' ? 1 : 0);
    assert.equal(defaultSearchSweeps('wasm'), 0);
    // Codes made with a search decode with a coder that has no encoder at all.
    const text = utf8(SENTENCES.join('\n\n'));
    searched.searchSweeps = 2;
    const code = await searched.compressToCode(text);
    assert.deepEqual(plain.decompressCode(code), text);
    searched.searchSweeps = 0;
    assert.deepEqual(plain.decompressCode(await searched.compressToCode(text)), text);
    // The search reports its share of the progress, and a cancel stops it between its passes.
    searched.searchSweeps = 2;
    const reports: number[] = [];
    await searched.compress(text, (done) => reports.push(done));
    assert.ok(
      reports.some((d) => d > 0 && d < (2 / 3) * text.length),
      `progress during the search: ${reports.join(', ')} of ${text.length}`,
    );
    const controller = new AbortController();
    const seen: number[] = [];
    await assert.rejects(
      searched.compress(text, (done) => (seen.push(done), controller.abort()), controller.signal),
      (err: unknown) => (err as Error).name === 'AbortError',
    );
    assert.ok(seen.length > 0 && seen.every((d) => d < (2 / 3) * text.length), 'stopped in the search');
    searched.dispose();
  });
});

describe('building blocks', () => {
  test('the range coder round-trips skewed and flat distributions and ends short', async () => {
    const rng = new Random(1);
    const freqs = [TOTAL - 3, 1, 1, 1];
    const cum = [0, TOTAL - 3, TOTAL - 2, TOTAL - 1, TOTAL];
    const symbols = Array.from({ length: 5000 }, () => (rng.next() < 0.9 ? 0 : 1 + Math.floor(rng.next() * 3)));
    const enc = new RangeEncoder();
    for (const s of symbols) enc.encode(cum[s], freqs[s]);
    const bytes = enc.finish();
    const dec = new RangeDecoder(bytes);
    for (const s of symbols) {
      const v = dec.target();
      const got = cum.findIndex((c, i) => c <= v && v < cum[i + 1]);
      assert.equal(got, s);
      dec.consume(cum[got], freqs[got]);
    }
    const one = new RangeEncoder();
    one.encode(0, TOTAL - 3);
    assert.equal(one.finish().length, 0, 'a near-certain symbol costs no byte');
  });

  test('token counts: uniform over any range, and out-of-range values are refused', async () => {
    const cases: [number, number][] = [];
    for (const m of [1, 2, 64, 4096, 4097, 40000, 65537, 1 << 20, (1 << 20) + 1])
      for (const v of [0, 1, Math.floor(m / 2), m - 2, m - 1]) if (v >= 0 && v < m) cases.push([v, m]);
    const enc = new RangeEncoder();
    for (const [v, m] of cases) encodeUniform(enc, v, m);
    const dec = new RangeDecoder(enc.finish());
    for (const [v, m] of cases) assert.equal(decodeUniform(dec, m), v, `${v} of ${m}`);
    // Values past the range (a damaged code) are refused.
    const past = new RangeEncoder();
    past.encode(TOTAL - 1, 1); // above 3 * floor(TOTAL / 3)
    expectReason(() => decodeUniform(new RangeDecoder(past.finish()), 3), 'corrupt');
    const over = new RangeEncoder();
    encodeUniform(over, 40191, 40192); // low byte 255, then 156: 40191 >= 40000
    expectReason(() => decodeUniform(new RangeDecoder(over.finish()), 40000), 'corrupt');
  });

  test('expNeg follows e^x closely', async () => {
    for (const x of [0, -1e-9, -0.5, -1, -3.7, -10, -25, -59]) {
      assert.ok(Math.abs(expNeg(x) / Math.exp(x) - 1) < 1e-7, String(x));
    }
    assert.equal(expNeg(-100), 0);
  });
});
