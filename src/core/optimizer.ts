/** Adam with global-norm gradient clipping and a warm-up + cosine learning-rate schedule. */
import * as tf from '@tensorflow/tfjs-core';

export interface AdamOptions {
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  clipNorm?: number;
}

/**
 * Variables whose moments live side by side in one flat m and one flat v, updated together: a
 * step costs the same dozen kernels whatever the number of variables (per variable it was 16,
 * 836 kernels a step for the default model). A group shares one step count, so its bias
 * correction is that of each of its variables.
 */
interface Group {
  vars: tf.Variable[];
  sizes: number[];
  m: tf.Variable;
  v: tf.Variable;
  steps: number;
}

export class Adam {
  private groups: Group[] = [];
  private readonly groupOf = new Map<tf.Variable, Group>();
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
      // Variables unused by this step's loss (e.g. the log-variance head during AE pretraining) get
      // no gradient and no update. One that first gets a gradient late starts a group of its own,
      // with its own bias correction.
      const present = new Set(vars.filter((v) => grads[v.name] != null));
      const fresh = [...present].filter((v) => !this.groupOf.has(v));
      // On wasm, concatenating and splitting millions of values costs more than the kernels it saves
      // (measured: 1.3 s against 0.19 s a step): one group per variable there.
      const freshGroups = fresh.length === 0 ? [] : tf.getBackend() === 'tensorflow' ? [fresh] : fresh.map((v) => [v]);
      for (const group of freshGroups) this.addGroup(group, tf.zeros([size(group)]), tf.zeros([size(group)]), 0);
      for (const group of [...this.groups]) this.splitIfPartial(group, present);
      const active = this.groups.filter((group) => present.has(group.vars[0]));
      // Vectors need no reshape (on tensorflow each is a kernel call): most of the variables are biases and gains.
      const flatGrad = (v: tf.Variable) => (v.rank === 1 ? grads[v.name] : tf.reshape(grads[v.name], [-1]));
      const flat = active.map((group) =>
        group.vars.length === 1 ? flatGrad(group.vars[0]) : tf.concat(group.vars.map(flatGrad)),
      );
      const squares = flat.map((g) => tf.square(g));
      const norm = tf.sqrt(tf.addN(squares.map((g) => tf.sum(g)))) as tf.Scalar;
      const scale = tf.div(this.clipNorm, tf.maximum(norm, this.clipNorm));
      // The clipping scale goes into the moments' scalar factors, and the squares of the norm are
      // v's: fewer passes over the millions of values than scaling the gradient first.
      const mFactor = tf.mul(scale, 1 - this.beta1);
      const vFactor = tf.mul(tf.square(scale), 1 - this.beta2);
      active.forEach((group, i) => {
        const t = ++group.steps;
        const c1 = 1 - this.beta1 ** t;
        const c2 = 1 - this.beta2 ** t;
        const { m, v } = group;
        m.assign(tf.add(tf.mul(m, this.beta1), tf.mul(flat[i], mFactor)));
        v.assign(tf.add(tf.mul(v, this.beta2), tf.mul(squares[i], vFactor)));
        // lr·m̂/(√v̂ + ε) with m̂ = m/c1, v̂ = v/c2, as (lr·√c2/c1)·m/(√v + ε·√c2).
        const update = tf.mul(
          tf.div(m, tf.add(tf.sqrt(v), this.epsilon * Math.sqrt(c2))),
          (learningRate * Math.sqrt(c2)) / c1,
        );
        const pieces = group.vars.length === 1 ? [update] : tf.split(update, group.sizes);
        group.vars.forEach((variable, j) =>
          variable.assign(tf.sub(variable, variable.rank === 1 ? pieces[j] : tf.reshape(pieces[j], variable.shape))),
        );
      });
      return tf.keep(norm);
    });
  }

  private addGroup(vars: tf.Variable[], m: tf.Tensor, v: tf.Tensor, steps: number): void {
    const group: Group = {
      vars,
      sizes: vars.map((x) => x.size),
      m: tf.variable(m, false),
      v: tf.variable(v, false),
      steps,
    };
    this.groups.push(group);
    for (const x of vars) this.groupOf.set(x, group);
  }

  /** Splits a group of which only some variables have gradients into the two parts (their moments kept). */
  private splitIfPartial(group: Group, present: Set<tf.Variable>): void {
    const inside = group.vars.filter((x) => present.has(x));
    if (inside.length === 0 || inside.length === group.vars.length) return;
    const offsets = group.sizes.map((_, i) => group.sizes.slice(0, i).reduce((a, b) => a + b, 0));
    const part = (keep: boolean) => {
      const idx = group.vars.map((_, i) => i).filter((i) => present.has(group.vars[i]) === keep);
      const take = (flat: tf.Tensor) => tf.concat(idx.map((i) => tf.slice(flat, [offsets[i]], [group.sizes[i]])));
      this.addGroup(
        idx.map((i) => group.vars[i]),
        take(group.m),
        take(group.v),
        group.steps,
      );
    };
    this.groups = this.groups.filter((x) => x !== group);
    part(true);
    part(false);
    group.m.dispose();
    group.v.dispose();
  }

  dispose(): void {
    for (const group of this.groups) {
      group.m.dispose();
      group.v.dispose();
    }
    this.groups = [];
    this.groupOf.clear();
  }
}

function size(vars: tf.Variable[]): number {
  return vars.reduce((n, v) => n + v.size, 0);
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
