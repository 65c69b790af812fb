import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  crc32,
  findLatentCodes,
  formatLatentCode,
  isLatentCode,
  LATENT_CODE_PATTERN,
  LatentCodeError,
  LatentCodeReason,
  parseLatentCode,
} from '../../src/core/latentCode';
import { Random } from '../../src/core/random';

/** The engine's seeded generator, as a plain function. */
function makeRng(seed: number): () => number {
  const random = new Random(seed);
  return () => random.next();
}

/**
 * Reference CRC-32 computed bit by bit (no table), independent of the module's
 * table-driven version. (zlib.crc32 would do, but only exists from Node 20.15.)
 */
function referenceCrc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function gaussian(rng: () => number): number {
  const u = Math.max(rng(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

const FP_A = '1a2b3c4d' + 'e'.repeat(56); // full 64-hex fingerprint
const FP_B = '5e6f7a8b' + '0'.repeat(56);
/** Spec: clamp [-4, 4], step 4/127, so at most half a step of error (plus float32 rounding). */
const MAX_ERR = 4 / 127 / 2 + 1e-6;

function expectCodeError(fn: () => unknown, reason: LatentCodeReason, message?: RegExp | string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof LatentCodeError, `expected LatentCodeError, got ${String(err)}`);
    assert.equal(err.reason, reason, `reason for: ${err.message}`);
    assert.ok(!err.message.includes('\n'), 'message must be one line');
    if (typeof message === 'string') assert.equal(err.message, message);
    else if (message) assert.match(err.message, message);
    return true;
  });
}

function payloadOf(code: string): string {
  return code.slice(code.lastIndexOf(':') + 1);
}

/** Replaces the character at index i of the payload with a different base64url character. */
function flipPayloadChar(code: string, i: number): string {
  const start = code.lastIndexOf(':') + 1;
  const c = code[start + i];
  const replacement = c === 'A' ? 'B' : 'A';
  return code.slice(0, start + i) + replacement + code.slice(start + i + 1);
}

describe('crc32', () => {
  test('matches the standard CRC-32 check value and a bitwise reference', () => {
    // The published check value of CRC-32/ISO-HDLC for "123456789".
    assert.equal(crc32(Buffer.from('123456789', 'ascii')), 0xcbf43926);
    assert.equal(crc32(new Uint8Array(0)), 0);
    const rng = makeRng(7);
    const bytes = new Uint8Array(1000).map(() => Math.floor(rng() * 256));
    assert.equal(crc32(bytes), referenceCrc32(bytes));
    // Split across parts gives the same value as one buffer.
    assert.equal(crc32(bytes.subarray(0, 333), bytes.subarray(333)), referenceCrc32(bytes));
  });
});

describe('formatLatentCode / parseLatentCode round trip', () => {
  test('random vectors decode within the quantisation bound', () => {
    const rng = makeRng(12345);
    for (const dim of [1, 2, 3, 16, 32, 64, 100, 255]) {
      for (let rep = 0; rep < 5; rep++) {
        const z = Array.from({ length: dim }, () => gaussian(rng) * 1.5);
        const code = formatLatentCode(z, FP_A);
        assert.match(code, /^tvae1:1a2b3c4d:[A-Za-z0-9_-]+$/);
        assert.ok(isLatentCode(code));
        const back = parseLatentCode(code, { fingerprint: FP_A, latentDim: dim });
        assert.ok(back instanceof Float32Array);
        assert.equal(back.length, dim);
        for (let i = 0; i < dim; i++) {
          const clamped = Math.max(-4, Math.min(4, z[i]));
          assert.ok(Math.abs(back[i] - clamped) <= MAX_ERR, `dim ${dim}[${i}]: ${z[i]} -> ${back[i]}`);
        }
        // Parsing without expectations gives the same vector.
        assert.deepEqual(parseLatentCode(code), back);
      }
    }
  });

  test('known values: 0, the clamp ends, values beyond them', () => {
    const z = parseLatentCode(formatLatentCode([0, 4, -4, 9.5, -100, 1], FP_A));
    assert.equal(z[0], 0);
    assert.ok(Math.abs(z[1] - 4) < 1e-6);
    assert.ok(Math.abs(z[2] + 4) < 1e-6);
    assert.ok(Math.abs(z[3] - 4) < 1e-6);
    assert.ok(Math.abs(z[4] + 4) < 1e-6);
    // 1 * 127/4 = 31.75 rounds to 32 steps of 4/127.
    assert.ok(Math.abs(z[5] - (32 * 4) / 127) < 1e-6);
  });

  test('payload layout: scheme byte, dim byte, int8 values, CRC-32 over prefix + body', () => {
    const code = formatLatentCode(new Float32Array([0.5, -0.5, 2]), 'ABCDEF0123456789');
    assert.ok(code.startsWith('tvae1:abcdef01:'), code);
    assert.ok(!code.includes('='), 'no padding');
    const bytes = Buffer.from(payloadOf(code), 'base64url');
    assert.equal(bytes.length, 2 + 3 + 4);
    assert.equal(bytes[1], 3);
    assert.equal(bytes.readInt8(2), Math.round((0.5 * 127) / 4));
    assert.equal(bytes.readInt8(3), -Math.round((0.5 * 127) / 4));
    assert.equal(bytes.readInt8(4), Math.round((2 * 127) / 4));
    const expectedCrc = referenceCrc32(Buffer.concat([Buffer.from('tvae1:abcdef01:', 'ascii'), bytes.subarray(0, 5)]));
    assert.equal(bytes.readUInt32BE(5), expectedCrc);
  });

  test('surrounding whitespace is ignored when parsing', () => {
    const code = formatLatentCode([1, 2], FP_A);
    assert.equal(parseLatentCode(`  ${code}\n`).length, 2);
  });

  test('formatLatentCode rejects non-finite values, bad sizes and bad fingerprints', () => {
    assert.throws(() => formatLatentCode([0, NaN], FP_A), /dimension 1 is NaN/);
    assert.throws(() => formatLatentCode([Infinity], FP_A), /Infinity/);
    assert.throws(() => formatLatentCode([-Infinity], FP_A), /Infinity/);
    assert.throws(() => formatLatentCode(new Float32Array(256), FP_A), /256/);
    assert.throws(() => formatLatentCode([], FP_A), /got 0/);
    assert.throws(() => formatLatentCode([1], 'xyz'), /fingerprint/);
    assert.throws(() => formatLatentCode([1], '1234567'), /fingerprint/);
    assert.equal(parseLatentCode(formatLatentCode(new Float32Array(255), FP_A)).length, 255);
  });
});

describe('parseLatentCode rejections', () => {
  const dim = 16;
  const rng = makeRng(99);
  const z = Array.from({ length: dim }, () => gaussian(rng));
  const good = formatLatentCode(z, FP_A);

  test('not a code at all', () => {
    for (const bad of [
      '',
      'hello world',
      'tvae1:',
      'tvae1:1a2b3c4d',
      'tvae1:1a2b3c4d:',
      'tvae1:xyz:AAAA',
      'tvae1:1a2b3c4:AAAAAAAAAA',
      'tvae1:1A2B3C4D:AAAAAAAAAA',
      'tvae1:1a2b3c4d:AAAA=AAAA',
      'TVAE1:1a2b3c4d:AAAAAAAAAA',
      `x${good}`,
      `${good} trailing`,
    ]) {
      expectCodeError(
        () => parseLatentCode(bad),
        'not-a-code',
        /^not a latent code: expected "tvae2:<8 hex chars>:<base64url>"/,
      );
    }
    expectCodeError(() => parseLatentCode(42 as unknown as string), 'not-a-code');
  });

  test('unsupported version', () => {
    // (tvae2 is the precision scheme: latentPrecision.test.ts.)
    expectCodeError(
      () => parseLatentCode(good.replace(/^tvae1:/, 'tvae3:')),
      'unsupported-version',
      /tvae3 is not supported/,
    );
    expectCodeError(() => parseLatentCode(good.replace(/^tvae1:/, 'tvae0:')), 'unsupported-version');
    // Version is checked before length: a cut-off tvae7 code is still an unsupported version.
    expectCodeError(() => parseLatentCode(good.replace(/^tvae1:/, 'tvae7:').slice(0, -10)), 'unsupported-version');
  });

  test('unknown quantisation scheme with a valid checksum is an unsupported version', () => {
    const prefix = 'tvae1:1a2b3c4d:';
    const body = Buffer.from([2, 2, 10, 20]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(referenceCrc32(Buffer.concat([Buffer.from(prefix), body])));
    const code = prefix + Buffer.concat([body, crc]).toString('base64url');
    expectCodeError(() => parseLatentCode(code), 'unsupported-version', /quantisation scheme 2/);
  });

  test('truncated: says how many bytes were expected and found', () => {
    const expectedBytes = 2 + dim + 4;
    for (const cut of [1, 4, 8, 13, 20]) {
      const shortCode = good.slice(0, -cut);
      const found = Math.floor((payloadOf(shortCode).length * 6) / 8);
      assert.ok(found < expectedBytes);
      expectCodeError(
        () => parseLatentCode(shortCode),
        'truncated',
        new RegExp(`expected ${expectedBytes} payload bytes.*found ${found}$`),
      );
    }
    // Too short to even hold the header.
    expectCodeError(() => parseLatentCode('tvae1:1a2b3c4d:AA'), 'truncated', /found 1$/);
  });

  test('corrupt: a flipped payload character, extra bytes, an edited fingerprint', () => {
    // Characters from index 3 on lie past the dimension byte, so only the data or CRC changes.
    for (const i of [3, 6, 10, 20, payloadOf(good).length - 2]) {
      const bad = flipPayloadChar(good, i);
      assert.notEqual(bad, good);
      expectCodeError(() => parseLatentCode(bad), 'corrupt', /checksum mismatch/);
    }
    expectCodeError(() => parseLatentCode(good + 'AAAA'), 'corrupt', /expected 22/);
    expectCodeError(() => parseLatentCode(good + 'A'), 'corrupt');
    // The checksum covers the fingerprint: editing it by hand is corruption, not another model.
    const edited = good.replace(':1a2b3c4d:', ':5e6f7a8b:');
    expectCodeError(() => parseLatentCode(edited, { fingerprint: FP_B, latentDim: dim }), 'corrupt', /checksum/);
    // Checksum is checked before the model: a corrupt code for another model is 'corrupt'.
    expectCodeError(() => parseLatentCode(flipPayloadChar(good, 8), { fingerprint: FP_B, latentDim: dim }), 'corrupt');
  });

  test('wrong model: an intact code made by another model', () => {
    const code = formatLatentCode(z, FP_A);
    expectCodeError(
      () => parseLatentCode(code, { fingerprint: FP_B, latentDim: dim }),
      'wrong-model',
      'this code was made by model 1a2b3c4d; the active model is 5e6f7a8b',
    );
    // The 8-char form of the expected fingerprint is accepted too.
    expectCodeError(() => parseLatentCode(code, { fingerprint: '5e6f7a8b', latentDim: dim }), 'wrong-model');
    assert.equal(parseLatentCode(code, { fingerprint: '1a2b3c4d', latentDim: dim }).length, dim);
    // Model is checked before dimension.
    expectCodeError(() => parseLatentCode(code, { fingerprint: FP_B, latentDim: dim + 1 }), 'wrong-model');
  });

  test('bad dimension', () => {
    expectCodeError(
      () => parseLatentCode(good, { fingerprint: FP_A, latentDim: 32 }),
      'bad-dimension',
      /16 latent dimensions; the active model has 32/,
    );
  });
});

describe('finding codes in text', () => {
  const a = formatLatentCode([0.1, -0.2, 0.3], FP_A);
  const b = formatLatentCode([1, 2, 3, 4, 5, 6, 7, 8], FP_B);

  test('findLatentCodes finds codes in prose with exact offsets', () => {
    const text = `Try ${a}, or maybe (${b}).\nAlso "${a}" at the end: ${b}`;
    const found = findLatentCodes(text);
    assert.deepEqual(
      found.map((f) => f.code),
      [a, b, a, b],
    );
    for (const f of found) assert.equal(text.slice(f.start, f.end), f.code);
    assert.equal(found[0].start, 4);
    assert.equal(found[3].end, text.length);
    // Sentence punctuation right after a code is not part of it.
    assert.equal(findLatentCodes(`${a}.`)[0].code, a);
  });

  test('codes inside longer tokens are not found', () => {
    for (const text of [
      `x${a}`,
      `_${a}`,
      `9${a}`,
      `-${a}`,
      `foo:${a}`,
      `path/${a}`,
      `${a}:extra`,
      `${a}/more`,
      `a.${a}`,
    ]) {
      assert.deepEqual(findLatentCodes(text), [], text);
    }
    assert.deepEqual(findLatentCodes('no codes here, tvae1 or tvae1:abc:def'), []);
  });

  test('findLatentCodes is repeatable (does not leak global regex state)', () => {
    const text = `one ${a} two ${b}`;
    assert.equal(findLatentCodes(text).length, 2);
    assert.equal(findLatentCodes(text).length, 2);
  });

  test('LATENT_CODE_PATTERN is global and matches whole codes', () => {
    assert.ok(LATENT_CODE_PATTERN.flags.includes('g'));
    const matches = [...`see ${a} and ${b}`.matchAll(LATENT_CODE_PATTERN)].map((m) => m[0]);
    assert.deepEqual(matches, [a, b]);
  });

  test('isLatentCode is a syntactic check of the whole string', () => {
    assert.equal(isLatentCode(a), true);
    assert.equal(isLatentCode(a.replace('tvae1', 'tvae2')), true); // syntax only; parse reports the version
    assert.equal(isLatentCode(flipPayloadChar(a, 5)), true); // checksum is not checked
    assert.equal(isLatentCode(` ${a}\n`), true); // the parser trims too
    assert.equal(isLatentCode(`x ${a}`), false);
    assert.equal(isLatentCode(`${a}!`), false);
    assert.equal(isLatentCode('tvae1:12345678'), false);
    assert.equal(isLatentCode('hello'), false);
  });
});
