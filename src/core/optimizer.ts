/** Adam with global-norm gradient clipping and a warm-up + cosine learning-rate schedule. */
import * as tf from '@tensorflow/tfjs-core';

export interface AdamOptions {
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  clipNorm?: number;
}

export class Adam {
  private readonly m = new Map<tf.Variable, tf.Variable>();
  private readonly v = new Map<tf.Variable, tf.Variable>();
  /** Steps per variable: one that first gets a gradient late (the log-variance head after AE pretraining) needs its own bias correction. */
  private readonly steps = new Map<tf.Variable, number>();
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly epsilon: number;
  private readonly clipNorm: number;

  constructor(options: AdamOptions = {}) {
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.epsilon = options.epsilon ?? 1e-8;
    this.clipNorm = options.clipNorm ?? 1;
  }

  /** Applies one update; returns the gradient norm before clipping (a tensor the caller disposes). */
  apply(vars: tf.Variable[], grads: Record<string, tf.Tensor>, learningRate: number): tf.Scalar {
    return tf.tidy(() => {
      // Variables unused by this step's loss (e.g. the log-variance head during AE pretraining) get no gradient.
      vars = vars.filter((v) => grads[v.name] != null);
      const gs = vars.map((v) => grads[v.name]);
      const norm = tf.sqrt(tf.addN(gs.map((g) => tf.sum(tf.square(g))))) as tf.Scalar;
      const scale = tf.div(this.clipNorm, tf.maximum(norm, this.clipNorm));
      vars.forEach((variable, i) => {
        const t = (this.steps.get(variable) ?? 0) + 1;
        this.steps.set(variable, t);
        const c1 = 1 - this.beta1 ** t;
        const c2 = 1 - this.beta2 ** t;
        const g = tf.mul(gs[i], scale);
        let m = this.m.get(variable);
        let v = this.v.get(variable);
        if (!m || !v) {
          m = tf.variable(tf.zerosLike(variable), false);
          v = tf.variable(tf.zerosLike(variable), false);
          this.m.set(variable, m);
          this.v.set(variable, v);
        }
        m.assign(tf.add(tf.mul(m, this.beta1), tf.mul(g, 1 - this.beta1)));
        v.assign(tf.add(tf.mul(v, this.beta2), tf.mul(tf.square(g), 1 - this.beta2)));
        const update = tf.div(tf.mul(m, learningRate / c1), tf.add(tf.sqrt(tf.div(v, c2)), this.epsilon));
        variable.assign(tf.sub(variable, update));
      });
      return tf.keep(norm);
    });
  }

  dispose(): void {
    for (const t of [...this.m.values(), ...this.v.values()]) t.dispose();
    this.m.clear();
    this.v.clear();
    this.steps.clear();
  }
}

/**
 * Linear warm-up, then cosine to 10% of `base`. `resumedAt`: the step a resumed run started from.
 * Checkpoints hold no Adam moments, so a resumed run warms up again from there (never above the schedule).
 */
export function learningRateAt(
  step: number,
  base: number,
  warmupSteps: number,
  totalSteps: number | null,
  resumedAt = 0,
): number {
  if (resumedAt > 0 && step >= resumedAt)
    return Math.min(learningRateAt(step, base, warmupSteps, totalSteps), (base * (step - resumedAt + 1)) / warmupSteps);
  if (step < warmupSteps) return (base * (step + 1)) / warmupSteps;
  if (!totalSteps || totalSteps <= warmupSteps) return base;
  const progress = Math.min(1, (step - warmupSteps) / (totalSteps - warmupSteps));
  // Cosine to 10% of the base rate.
  return base * (0.1 + 0.45 * (1 + Math.cos(Math.PI * progress)));
}
