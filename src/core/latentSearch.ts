/**
 * Encoder-side search of a lossless code's latent grid points. The coder codes each block's z on a
 * coarse grid (lossless/latentPart.ts); the posterior mean, rounded, is a good start but rarely the
 * point that makes the block shortest. Each sweep asks the gradient of −log p(block | z) which
 * single-step moves look best (proposeGridMoves), scores them with teacher-forced passes of the
 * float model, and keeps a block's best move where it lowers bits(z) + bits(block | z). Only
 * compression runs this: the format, and what a decoder does, are unchanged.
 */
import * as tf from '@tensorflow/tfjs-core';
// The search takes gradients: register them here too, for a compressor that never loads the training code.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import type { TextVaeModel } from './model';
import { BOS, PAD } from './tokenizer';
import { latentBits, latentOf, proposeGridMoves, type LatentFrame } from './lossless/latentPart';

/** Single-step moves tried per block and sweep (plus all moves guessed to gain, together). */
const MOVES_PER_SWEEP = 8;
/** Sequences per teacher-forced pass: bounds the [rows·tokens, vocabulary] logits. */
const ROWS_PER_PASS = 64;

export interface GridSearchResult {
  grids: Int32Array[];
  /** bits(z) + bits(block | z) of each block under the float model, before and after. */
  bitsBefore: number;
  bitsAfter: number;
  sweeps: number;
}

/** Decoder input and targets of blocks (tokens only: the coder codes lengths apart, so no EOS). */
function teacherForcing(blocks: readonly Int32Array[]): { input: Int32Array; targets: Int32Array; T1: number } {
  const T1 = Math.max(1, ...blocks.map((b) => b.length));
  const input = new Int32Array(blocks.length * T1).fill(PAD);
  const targets = new Int32Array(blocks.length * T1).fill(PAD);
  blocks.forEach((b, r) => {
    input[r * T1] = BOS;
    for (let t = 0; t < b.length; t++) {
      targets[r * T1 + t] = b[t];
      if (t + 1 < T1) input[r * T1 + t + 1] = b[t];
    }
  });
  return { input, targets, T1 };
}

/** −log₂ p(block | z) of each row, and with `withGradient` its gradient with respect to z. */
async function blockBits(
  model: TextVaeModel,
  blocks: readonly Int32Array[],
  zs: readonly Float64Array[],
  withGradient: boolean,
  onFraction?: (fraction: number) => void,
  signal?: AbortSignal,
): Promise<{ bits: Float64Array; gradients: Float32Array[] }> {
  const Z = model.config.latentDim;
  const bits = new Float64Array(blocks.length);
  const gradients: Float32Array[] = [];
  for (let i = 0; i < blocks.length; i += ROWS_PER_PASS) {
    const rows = blocks.slice(i, i + ROWS_PER_PASS);
    const { input, targets, T1 } = teacherForcing(rows);
    const B = rows.length;
    const flatZ = new Float32Array(B * Z);
    zs.slice(i, i + B).forEach((z, r) => flatZ.set(z, r * Z));
    let perRow: tf.Tensor | null = null;
    let grad: tf.Tensor | null = null;
    tf.tidy(() => {
      const inputT = tf.tensor2d(input, [B, T1], 'int32');
      const targetsT = tf.tensor1d(targets, 'int32');
      const mask = tf.cast(tf.notEqual(targetsT, PAD), 'float32');
      const rowNats = (z: tf.Tensor) => {
        const logp = model.decodeTargetLogProbs(z as tf.Tensor2D, inputT, targetsT).logp;
        return tf.neg(tf.sum(tf.reshape(tf.mul(logp, mask), [B, T1]), 1));
      };
      const z = tf.tensor2d(flatZ, [B, Z]);
      if (!withGradient) {
        perRow = tf.keep(rowNats(z));
        return;
      }
      // One pass for both: the rows' values are kept from inside the differentiated function.
      grad = tf.keep(
        tf.grad((x: tf.Tensor) => {
          const rows = rowNats(x);
          perRow = tf.keep(rows);
          return tf.sum(rows);
        })(z),
      );
    });
    if (!perRow) throw new Error('no block scores');
    const values = (await (perRow as tf.Tensor).data()) as Float32Array;
    values.forEach((v, r) => (bits[i + r] = v / Math.LN2));
    (perRow as tf.Tensor).dispose();
    if (grad) {
      const g = (await (grad as tf.Tensor).data()) as Float32Array;
      for (let r = 0; r < B; r++) gradients.push(g.slice(r * Z, (r + 1) * Z).map((x) => x / Math.LN2));
      (grad as tf.Tensor).dispose();
    }
    onFraction?.(Math.min(1, (i + B) / blocks.length));
    // Each pass awaited its results, so a cancel had the chance to arrive.
    signal?.throwIfAborted();
  }
  return { bits, gradients };
}

/**
 * Improves each block's grid indices `grids` (from quantiseLatent) for the lossless coder, in at most
 * `sweeps` sweeps; stops early once no block moves. Blocks are token ids, as the coder codes them.
 */
export async function searchLatentGrids(
  model: TextVaeModel,
  blocks: readonly Int32Array[],
  grids: readonly Int32Array[],
  frame: LatentFrame,
  sweeps: number,
  onFraction?: (fraction: number) => void,
  signal?: AbortSignal,
): Promise<GridSearchResult> {
  const current: Int32Array[] = grids.map((q) => Int32Array.from(q));
  const cost = (q: Int32Array, tokenBits: number) => latentBits(q) + tokenBits;
  const start = await blockBits(
    model,
    blocks,
    current.map((q) => latentOf(q, frame)),
    true,
    undefined,
    signal,
  );
  const bits = Float64Array.from(current, (q, b) => cost(q, start.bits[b]));
  const bitsBefore = bits.reduce((a, b) => a + b, 0);
  const gradients = start.gradients;
  let done = 0;
  // A block that did not move would propose the same moves again: only the movers are retried.
  let active = current.map((_, b) => b);
  while (done < sweeps && active.length > 0) {
    done++;
    const candidates: Int32Array[] = [];
    const owner: number[] = [];
    for (const b of active)
      for (const c of proposeGridMoves(current[b], gradients[b], frame, MOVES_PER_SWEEP)) {
        candidates.push(c);
        owner.push(b);
      }
    const scored = await blockBits(
      model,
      owner.map((b) => blocks[b]),
      candidates.map((c) => latentOf(c, frame)),
      false,
      onFraction && ((f) => onFraction((done - 1 + f) / sweeps)),
      signal,
    );
    onFraction?.(done / sweeps);
    const moved = new Set<number>();
    candidates.forEach((c, i) => {
      const b = owner[i];
      const total = cost(c, scored.bits[i]);
      if (total < bits[b] - 1e-9) {
        moved.add(b);
        bits[b] = total;
        current[b] = c;
      }
    });
    active = [...moved];
    if (active.length === 0 || done === sweeps) break;
    // Gradients at the new points of the blocks that moved; the others keep theirs.
    const next = await blockBits(
      model,
      active.map((b) => blocks[b]),
      active.map((b) => latentOf(current[b], frame)),
      true,
      undefined,
      signal,
    );
    active.forEach((b, i) => (gradients[b] = next.gradients[i]));
  }
  return { grids: current, bitsBefore, bitsAfter: bits.reduce((a, b) => a + b, 0), sweeps: done };
}
