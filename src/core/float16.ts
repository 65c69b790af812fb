/**
 * IEEE 754 half precision (binary16) for weight storage: 1 sign bit, 5 exponent bits, 10 mantissa
 * bits; largest finite value 65504, subnormals down to 2^-24. Node 20 has no Float16Array, so the
 * conversions work on the bits. Pure: no tfjs.
 */

/** Largest finite half value. */
export const FLOAT16_MAX = 65504;

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** Half bits of `x`, rounded to nearest, ties to even; overflow gives ±Infinity, NaN stays NaN. */
export function float16Bits(x: number): number {
  f32[0] = x;
  const b = u32[0];
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  const mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e >= 1) {
    // Normal: drop 13 mantissa bits; a carry into the exponent (even into Infinity) is correct.
    let h = (e << 10) | (mant >>> 13);
    const rem = mant & 0x1fff;
    if (rem > 0x1000 || (rem === 0x1000 && (h & 1) !== 0)) h++;
    return sign | h;
  }
  // Subnormal half: the value in units of 2^-24 is (1.mant) shifted right by 14 - e.
  const shift = 14 - e;
  if (shift > 24) return sign;
  const full = mant | 0x800000;
  let m = full >>> shift;
  const rem = full & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  if (rem > half || (rem === half && (m & 1) !== 0)) m++;
  return sign | m;
}

let table: Float32Array | undefined;

/** The value of every half bit pattern, built once (256 KB). */
function halfTable(): Float32Array {
  if (table) return table;
  table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const e = (h >>> 10) & 0x1f;
    const m = h & 0x3ff;
    if (e === 0) table[h] = sign * m * 2 ** -24;
    else if (e === 0x1f) table[h] = m === 0 ? sign * Infinity : NaN;
    else table[h] = sign * 2 ** (e - 15) * (1 + m / 1024);
  }
  return table;
}

/** The float value of half bits `h` (exact: every half value is a float32 value). */
export function float16Value(h: number): number {
  return halfTable()[h & 0xffff];
}

/**
 * Half bits of every value, or undefined when a finite value is beyond the half range (it would
 * become Infinity): the caller keeps such a tensor in float32. NaN and ±Infinity stay as they are.
 */
export function toFloat16(data: Float32Array): Uint16Array | undefined {
  const out = new Uint16Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const h = float16Bits(data[i]);
    if ((h & 0x7fff) === 0x7c00 && Number.isFinite(data[i])) return undefined;
    out[i] = h;
  }
  return out;
}

/** Float32 values of `length` little-endian halves starting at byte `byteOffset` of `bin`. */
export function readFloat16LE(bin: Uint8Array, byteOffset: number, length: number): Float32Array {
  const t = halfTable();
  const out = new Float32Array(length);
  for (let i = 0, p = byteOffset; i < length; i++, p += 2) out[i] = t[bin[p] | (bin[p + 1] << 8)];
  return out;
}
