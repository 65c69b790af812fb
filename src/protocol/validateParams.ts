/**
 * The params of every engine request, declared once as schemas: the worker checks each request
 * against them before any work, so that bad input is answered with a 'bad-input' error instead of
 * crashing the process, and protocol/engine.ts infers the params types from them. No tfjs, no
 * vscode: the worker bundles it and unit tests import it directly.
 */
import * as v from 'valibot';
import type { EngineMethod, EngineMethods } from './engine';
import type { DecodeOptions } from '../core/types';
import {
  BACKEND_REQUESTS,
  DECODE_STRATEGIES,
  INTERPOLATION_MODES,
  RANGES,
  VARIANTS,
  type NumberRange,
} from '../core/choices';
import { empty, flag, listOf, numberIn, oneOf, parseOrThrow, record, text, type SameShape } from './schema';

export class BadInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BadInputError';
  }
}

/** Limits on sizes the engine accepts in one request. */
export const LIMITS = {
  textChars: 10_000_000,
  codes: 100_000,
  codeChars: 4096,
  pathChars: 4096,
  trainPaths: 200_000,
  globs: 256,
  mapDocuments: 20_000,
  mapPoints: 20_000,
} as const;

const optionalIn = (range: NumberRange) => v.optional(numberIn(range));
const path = text(LIMITS.pathChars, { nonEmpty: true });
const globs = v.optional(listOf(text(1024, { nonEmpty: true }), LIMITS.globs, { what: 'an array of strings' }));

export const DecodeOptionsSchema = record({
  strategy: v.optional(oneOf(DECODE_STRATEGIES)),
  temperature: optionalIn(RANGES.temperature),
  topP: optionalIn(RANGES.topP),
  beamWidth: optionalIn(RANGES.beamWidth),
  rerank: optionalIn(RANGES.rerank),
  seed: optionalIn(RANGES.seed),
  maxTokens: optionalIn(RANGES.decodeMaxTokens),
  noRepeatNgram: optionalIn(RANGES.noRepeatNgram),
});

// The engine's DecodeOptions and the schema must describe the same object, key for key.
const decodeOptionsMatch: SameShape<v.InferOutput<typeof DecodeOptionsSchema>, DecodeOptions> = true;
void decodeOptionsMatch;

const options = v.optional(DecodeOptionsSchema);

const TrainParamsSchema = v.pipe(
  record({
    /** Files and folders to read (the worker reads them, not the host). */
    paths: listOf(path, LIMITS.trainPaths, { min: 1, what: 'an array of strings' }),
    include: globs,
    exclude: globs,
    maxFileBytes: optionalIn({ min: 1, max: Infinity, integer: true }),
    out: path,
    /** Fine-tune: start from this bundle's weights, tokenizer and architecture (it is only read). */
    from: v.optional(path),
    minutes: optionalIn(RANGES.minutes),
    maxSteps: optionalIn(RANGES.maxSteps),
    seed: optionalIn(RANGES.seed),
    variant: v.optional(oneOf(VARIANTS)),
    valFraction: optionalIn(RANGES.valFraction),
    /** Smaller models for quick runs (tests, small workspaces). */
    modelDim: optionalIn(RANGES.modelDim),
    vocabSize: optionalIn(RANGES.vocabSize),
    latentDim: optionalIn(RANGES.latentDim),
    logEvery: optionalIn(RANGES.logEvery),
  }),
  v.check((p) => p.minutes !== undefined || p.maxSteps !== undefined, 'give a bound for training: minutes or maxSteps'),
);

const MapDocumentSchema = record({ uri: path, text: text(LIMITS.textChars) });

/** Every engine method's params. */
export const ENGINE_PARAMS = {
  initialize: record({ backend: oneOf(BACKEND_REQUESTS) }),
  loadModel: record({ dir: path }),
  modelInfo: empty,
  encode: v.pipe(
    record({ text: text(LIMITS.textChars), sample: v.optional(flag), seed: optionalIn(RANGES.seed) }),
    v.check((p) => p.text.length > 0, 'the text to encode is empty'),
  ),
  decode: record({
    codes: listOf(text(LIMITS.codeChars), LIMITS.codes, { min: 1, what: 'an array of strings' }),
    options,
  }),
  compressLossless: v.pipe(
    record({ text: text(LIMITS.textChars), searchSweeps: optionalIn(RANGES.latentSearchSweeps) }),
    v.check((p) => p.text.length > 0, 'the text to compress is empty'),
  ),
  decompressLossless: record({
    codes: listOf(text(LIMITS.textChars), LIMITS.codes, { min: 1, what: 'an array of strings' }),
  }),
  reconstruct: v.pipe(
    record({ text: text(LIMITS.textChars), options }),
    v.check((p) => p.text.length > 0, 'the text to reconstruct is empty'),
  ),
  /** chunks: per sample, a paragraph of that many consecutive codes (1 unless given). */
  sample: record({ n: numberIn(RANGES.sampleCount), options, chunks: optionalIn(RANGES.paragraphChunks) }),
  interpolate: v.pipe(
    record({
      from: text(LIMITS.textChars),
      to: text(LIMITS.textChars),
      steps: numberIn(RANGES.interpolationSteps),
      mode: oneOf(INTERPOLATION_MODES),
      options,
    }),
    v.check((p) => p.from.trim() !== '' && p.to.trim() !== '', 'both texts to interpolate between must be non-empty'),
  ),
  train: TrainParamsSchema,
  latentMap: record({
    documents: v.pipe(
      listOf(MapDocumentSchema, LIMITS.mapDocuments, { what: 'an array' }),
      v.check(
        (docs) => docs.reduce((n, d) => n + d.text.length, 0) <= LIMITS.textChars,
        `the documents hold more than ${LIMITS.textChars} characters`,
      ),
    ),
    maxPoints: optionalIn({ min: 1, max: LIMITS.mapPoints, integer: true }),
  }),
} as const satisfies Record<EngineMethod, v.GenericSchema>;

export type EngineParams = { [M in keyof typeof ENGINE_PARAMS]: v.InferOutput<(typeof ENGINE_PARAMS)[M]> };

export const ENGINE_METHODS = Object.keys(ENGINE_PARAMS) as EngineMethod[];

export function isEngineMethod(value: unknown): value is EngineMethod {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(ENGINE_PARAMS, value);
}

const badInput = (message: string) => new BadInputError(message);

export function validateDecodeOptions(value: unknown): DecodeOptions | undefined {
  return value === undefined ? undefined : parseOrThrow(DecodeOptionsSchema, value, badInput, 'options');
}

/**
 * Checks and normalises the params of a request; throws BadInputError with a one-line message.
 * Unknown keys are dropped; the returned object has exactly the protocol's shape.
 */
export function validateParams<M extends EngineMethod>(method: M, params: unknown): EngineMethods[M]['params'] {
  // The worker checks isEngineMethod first; this guards direct callers.
  if (!isEngineMethod(method)) throw new BadInputError(`unknown method ${JSON.stringify(method)}`);
  return parseOrThrow(ENGINE_PARAMS[method], params, badInput) as EngineMethods[M]['params'];
}
