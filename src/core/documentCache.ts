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
  /** Mixture weight λ per state (stateCount(order) entries); a state without one gets 0. */
  lambdas: number[];
}

/** Chosen by scripts/cache-tune.ts on training files of the Debian and Python corpora (docs/benchmarks.md). */
export const DEFAULT_CACHE: CacheParams = {
  order: 6,
  decay: 0.995,
  escape: 0.5,
  lambdas: [
    0.0081, 0.0844, 0.2788, 0.4766, 0.0859, 0.1267, 0.2972, 0.595, 0.8102, 0.2107, 0.1824, 0.4065, 0.7127, 0.8779,
    0.2098, 0.2076, 0.4987, 0.802, 0.9172, 0.2837, 0.3743, 0.5868, 0.8388, 0.9481, 0.2941, 0.4587, 0.7535, 0.9039,
    0.9806, 0.4384, 0.6931,
  ],
};

/** Buckets per matched order: deterministic context seen 1, 2–3, ≥ 4 times; several continuations, < 4, ≥ 4. */
const BUCKETS = 5;

/** States: 0 = unigram only, then BUCKETS per matched order. */
export function stateCount(order: number): number {
  return 1 + order * BUCKETS;
}

interface Context {
  /** Times the context was followed by a token. */
  n: number;
  followers: Map<number, number>;
}

export class DocumentCache {
  readonly vocabSize: number;
  readonly params: CacheParams;
  private counts: Float64Array;
  private total = 0;
  private increment = 1;
  private history: number[] = [];
  /** tables[k-1]: context of the last k tokens → what followed it. */
  private tables: Map<string, Context>[] = [];

  constructor(vocabSize: number, params: CacheParams) {
    if (!Number.isInteger(params.order) || params.order < 0 || params.order > 8)
      throw new Error(`cache order must be an integer from 0 to 8, not ${params.order}`);
    if (!(params.decay > 0 && params.decay <= 1)) throw new Error(`cache decay must be in (0, 1], not ${params.decay}`);
    if (!(params.escape > 0)) throw new Error(`cache escape must be positive, not ${params.escape}`);
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
    this.tables = Array.from({ length: this.params.order }, () => new Map());
  }

  /** The contexts of the current history that were seen before, shortest first. */
  private matched(): Context[] {
    const out: Context[] = [];
    const h = this.history;
    for (let k = 1; k <= this.params.order && k <= h.length; k++) {
      const c = this.tables[k - 1].get(h.slice(h.length - k).join(','));
      if (!c) break;
      out.push(c);
    }
    return out;
  }

  /** The state that picks λ: −1 while the cache is empty. */
  get state(): number {
    if (this.total === 0) return -1;
    const m = this.matched();
    if (m.length === 0) return 0;
    const c = m[m.length - 1];
    const bucket = c.followers.size === 1 ? (c.n === 1 ? 0 : c.n < 4 ? 1 : 2) : c.n < 4 ? 3 : 4;
    return 1 + (m.length - 1) * BUCKETS + bucket;
  }

  /** The mixture weight for the next token. */
  get lambda(): number {
    const s = this.state;
    return s < 0 ? 0 : (this.params.lambdas[s] ?? 0);
  }

  /** p_cache(token | history); 0 everywhere while the cache is empty. */
  prob(token: number): number {
    if (this.total === 0) return 0;
    let p = this.counts[token] / this.total;
    for (const c of this.matched()) {
      const e = this.params.escape * c.followers.size;
      p = ((c.followers.get(token) ?? 0) + e * p) / (c.n + e);
    }
    return p;
  }

  /** The whole p_cache over the vocabulary (all zero while the cache is empty). */
  distribution(out = new Float64Array(this.vocabSize)): Float64Array {
    out.fill(0);
    if (this.total === 0) return out;
    for (let v = 0; v < this.vocabSize; v++) out[v] = this.counts[v] / this.total;
    for (const c of this.matched()) {
      const e = this.params.escape * c.followers.size;
      const scale = e / (c.n + e);
      for (let v = 0; v < this.vocabSize; v++) out[v] *= scale;
      for (const [v, n] of c.followers) out[v] += n / (c.n + e);
    }
    return out;
  }

  /** The mixed probability of `token`, given the model's probability of it. */
  mixedProb(token: number, modelProb: number): number {
    const l = this.lambda;
    return l === 0 ? modelProb : (1 - l) * modelProb + l * this.prob(token);
  }

  /** Adds a token of the document to the cache. */
  observe(token: number): void {
    if (token < 0 || token >= this.vocabSize) throw new Error(`token ${token} is outside the vocabulary`);
    const h = this.history;
    for (let k = 1; k <= this.params.order && k <= h.length; k++) {
      const key = h.slice(h.length - k).join(',');
      const table = this.tables[k - 1];
      let c = table.get(key);
      if (!c) table.set(key, (c = { n: 0, followers: new Map() }));
      c.n++;
      c.followers.set(token, (c.followers.get(token) ?? 0) + 1);
    }
    h.push(token);
    if (h.length > this.params.order) h.shift();
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
export function mixDistribution(modelProbs: ArrayLike<number>, cache: DocumentCache): Float64Array {
  const out = new Float64Array(modelProbs.length);
  const l = cache.lambda;
  if (l === 0) {
    for (let v = 0; v < out.length; v++) out[v] = modelProbs[v];
    return out;
  }
  const pc = cache.distribution();
  for (let v = 0; v < out.length; v++) out[v] = (1 - l) * modelProbs[v] + l * pc[v];
  return out;
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
  documents: Iterable<Iterable<{ targets: ArrayLike<number>; logp: ArrayLike<number> }>>,
  visit: (r: CacheRecord) => void,
): void {
  const cache = new DocumentCache(vocabSize, params);
  for (const doc of documents) {
    cache.reset();
    for (const chunk of doc)
      for (let t = 0; t < chunk.targets.length; t++) {
        const token = chunk.targets[t];
        visit({ modelProb: Math.exp(chunk.logp[t]), cacheProb: cache.prob(token), state: cache.state });
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
