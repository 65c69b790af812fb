/**
 * A carry-propagating range coder (the LZMA scheme) over integer frequencies that sum to TOTAL.
 * Integer arithmetic only, so encoder and decoder agree on every machine. Numbers stay below 2^53
 * (low may carry into bit 32), so plain JS numbers are exact.
 *
 * Two savings matter for short codes: the first output byte of the LZMA scheme is always 0 and is
 * not written, and the final value is chosen with as many trailing zero bytes as the last interval
 * allows, which are then cut (the decoder reads zeros past the end).
 */

/** Frequencies of one distribution sum to exactly this. */
export const TOTAL_BITS = 16;
export const TOTAL = 1 << TOTAL_BITS;
const TOP = 2 ** 24;
const TWO32 = 2 ** 32;

export class RangeEncoder {
  private low = 0;
  private range = TWO32 - 1;
  private cache = 0;
  private cacheSize = 1;
  private first = true;
  private out: number[] = [];

  /** Codes the symbol whose cumulative frequency starts at `start` and whose frequency is `freq`. */
  encode(start: number, freq: number): void {
    const r = Math.floor(this.range / TOTAL);
    this.low += r * start;
    this.range = r * freq;
    while (this.range < TOP) {
      this.range *= 256;
      this.shiftLow();
    }
  }

  private shiftLow(): void {
    if (this.low < 0xff000000 || this.low >= TWO32) {
      const carry = this.low >= TWO32 ? 1 : 0;
      let temp = this.cache;
      do {
        // The very first byte stands for bits above the initial interval: always 0, never written.
        if (this.first) this.first = false;
        else this.out.push((temp + carry) & 0xff);
        temp = 0xff;
      } while (--this.cacheSize !== 0);
      this.cache = Math.floor(this.low / TOP) & 0xff;
    }
    this.cacheSize++;
    this.low = (this.low % TOP) * 256;
  }

  /** Ends the code: picks the value in the last interval with most trailing zeros, then cuts them. */
  finish(): Uint8Array {
    const end = this.low + this.range;
    for (let s = 40; s >= 0; s--) {
      const m = 2 ** s;
      const v = Math.ceil(this.low / m) * m;
      if (v < end) {
        this.low = v;
        break;
      }
    }
    for (let i = 0; i < 5; i++) this.shiftLow();
    let n = this.out.length;
    while (n > 0 && this.out[n - 1] === 0) n--;
    return Uint8Array.from(this.out.slice(0, n));
  }
}

export class RangeDecoderError extends Error {}

export class RangeDecoder {
  private code = 0;
  private range = TWO32 - 1;
  private pos: number;
  private r = 0;

  constructor(
    private readonly bytes: Uint8Array,
    offset = 0,
  ) {
    this.pos = offset;
    for (let i = 0; i < 4; i++) this.code = this.code * 256 + this.nextByte();
  }

  private nextByte(): number {
    return this.pos < this.bytes.length ? this.bytes[this.pos++] : (this.pos++, 0);
  }

  /** The cumulative frequency the next symbol's interval contains; then call `consume`. */
  target(): number {
    this.r = Math.floor(this.range / TOTAL);
    const v = Math.floor(this.code / this.r);
    if (v >= TOTAL) throw new RangeDecoderError('range code out of bounds');
    return v;
  }

  consume(start: number, freq: number): void {
    this.code -= this.r * start;
    this.range = this.r * freq;
    while (this.range < TOP) {
      this.code = (this.code % TOP) * 256 + this.nextByte();
      this.range *= 256;
    }
  }

  /** Bytes read so far, counting the zeros read past the end. */
  get consumed(): number {
    return this.pos;
  }
}
