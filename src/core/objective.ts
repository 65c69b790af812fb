/** The training objective: reconstruction + annealed, free-bits KL (vae), or L1 on codes (sparse). */
import * as tf from '@tensorflow/tfjs-core';
import type { Batch, Dropout, TextVaeModel } from './model';
import { PAD } from './tokenizer';

export interface ObjectiveOptions {
  /** KL weight (annealed from 0 to 1 by the trainer). */
  beta: number;
  /** Free bits: nats per latent dimension below which KL is not penalised. */
  freeNatsPerDim: number;
  /** L1 weight on codes, for the 'sparse' variant. */
  l1Weight: number;
  /** Reparameterisation noise [B*Z], or null to decode from the posterior mean. */
  noise: Float32Array | null;
  /** Train as a plain autoencoder (AE pretraining phase): no noise, no KL. */
  autoencoderPhase: boolean;
  /** Train-time dropout on residual branches (absent: none). */
  dropout?: Dropout;
}

/**
 * The plain negative ELBO (full KL, no free bits, no L1, no dropout), decoded from the posterior
 * mean: what evaluation and the GPU route's parity checks measure. Evaluation passes its own noise.
 */
export function elboOptions(noise: Float32Array | null = null): ObjectiveOptions {
  return { beta: 1, freeNatsPerDim: 0, l1Weight: 0, noise, autoencoderPhase: false };
}

export interface ObjectiveTensors {
  /** The scalar that is minimised, per target token. */
  loss: tf.Scalar;
  /** Summed over the batch, in nats. */
  reconNats: tf.Scalar;
  klNats: tf.Scalar;
  /** Per-dimension KL averaged over the batch [Z]. */
  klPerDim: tf.Tensor1D;
  l1: tf.Scalar;
  /** Targets that are the logits' argmax: computed on demand, as a training step has no use for it. */
  correct: () => tf.Scalar;
  targetTokens: tf.Scalar;
  mu: tf.Tensor2D;
  /** log p(target) at every decoder position [B*(T+1)], padding included (mask it with the targets). */
  tokenLogp: tf.Tensor1D;
  /** The decoder's logits [B*(T+1), V]. */
  logits: tf.Tensor2D;
}

export function objective(model: TextVaeModel, batch: Batch, opts: ObjectiveOptions): ObjectiveTensors {
  const { batchSize: B, length: T } = batch;
  const Z = model.config.latentDim;
  const tokens = tf.tensor2d(batch.tokens, [B, T], 'int32');
  const { mu, logvar } = model.encode(tokens, opts.dropout);
  const isVae = model.config.variant === 'vae' && !opts.autoencoderPhase;
  const z = isVae && opts.noise ? tf.add(mu, tf.mul(tf.exp(tf.mul(logvar, 0.5)), tf.tensor2d(opts.noise, [B, Z]))) : mu;
  const input = tf.tensor2d(batch.decoderInput, [B, T + 1], 'int32');
  const targetsFlat = tf.tensor1d(batch.targets, 'int32');
  const { logp: tokenLogp, logits } = model.decodeTargetLogProbs(z as tf.Tensor2D, input, targetsFlat, opts.dropout);
  const mask = tf.cast(tf.notEqual(targetsFlat, PAD), 'float32');
  const reconNats = tf.neg(tf.sum(tf.mul(tokenLogp, mask)));
  const targetTokens = tf.sum(mask);
  const correct = () =>
    tf.sum(tf.mul(tf.cast(tf.equal(tf.argMax(logits, 1), targetsFlat), 'float32'), mask)) as tf.Scalar;

  const klPerDim =
    model.config.variant === 'vae'
      ? (tf.mean(tf.mul(0.5, tf.sub(tf.add(tf.square(mu), tf.exp(logvar)), tf.add(logvar, 1))), 0) as tf.Tensor1D)
      : (tf.zeros([Z]) as tf.Tensor1D);
  const klNats = tf.mul(tf.sum(klPerDim), B);
  const l1 = tf.sum(tf.abs(mu));
  let total: tf.Tensor = reconNats;
  if (isVae && opts.beta > 0) {
    const penalised = tf.sum(tf.maximum(klPerDim, opts.freeNatsPerDim));
    total = tf.add(total, tf.mul(penalised, B * opts.beta));
  }
  if (model.config.variant === 'sparse' && opts.l1Weight > 0) total = tf.add(total, tf.mul(l1, opts.l1Weight));
  const loss = tf.div(total, tf.maximum(targetTokens, 1)) as tf.Scalar;
  return {
    loss,
    reconNats: reconNats as tf.Scalar,
    klNats: klNats as tf.Scalar,
    klPerDim,
    l1: l1 as tf.Scalar,
    correct,
    targetTokens: targetTokens as tf.Scalar,
    mu,
    tokenLogp: tokenLogp as tf.Tensor1D,
    logits,
  };
}
