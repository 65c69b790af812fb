/**
 * Validation of engine request parameters, done by the worker before any work so that bad input
 * is answered with a 'bad-input' error instead of crashing the process. No runtime dependencies
 * (no tfjs, no vscode): the worker bundles it and unit tests import it directly.
 */
import type { EngineMethod, EngineMethods, MapDocument, TrainParams } from './engine';
import type { DecodeOptions } from '../core/textVae';
import {
  BACKEND_REQUESTS,
  DECODE_STRATEGIES,
  INTERPOLATION_MODES,
  RANGES,
  VARIANTS,
  type NumberRange,
} from '../core/choices';

export class BadInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BadInputError';
  }
}

export const ENGINE_METHODS = [
  'initialize',
  'loadModel',
  'modelInfo',
  'encode',
  'decode',
  'reconstruct',
  'sample',
  'interpolate',
  'train',
  'latentMap',
] as const satisfies readonly EngineMethod[];

// Compile-time check that the list above names every method.
type Missing = Exclude<EngineMethod, (typeof ENGINE_METHODS)[number]>;
const allMethodsListed: Missing extends never ? true : false = true;
void allMethodsListed;

export function isEngineMethod(value: unknown): value is EngineMethod {
  return typeof value === 'string' && (ENGINE_METHODS as readonly string[]).includes(value);
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

type Obj = Record<string, unknown>;

function fail(message: string): never {
  throw new BadInputError(message);
}

function object(value: unknown, what: string): Obj {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(`${what} must be an object`);
  return value as Obj;
}

function str(o: Obj, key: string, opts: { nonEmpty?: boolean; max?: number } = {}): string {
  const v = o[key];
  if (typeof v !== 'string') fail(`${key} must be a string`);
  if (opts.nonEmpty && v.length === 0) fail(`${key} must not be empty`);
  if (opts.max !== undefined && v.length > opts.max)
    fail(`${key} is too long (${v.length} characters; at most ${opts.max})`);
  return v;
}

function optNum(o: Obj, key: string, opts: { int?: boolean; min?: number; max?: number } = {}): number | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(`${key} must be a finite number`);
  if (opts.int && !Number.isInteger(v)) fail(`${key} must be an integer`);
  if (opts.min !== undefined && v < opts.min) fail(`${key} must be at least ${opts.min}`);
  if (opts.max !== undefined && v > opts.max) fail(`${key} must be at most ${opts.max}`);
  return v;
}

/** An optional number within one of the engine's ranges (core/choices.ts). */
function optIn(o: Obj, key: string, range: NumberRange): number | undefined {
  return optNum(o, key, { int: range.integer, min: range.min, max: range.max });
}

function numIn(o: Obj, key: string, range: NumberRange): number {
  const v = optIn(o, key, range);
  if (v === undefined) fail(`${key} is required`);
  return v;
}

function optBool(o: Obj, key: string): boolean | undefined {
  const v = o[key];
  if (v !== undefined && typeof v !== 'boolean') fail(`${key} must be true or false`);
  return v as boolean | undefined;
}

function oneOf<T extends string>(o: Obj, key: string, allowed: readonly T[], optional: boolean): T | undefined {
  const v = o[key];
  if (v === undefined && optional) return undefined;
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v))
    fail(`${key} must be one of ${allowed.join(', ')}`);
  return v as T;
}

function stringArray(
  o: Obj,
  key: string,
  opts: { optional?: boolean; min?: number; max: number; itemMax: number; nonEmptyItems?: boolean },
): string[] | undefined {
  const v = o[key];
  if (v === undefined && opts.optional) return undefined;
  if (!Array.isArray(v)) fail(`${key} must be an array of strings`);
  if (opts.min !== undefined && v.length < opts.min)
    fail(`${key} must have at least ${opts.min} item${opts.min === 1 ? '' : 's'}`);
  if (v.length > opts.max) fail(`${key} has too many items (${v.length}; at most ${opts.max})`);
  v.forEach((item, i) => {
    if (typeof item !== 'string') fail(`${key}[${i}] must be a string`);
    if (opts.nonEmptyItems && item.length === 0) fail(`${key}[${i}] must not be empty`);
    if (item.length > opts.itemMax) fail(`${key}[${i}] is too long`);
  });
  return v as string[];
}

function strip<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

export function validateDecodeOptions(value: unknown): DecodeOptions | undefined {
  if (value === undefined) return undefined;
  const o = object(value, 'options');
  return strip({
    strategy: oneOf(o, 'strategy', DECODE_STRATEGIES, true),
    temperature: optIn(o, 'temperature', RANGES.temperature),
    topP: optIn(o, 'topP', RANGES.topP),
    beamWidth: optIn(o, 'beamWidth', RANGES.beamWidth),
    seed: optIn(o, 'seed', RANGES.seed),
    maxTokens: optIn(o, 'maxTokens', RANGES.decodeMaxTokens),
  });
}

function validateTrain(o: Obj): TrainParams {
  const params: TrainParams = strip({
    paths: stringArray(o, 'paths', { min: 1, max: LIMITS.trainPaths, itemMax: LIMITS.pathChars, nonEmptyItems: true })!,
    include: stringArray(o, 'include', { optional: true, max: LIMITS.globs, itemMax: 1024, nonEmptyItems: true }),
    exclude: stringArray(o, 'exclude', { optional: true, max: LIMITS.globs, itemMax: 1024, nonEmptyItems: true }),
    maxFileBytes: optNum(o, 'maxFileBytes', { int: true, min: 1 }),
    out: str(o, 'out', { nonEmpty: true, max: LIMITS.pathChars }),
    minutes: optIn(o, 'minutes', RANGES.minutes),
    maxSteps: optIn(o, 'maxSteps', RANGES.maxSteps),
    seed: optIn(o, 'seed', RANGES.seed),
    variant: oneOf(o, 'variant', VARIANTS, true),
    valFraction: optIn(o, 'valFraction', RANGES.valFraction),
    modelDim: optIn(o, 'modelDim', RANGES.modelDim),
    vocabSize: optIn(o, 'vocabSize', RANGES.vocabSize),
    latentDim: optIn(o, 'latentDim', RANGES.latentDim),
    logEvery: optIn(o, 'logEvery', RANGES.logEvery),
  });
  if (params.minutes === undefined && params.maxSteps === undefined)
    fail('give a bound for training: minutes or maxSteps');
  return params;
}

function validateMapDocuments(o: Obj): MapDocument[] {
  const v = o.documents;
  if (!Array.isArray(v)) fail('documents must be an array');
  if (v.length > LIMITS.mapDocuments) fail(`too many documents (${v.length}; at most ${LIMITS.mapDocuments})`);
  let total = 0;
  return v.map((d, i) => {
    const doc = object(d, `documents[${i}]`);
    const uri = str(doc, 'uri', { nonEmpty: true, max: LIMITS.pathChars });
    const text = str(doc, 'text');
    total += text.length;
    if (total > LIMITS.textChars) fail(`the documents hold more than ${LIMITS.textChars} characters`);
    return { uri, text };
  });
}

/**
 * Checks and normalises the params of a request; throws BadInputError with a one-line message.
 * Unknown keys are dropped; the returned object has exactly the protocol's shape.
 */
export function validateParams<M extends EngineMethod>(method: M, params: unknown): EngineMethods[M]['params'];
export function validateParams(method: EngineMethod, params: unknown): EngineMethods[EngineMethod]['params'] {
  const o = object(params, 'params');
  switch (method) {
    case 'initialize':
      return { backend: oneOf(o, 'backend', BACKEND_REQUESTS, false)! };
    case 'loadModel':
      return { dir: str(o, 'dir', { nonEmpty: true, max: LIMITS.pathChars }) };
    case 'modelInfo':
      return {};
    case 'encode': {
      const text = str(o, 'text', { max: LIMITS.textChars });
      if (text.length === 0) fail('the text to encode is empty');
      return strip({
        text,
        sample: optBool(o, 'sample'),
        seed: optIn(o, 'seed', RANGES.seed),
      });
    }
    case 'decode': {
      const codes = stringArray(o, 'codes', { min: 1, max: LIMITS.codes, itemMax: LIMITS.codeChars })!;
      return strip({ codes, options: validateDecodeOptions(o.options) });
    }
    case 'reconstruct': {
      const text = str(o, 'text', { max: LIMITS.textChars });
      if (text.length === 0) fail('the text to reconstruct is empty');
      return strip({ text, options: validateDecodeOptions(o.options) });
    }
    case 'sample':
      return strip({ n: numIn(o, 'n', RANGES.sampleCount), options: validateDecodeOptions(o.options) });
    case 'interpolate': {
      const from = str(o, 'from', { max: LIMITS.textChars });
      const to = str(o, 'to', { max: LIMITS.textChars });
      if (from.trim() === '' || to.trim() === '') fail('both texts to interpolate between must be non-empty');
      return strip({
        from,
        to,
        steps: numIn(o, 'steps', RANGES.interpolationSteps),
        mode: oneOf(o, 'mode', INTERPOLATION_MODES, false)!,
        options: validateDecodeOptions(o.options),
      });
    }
    case 'train':
      return validateTrain(o);
    case 'latentMap':
      return strip({
        documents: validateMapDocuments(o),
        maxPoints: optIn(o, 'maxPoints', { min: 1, max: LIMITS.mapPoints, integer: true }),
      });
  }
  // Unreachable for well-typed callers; the worker checks isEngineMethod first.
  return fail(`unknown method ${JSON.stringify(method)}`);
}
