/**
 * A latent prior fitted after training (ex-post density estimation). Codes drawn from N(0, I) often
 * land where no training text's posterior sits, and the decoder has never learnt what to say there.
 * A Gaussian mixture fitted by EM on the training chunks' posterior means puts samples where text
 * lives. A linear-Gaussian transition z' ~ N(A z + b, Σ), fitted by least squares on consecutive
 * chunks of the same document, turns one code into a paragraph of codes that stays on one topic.
 *
 * Stored in a bundle as prior.json (hashed by the manifest, outside the fingerprint: the prior
 * changes how samples are drawn, never what a code means). Plain arithmetic in float64, seeded:
 * the same points and seed give the same prior on every machine.
 */
import { Random } from './random';

export const PRIOR_FORMAT = 'textvae-latent-prior';
export const PRIOR_FORMAT_VERSION = 1;
export const PRIOR_FILE = 'prior.json';

export interface MixtureJson {
  weights: number[];
  means: number[][];
  /** Full covariance of each component (a diagonal fit stores zeros off the diagonal). */
  covariances: number[][][];
}

export interface TransitionJson {
  /** z_{t+1} = matrix · z_t + offset + noise. */
  matrix: number[][];
  offset: number[];
  covariance: number[][];
}

export interface LatentPriorJson {
  format: typeof PRIOR_FORMAT;
  formatVersion: typeof PRIOR_FORMAT_VERSION;
  latentDim: number;
  mixture: MixtureJson;
  transition?: TransitionJson;
  /** How it was fitted (points, seed, held-out figures): informative only. */
  fit?: unknown;
}

// ---------------------------------------------------------------- linear algebra (row-major, float64)

/** Lower Cholesky factor of a symmetric positive-definite n×n matrix; throws when it is not. */
export function cholesky(a: Float64Array, n: number): Float64Array {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j <= i; j++) {
      let s = a[i * n + j];
      for (let k = 0; k < j; k++) s -= l[i * n + k] * l[j * n + k];
      if (i === j) {
        if (!(s > 0)) throw new Error('a covariance is not positive definite');
        l[i * n + i] = Math.sqrt(s);
      } else l[i * n + j] = s / l[j * n + j];
    }
  return l;
}

/** Solves L y = x for lower-triangular L, in place in `out`. */
function solveLower(l: Float64Array, n: number, x: ArrayLike<number>, out: Float64Array): Float64Array {
  for (let i = 0; i < n; i++) {
    let s = x[i];
    for (let k = 0; k < i; k++) s -= l[i * n + k] * out[k];
    out[i] = s / l[i * n + i];
  }
  return out;
}

/** Solves Lᵀ y = x for lower-triangular L, in place in `out`. */
function solveUpper(l: Float64Array, n: number, x: ArrayLike<number>, out: Float64Array): Float64Array {
  for (let i = n - 1; i >= 0; i--) {
    let s = x[i];
    for (let k = i + 1; k < n; k++) s -= l[k * n + i] * out[k];
    out[i] = s / l[i * n + i];
  }
  return out;
}

const LOG_2PI = Math.log(2 * Math.PI);

/** A Gaussian with its Cholesky factor, ready to score and draw. */
class Gaussian {
  readonly chol: Float64Array;
  readonly logNorm: number;
  private readonly tmp: Float64Array;
  constructor(
    readonly mean: Float64Array,
    covariance: Float64Array,
    readonly n: number,
  ) {
    this.chol = cholesky(covariance, n);
    let logDet = 0;
    for (let i = 0; i < n; i++) logDet += 2 * Math.log(this.chol[i * n + i]);
    this.logNorm = -0.5 * (n * LOG_2PI + logDet);
    this.tmp = new Float64Array(n);
  }
  /** log N(x; mean + shift, Σ). */
  logDensity(x: ArrayLike<number>, shift?: ArrayLike<number>): number {
    const d = new Float64Array(this.n);
    for (let i = 0; i < this.n; i++) d[i] = x[i] - this.mean[i] - (shift ? shift[i] : 0);
    solveLower(this.chol, this.n, d, this.tmp);
    let q = 0;
    for (let i = 0; i < this.n; i++) q += this.tmp[i] ** 2;
    return this.logNorm - 0.5 * q;
  }
  /** mean + shift + scale · L ε. */
  draw(rng: Random, scale: number, shift?: ArrayLike<number>): Float32Array {
    const e = Float64Array.from({ length: this.n }, () => rng.normal());
    const out = new Float32Array(this.n);
    for (let i = 0; i < this.n; i++) {
      let s = 0;
      for (let k = 0; k <= i; k++) s += this.chol[i * this.n + k] * e[k];
      out[i] = this.mean[i] + (shift ? shift[i] : 0) + scale * s;
    }
    return out;
  }
}

function logSumExp(xs: Float64Array): number {
  let max = -Infinity;
  for (const x of xs) if (x > max) max = x;
  if (max === -Infinity) return max;
  let s = 0;
  for (const x of xs) s += Math.exp(x - max);
  return max + Math.log(s);
}

/** log N(z; 0, I): the prior every VAE is trained towards, for comparison. */
export function standardNormalLogDensity(z: ArrayLike<number>): number {
  let q = 0;
  for (let i = 0; i < z.length; i++) q += z[i] * z[i];
  return -0.5 * (z.length * LOG_2PI + q);
}

// ---------------------------------------------------------------- the prior in use

/** A validated prior, with factors precomputed: draws codes and scores them. */
export class LatentPrior {
  private readonly components: Gaussian[];
  private readonly logWeights: Float64Array;
  private readonly cumulative: Float64Array;
  private readonly noise?: Gaussian;
  private readonly matrix?: Float64Array;

  private constructor(readonly json: LatentPriorJson) {
    const D = json.latentDim;
    const m = json.mixture;
    this.components = m.means.map(
      (mean, k) => new Gaussian(Float64Array.from(mean), Float64Array.from(m.covariances[k].flat()), D),
    );
    const total = m.weights.reduce((a, b) => a + b, 0);
    this.logWeights = Float64Array.from(m.weights, (w) => Math.log(w / total));
    let acc = 0;
    this.cumulative = Float64Array.from(m.weights, (w) => (acc += w / total));
    if (json.transition) {
      const t = json.transition;
      this.noise = new Gaussian(Float64Array.from(t.offset), Float64Array.from(t.covariance.flat()), D);
      this.matrix = Float64Array.from(t.matrix.flat());
    }
  }

  /** Checks untrusted JSON (a bundle's prior.json) for a model with `latentDim` dimensions. */
  static fromJSON(value: unknown, latentDim: number): LatentPrior {
    const json = validatePriorJson(value, latentDim);
    try {
      return new LatentPrior(json);
    } catch (err) {
      throw new Error(`prior.json: ${(err as Error).message}`, { cause: err });
    }
  }

  get latentDim(): number {
    return this.json.latentDim;
  }
  get componentCount(): number {
    return this.components.length;
  }
  get hasTransition(): boolean {
    return this.noise !== undefined;
  }

  /** A code from the mixture: a component by its weight, then its mean + scale · its spread. */
  draw(rng: Random, scale = 1): Float32Array {
    const u = rng.next();
    let k = 0;
    while (k < this.cumulative.length - 1 && u >= this.cumulative[k]) k++;
    return this.components[k].draw(rng, scale);
  }

  /** The next chunk's code after `z` (the transition), or a fresh mixture draw without one. */
  drawNext(z: ArrayLike<number>, rng: Random, scale = 1): Float32Array {
    if (!this.noise || !this.matrix) return this.draw(rng, scale);
    return this.noise.draw(rng, scale, this.predict(z));
  }

  /** A · z (the offset b is the noise Gaussian's mean). */
  private predict(z: ArrayLike<number>): Float64Array {
    const D = this.latentDim;
    const out = new Float64Array(D);
    for (let i = 0; i < D; i++) {
      let s = 0;
      for (let j = 0; j < D; j++) s += this.matrix![i * D + j] * z[j];
      out[i] = s;
    }
    return out;
  }

  /** log p(z) under the mixture (nats). */
  logDensity(z: ArrayLike<number>): number {
    return logSumExp(Float64Array.from(this.components, (c, k) => this.logWeights[k] + c.logDensity(z)));
  }

  /** log p(next | z) under the transition (nats); the mixture's log p(next) without one. */
  transitionLogDensity(z: ArrayLike<number>, next: ArrayLike<number>): number {
    if (!this.noise) return this.logDensity(next);
    return this.noise.logDensity(next, this.predict(z));
  }
}

// ---------------------------------------------------------------- validation

function describe(v: unknown): string {
  if (Array.isArray(v)) return 'an array';
  if (v === null) return 'null';
  return typeof v === 'object' ? 'an object' : JSON.stringify(v);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function vector(v: unknown, n: number, what: string): number[] {
  if (!Array.isArray(v) || v.length !== n) throw new Error(`prior.json: ${what} must be a list of ${n} numbers`);
  for (const x of v)
    if (typeof x !== 'number' || !Number.isFinite(x))
      throw new Error(`prior.json: ${what} holds ${describe(x)}, not a finite number`);
  return v as number[];
}

function matrix(v: unknown, n: number, what: string): number[][] {
  if (!Array.isArray(v) || v.length !== n) throw new Error(`prior.json: ${what} must be a ${n}×${n} matrix`);
  return v.map((row, i) => vector(row, n, `${what} row ${i}`));
}

/** A covariance matrix: square, finite and symmetric (the factorisation reads only its lower half). */
function covariance(v: unknown, n: number, what: string): number[][] {
  const m = matrix(v, n, what);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < i; j++)
      if (m[i][j] !== m[j][i]) throw new Error(`prior.json: ${what} is not symmetric (row ${i}, column ${j})`);
  return m;
}

/** At most this many mixture components (a prior.json is small; this bounds what loading costs). */
export const MAX_COMPONENTS = 256;

function validatePriorJson(value: unknown, latentDim: number): LatentPriorJson {
  if (!isObject(value)) throw new Error(`prior.json must be a JSON object, got ${describe(value)}`);
  if (value.format !== PRIOR_FORMAT) throw new Error(`prior.json: format must be "${PRIOR_FORMAT}"`);
  if (value.formatVersion !== PRIOR_FORMAT_VERSION)
    throw new Error(
      `prior.json: formatVersion ${describe(value.formatVersion)} is not supported (this version reads ${PRIOR_FORMAT_VERSION})`,
    );
  if (value.latentDim !== latentDim)
    throw new Error(`prior.json is for ${describe(value.latentDim)} latent dimensions; the model has ${latentDim}`);
  const D = latentDim;
  const m = value.mixture;
  if (!isObject(m)) throw new Error('prior.json: mixture must be an object');
  if (!Array.isArray(m.weights) || m.weights.length < 1 || m.weights.length > MAX_COMPONENTS)
    throw new Error(`prior.json: mixture.weights must list 1 to ${MAX_COMPONENTS} weights`);
  const K = m.weights.length;
  const weights = vector(m.weights, K, 'mixture.weights');
  if (weights.some((w) => w < 0) || !(weights.reduce((a, b) => a + b, 0) > 0))
    throw new Error('prior.json: mixture.weights must be non-negative with a positive sum');
  if (!Array.isArray(m.means) || m.means.length !== K)
    throw new Error(`prior.json: mixture.means must hold ${K} means, one per weight`);
  if (!Array.isArray(m.covariances) || m.covariances.length !== K)
    throw new Error(`prior.json: mixture.covariances must hold ${K} matrices, one per weight`);
  const mixture: MixtureJson = {
    weights,
    means: m.means.map((x, k) => vector(x, D, `mixture.means[${k}]`)),
    covariances: m.covariances.map((x, k) => covariance(x, D, `mixture.covariances[${k}]`)),
  };
  let transition: TransitionJson | undefined;
  if (value.transition !== undefined) {
    const t = value.transition;
    if (!isObject(t)) throw new Error('prior.json: transition must be an object');
    transition = {
      matrix: matrix(t.matrix, D, 'transition.matrix'),
      offset: vector(t.offset, D, 'transition.offset'),
      covariance: covariance(t.covariance, D, 'transition.covariance'),
    };
  }
  return {
    format: PRIOR_FORMAT,
    formatVersion: PRIOR_FORMAT_VERSION,
    latentDim: D,
    mixture,
    ...(transition ? { transition } : {}),
    ...(value.fit !== undefined ? { fit: value.fit } : {}),
  };
}

// ---------------------------------------------------------------- fitting

export interface MixtureFitOptions {
  components: number;
  /** 'full' (default) or 'diag': a diagonal fit keeps only each component's variances. */
  covariance?: 'full' | 'diag';
  seed?: number;
  /** EM iterations at most (default 100); stops earlier when the mean log-likelihood gains < 1e-5. */
  iterations?: number;
  /** Added to every covariance's diagonal, as a share of the data's mean variance (default 1e-3). */
  regularisation?: number;
}

function meanVariance(points: readonly ArrayLike<number>[], D: number): { mean: Float64Array; avgVar: number } {
  const mean = new Float64Array(D);
  for (const p of points) for (let j = 0; j < D; j++) mean[j] += p[j] / points.length;
  let v = 0;
  for (const p of points) for (let j = 0; j < D; j++) v += (p[j] - mean[j]) ** 2;
  return { mean, avgVar: v / (points.length * D) };
}

function squaredDistance(a: ArrayLike<number>, b: ArrayLike<number>, D: number): number {
  let s = 0;
  for (let j = 0; j < D; j++) s += (a[j] - b[j]) ** 2;
  return s;
}

/** k-means++ seeding, then a few Lloyd rounds: EM's starting means. */
function initialMeans(points: readonly ArrayLike<number>[], K: number, D: number, rng: Random): Float64Array[] {
  const centres: Float64Array[] = [Float64Array.from(points[rng.int(points.length)])];
  const best = Float64Array.from(points, (p) => squaredDistance(p, centres[0], D));
  while (centres.length < K) {
    let total = 0;
    for (const d of best) total += d;
    let r = rng.next() * total;
    let pick = points.length - 1;
    for (let i = 0; i < points.length; i++)
      if ((r -= best[i]) <= 0) {
        pick = i;
        break;
      }
    const c = Float64Array.from(points[pick]);
    centres.push(c);
    for (let i = 0; i < points.length; i++) best[i] = Math.min(best[i], squaredDistance(points[i], c, D));
  }
  for (let round = 0; round < 10; round++) {
    const sums = centres.map(() => new Float64Array(D));
    const counts = new Float64Array(K);
    for (const p of points) {
      let k = 0;
      for (let c = 1; c < K; c++) if (squaredDistance(p, centres[c], D) < squaredDistance(p, centres[k], D)) k = c;
      counts[k]++;
      for (let j = 0; j < D; j++) sums[k][j] += p[j];
    }
    for (let k = 0; k < K; k++) if (counts[k] > 0) for (let j = 0; j < D; j++) centres[k][j] = sums[k][j] / counts[k];
  }
  return centres;
}

/**
 * A Gaussian mixture fitted by EM to `points` (k-means++ start, seeded). Components that lose all
 * their points are dropped. Returns the mixture and its mean log-likelihood per point (nats).
 */
export function fitMixture(
  points: readonly ArrayLike<number>[],
  o: MixtureFitOptions,
): { mixture: MixtureJson; logLikelihood: number; iterations: number } {
  const N = points.length;
  if (N === 0) throw new Error('no points to fit a mixture to');
  const D = points[0].length;
  let K = Math.max(1, Math.min(o.components, N));
  const diag = o.covariance === 'diag';
  const { mean: globalMean, avgVar } = meanVariance(points, D);
  const reg = (o.regularisation ?? 1e-3) * Math.max(avgVar, 1e-12);
  const rng = new Random(o.seed ?? 1);
  let means: Float64Array[] = K === 1 ? [globalMean] : initialMeans(points, K, D, rng);
  // Start every component at the data's spread, so the first E step only weighs distances.
  let covs: Float64Array[] = means.map(() => {
    const c = new Float64Array(D * D);
    for (let j = 0; j < D; j++) c[j * D + j] = avgVar + reg;
    return c;
  });
  let weights = new Float64Array(K).fill(1 / K);
  let previous = -Infinity;
  let ll = -Infinity;
  let iteration = 0;
  const maxIterations = o.iterations ?? 100;
  const resp = new Float64Array(N * K);
  for (; iteration < maxIterations; iteration++) {
    // E step: responsibilities.
    const gaussians = means.map((m, k) => new Gaussian(m, covs[k], D));
    const row = new Float64Array(K);
    ll = 0;
    for (let i = 0; i < N; i++) {
      for (let k = 0; k < K; k++) row[k] = Math.log(weights[k]) + gaussians[k].logDensity(points[i]);
      const lse = logSumExp(row);
      ll += lse;
      for (let k = 0; k < K; k++) resp[i * K + k] = Math.exp(row[k] - lse);
    }
    ll /= N;
    // M step: weights, means, covariances; a component with (almost) no points is dropped.
    const keep: number[] = [];
    const nextMeans: Float64Array[] = [];
    const nextCovs: Float64Array[] = [];
    const nextWeights: number[] = [];
    for (let k = 0; k < K; k++) {
      let nk = 0;
      for (let i = 0; i < N; i++) nk += resp[i * K + k];
      if (nk < 1e-6 * N || nk < 1e-9) continue;
      const m = new Float64Array(D);
      for (let i = 0; i < N; i++) {
        const r = resp[i * K + k];
        if (r === 0) continue;
        const p = points[i];
        for (let j = 0; j < D; j++) m[j] += r * p[j];
      }
      for (let j = 0; j < D; j++) m[j] /= nk;
      const c = new Float64Array(D * D);
      const d = new Float64Array(D);
      for (let i = 0; i < N; i++) {
        const r = resp[i * K + k];
        if (r < 1e-12) continue;
        const p = points[i];
        for (let j = 0; j < D; j++) d[j] = p[j] - m[j];
        if (diag) for (let j = 0; j < D; j++) c[j * D + j] += r * d[j] * d[j];
        else
          for (let a = 0; a < D; a++) {
            const ra = r * d[a];
            for (let b = 0; b <= a; b++) c[a * D + b] += ra * d[b];
          }
      }
      for (let a = 0; a < D; a++)
        for (let b = 0; b <= a; b++) {
          const v = c[a * D + b] / nk + (a === b ? reg : 0);
          c[a * D + b] = v;
          c[b * D + a] = v;
        }
      keep.push(k);
      nextMeans.push(m);
      nextCovs.push(c);
      nextWeights.push(nk / N);
    }
    const dropped = keep.length < K;
    K = keep.length;
    means = nextMeans;
    covs = nextCovs;
    weights = Float64Array.from(nextWeights);
    if (iteration > 0 && !dropped && ll - previous < 1e-5) break;
    previous = ll;
  }
  const round = (x: number) => Number(x.toPrecision(9));
  return {
    mixture: {
      weights: Array.from(weights, round),
      means: means.map((m) => Array.from(m, round)),
      covariances: covs.map((c) =>
        Array.from({ length: D }, (_, a) => Array.from(c.subarray(a * D, (a + 1) * D), round)),
      ),
    },
    logLikelihood: ll,
    iterations: Math.min(iteration + 1, maxIterations),
  };
}

/**
 * A linear-Gaussian transition fitted to (from, to) pairs by ridge least squares:
 * [A b] = argmin Σ |to − A from − b|² + ridge·|A|², Σ = the residuals' covariance (+ a little on
 * its diagonal). Returns the transition and its mean log-likelihood per pair (nats).
 */
export function fitTransition(
  pairs: readonly (readonly [ArrayLike<number>, ArrayLike<number>])[],
  o: { ridge?: number; regularisation?: number } = {},
): { transition: TransitionJson; logLikelihood: number } {
  const N = pairs.length;
  if (N === 0) throw new Error('no consecutive pairs to fit a transition to');
  const D = pairs[0][0].length;
  const E = D + 1; // inputs with a constant 1 for the offset
  // Normal equations: G = Σ x xᵀ (+ ridge on A's part), H = Σ x yᵀ.
  const G = new Float64Array(E * E);
  const H = new Float64Array(E * D);
  const x = new Float64Array(E);
  for (const [from, to] of pairs) {
    for (let j = 0; j < D; j++) x[j] = from[j];
    x[D] = 1;
    for (let a = 0; a < E; a++) {
      for (let b = 0; b <= a; b++) G[a * E + b] += x[a] * x[b];
      for (let j = 0; j < D; j++) H[a * D + j] += x[a] * to[j];
    }
  }
  const ridge = o.ridge ?? 1e-3 * N;
  for (let a = 0; a < E; a++) {
    for (let b = 0; b < a; b++) G[b * E + a] = G[a * E + b];
    G[a * E + a] += a < D ? ridge : 1e-9 * N;
  }
  const L = cholesky(G, E);
  // W (E×D): column j solves G w = H[:, j].
  const W = new Float64Array(E * D);
  const col = new Float64Array(E),
    tmp = new Float64Array(E),
    sol = new Float64Array(E);
  for (let j = 0; j < D; j++) {
    for (let a = 0; a < E; a++) col[a] = H[a * D + j];
    solveUpper(L, E, solveLower(L, E, col, tmp), sol);
    for (let a = 0; a < E; a++) W[a * D + j] = sol[a];
  }
  const A = Array.from({ length: D }, (_, i) => Array.from({ length: D }, (_, j) => W[j * D + i]));
  const b = Array.from({ length: D }, (_, i) => W[D * D + i]);
  const residual = (from: ArrayLike<number>, to: ArrayLike<number>) =>
    Float64Array.from({ length: D }, (_, i) => {
      let s = b[i];
      for (let j = 0; j < D; j++) s += A[i][j] * from[j];
      return to[i] - s;
    });
  const S = new Float64Array(D * D);
  for (const [from, to] of pairs) {
    const r = residual(from, to);
    for (let a = 0; a < D; a++) for (let c = 0; c < D; c++) S[a * D + c] += (r[a] * r[c]) / N;
  }
  let avg = 0;
  for (let a = 0; a < D; a++) avg += S[a * D + a] / D;
  const reg = (o.regularisation ?? 1e-3) * Math.max(avg, 1e-12);
  for (let a = 0; a < D; a++) S[a * D + a] += reg;
  const noise = new Gaussian(new Float64Array(D), S, D);
  let ll = 0;
  for (const [from, to] of pairs) ll += noise.logDensity(residual(from, to)) / N;
  const round = (v: number) => Number(v.toPrecision(9));
  return {
    transition: {
      matrix: A.map((r) => r.map(round)),
      offset: b.map(round),
      covariance: Array.from({ length: D }, (_, a) => Array.from(S.subarray(a * D, (a + 1) * D), round)),
    },
    logLikelihood: ll,
  };
}

/** A prior.json value from its parts. */
export function priorJson(
  latentDim: number,
  mixture: MixtureJson,
  transition?: TransitionJson,
  fit?: unknown,
): LatentPriorJson {
  return {
    format: PRIOR_FORMAT,
    formatVersion: PRIOR_FORMAT_VERSION,
    latentDim,
    mixture,
    ...(transition ? { transition } : {}),
    ...(fit !== undefined ? { fit } : {}),
  };
}

/** Where a model's samples come from, in a few words (`textvae info`, Show Model Info). */
export function sampleSource(info: {
  variant: string;
  prior?: { components: number; transition: boolean } | null;
}): string {
  const p = info.prior;
  if (!p) return `${info.variant === 'vae' ? 'N(0, I)' : "the codes' mean and spread"} (no prior.json)`;
  return `the fitted prior.json (${p.components} component${p.components === 1 ? '' : 's'}${p.transition ? ', a transition for paragraphs' : ''})`;
}
