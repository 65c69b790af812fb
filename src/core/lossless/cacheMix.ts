/**
 * The document cache in lossless codes of format version 2: the model's integer frequencies for a
 * token are mixed with a DocumentCache over the segment's tokens already coded (documentCache.ts),
 * then quantised again. Encoder and decoder meet the tokens in the same order (the lockstep's
 * step-major, block-minor order) and the arithmetic is IEEE doubles in a fixed order (no Math.log
 * or Math.exp), so both sides get the same frequencies, bit for bit.
 */
import { DocumentCache, type CacheParams } from '../documentCache';
import { FIRST_BYTE_ID } from '../tokenizer';
import { TOTAL } from './rangeCoder';

/**
 * Part of format version 2: changing any number here changes what version 2 codes decode to, so a
 * new cache needs a new version. Fitted by `scripts/cache-tune.ts --lockstep` (the coder's order of
 * tokens) on training files of the Debian and Python corpora with model 4ee306e0; any model may use it.
 */
export const TVZ2_CACHE: CacheParams = {
  order: 6,
  decay: 0.99,
  escape: 0.5,
  doubtBins: [0.2, 0.5, 0.8],
  lambdas: [
    0.0009, 0.0002, 0.004, 0.0129, 0.0137, 0.0493, 0.0962, 0.1158, 0.0231, 0.164, 0.2288, 0.3198, 0.0388, 0.2758, 0.581,
    0.5855, 0.0099, 0.0406, 0.0715, 0.1241, 0.0074, 0.0463, 0.1206, 0.1777, 0.078, 0.2592, 0.3598, 0.359, 0.0949,
    0.5758, 0.6419, 0.6684, 0.4758, 0.7838, 0.8746, 0.8531, 0.0496, 0.1973, 0.2282, 0.2681, 0.0837, 0.2175, 0.3169,
    0.3564, 0.1667, 0.3925, 0.5233, 0.4776, 0.269, 0.6805, 0.7767, 0.7672, 0.4216, 0.8875, 0.8757, 0.9088, 0.0441,
    0.2281, 0.2742, 0.3437, 0.1823, 0.2853, 0.327, 0.4324, 0.2297, 0.4991, 0.5866, 0.5762, 0.5244, 0.7834, 0.8196,
    0.7966, 0.7508, 0.7685, 0.8843, 0.9563, 0.0478, 0.2223, 0.2379, 0.366, 0.312, 0.2848, 0.4517, 0.4926, 0.2786, 0.569,
    0.6922, 0.6208, 0.6912, 0.7509, 0.8338, 0.8359, 0.9282, 0.9227, 0.9357, 0.9151, 0, 0.144, 0.4815, 0.3745, 0.2075,
    0.1056, 0.5992, 0.5314, 0.4163, 0.7216, 0.802, 0.742, 0.7203, 0.8926, 0.9343, 0.9261, 0.8903, 0.9553, 0.9837,
    0.9822, 0.1518, 0.2303, 0.4227, 0.4447, 0.0671, 0.3482, 0.5704, 0.6429,
  ],
};

/**
 * Mixes row `base` of the model's cumulative frequencies (`symbols` + 1 entries, token id −
 * FIRST_BYTE_ID) with the cache's distribution `cacheProbs` (over token ids, for this block's
 * `context`) into `out` at `outBase`: frequencies ≥ 1 summing to TOTAL, the likeliest absorbing
 * the rounding. Returns false, leaving `out` alone, where λ is 0 (the model's row stands).
 */
export function mixFrequencies(
  modelCum: Int32Array,
  base: number,
  symbols: number,
  cache: DocumentCache,
  context: readonly number[],
  cacheProbs: Float64Array,
  out: Int32Array,
  outBase: number,
): boolean {
  const mass = TOTAL - symbols;
  let maxFreq = 0;
  let prev = modelCum[base];
  for (let s = 1; s <= symbols; s++) {
    const c = modelCum[base + s];
    if (c - prev > maxFreq) maxFreq = c - prev;
    prev = c;
  }
  // Each frequency is 1 + the model's share of `mass`: (f − 1) / mass is the model's probability.
  const lambda = cache.lambda(1 - (maxFreq - 1) / mass, context);
  if (lambda === 0) return false;
  // Frequencies: 1 + ⌊p·mass⌋ with p = (1 − λ)·(f − 1)/mass + λ·p_cache, so (1 − λ)·(f − 1) + λ·mass·p_cache.
  const keep = 1 - lambda;
  const cacheMass = lambda * mass;
  let total = 0;
  let best = 0;
  let bestF = -1;
  prev = modelCum[base];
  for (let s = 0; s < symbols; s++) {
    const c = modelCum[base + s + 1];
    const x = keep * (c - prev - 1) + cacheMass * cacheProbs[s + FIRST_BYTE_ID];
    prev = c;
    const f = 1 + Math.floor(x);
    out[outBase + s + 1] = f;
    total += f;
    if (x > bestF) {
      bestF = x;
      best = s;
    }
  }
  out[outBase + best + 1] += TOTAL - total;
  let acc = 0;
  out[outBase] = 0;
  for (let s = 1; s <= symbols; s++) out[outBase + s] = acc += out[outBase + s];
  return true;
}
