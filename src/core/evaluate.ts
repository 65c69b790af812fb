/** Held-out metrics: bits per byte of the negative ELBO, KL, active units, mutual information. */
import * as tf from '@tensorflow/tfjs-core';
import { makeBatch, type TextVaeModel } from './model';
import type { Example } from './dataset';
import { elboOptions, objective } from './objective';
import { Random } from './random';
import type { EvalMetrics } from './types';
import { DocumentCache, type CacheParams } from './documentCache';
import { PAD } from './tokenizer';
import type { LatentPrior } from './latentPrior';

export type { EvalMetrics };

const LN2 = Math.LN2;

export async function evaluate(
  model: TextVaeModel,
  examples: Example[],
  options: {
    batchSize?: number;
    seed?: number;
    /** Also score the reconstruction with a document cache mixed in (examples in document order). */
    cache?: CacheParams;
    /**
     * Also give the −ELBO with KL(q(z|x) ‖ this prior) in place of KL(q(z|x) ‖ N(0, I)): a bundle's
     * fitted prior.json, the density its samples come from (fitted_* keys; examples in document order).
     */
    prior?: LatentPrior;
    /** Posterior samples per chunk for the fitted prior's cross-entropy (default 16). */
    priorSamples?: number;
    /** Every example's targets (its tokens, then EOS) and the model's log-probabilities of them. */
    onTargets?: (example: number, targets: Int32Array, logp: Float32Array, doubt: Float32Array) => void;
  } = {},
): Promise<EvalMetrics> {
  const batchSize = options.batchSize ?? 32;
  const rng = new Random(options.seed ?? 12345);
  const Z = model.config.latentDim;
  let recon = 0,
    kl = 0,
    correct = 0,
    tokens = 0,
    bytes = 0,
    cachedRecon = 0;
  const cache = options.cache ? new DocumentCache(model.config.vocabSize, options.cache) : null;
  let doc: number | undefined = undefined;
  const perTarget = cache !== null || options.onTargets !== undefined;
  const mus: Float32Array[] = [];
  const logvars: Float32Array[] = [];
  for (let i = 0; i < examples.length; i += batchSize) {
    const part = examples.slice(i, i + batchSize);
    const batch = makeBatch(
      part.map((e) => e.tokens),
      part.map((e) => e.bytes),
      model.config.maxTokens,
    );
    const noise = rng.normals(part.length * Z);
    const values = tf.tidy(() => {
      const o = objective(model, batch, elboOptions(noise));
      const { logvar } = model.encode(tf.tensor2d(batch.tokens, [batch.batchSize, batch.length], 'int32'));
      const out: tf.Tensor[] = [o.reconNats, o.klNats, o.correct(), o.targetTokens, o.mu, logvar];
      // Per position, only for a cache or onTargets: log p(target), and the model's doubt
      // (1 − its largest probability), which the cache's λ depends on.
      if (perTarget) {
        // max log-softmax = max logit − log Σ exp(logits): no second [N, V] tensor.
        const top = tf.sub(tf.max(o.logits, 1), tf.logSumExp(o.logits, 1));
        out.push(o.tokenLogp, tf.sub(1, tf.exp(top)));
      }
      return out.map((t) => tf.keep(t));
    });
    const [r, k, c, n, mu, lv, lp, dbt] = await Promise.all(values.map((t) => t.data()));
    values.forEach((t) => t.dispose());
    recon += r[0];
    kl += k[0];
    correct += c[0];
    tokens += n[0];
    bytes += part.reduce((s, e) => s + e.bytes, 0);
    const T1 = batch.length + 1;
    for (let b = 0; b < part.length && perTarget; b++) {
      const targets = batch.targets.subarray(b * T1, b * T1 + Math.min(part[b].tokens.length, batch.length) + 1);
      const logp = (lp as Float32Array).subarray(b * T1, b * T1 + targets.length);
      const doubt = (dbt as Float32Array).subarray(b * T1, b * T1 + targets.length);
      options.onTargets?.(i + b, targets, logp, doubt);
      if (cache) {
        if (part[b].doc !== doc || part[b].doc === undefined) cache.reset();
        doc = part[b].doc;
        for (let t = 0; t < targets.length; t++) {
          if (targets[t] === PAD) continue;
          cachedRecon -= Math.log(cache.mixedProb(targets[t], Math.exp(logp[t]), doubt[t]));
          cache.observe(targets[t]);
        }
      }
    }
    for (let b = 0; b < part.length; b++) {
      mus.push(Float32Array.from(mu.subarray(b * Z, (b + 1) * Z)));
      logvars.push(Float32Array.from(lv.subarray(b * Z, (b + 1) * Z)));
    }
  }
  const safeBytes = Math.max(1, bytes);
  const fittedKl = options.prior
    ? klToPrior(options.prior, mus, logvars, examples, options.priorSamples ?? 16, (options.seed ?? 12345) + 1)
    : undefined;
  return {
    examples: examples.length,
    bytes,
    tokens,
    bits_per_byte: (recon + kl) / LN2 / safeBytes,
    recon_bits_per_byte: recon / LN2 / safeBytes,
    kl_bits_per_byte: kl / LN2 / safeBytes,
    kl_nats: kl / Math.max(1, examples.length),
    active_units: activeUnits(mus),
    mutual_information: model.config.variant === 'vae' ? mutualInformation(mus, logvars, rng) : NaN,
    sparsity: sparsity(mus),
    token_accuracy: correct / Math.max(1, tokens),
    ...(cache && {
      cache_bits_per_byte: (cachedRecon + kl) / LN2 / safeBytes,
      cache_recon_bits_per_byte: cachedRecon / LN2 / safeBytes,
    }),
    ...(fittedKl !== undefined && {
      fitted_bits_per_byte: (recon + fittedKl) / LN2 / safeBytes,
      fitted_kl_bits_per_byte: fittedKl / LN2 / safeBytes,
      ...(cache && { fitted_cache_bits_per_byte: (cachedRecon + fittedKl) / LN2 / safeBytes }),
    }),
  };
}

/**
 * Σ over chunks of KL(q(z|x) ‖ p), p the fitted prior, in nats: the entropy of each diagonal Gaussian
 * posterior exactly, its cross-entropy under p by `samples` draws. The first chunk of a document is
 * scored under the mixture, each later one under the transition from the previous chunk's draw, so
 * a document's codes are scored as the prior's paragraphs draw them.
 */
export function klToPrior(
  prior: LatentPrior,
  mus: readonly Float32Array[],
  logvars: readonly Float32Array[],
  examples: readonly Pick<Example, 'doc'>[],
  samples: number,
  seed: number,
): number {
  const rng = new Random(seed);
  const Z = prior.latentDim;
  let kl = 0;
  let previous: Float32Array[] | null = null;
  for (let i = 0; i < mus.length; i++) {
    const sameDoc = i > 0 && examples[i].doc !== undefined && examples[i].doc === examples[i - 1].doc;
    if (!sameDoc) previous = null;
    let negEntropy = 0;
    for (let j = 0; j < Z; j++) negEntropy -= 0.5 * (Math.log(2 * Math.PI) + logvars[i][j] + 1);
    const draws: Float32Array[] = [];
    let crossEntropy = 0;
    for (let s = 0; s < samples; s++) {
      const z = new Float32Array(Z);
      for (let j = 0; j < Z; j++) z[j] = mus[i][j] + Math.exp(0.5 * logvars[i][j]) * rng.normal();
      crossEntropy -= previous ? prior.transitionLogDensity(previous[s], z) : prior.logDensity(z);
      draws.push(z);
    }
    kl += negEntropy + crossEntropy / samples;
    previous = draws;
  }
  return kl;
}

export function activeUnits(mus: Float32Array[], threshold = 0.01): number {
  if (mus.length < 2) return 0;
  const Z = mus[0].length;
  let active = 0;
  for (let j = 0; j < Z; j++) {
    let mean = 0;
    for (const m of mus) mean += m[j];
    mean /= mus.length;
    let v = 0;
    for (const m of mus) v += (m[j] - mean) ** 2;
    if (v / (mus.length - 1) > threshold) active++;
  }
  return active;
}

function sparsity(mus: Float32Array[]): number {
  let zeros = 0,
    total = 0;
  for (const m of mus)
    for (const v of m) {
      total++;
      if (Math.abs(v) < 1e-3) zeros++;
    }
  return total ? zeros / total : 0;
}

/** I(x;z) = E[log q(z|x)] - E[log q(z)], with q(z) the mixture of the given posteriors (at most 512 of them). */
export function mutualInformation(mus: Float32Array[], logvars: Float32Array[], rng: Random): number {
  const N = Math.min(mus.length, 512);
  if (N < 2) return 0;
  const Z = mus[0].length;
  const logq = (z: Float32Array, k: number): number => {
    let s = 0;
    for (let j = 0; j < Z; j++) {
      const lv = logvars[k][j];
      s += -0.5 * (Math.log(2 * Math.PI) + lv + (z[j] - mus[k][j]) ** 2 / Math.exp(lv));
    }
    return s;
  };
  let total = 0;
  for (let i = 0; i < N; i++) {
    const z = new Float32Array(Z);
    for (let j = 0; j < Z; j++) z[j] = mus[i][j] + Math.exp(0.5 * logvars[i][j]) * rng.normal();
    const own = logq(z, i);
    let maxL = -Infinity;
    const ls = new Float64Array(N);
    for (let k = 0; k < N; k++) {
      ls[k] = logq(z, k);
      if (ls[k] > maxL) maxL = ls[k];
    }
    let sum = 0;
    for (let k = 0; k < N; k++) sum += Math.exp(ls[k] - maxL);
    total += own - (maxL + Math.log(sum) - Math.log(N));
  }
  return total / N;
}
