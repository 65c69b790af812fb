import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FLOAT16_MAX, float16Bits, float16Value, readFloat16LE, toFloat16 } from '../../src/core/float16';

describe('float16 conversion', () => {
  test('every half value converts back to its own bits', () => {
    for (let h = 0; h < 65536; h++) {
      const v = float16Value(h);
      if (Number.isNaN(v)) {
        assert.equal(h & 0x7c00, 0x7c00, `NaN from ${h.toString(16)}`);
        assert.equal(float16Bits(v) & 0x7fff, 0x7e00);
        continue;
      }
      assert.equal(float16Bits(v), h, `bits ${h.toString(16)} -> ${v}`);
    }
  });

  test('known values, signed zeros and infinities', () => {
    assert.equal(float16Bits(1), 0x3c00);
    assert.equal(float16Bits(-2), 0xc000);
    assert.equal(float16Bits(FLOAT16_MAX), 0x7bff);
    assert.equal(float16Bits(2 ** -14), 0x0400); // smallest normal
    assert.equal(float16Bits(2 ** -24), 0x0001); // smallest subnormal
    assert.equal(float16Bits(0), 0);
    assert.equal(float16Bits(-0), 0x8000);
    assert.equal(float16Bits(Infinity), 0x7c00);
    assert.equal(float16Bits(-Infinity), 0xfc00);
    assert.ok(Number.isNaN(float16Value(float16Bits(NaN))));
    assert.ok(Object.is(float16Value(0x8000), -0));
  });

  test('rounds to nearest, ties to even, in normal and subnormal ranges', () => {
    const ulp1 = 2 ** -10; // spacing of halves in [1, 2)
    assert.equal(float16Bits(1 + ulp1 / 2), 0x3c00, 'tie rounds down to the even 1.0');
    assert.equal(float16Bits(1 + (3 * ulp1) / 2), 0x3c02, 'tie rounds up to the even mantissa 2');
    assert.equal(float16Bits(1 + ulp1 / 2 + 2 ** -20), 0x3c01, 'above the tie rounds up');
    assert.equal(float16Bits(2 ** -25), 0, 'half the smallest subnormal is a tie: rounds to 0');
    assert.equal(float16Bits(1.5 * 2 ** -24), 0x0002, 'subnormal tie rounds to even');
    assert.equal(float16Bits(2 ** -25 + 2 ** -40), 0x0001);
    assert.equal(float16Bits(1e-45), 0, 'float32 denormals flush to zero');
    assert.equal(float16Bits(-1e-45), 0x8000);
    // Just below the half-way point between 65504 and 65536 stays finite; at it, overflows.
    assert.equal(float16Bits(65519), 0x7bff);
    assert.equal(float16Bits(65520), 0x7c00);
    // A mantissa carry into the next binade.
    assert.equal(float16Bits(2 - 2 ** -12), 0x4000);
  });

  test('the rounding error is at most half a unit in the last place', () => {
    let s = 12345;
    for (let i = 0; i < 20000; i++) {
      s = (s * 1103515245 + 12345) >>> 0;
      const x = Math.fround(((s / 2 ** 32) * 2 - 1) * 2 ** ((i % 40) - 30));
      const v = float16Value(float16Bits(x));
      const bound = Math.max(Math.abs(x) * 2 ** -11, 2 ** -25);
      assert.ok(Math.abs(v - x) <= bound, `${x} -> ${v}`);
    }
  });

  test('toFloat16 refuses a tensor with a finite value beyond the half range, keeps non-finite ones', () => {
    assert.equal(toFloat16(Float32Array.of(1, -70000, 2)), undefined);
    assert.equal(toFloat16(Float32Array.of(65520)), undefined);
    const kept = toFloat16(Float32Array.of(NaN, Infinity, -Infinity, FLOAT16_MAX))!;
    assert.deepEqual(Array.from(kept.subarray(1)), [0x7c00, 0xfc00, 0x7bff]);
    assert.ok(Number.isNaN(float16Value(kept[0])));
  });

  test('readFloat16LE reads little-endian halves at any byte offset', () => {
    const bytes = Uint8Array.of(0xff, 0x00, 0x3c, 0x00, 0xc0, 0x01, 0x00);
    assert.deepEqual(Array.from(readFloat16LE(bytes, 1, 3)), [1, -2, 2 ** -24]);
  });
});
