import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  crc16,
  formatLatentCode,
  formatPrecisionCode,
  LatentCodeError,
  type LatentCodeReason,
  parseLatentCode,
} from '../../src/core/latentCode';
import { LatentQuantiser } from '../../src/core/latentPrecision';
import { Random } from '../../src/core/random';

/** The engine's seeded generator, as a function. */
function makeRng(seed: number): () => number {
  const random = new Random(seed);
  return () => random.next();
}
function gaussian(rng: () => number): number {
  return Math.sqrt(-2 * Math.log(Math.max(rng(), 1e-12))) * Math.cos(2 * Math.PI * rng());
}

const FP_A = '1a2b3c4d' + 'e'.repeat(56);
const FP_B = '5e6f7a8b' + '0'.repeat(56);

function expectCodeError(fn: () => unknown, reason: LatentCodeReason, message?: RegExp | string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof LatentCodeError, `expected LatentCodeError, got ${String(err)}`);
    assert.equal(err.reason, reason, `reason for: ${err.message}`);
    assert.ok(!err.message.includes('\n') && err.message.length < 160, 'message must be one short line');
    if (typeof message === 'string') assert.equal(err.message, message);
    else if (message) assert.match(err.message, message);
    return true;
  });
}

const payloadOf = (code: string) => code.slice(code.lastIndexOf(':') + 1);

/** Mean payload length over `n` standard-normal vectors. */
function meanPayload(q: LatentQuantiser, n: number, seed: number): number {
  const rng = makeRng(seed);
  let chars = 0;
  for (let i = 0; i < n; i++) {
    const u = Array.from({ length: q.dims }, () => gaussian(rng));
    chars += payloadOf(formatPrecisionCode(u, FP_A, q)).length;
  }
  return chars / n;
}

describe('crc16', () => {
  test('is CRC-16/CCITT (published check value) and splits across parts', () => {
    assert.equal(crc16(Buffer.from('123456789', 'ascii')), 0x29b1);
    assert.equal(crc16(Buffer.from('1234'), Buffer.from('56789')), 0x29b1);
    assert.equal(crc16(new Uint8Array(0)), 0xffff);
  });
});

describe('tvae2 codes: round trip', () => {
  test('every value comes back within half its step, outliers included', () => {
    const rng = makeRng(3);
    for (const dims of [1, 7, 32, 128]) {
      const steps = Array.from({ length: dims }, () => 0.01 + 3 * rng());
      const q = new LatentQuantiser(steps);
      const expected = { fingerprint: FP_A, latentDim: dims, quantiser: q };
      for (let trial = 0; trial < 20; trial++) {
        const u = Array.from({ length: dims }, () => gaussian(rng) * (trial % 5 === 0 ? 40 : 1));
        if (trial === 1) u[0] = -1e4;
        const code = formatPrecisionCode(u, FP_A, q);
        assert.match(code, /^tvae2:1a2b3c4d:[A-Za-z0-9_-]+$/);
        const back = parseLatentCode(code, expected);
        assert.equal(back.length, dims);
        u.forEach((v, i) => {
          const tol = steps[i] / 2 + 1e-6 * Math.max(1, Math.abs(v));
          assert.ok(Math.abs(back[i] - v) <= tol, `dim ${i}: ${v} came back as ${back[i]} (step ${steps[i]})`);
        });
        // A fresh quantiser (as after loading the model again) reads the same code.
        assert.deepEqual(parseLatentCode(code, { ...expected, quantiser: new LatentQuantiser(steps) }), back);
      }
    }
  });

  test('the 8-character fingerprint and surrounding whitespace are accepted', () => {
    const q = new LatentQuantiser([0.5, 0.5]);
    const code = formatPrecisionCode([0.3, -2], FP_A, q);
    assert.equal(parseLatentCode(`  ${code}\n`, { fingerprint: '1a2b3c4d', latentDim: 2, quantiser: q }).length, 2);
  });

  test('bad inputs to the encoder are refused', () => {
    const q = new LatentQuantiser([1, 1]);
    assert.throws(() => formatPrecisionCode([0, NaN], FP_A, q), /dimension 1 is NaN/);
    assert.throws(() => formatPrecisionCode([0], FP_A, q), /2 dimensions, got 1/);
    assert.throws(() => formatPrecisionCode([0, 0], 'xyz', q), /fingerprint/);
    assert.throws(() => new LatentQuantiser([1, 0]), /step 1 is 0/);
    assert.throws(() => new LatentQuantiser([]), /at least one/);
  });
});

describe('tvae2 codes: length follows information', () => {
  test('finer steps (a more precise posterior) give longer codes; coarse dimensions cost ~nothing', () => {
    const dims = 32;
    const lengths = [4, 1, 0.25, 0.05].map((s) => meanPayload(new LatentQuantiser(new Array(dims).fill(s)), 100, 5));
    for (let i = 1; i < lengths.length; i++)
      assert.ok(lengths[i] > lengths[i - 1], `payload lengths for finer steps: ${lengths.join(', ')}`);
    // Fixed-length int8 codes of the same vectors: 2 + 32 + 4 bytes.
    const int8 = payloadOf(formatLatentCode(new Array(dims).fill(0), FP_A)).length;
    assert.ok(lengths[1] < int8 / 2, `a step of one aggregate std: ${lengths[1]} chars vs ${int8}`);
    // Dimensions the encoder leaves at the prior (steps far wider than their spread): only the checksum.
    const inactive = new LatentQuantiser(new Array(dims).fill(100));
    assert.ok(meanPayload(inactive, 50, 6) <= 4);
    // Adding active dimensions to inactive ones adds their cost only.
    const mixed = new LatentQuantiser([...new Array(dims).fill(100), ...new Array(8).fill(0.25)]);
    const eight = new LatentQuantiser(new Array(8).fill(0.25));
    assert.ok(Math.abs(meanPayload(mixed, 100, 7) - meanPayload(eight, 100, 7)) < 2);
  });
});

describe('tvae2 codes: rejections', () => {
  const dims = 24;
  const steps = Array.from({ length: dims }, (_, i) => 0.1 + i / 20);
  const q = new LatentQuantiser(steps);
  const rng = makeRng(11);
  const u = Array.from({ length: dims }, () => gaussian(rng));
  const good = formatPrecisionCode(u, FP_A, q);
  const mine = { fingerprint: FP_A, latentDim: dims, quantiser: q };
  const theirs = { fingerprint: FP_B, latentDim: dims, quantiser: q };

  test('any one edited payload character is corrupt', () => {
    const payload = payloadOf(good);
    const start = good.length - payload.length;
    for (let i = 0; i < payload.length; i++) {
      for (const c of ['A', 'z', '-']) {
        if (payload[i] === c) continue;
        const bad = good.slice(0, start + i) + c + good.slice(start + i + 1);
        expectCodeError(() => parseLatentCode(bad, mine), 'corrupt');
      }
    }
    expectCodeError(() => parseLatentCode(good + 'AAAA', mine), 'corrupt');
  });

  test('a cut-off code is refused (truncated or corrupt), never misread', () => {
    for (let cut = 1; cut < payloadOf(good).length; cut++) {
      assert.throws(
        () => parseLatentCode(good.slice(0, -cut), mine),
        (err: unknown) => err instanceof LatentCodeError && (err.reason === 'corrupt' || err.reason === 'truncated'),
      );
    }
    expectCodeError(() => parseLatentCode('tvae2:1a2b3c4d:AA', mine), 'truncated', /found 1$/);
  });

  test('an intact code of another model is wrong-model; an edited fingerprint is corrupt', () => {
    expectCodeError(
      () => parseLatentCode(good, theirs),
      'wrong-model',
      'this code was made by model 1a2b3c4d; the active model is 5e6f7a8b',
    );
    expectCodeError(() => parseLatentCode(good.replace(':1a2b3c4d:', ':5e6f7a8b:'), theirs), 'corrupt', /checksum/);
    // A model that writes tvae1 codes (no quantiser) and is another model: still wrong-model.
    expectCodeError(() => parseLatentCode(good, { fingerprint: FP_B, latentDim: 32 }), 'wrong-model');
  });

  test('without its model a tvae2 code is checked but not decoded', () => {
    expectCodeError(() => parseLatentCode(good), 'needs-model', /only be decoded by its model \(1a2b3c4d\)/);
    expectCodeError(() => parseLatentCode(good.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'))), 'corrupt');
  });

  test('version and scheme: tvae1 codes still decode; unknown versions are unsupported', () => {
    const old = formatLatentCode([0.5, -1, 2], FP_A);
    assert.equal(parseLatentCode(old, { fingerprint: FP_A, latentDim: 3, quantiser: q }).length, 3);
    expectCodeError(
      () => parseLatentCode(good.replace(/^tvae2:/, 'tvae3:'), mine),
      'unsupported-version',
      /tvae3 is not supported.*tvae1 and tvae2/,
    );
    // The same model fingerprint but no quantiser: the model does not write tvae2 codes.
    expectCodeError(() => parseLatentCode(good, { fingerprint: FP_A, latentDim: dims }), 'unsupported-version');
  });

  test('fuzz: random payloads are refused with a LatentCodeError, never another exception', () => {
    const r = makeRng(1234);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    let decoded = 0;
    for (let i = 0; i < 3000; i++) {
      const len = 1 + Math.floor(r() * 40);
      const payload = Array.from({ length: len }, () => alphabet[Math.floor(r() * 64)]).join('');
      try {
        const z = parseLatentCode(`tvae2:1a2b3c4d:${payload}`, mine);
        decoded++;
        assert.equal(z.length, dims);
        // Anything that decodes is exactly a code the encoder writes.
        assert.equal(formatPrecisionCode(z, FP_A, q), `tvae2:1a2b3c4d:${payload}`);
      } catch (err) {
        assert.ok(err instanceof LatentCodeError, String(err));
      }
    }
    assert.ok(decoded < 5, `${decoded} random payloads decoded`);
  });
});
