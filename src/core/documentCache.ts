/**
 * A document cache for the decoder's token distribution: p = (1 − λ)·p_model + λ·p_cache, where
 * p_cache predicts from the tokens already seen earlier in the same document (a decayed unigram
 * count, blended with "copy" counts of what followed the last 1..order tokens before). Each chunk is
 * still coded from its own z; the cache only carries the document's earlier text, so −ELBO with the
 * mixed reconstruction term bounds −log p(chunk | earlier chunks). λ depends on how much context
 * the cache has matched (its state), and is fitted per state on a tuning set (fitLambdas).
 *
 * Pure arithmetic on doubles in a fixed order, so encoder and decoder of a lossless code reproduce
 * it bit for bit.
 */

export interface CacheParams {
  /** Longest context, in tokens, whose earlier continuations the cache copies (0: unigram only). */
  order: number;
  /** Per-token decay of the unigram counts (1: no decay). */
  decay: number;
  /** Escape weight β of the blend between orders: more distinct continuations, more weight below. */
  escape: number;
  /** Ascending thresholds on the model's doubt, 1 − max_v p_model(v), that split each cache state. */
  doubtBins?: number[];
  /** Mixture weight λ per state (stateCount(params) entries); a state without one gets 0. */
  lambdas: number[];
}

/**
 * The fallback for a bundle without cache.json. Chosen for the earlier default 4ee306e0 by
 * scripts/cache-tune.ts on training files of the Debian and Python corpora, never on the held-out
 * text the figures come from (docs/benchmarks.md).
 */
export const DEFAULT_CACHE: CacheParams = {
  order: 6,
  decay: 0.99,
  escape: 0.5,
  doubtBins: [0.2, 0.5, 0.8],
  lambdas: [
    0.0018, 0.0009, 0.0047, 0.0157, 0.021, 0.0465, 0.1039, 0.1278, 0.0161, 0.1336, 0.2494, 0.2927, 0.0536, 0.3839,
    0.4997, 0.526, 0.0054, 0.0345, 0.077, 0.1341, 0.0075, 0.0453, 0.1279, 0.184, 0.0363, 0.2411, 0.3449, 0.3472, 0.0711,
    0.4562, 0.6438, 0.6579, 0.3183, 0.7404, 0.8391, 0.8281, 0.0229, 0.2058, 0.2119, 0.2516, 0.0243, 0.1659, 0.2856,
    0.3559, 0.0573, 0.3427, 0.4975, 0.4583, 0.1317, 0.6979, 0.7769, 0.7492, 0.5067, 0.8919, 0.8588, 0.8829, 0.0118,
    0.1395, 0.2365, 0.3145, 0.0156, 0.0621, 0.1877, 0.3874, 0.092, 0.4128, 0.5703, 0.5492, 0.3352, 0.6369, 0.7683,
    0.8079, 0.6556, 0.8414, 0.8961, 0.9314, 0.0274, 0.2088, 0.2438, 0.349, 0.0213, 0.2286, 0.321, 0.4013, 0.1317,
    0.5515, 0.6506, 0.5982, 0.4688, 0.8199, 0.8255, 0.7922, 0.7974, 0.8735, 0.9212, 0.9162, 0, 0.3498, 0.3566, 0.327,
    0.0165, 0.1095, 0.5195, 0.4639, 0.304, 0.7298, 0.7781, 0.7349, 0.6043, 0.9117, 0.9226, 0.9049, 0.8848, 0.9633,
    0.9756, 0.9762, 0.0669, 0.2704, 0.4473, 0.4368, 0.1051, 0.4629, 0.5663, 0.6067,
  ],
};

/** Checks a parameter set read from JSON (scripts/cache-tune.ts prints one); throws a short, clear error. */
export function parseCacheParams(json: unknown): CacheParams {
  const o = json as Partial<Record<keyof CacheParams, unknown>> | null;
  const numbers = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === 'number');
  if (
    typeof o !== 'object' ||
    o === null ||
    typeof o.order !== 'number' ||
    typeof o.decay !== 'number' ||
    typeof o.escape !== 'number' ||
    !numbers(o.lambdas) ||
    (o.doubtBins !== undefined && !numbers(o.doubtBins))
  )
    throw new Error(
      'cache parameters need order, decay, escape (numbers), lambdas and optionally doubtBins (number lists)',
    );
  const params: CacheParams = {
    order: o.order,
    decay: o.decay,
    escape: o.escape,
    lambdas: o.lambdas as number[],
    ...(o.doubtBins !== undefined && { doubtBins: o.doubtBins as number[] }),
  };
  new DocumentCache(2, params); // the range checks
  if (params.lambdas.length !== stateCount(params))
    throw new Error(
      `cache parameters need ${stateCount(params)} lambdas for their order and bins, not ${params.lambdas.length}`,
    );
  return params;
}

/** Buckets per matched order: deterministic context seen 1, 2–3, ≥ 4 times; several continuations, < 4, ≥ 4. */
const BUCKETS = 5;

/** States: 0 = unigram only, then BUCKETS per matched order; each split by the doubt bins. */
export function stateCount(params: Pick<CacheParams, 'order' | 'doubtBins'>): number {
  return (1 + params.order * BUCKETS) * ((params.doubtBins?.length ?? 0) + 1);
}

/** A context: a node of a trie read backwards from the predicted token (child = one token earlier). */
interface Context {
  /** Times the context was followed by a token. */
  n: number;
  followers: Map<number, number>;
  earlier: Map<number, Context>;
}

function newContext(): Context {
  return { n: 0, followers: new Map(), earlier: new Map() };
}

export class DocumentCache {
  readonly vocabSize: number;
  readonly params: CacheParams;
  private counts: Float64Array;
  private total = 0;
  private increment = 1;
  private history: number[] = [];
  /** Tokens observed since the last reset. */
  seen = 0;
  /** The empty context; the node k levels down holds the context of the last k tokens. */
  private root: Context = newContext();

  constructor(vocabSize: number, params: CacheParams) {
    if (!Number.isInteger(params.order) || params.order < 0 || params.order > 8)
      throw new Error(`cache order must be an integer from 0 to 8, not ${params.order}`);
    if (!(params.decay > 0 && params.decay <= 1)) throw new Error(`cache decay must be in (0, 1], not ${params.decay}`);
    if (!(params.escape > 0)) throw new Error(`cache escape must be positive, not ${params.escape}`);
    const bins = params.doubtBins ?? [];
    if (bins.some((b, i) => !Number.isFinite(b) || (i > 0 && b <= bins[i - 1])))
      throw new Error(`cache doubtBins must be ascending numbers, not ${bins.join(', ')}`);
    for (const l of params.lambdas)
      if (!(l >= 0 && l < 1)) throw new Error(`cache lambdas must be in [0, 1), not ${l}`);
    this.vocabSize = vocabSize;
    this.params = params;
    this.counts = new Float64Array(vocabSize);
    this.reset();
  }

  /** Forgets the document: the next token starts a new one. */
  reset(): void {
    this.counts.fill(0);
    this.total = 0;
    this.increment = 1;
    this.history = [];
    this.seen = 0;
    this.root = newContext();
  }

  /** The contexts ending the given history that were seen before, shortest first. */
  private matched(h: readonly number[]): Context[] {
    const out: Context[] = [];
    for (let k = 1; k <= this.params.order && k <= h.length; k++) {
      const c = (out.length ? out[out.length - 1] : this.root).earlier.get(h[h.length - k]);
      if (!c) break;
      out.push(c);
    }
    return out;
  }

  /**
   * The state that picks λ: how much context the cache matched and, with doubtBins, how unsure the
   * model is at this position (1 − its largest probability). −1 while the cache is empty.
   *
   * `context` (here and below): the tokens just before the predicted one, most recent last; by
   * default the document's tokens as observed. A caller that interleaves several pieces of one
   * document (the lossless coder's blocks in lockstep) passes each piece's own.
   */
  state(modelDoubt = 0, context: readonly number[] = this.history): number {
    if (this.total === 0) return -1;
    const m = this.matched(context);
    let s = 0;
    if (m.length > 0) {
      const c = m[m.length - 1];
      const bucket = c.followers.size === 1 ? (c.n === 1 ? 0 : c.n < 4 ? 1 : 2) : c.n < 4 ? 3 : 4;
      s = 1 + (m.length - 1) * BUCKETS + bucket;
    }
    const bins = this.params.doubtBins ?? [];
    let bin = 0;
    while (bin < bins.length && modelDoubt >= bins[bin]) bin++;
    return s * (bins.length + 1) + bin;
  }

  /** The mixture weight for the next token. */
  lambda(modelDoubt = 0, context: readonly number[] = this.history): number {
    const s = this.state(modelDoubt, context);
    return s < 0 ? 0 : (this.params.lambdas[s] ?? 0);
  }

  /** p_cache(token | history); 0 everywhere while the cache is empty. */
  prob(token: number, context: readonly number[] = this.history): number {
    if (this.total === 0) return 0;
    let p = this.counts[token] / this.total;
    for (const c of this.matched(context)) {
      const e = this.params.escape * c.followers.size;
      p = ((c.followers.get(token) ?? 0) + e * p) / (c.n + e);
    }
    return p;
  }

  /** The whole p_cache over the vocabulary (all zero while the cache is empty). */
  distribution(out = new Float64Array(this.vocabSize), context: readonly number[] = this.history): Float64Array {
    if (this.total === 0) return out.fill(0);
    // The blend of prob(), unrolled: each order's counts weighted by the escapes of the orders
    // above it, so the dense unigram part is scaled once (one pass over the vocabulary).
    const m = this.matched(context);
    const above = new Float64Array(m.length + 1);
    above[m.length] = 1;
    for (let k = m.length - 1; k >= 0; k--) {
      const e = this.params.escape * m[k].followers.size;
      above[k] = above[k + 1] * (e / (m[k].n + e));
    }
    const unigram = above[0] / this.total;
    for (let v = 0; v < this.vocabSize; v++) out[v] = this.counts[v] * unigram;
    m.forEach((c, k) => {
      const w = above[k + 1] / (c.n + this.params.escape * c.followers.size);
      for (const [v, n] of c.followers) out[v] += n * w;
    });
    return out;
  }

  /** The mixed probability of `token`, given the model's probability of it and its doubt. */
  mixedProb(token: number, modelProb: number, modelDoubt = 0, context: readonly number[] = this.history): number {
    const l = this.lambda(modelDoubt, context);
    return l === 0 ? modelProb : (1 - l) * modelProb + l * this.prob(token, context);
  }

  /** Adds a token of the document to the cache; with `context`, the document's own history stays as it is. */
  observe(token: number, context?: readonly number[]): void {
    if (token < 0 || token >= this.vocabSize) throw new Error(`token ${token} is outside the vocabulary`);
    const h = context ?? this.history;
    this.seen++;
    let c = this.root;
    for (let k = 1; k <= this.params.order && k <= h.length; k++) {
      let next = c.earlier.get(h[h.length - k]);
      if (!next) c.earlier.set(h[h.length - k], (next = newContext()));
      c = next;
      c.n++;
      c.followers.set(token, (c.followers.get(token) ?? 0) + 1);
    }
    if (!context) {
      this.history.push(token);
      if (this.history.length > this.params.order) this.history.shift();
    }
    // Decay by growing the increment instead of shrinking every count; rescale before it overflows.
    this.counts[token] += this.increment;
    this.total += this.increment;
    this.increment /= this.params.decay;
    if (this.increment > 1e100) {
      for (let v = 0; v < this.vocabSize; v++) this.counts[v] /= this.increment;
      this.total /= this.increment;
      this.increment = 1;
    }
  }
}

/** p = (1 − λ)·p_model + λ·p_cache over the whole vocabulary, for the cache's current state. */
export function mixDistribution(
  modelProbs: ArrayLike<number>,
  cache: DocumentCache,
  context?: readonly number[],
): Float64Array {
  const out = new Float64Array(modelProbs.length);
  const l = cache.lambda((cache.params.doubtBins?.length ?? 0) > 0 ? doubt(modelProbs) : 0, context);
  if (l === 0) {
    for (let v = 0; v < out.length; v++) out[v] = modelProbs[v];
    return out;
  }
  const pc = cache.distribution(undefined, context);
  for (let v = 0; v < out.length; v++) out[v] = (1 - l) * modelProbs[v] + l * pc[v];
  return out;
}

/** 1 − the largest probability: how unsure a distribution is (no logarithm, so exactly reproducible). */
export function doubt(probs: ArrayLike<number>): number {
  let max = 0;
  for (let v = 0; v < probs.length; v++) if (probs[v] > max) max = probs[v];
  return 1 - max;
}

/** What one document's tokens cost: per target, the model's probability and the cache's state and probability. */
export interface CacheRecord {
  modelProb: number;
  cacheProb: number;
  state: number;
}

/**
 * Runs a cache over documents (each a sequence of chunks, each chunk's targets with the model's
 * log-probabilities of them) and calls `visit` for every target before the cache sees it.
 */
export function scoreDocuments(
  vocabSize: number,
  params: CacheParams,
  documents: Iterable<Iterable<{ targets: ArrayLike<number>; logp: ArrayLike<number>; doubt?: ArrayLike<number> }>>,
  visit: (r: CacheRecord) => void,
): void {
  const cache = new DocumentCache(vocabSize, params);
  for (const doc of documents) {
    cache.reset();
    for (const chunk of doc)
      for (let t = 0; t < chunk.targets.length; t++) {
        const token = chunk.targets[t];
        const state = cache.state(chunk.doubt?.[t] ?? 0);
        visit({ modelProb: Math.exp(chunk.logp[t]), cacheProb: cache.prob(token), state });
        cache.observe(token);
      }
  }
}

/**
 * The λ per state that maximises Σ log((1 − λ)·p_model + λ·p_cache) over the records (EM; the
 * objective is concave in each λ). States never seen keep 0.
 */
export function fitLambdas(records: readonly CacheRecord[], states: number, iterations = 100): number[] {
  const lambdas = new Array<number>(states).fill(0);
  const byState: CacheRecord[][] = Array.from({ length: states }, () => []);
  for (const r of records) if (r.state >= 0 && r.state < states) byState[r.state].push(r);
  byState.forEach((rs, s) => {
    if (rs.length === 0) return;
    let l = 0.5;
    for (let i = 0; i < iterations; i++) {
      let resp = 0;
      for (const r of rs) {
        const c = l * r.cacheProb;
        resp += c / ((1 - l) * r.modelProb + c);
      }
      l = Math.min(0.999, resp / rs.length);
    }
    lambdas[s] = l;
  });
  return lambdas;
}

/** Nats the records cost with the mixture (or without it: lambdas all 0). */
export function mixedNats(records: readonly CacheRecord[], lambdas: readonly number[]): number {
  let nats = 0;
  for (const r of records) {
    const l = r.state < 0 ? 0 : (lambdas[r.state] ?? 0);
    nats -= Math.log((1 - l) * r.modelProb + l * r.cacheProb);
  }
  return nats;
}
