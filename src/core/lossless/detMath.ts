/**
 * Functions whose results are the same bits on every machine: only + − × ÷ and sqrt, which IEEE 754
 * rounds exactly and JavaScript never fuses or reorders. Math.exp is "implementation-approximated"
 * in ECMAScript, so the coder must not use it.
 */

/** e^x for x <= 0, relative error below 1e-8 (results under e^-60 are 0). */
export function expNeg(x: number): number {
  if (x < -60) return 0;
  // e^x = (e^(x/64))^64 with |x/64| < 0.94: a short Taylor series, then six squarings.
  const y = x / 64;
  let p = 1 / 479001600; // 1/12!
  p = p * y + 1 / 39916800;
  p = p * y + 1 / 3628800;
  p = p * y + 1 / 362880;
  p = p * y + 1 / 40320;
  p = p * y + 1 / 5040;
  p = p * y + 1 / 720;
  p = p * y + 1 / 120;
  p = p * y + 1 / 24;
  p = p * y + 1 / 6;
  p = p * y + 0.5;
  p = p * y + 1;
  p = p * y + 1;
  for (let i = 0; i < 6; i++) p *= p;
  return p;
}
