/**
 * Validation of engine request parameters, done by the worker before any work so that bad input
 * is answered with a 'bad-input' error instead of crashing the process. No runtime dependencies
 * (no tfjs, no vscode): the worker bundles it and unit tests import it directly.
 */
import type { EngineMethod, EngineMethods, MapDocument, TrainParams } from './engine';
import type { DecodeOptions } from '../core/textVae';

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

function optNum(
  o: Obj,
  key: string,
  opts: { int?: boolean; min?: number; max?: number; minExclusive?: boolean } = {},
): number | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(`${key} must be a finite number`);
  if (opts.int && !Number.isInteger(v)) fail(`${key} must be an integer`);
  if (opts.min !== undefined && (opts.minExclusive ? v <= opts.min : v < opts.min))
    fail(`${key} must be ${opts.minExclusive ? 'greater than' : 'at least'} ${opts.min}`);
  if (opts.max !== undefined && v > opts.max) fail(`${key} must be at most ${opts.max}`);
  return v;
}

function num(o: Obj, key: string, opts: Parameters<typeof optNum>[2] = {}): number {
  const v = optNum(o, key, opts);
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
    strategy: oneOf(o, 'strategy', ['greedy', 'sample', 'beam'] as const, true),
    temperature: optNum(o, 'temperature', { min: 0, minExclusive: true, max: 10 }),
    topP: optNum(o, 'topP', { min: 0, minExclusive: true, max: 1 }),
    beamWidth: optNum(o, 'beamWidth', { int: true, min: 1, max: 16 }),
    seed: optNum(o, 'seed', { int: true, min: 0, max: 2 ** 32 - 1 }),
    maxTokens: optNum(o, 'maxTokens', { int: true, min: 1, max: 4096 }),
  });
}

function validateTrain(o: Obj): TrainParams {
  const params: TrainParams = strip({
    paths: stringArray(o, 'paths', { min: 1, max: LIMITS.trainPaths, itemMax: LIMITS.pathChars, nonEmptyItems: true })!,
    include: stringArray(o, 'include', { optional: true, max: LIMITS.globs, itemMax: 1024, nonEmptyItems: true }),
    exclude: stringArray(o, 'exclude', { optional: true, max: LIMITS.globs, itemMax: 1024, nonEmptyItems: true }),
    maxFileBytes: optNum(o, 'maxFileBytes', { int: true, min: 1 }),
    out: str(o, 'out', { nonEmpty: true, max: LIMITS.pathChars }),
    minutes: optNum(o, 'minutes', { min: 0, minExclusive: true, max: 1440 }),
    maxSteps: optNum(o, 'maxSteps', { int: true, min: 1, max: 100_000_000 }),
    seed: optNum(o, 'seed', { int: true, min: 0, max: 2 ** 32 - 1 }),
    variant: oneOf(o, 'variant', ['vae', 'ae', 'sparse'] as const, true),
    valFraction: optNum(o, 'valFraction', { min: 0, max: 0.5 }),
    modelDim: optNum(o, 'modelDim', { int: true, min: 8, max: 2048 }),
    vocabSize: optNum(o, 'vocabSize', { int: true, min: 260, max: 65536 }),
    latentDim: optNum(o, 'latentDim', { int: true, min: 1, max: 255 }),
    logEvery: optNum(o, 'logEvery', { int: true, min: 1, max: 1_000_000 }),
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
      return { backend: oneOf(o, 'backend', ['auto', 'tensorflow', 'wasm', 'cpu'] as const, false)! };
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
        seed: optNum(o, 'seed', { int: true, min: 0, max: 2 ** 32 - 1 }),
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
      return strip({ n: num(o, 'n', { int: true, min: 1, max: 256 }), options: validateDecodeOptions(o.options) });
    case 'interpolate': {
      const from = str(o, 'from', { max: LIMITS.textChars });
      const to = str(o, 'to', { max: LIMITS.textChars });
      if (from.trim() === '' || to.trim() === '') fail('both texts to interpolate between must be non-empty');
      return strip({
        from,
        to,
        steps: num(o, 'steps', { int: true, min: 2, max: 64 }),
        mode: oneOf(o, 'mode', ['linear', 'spherical'] as const, false)!,
        options: validateDecodeOptions(o.options),
      });
    }
    case 'train':
      return validateTrain(o);
    case 'latentMap':
      return strip({
        documents: validateMapDocuments(o),
        maxPoints: optNum(o, 'maxPoints', { int: true, min: 1, max: LIMITS.mapPoints }),
      });
  }
  // Unreachable for well-typed callers; the worker checks isEngineMethod first.
  return fail(`unknown method ${JSON.stringify(method)}`);
}
