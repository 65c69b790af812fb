/**
 * Projection of vectors onto their first two principal components, by power iteration with
 * deflation on the covariance matrix. Plain JavaScript and deterministic: the worker uses it
 * for the latent map, and it needs no tensor library.
 */

export interface Projection {
  points: { x: number; y: number }[];
  /** Unit principal directions (each of the input dimension); a zero vector when there is no variance left. */
  components: Float64Array[];
  /** Variance along each component. */
  variances: number[];
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function normalise(v: Float64Array): number {
  const n = Math.sqrt(dot(v, v));
  if (n > 0) for (let i = 0; i < v.length; i++) v[i] /= n;
  return n;
}

/** Dominant eigenvector of a symmetric positive semi-definite matrix (row-major d x d). */
function powerIteration(cov: Float64Array, d: number, iterations: number): { vector: Float64Array; value: number } {
  // A fixed, non-symmetric start vector: deterministic and unlikely to be orthogonal to the answer.
  let v = Float64Array.from({ length: d }, (_, i) => 1 + ((i * 0.618034) % 1));
  normalise(v);
  let value = 0;
  for (let it = 0; it < iterations; it++) {
    const w = new Float64Array(d);
    for (let r = 0; r < d; r++) {
      let s = 0;
      for (let c = 0; c < d; c++) s += cov[r * d + c] * v[c];
      w[r] = s;
    }
    const norm = normalise(w);
    if (norm < 1e-12) return { vector: new Float64Array(d), value: 0 };
    let delta = 0;
    for (let i = 0; i < d; i++) delta = Math.max(delta, Math.abs(w[i] - v[i]));
    v = w;
    value = norm;
    if (delta < 1e-10) break;
  }
  return { vector: v, value };
}

export function pca2(vectors: readonly ArrayLike<number>[], iterations = 500): Projection {
  const n = vectors.length;
  if (n === 0) return { points: [], components: [], variances: [] };
  const d = vectors[0].length;
  for (const v of vectors) if (v.length !== d) throw new Error('all vectors must have the same length');
  const mean = new Float64Array(d);
  for (const v of vectors) for (let j = 0; j < d; j++) mean[j] += v[j] / n;
  const centred = vectors.map((v) => Float64Array.from({ length: d }, (_, j) => v[j] - mean[j]));
  const cov = new Float64Array(d * d);
  for (const c of centred) {
    for (let r = 0; r < d; r++) {
      const cr = c[r];
      if (cr === 0) continue;
      for (let k = 0; k < d; k++) cov[r * d + k] += (cr * c[k]) / n;
    }
  }
  const components: Float64Array[] = [];
  const variances: number[] = [];
  for (let k = 0; k < 2; k++) {
    const { vector, value } = powerIteration(cov, d, iterations);
    // Sign convention: the largest-magnitude entry is positive, so results do not flip between runs.
    let big = 0;
    for (let j = 1; j < d; j++) if (Math.abs(vector[j]) > Math.abs(vector[big])) big = j;
    if (vector[big] < 0) for (let j = 0; j < d; j++) vector[j] = -vector[j];
    components.push(vector);
    variances.push(value);
    // Deflate: remove the found direction from the covariance.
    for (let r = 0; r < d; r++) for (let c = 0; c < d; c++) cov[r * d + c] -= value * vector[r] * vector[c];
  }
  const points = centred.map((c) => ({ x: d > 0 ? dot(c, components[0]) : 0, y: d > 1 ? dot(c, components[1]) : 0 }));
  return { points, components, variances };
}
