/** The engine's public face: a loaded model with its tokenizer, and every inference operation. */
import * as tf from '@tensorflow/tfjs-core';
import { TextVaeModel, weightShapes, parameterCount } from './model';
import { Tokenizer, BOS, EOS } from './tokenizer';
import { chunkText } from './chunker';
import { BundleError, loadBundle, type BundleManifest, type LoadedBundle } from './bundle';
import { formatLatentCode, formatPrecisionCode, parseLatentCode } from './latentCode';
import { LatentQuantiser } from './latentPrecision';
import { makeExamples } from './dataset';
import { evaluate, type EvalMetrics } from './evaluate';
import { parseCacheParams, type CacheParams } from './documentCache';
import type { RoundTrip } from './similarity';
import { Random } from './random';

import {
  RANGES,
  describeRange,
  inRange,
  type DecodeStrategy,
  type InterpolationMode,
  type LatentPriorChoice,
} from './choices';
import type { DecodeOptions, MapDocument, MapPoint, ModelConfig, ModelInfo } from './types';
import { pca2 } from './projection';
import { lengthNormalised, pickReranked } from './rerank';
import { LatentPrior } from './latentPrior';
import { posteriorsOf } from './latentStats';
import { searchLatentGrids } from './latentSearch';
import type { LatentGridSearch } from './lossless/codec';

export type { DecodeOptions, DecodeStrategy, InterpolationMode, ModelInfo };

/** One finished beam: its text, log-likelihood given z (nats, EOS included), tokens and beam score. */
export interface BeamCandidate {
  text: string;
  logp: number;
  tokens: number;
  /** lengthNormalised(logp, tokens): what the beam ranks by. */
  score: number;
}

/** Not part of DecodeOptions, which the protocol carries: a signal stays in its process. */
export interface Interruptible {
  /** Stops the work between batches and decoding steps (rejects with an AbortError). */
  signal?: AbortSignal;
}

/** Decoding as the engine runs it: the options plus a cancellation signal. */
export type DecodeRun = DecodeOptions & Interruptible;

/** How `sample` draws its codes (docs/benchmarks.md, "Samples (target 3)"). */
export interface SampleRun extends DecodeRun {
  /** Chunks per sample (default 1). More make a paragraph: each chunk's code follows the previous one. */
  chunks?: number;
  /** 'fitted' (the default where the bundle has prior.json) or 'standard': N(0, I) as trained. */
  latentPrior?: LatentPriorChoice;
  /** Fitted prior: each code's spread around its component's mean (or its predicted next code), 1 = as fitted. */
  latentScale?: number;
  /** Fitted prior, paragraphs: false draws every chunk's code from the mixture on its own (for comparison). */
  transition?: boolean;
  /** Draw this many candidates per sample and keep the one the model finds likeliest per token (1 = off). */
  candidates?: number;
}

export interface EncodeOptions extends Interruptible {
  sample?: boolean;
  seed?: number;
}

/**
 * Called between batches and decoding steps. With a signal, yields to the event loop (so that a
 * worker can receive a cancel during long work) and stops if it was aborted. Without one, free.
 */
async function pausePoint(signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return;
  await new Promise((resolve) => setImmediate(resolve));
  signal.throwIfAborted();
}

export class TextVae {
  private constructor(
    readonly model: TextVaeModel,
    readonly tokenizer: Tokenizer,
    readonly fingerprint: string,
    readonly dir: string,
    readonly manifest: BundleManifest | null,
    readonly sizeBytes: number,
    /** The bundle's fitted latent prior (prior.json), if it has one. */
    readonly prior: LatentPrior | null = null,
    /** The bundle's document-cache parameters (cache.json), if it has them. */
    readonly cacheParams: CacheParams | null = null,
  ) {}

  static async load(dir: string): Promise<TextVae> {
    const bundle = await loadModelBundle(dir);
    const tokenizer = bundle.tokenizer;
    return new TextVae(
      new TextVaeModel(bundle.config, bundle.weights),
      tokenizer,
      bundle.fingerprint,
      dir,
      bundle.manifest,
      bundle.sizeBytes,
      bundle.latentPrior ?? null,
      bundle.cacheParams ?? null,
    );
  }

  /** For tests and freshly trained models that are not saved yet. */
  static fromParts(model: TextVaeModel, tokenizer: Tokenizer, fingerprint: string, prior?: LatentPrior): TextVae {
    return new TextVae(model, tokenizer, fingerprint, '', null, 0, prior ?? null);
  }

  get config(): ModelConfig {
    return this.model.config;
  }

  info(): ModelInfo {
    return {
      dir: this.dir,
      fingerprint: this.fingerprint,
      variant: this.config.variant,
      config: this.config,
      parameters: parameterCount(this.config),
      sizeBytes: this.sizeBytes,
      vocabSize: this.tokenizer.vocabSize,
      training: this.manifest?.training,
      metrics: this.manifest?.metrics,
      prior: this.prior ? { components: this.prior.componentCount, transition: this.prior.hasTransition } : null,
    };
  }

  dispose(): void {
    this.model.dispose();
  }

  /** Cuts text into model-sized pieces whose concatenation is the text. */
  chunk(text: string): string[] {
    return chunkText(text, (s) => this.tokenizer.encode(s).length, this.config.maxTokens);
  }

  /** One latent vector per chunk: the posterior mean, or a posterior sample. */
  async encodeChunks(chunks: string[], options: EncodeOptions = {}): Promise<Float32Array[]> {
    const Z = this.config.latentDim;
    const out: Float32Array[] = [];
    const rng = new Random(options.seed ?? 0);
    for (let i = 0; i < chunks.length; i += 64) {
      await pausePoint(options.signal);
      for (const { mu, logvar } of await this.posteriors(chunks.slice(i, i + 64))) {
        if (options.sample && this.config.variant === 'vae') {
          for (let j = 0; j < Z; j++) mu[j] += Math.exp(0.5 * logvar[j]) * rng.normal();
        }
        out.push(mu);
      }
    }
    return out;
  }

  /** The encoder's posterior (mean, log-variance) for each text. */
  async posteriors(texts: string[]): Promise<{ mu: Float32Array; logvar: Float32Array }[]> {
    return posteriorsOf(
      this.model,
      texts.map((c) => this.tokenizer.encode(c)),
    );
  }

  /**
   * The lossless coder's grid points for blocks of token ids, searched from `grids` (latentSearch.ts).
   * Typed by the coder's own signature, so that every argument it passes reaches the search.
   */
  readonly searchLatentGrids: LatentGridSearch = async (blocks, grids, frame, sweeps, onFraction, signal) =>
    (await searchLatentGrids(this.model, blocks, grids, frame, sweeps, onFraction, signal)).grids;

  async encode(text: string, options: EncodeOptions = {}): Promise<Float32Array[]> {
    return this.encodeChunks(this.chunk(text), options);
  }

  /**
   * Codes store z standardised by the training codes' mean and spread, so that every variant
   * (an 'ae' code is unbounded) fits the code's clamp range and gets the same relative precision.
   * Models with codeScheme 'precision' write tvae2 codes, quantised with their latent.step.
   */
  private latentScale(): { mean: Float32Array; std: Float32Array; quantiser?: LatentQuantiser } {
    if (!this.scale) {
      const mean = Float32Array.from(this.model.vars['latent.mean'].dataSync());
      const std = Float32Array.from(this.model.vars['latent.std'].dataSync(), (s) => Math.max(s, 1e-3));
      const step = this.model.vars['latent.step'];
      // Steps in standardised units; float32 inputs and one division, so every machine agrees.
      const quantiser = step
        ? new LatentQuantiser(Float64Array.from(step.dataSync(), (s, j) => s / std[j]))
        : undefined;
      this.scale = { mean, std, quantiser };
    }
    return this.scale;
  }
  private scale: { mean: Float32Array; std: Float32Array; quantiser?: LatentQuantiser } | null = null;

  /** Latent vectors -> copy-pasteable codes, in the scheme the model writes. */
  codesOf(zs: Float32Array[]): string[] {
    const { mean, std, quantiser } = this.latentScale();
    return zs.map((z) => {
      const u = z.map((v, j) => (v - mean[j]) / std[j]);
      return quantiser ? formatPrecisionCode(u, this.fingerprint, quantiser) : formatLatentCode(u, this.fingerprint);
    });
  }

  /** Text -> one copy-pasteable code per chunk. */
  async encodeToCodes(text: string, options: EncodeOptions = {}): Promise<string[]> {
    return this.codesOf(await this.encode(text, options));
  }

  /** Parses codes; throws LatentCodeError (wrong model, corrupt, truncated...) with a clear message. */
  parseCodes(codes: string[]): Float32Array[] {
    const { mean, std, quantiser } = this.latentScale();
    const expected = { fingerprint: this.fingerprint, latentDim: this.config.latentDim, quantiser };
    return codes.map((c) => parseLatentCode(c, expected).map((v, j) => v * std[j] + mean[j]));
  }

  async decodeCodes(codes: string[], options: DecodeRun = {}): Promise<string> {
    return (await this.decode(this.parseCodes(codes), options)).join('');
  }

  /** Latent vectors -> texts, one per vector. */
  async decode(zs: Float32Array[], options: DecodeRun = {}): Promise<string[]> {
    const strategy = options.strategy ?? 'greedy';
    if (strategy === 'beam') {
      const out: string[] = [];
      for (const z of zs) out.push(await this.beamDecode(z, options));
      return out;
    }
    return (await this.decodeScored(zs, strategy, options)).map((d) => d.text);
  }

  /** Greedy or sampled decoding, with each text's log-likelihood under the model (nats, EOS included). */
  private async decodeScored(
    zs: Float32Array[],
    strategy: 'greedy' | 'sample',
    options: DecodeRun,
  ): Promise<{ text: string; logp: number; tokens: number }[]> {
    const out: { text: string; logp: number; tokens: number }[] = [];
    for (let i = 0; i < zs.length; i += 64)
      out.push(...(await this.sampleDecode(zs.slice(i, i + 64), strategy, options)));
    return out;
  }

  private maxSteps(options: DecodeRun): number {
    return Math.max(1, Math.min(options.maxTokens ?? this.config.maxTokens, this.config.maxTokens)) + 1;
  }

  private zTensor(zs: Float32Array[]): tf.Tensor2D {
    const Z = this.config.latentDim;
    const flat = new Float32Array(zs.length * Z);
    zs.forEach((z, i) => {
      if (z.length !== Z) throw new Error(`latent vector has ${z.length} dimensions; the model expects ${Z}`);
      flat.set(z, i * Z);
    });
    return tf.tensor2d(flat, [zs.length, Z]);
  }

  private async sampleDecode(
    zs: Float32Array[],
    strategy: 'greedy' | 'sample',
    options: DecodeRun,
  ): Promise<{ text: string; logp: number; tokens: number }[]> {
    const B = zs.length;
    const rng = new Random(options.seed ?? 0);
    const temperature = options.temperature ?? 1;
    const topP = options.topP ?? 1;
    const noRepeat = options.noRepeatNgram ?? 0;
    if (!(temperature > 0)) throw new Error('temperature must be greater than 0');
    if (!(topP > 0 && topP <= 1)) throw new Error('top-p must be in (0, 1]');
    const z = this.zTensor(zs);
    const decoder = this.model.startDecoding(z);
    z.dispose();
    const generated: number[][] = zs.map(() => []);
    const logLikelihood = new Float64Array(B);
    const done = new Array<boolean>(B).fill(false);
    let input = new Int32Array(B).fill(BOS);
    try {
      for (let t = 0; t < this.maxSteps(options) && done.includes(false); t++) {
        await pausePoint(options.signal);
        const logpT = decoder.next(input);
        const logp = await logpT.data();
        logpT.dispose();
        const V = logp.length / B;
        const nextInput = new Int32Array(B);
        for (let b = 0; b < B; b++) {
          let row: Float32Array = logp.subarray(b * V, (b + 1) * V) as Float32Array;
          const banned = noRepeat > 1 && !done[b] ? bannedNextTokens(generated[b], noRepeat) : null;
          if (banned?.size) {
            row = Float32Array.from(row);
            for (const t of banned) row[t] = -Infinity;
          }
          let tok = strategy === 'greedy' ? argMax(row) : sampleToken(row, temperature, topP, rng);
          // Samples do not stutter ("the the"): redraw a token that says the previous word again.
          // Greedy decoding reconstructs text, which may repeat a word on purpose, so it is left alone.
          for (let tries = 0; strategy === 'sample' && !done[b] && tries < 8; tries++) {
            if (!endsWithRepeatedWord(this.tokenizer.decode([...generated[b].slice(-8), tok]))) break;
            if (tries === 0) row = Float32Array.from(row);
            row[tok] = -Infinity;
            tok = sampleToken(row, temperature, topP, rng);
          }
          nextInput[b] = tok;
          if (done[b]) continue;
          logLikelihood[b] += logp[b * V + tok];
          if (tok === EOS) done[b] = true;
          else generated[b].push(tok);
        }
        input = nextInput;
      }
    } finally {
      decoder.dispose();
    }
    return generated.map((ids, b) => ({
      text: this.tokenizer.decode(ids),
      logp: logLikelihood[b],
      tokens: ids.length + (done[b] ? 1 : 0),
    }));
  }

  private async beamDecode(z: Float32Array, options: DecodeRun): Promise<string> {
    const candidates = await this.beamCandidates(z, options);
    const weight = options.rerank ?? 0;
    if (weight === 0 || candidates.length < 2) return candidates[0].text;
    const reencoded = await this.posteriors(candidates.map((c) => c.text));
    return candidates[
      pickReranked(
        candidates.map((c, i) => ({ score: c.score, ...reencoded[i] })),
        z,
        weight,
      )
    ].text;
  }

  /**
   * Beam search from one latent vector: up to beamWidth distinct finished texts, best first by
   * length-normalised log-likelihood (the plain beam's choice is the first).
   */
  async beamCandidates(zVec: Float32Array, options: DecodeRun = {}): Promise<BeamCandidate[]> {
    const W = Math.max(1, Math.min(16, options.beamWidth ?? 4));
    const z = this.zTensor(Array.from({ length: W }, () => zVec));
    const decoder = this.model.startDecoding(z);
    z.dispose();
    let beams = [{ ids: [] as number[], score: 0 }];
    const finished: { ids: number[]; score: number }[] = [];
    let input = new Int32Array(W).fill(BOS);
    const normalised = (b: { ids: number[]; score: number }) => lengthNormalised(b.score, b.ids.length);
    try {
      for (let t = 0; t < this.maxSteps(options) && beams.length > 0; t++) {
        await pausePoint(options.signal);
        const logpT = decoder.next(input);
        const logp = await logpT.data();
        logpT.dispose();
        const V = logp.length / W;
        const candidates: { from: number; tok: number; score: number }[] = [];
        beams.forEach((beam, b) => {
          const row = logp.subarray(b * V, (b + 1) * V);
          for (const tok of topK(row, W)) candidates.push({ from: b, tok, score: beam.score + row[tok] });
        });
        candidates.sort((a, b) => b.score - a.score);
        const next: { ids: number[]; score: number }[] = [];
        const rows: number[] = [];
        for (const c of candidates) {
          if (c.tok === EOS) finished.push({ ids: beams[c.from].ids, score: c.score });
          else if (next.length < W) {
            next.push({ ids: [...beams[c.from].ids, c.tok], score: c.score });
            rows.push(c.from);
          }
          if (next.length >= W && finished.length >= W) break;
        }
        if (
          finished.length >= W &&
          next.length &&
          Math.max(...finished.map(normalised)) >= Math.max(...next.map(normalised))
        )
          break;
        beams = next;
        if (beams.length === 0) break;
        const padded = Int32Array.from({ length: W }, (_, i) => rows[Math.min(i, rows.length - 1)]);
        decoder.reorder(padded);
        input = Int32Array.from({ length: W }, (_, i) => beams[Math.min(i, beams.length - 1)].ids.at(-1)!);
      }
    } finally {
      decoder.dispose();
    }
    const pool = finished.length ? finished : beams;
    pool.sort((a, b) => normalised(b) - normalised(a));
    const out: BeamCandidate[] = [];
    const seen = new Set<string>();
    for (const b of pool) {
      const text = this.tokenizer.decode(b.ids);
      if (seen.has(text)) continue;
      seen.add(text);
      out.push({ text, logp: b.score, tokens: b.ids.length, score: normalised(b) });
      if (out.length === W) break;
    }
    return out;
  }

  /** Round trip through the model: encode to the posterior mean, then decode. */
  async reconstruct(
    text: string,
    options: DecodeRun = {},
  ): Promise<{ text: string; chunks: { input: string; output: string }[] }> {
    const chunks = this.chunk(text);
    const outputs = await this.decode(await this.encodeChunks(chunks, { signal: options.signal }), options);
    return { text: outputs.join(''), chunks: chunks.map((input, i) => ({ input, output: outputs[i] })) };
  }

  /**
   * Each text to its codes and back, through the quantised codes a user would paste (so the figures
   * include quantisation). Decoding is batched across texts.
   */
  async roundTrip(texts: readonly string[], options: DecodeRun = {}): Promise<RoundTrip[]> {
    const codes: string[][] = [];
    for (const t of texts) codes.push(await this.encodeToCodes(t));
    const outputs = await this.decode(this.parseCodes(codes.flat()), options);
    let next = 0;
    return texts.map((text, i) => ({
      text,
      codes: codes[i],
      output: outputs.slice(next, (next += codes[i].length)).join(''),
    }));
  }

  /**
   * Latent vectors drawn from the prior: the bundle's fitted prior where it has one (unless
   * `latentPrior` is 'standard'), else N(0, I) (vae) or the training codes' spread (ae, sparse).
   * With `chunks` > 1, each sample is that many consecutive codes (a paragraph), flattened.
   */
  async priorSamples(n: number, seed: number, o: Omit<SampleRun, keyof DecodeRun> = {}): Promise<Float32Array[]> {
    const rng = new Random(seed);
    const Z = this.config.latentDim;
    const chunks = o.chunks ?? 1;
    const prior = o.latentPrior === 'standard' ? null : this.prior;
    if (prior) {
      const scale = o.latentScale ?? 1;
      const out: Float32Array[] = [];
      for (let i = 0; i < n; i++) {
        let z = prior.draw(rng, scale);
        out.push(z);
        for (let c = 1; c < chunks; c++) {
          z = o.transition === false ? prior.draw(rng, scale) : prior.drawNext(z, rng, scale);
          out.push(z);
        }
      }
      return out;
    }
    const count = n * chunks;
    if (this.config.variant === 'vae') return Array.from({ length: count }, () => rng.normals(Z));
    const [mean, std] = await Promise.all([
      this.model.vars['latent.mean'].data(),
      this.model.vars['latent.std'].data(),
    ]);
    return Array.from({ length: count }, () => {
      const z = new Float32Array(Z);
      for (let j = 0; j < Z; j++) {
        z[j] = mean[j] + std[j] * rng.normal();
        if (this.config.variant === 'sparse') z[j] = Math.max(0, z[j]);
      }
      return z;
    });
  }

  async sample(n: number, options: SampleRun = {}): Promise<string[]> {
    if (!Number.isInteger(n) || n < 1 || n > 256)
      throw new Error('the number of samples must be an integer from 1 to 256');
    const chunks = options.chunks ?? 1;
    const candidates = options.candidates ?? 1;
    if (!inRange(RANGES.paragraphChunks, chunks))
      throw new Error(`chunks per sample must be ${describeRange(RANGES.paragraphChunks)}`);
    if (!inRange(RANGES.sampleCandidates, candidates))
      throw new Error(`candidates must be ${describeRange(RANGES.sampleCandidates)}`);
    if (options.latentScale !== undefined && !inRange(RANGES.latentScale, options.latentScale))
      throw new Error(`the latent scale must be ${describeRange(RANGES.latentScale)}`);
    const seed = options.seed ?? 0;
    const { chunks: _c, latentPrior, latentScale, transition, candidates: _k, ...decoding } = options;
    const zs = await this.priorSamples(n * candidates, seed, { chunks, latentPrior, latentScale, transition });
    const run: DecodeRun = { strategy: 'sample', noRepeatNgram: 3, ...decoding, seed: seed + 1 };
    if (run.strategy === 'beam') {
      if (candidates > 1) throw new Error('candidates apply to sampled or greedy decoding, not to beam search');
      return joinChunks(await this.decode(zs, run), chunks);
    }
    const decoded = await this.decodeScored(zs, run.strategy ?? 'sample', run);
    // One entry per drawn sample: its chunks joined, and its log-likelihood per token.
    const drawn = Array.from({ length: n * candidates }, (_, i) => {
      const part = decoded.slice(i * chunks, (i + 1) * chunks);
      const tokens = part.reduce((a, d) => a + d.tokens, 0);
      return {
        text: part.map((d) => d.text).join(''),
        perToken: part.reduce((a, d) => a + d.logp, 0) / Math.max(1, tokens),
      };
    });
    return Array.from({ length: n }, (_, i) => {
      const group = drawn.slice(i * candidates, (i + 1) * candidates);
      return group.reduce((best, d) => (d.perToken > best.perToken ? d : best)).text;
    });
  }

  /**
   * Interpolates between two texts in latent space, chunk by chunk. Where one text has more chunks,
   * its extra chunks appear only on its own half of the path.
   */
  async interpolate(
    a: string,
    b: string,
    steps: number,
    mode: InterpolationMode = 'spherical',
    options: DecodeRun = {},
  ): Promise<{ alpha: number; text: string }[]> {
    if (!inRange(RANGES.interpolationSteps, steps))
      throw new Error(`steps must be ${describeRange(RANGES.interpolationSteps)}`);
    const [za, zb] = [
      await this.encode(a, { signal: options.signal }),
      await this.encode(b, { signal: options.signal }),
    ];
    if (za.length === 0 || zb.length === 0) throw new Error('both texts must be non-empty');
    const n = Math.max(za.length, zb.length);
    const alphas = Array.from({ length: steps }, (_, i) => i / (steps - 1));
    const zs: Float32Array[] = [];
    const owner: number[] = [];
    alphas.forEach((alpha, s) => {
      for (let i = 0; i < n; i++) {
        const x = za[i],
          y = zb[i];
        let z: Float32Array | null = null;
        if (x && y) z = mode === 'spherical' ? slerp(x, y, alpha) : lerp(x, y, alpha);
        else if (x && alpha < 0.5) z = x;
        else if (y && alpha >= 0.5) z = y;
        if (z) {
          zs.push(z);
          owner.push(s);
        }
      }
    });
    const texts = await this.decode(zs, options);
    return alphas.map((alpha, s) => ({ alpha, text: texts.filter((_, i) => owner[i] === s).join('') }));
  }

  /** Held-out metrics of the texts (each a document); with `cache`, also scored with a document cache. */
  /** Held-out metrics; with the bundle's prior.json also the −ELBO under it (fitted_* keys). */
  async evaluateTexts(texts: string[], seed = 12345, cache?: CacheParams): Promise<EvalMetrics> {
    return evaluate(this.model, makeExamples(texts, this.tokenizer, this.config.maxTokens), {
      seed,
      cache,
      // A KL against a prior only means something for a vae's posteriors.
      ...(this.prior && this.config.variant === 'vae' && { prior: this.prior }),
    });
  }

  /**
   * A 2-D map of the documents' chunks: their codes projected on the two principal axes. Evenly
   * spaced chunks stand for all when there are more than maxPoints.
   */
  async latentMap(documents: readonly MapDocument[], maxPoints = 2000, signal?: AbortSignal): Promise<MapPoint[]> {
    const pieces: { uri: string; offset: number; line: number; text: string }[] = [];
    for (const doc of documents) {
      let offset = 0;
      let line = 0;
      for (const chunk of this.chunk(doc.text)) {
        if (chunk.trim() !== '') {
          // Point at the chunk's first non-blank character.
          const lead = chunk.length - chunk.trimStart().length;
          const leadLines = chunk.slice(0, lead).split('\n').length - 1;
          pieces.push({ uri: doc.uri, offset: offset + lead, line: line + leadLines, text: chunk });
        }
        offset += chunk.length;
        for (let i = 0; i < chunk.length; i++) if (chunk.charCodeAt(i) === 10) line++;
      }
      // Let the process handle other messages (a cancel) between documents.
      await pausePoint(signal);
    }
    const chosen =
      pieces.length > maxPoints
        ? Array.from({ length: maxPoints }, (_, i) => pieces[Math.floor((i * pieces.length) / maxPoints)])
        : pieces;
    if (chosen.length === 0) return [];
    const { points } = pca2(
      await this.encodeChunks(
        chosen.map((c) => c.text),
        { signal },
      ),
    );
    return chosen.map((c, i) => ({
      x: points[i].x,
      y: points[i].y,
      uri: c.uri,
      offset: c.offset,
      line: c.line,
      preview: previewText(c.text),
    }));
  }
}

/** Texts decoded chunk by chunk, joined `chunks` at a time. */
function joinChunks(texts: string[], chunks: number): string[] {
  return Array.from({ length: texts.length / chunks }, (_, i) => texts.slice(i * chunks, (i + 1) * chunks).join(''));
}

/** One line of at most 200 characters. */
function previewText(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 200 ? `${flat.slice(0, 199)}…` : flat;
}

/** A bundle whose weights fit the shapes its config needs and whose tokenizer fits its vocabulary. */
export async function loadModelBundle(
  dir: string,
): Promise<
  Omit<LoadedBundle, 'tokenizer'> & { tokenizer: Tokenizer; latentPrior?: LatentPrior; cacheParams?: CacheParams }
> {
  const bundle = await loadBundle(dir, { expectedShapes: weightShapes });
  let tokenizer: Tokenizer;
  try {
    tokenizer = Tokenizer.fromJSON(bundle.tokenizer);
  } catch (err) {
    throw new BundleError(dir, (err as Error).message); // name the bundle
  }
  if (tokenizer.vocabSize !== bundle.config.vocabSize)
    throw new BundleError(
      dir,
      `tokenizer.json has ${tokenizer.vocabSize} tokens but config.json says vocabSize ${bundle.config.vocabSize}`,
    );
  let cacheParams: CacheParams | undefined;
  if (bundle.cache !== undefined)
    try {
      cacheParams = parseCacheParams(bundle.cache);
    } catch (err) {
      throw new BundleError(
        dir,
        `cache.json: ${(err as Error).message} (remove it or tune again: scripts/cache-tune.ts)`,
      );
    }
  const loaded = { ...bundle, tokenizer, ...(cacheParams && { cacheParams }) };
  if (bundle.prior === undefined) return loaded;
  try {
    return { ...loaded, latentPrior: LatentPrior.fromJSON(bundle.prior, bundle.config.latentDim) };
  } catch (err) {
    throw new BundleError(dir, `${(err as Error).message} (remove prior.json or fit it again: scripts/fit-prior.ts)`);
  }
}

export function lerp(a: Float32Array, b: Float32Array, t: number): Float32Array {
  return Float32Array.from(a, (v, i) => v + (b[i] - v) * t);
}

/** Spherical interpolation; falls back to linear when the vectors are (anti)parallel or tiny. */
export function slerp(a: Float32Array, b: Float32Array, t: number): Float32Array {
  let dot = 0,
    na = 0,
    nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  const cos = dot / Math.sqrt(na * nb || 1);
  const omega = Math.acos(Math.max(-1, Math.min(1, cos)));
  if (na < 1e-12 || nb < 1e-12 || Math.abs(Math.sin(omega)) < 1e-6) return lerp(a, b, t);
  const s = Math.sin(omega);
  const wa = Math.sin((1 - t) * omega) / s,
    wb = Math.sin(t * omega) / s;
  return Float32Array.from(a, (v, i) => wa * v + wb * b[i]);
}

const REPEATED_WORD = /(?:^|[^\p{L}])(\p{L}+)[,;]?\s+(\p{L}+)$/u;

/** Whether `text` ends by saying its previous word again, case aside ("The the", "it, it"). */
export function endsWithRepeatedWord(text: string): boolean {
  const m = REPEATED_WORD.exec(text);
  return m !== null && m[1].toLowerCase() === m[2].toLowerCase();
}

/** Tokens that would complete an n-gram already present in `ids` (n-1 tokens of context). */
export function bannedNextTokens(ids: readonly number[], n: number): Set<number> {
  const banned = new Set<number>();
  const k = n - 1;
  if (ids.length < k) return banned;
  const tail = ids.slice(ids.length - k);
  for (let i = 0; i + k < ids.length; i++) {
    let same = true;
    for (let j = 0; j < k && same; j++) same = ids[i + j] === tail[j];
    if (same) banned.add(ids[i + k]);
  }
  return banned;
}

function argMax(row: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
  return best;
}

function topK(row: ArrayLike<number>, k: number): number[] {
  const idx: number[] = [];
  for (let i = 0; i < row.length; i++) {
    if (idx.length < k) {
      idx.push(i);
      idx.sort((a, b) => row[b] - row[a]);
    } else if (row[i] > row[idx[k - 1]]) {
      idx[k - 1] = i;
      idx.sort((a, b) => row[b] - row[a]);
    }
  }
  return idx;
}

/** Temperature + nucleus sampling from log-probabilities, driven by a seeded generator. */
export function sampleToken(logp: ArrayLike<number>, temperature: number, topP: number, rng: Random): number {
  const V = logp.length;
  let max = -Infinity;
  for (let i = 0; i < V; i++) if (logp[i] > max) max = logp[i];
  const p = new Float64Array(V);
  let total = 0;
  for (let i = 0; i < V; i++) {
    p[i] = Math.exp((logp[i] - max) / temperature);
    total += p[i];
  }
  let order: number[] | null = null;
  let limit = total;
  if (topP < 1) {
    order = Array.from({ length: V }, (_, i) => i).sort((a, b) => p[b] - p[a] || a - b);
    let acc = 0;
    let cut = 0;
    while (cut < V && acc < topP * total) acc += p[order[cut++]];
    order = order.slice(0, Math.max(1, cut));
    limit = acc;
  }
  let r = rng.next() * limit;
  const candidates = order ?? Array.from({ length: V }, (_, i) => i);
  for (const i of candidates) {
    r -= p[i];
    if (r <= 0) return i;
  }
  return candidates[candidates.length - 1];
}
