/**
 * Model bundles: a folder holding everything needed to run a trained model.
 *
 *   manifest.json   { format: 'textvae-bundle', formatVersion: 1, fingerprint, createdAt,
 *                     files: { <name>: { bytes, sha256 } }, training?, metrics? }
 *   config.json     ModelConfig
 *   tokenizer.json  opaque here (validated by the tokenizer module)
 *   weights.json    { dtype: 'float32' | 'float16', littleEndian: true,
 *                     tensors: [{ name, shape, offset, length, dtype? }] }
 *                   (a tensor's dtype, when given, overrides the index's; offset/length count
 *                   elements of the tensor's dtype, so byte offset = offset × element size)
 *   weights.bin     raw little-endian float32 / IEEE half values
 *   optional:       REPORT.md, train-log.jsonl, eval.json, COMMAND.md,
 *                   prior.json (a latent prior fitted after training: latentPrior.ts),
 *                   cache.json (the document cache's parameters for this model: documentCache.ts)
 *
 * manifest.files lists every file except manifest.json itself. The fingerprint
 * is computeFingerprint(config.json, tokenizer.json, weights.json, weights.bin)
 * and identifies the model (latent codes carry its first 8 hex chars).
 *
 * Loading treats the folder as untrusted input: every check below fails with a
 * one-line BundleError that starts with the bundle path and names the file.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs/promises';
import { lstatSync, readdirSync, realpathSync } from 'node:fs';
import { endianness } from 'node:os';
import * as path from 'node:path';
import { recoverDirAtomic, replaceDirAtomic } from './atomicFs';
import type { ModelConfig, NamedWeights } from './types';
import { RANGES, VARIANTS, isOneOf, type NumberRange } from './choices';
import { normalizeTrainingFacts } from './provenance';
import { readFloat16LE, toFloat16 } from './float16';

export const BUNDLE_FORMAT = 'textvae-bundle';
export const BUNDLE_FORMAT_VERSION = 1;
export const REQUIRED_BUNDLE_FILES = [
  'manifest.json',
  'config.json',
  'tokenizer.json',
  'weights.json',
  'weights.bin',
] as const;
export const OPTIONAL_BUNDLE_FILES = [
  'REPORT.md',
  'train-log.jsonl',
  'eval.json',
  'COMMAND.md',
  'prior.json',
  'cache.json',
] as const;
/** Default size cap for weights.bin. */
export const DEFAULT_MAX_WEIGHTS_BYTES = 256 * 1024 * 1024;
/** Size cap for every other file (JSON and text). */
export const DEFAULT_MAX_JSON_BYTES = 32 * 1024 * 1024;

/** How weights.bin stores values. Training always runs in float32; only storage differs. */
export const WEIGHTS_DTYPES = ['float32', 'float16'] as const;
export type WeightsDtype = (typeof WEIGHTS_DTYPES)[number];
const DTYPE_BYTES: Record<WeightsDtype, number> = { float32: 4, float16: 2 };

export interface BundleFileEntry {
  bytes: number;
  sha256: string;
}

export interface BundleManifest {
  format: typeof BUNDLE_FORMAT;
  formatVersion: typeof BUNDLE_FORMAT_VERSION;
  fingerprint: string;
  createdAt: string;
  files: Record<string, BundleFileEntry>;
  training?: unknown;
  metrics?: unknown;
}

export interface WeightsIndexEntry {
  name: string;
  shape: number[];
  /** In elements of the tensor's dtype from the start of weights.bin. */
  offset: number;
  /** In elements; equals the product of shape. */
  length: number;
  /** Only where it differs from the index's dtype (a float16 bundle keeps out-of-range tensors in float32). */
  dtype?: WeightsDtype;
}

export interface WeightsIndex {
  dtype: WeightsDtype;
  littleEndian: true;
  tensors: WeightsIndexEntry[];
}

/** Message: "<bundle path>: <what is wrong>", always a single line. */
export class BundleError extends Error {
  readonly dir: string;
  readonly detail: string;
  constructor(dir: string, detail: string) {
    const oneLine = detail.replace(/\s*[\r\n]+\s*/g, ' ');
    super(`${dir}: ${oneLine}`);
    this.name = 'BundleError';
    this.dir = dir;
    this.detail = oneLine;
  }
}

export interface LoadedBundle {
  dir: string;
  manifest: BundleManifest;
  config: ModelConfig;
  tokenizer: unknown;
  weights: NamedWeights;
  fingerprint: string;
  /** Total bytes of all files in the bundle, manifest included. */
  sizeBytes: number;
  /** The storage dtype of weights.json (saving with it again gives the same fingerprint). */
  weightsDtype: WeightsDtype;
  /** prior.json parsed, where the bundle has one (checked against the model by latentPrior.ts). */
  prior?: unknown;
  /** cache.json parsed, where the bundle has one (checked by documentCache.ts). */
  cache?: unknown;
}

export interface SaveBundleInput {
  config: ModelConfig;
  tokenizer: unknown;
  weights: NamedWeights;
  training?: unknown;
  metrics?: unknown;
  /** Optional text files by name: REPORT.md, train-log.jsonl, eval.json, COMMAND.md, prior.json. */
  extras?: Record<string, string>;
  /**
   * Storage of weights.bin (default float32). float16 rounds to nearest even and keeps any tensor
   * with a value beyond the half range (±65504) in float32.
   */
  weightsDtype?: WeightsDtype;
}

export interface SavedBundle {
  fingerprint: string;
  /** Tensors of a float16 save that stayed float32 because a value is beyond the half range. */
  keptFloat32: string[];
}

export interface LoadBundleOptions {
  /** Shapes the model code expects; any missing, extra or differently shaped tensor is refused. */
  expectedShapes?: (config: ModelConfig) => Record<string, number[]>;
  /**
   * Size cap for weights.bin (default 256 MB). The other files are capped at
   * 32 MB, or at this value when it is smaller.
   */
  maxFileBytes?: number;
}

// ---------------------------------------------------------------- helpers

const ALLOWED_FILES: ReadonlySet<string> = new Set<string>([...REQUIRED_BUNDLE_FILES, ...OPTIONAL_BUNDLE_FILES]);
const SHA256_HEX = /^[0-9a-f]{64}$/;

function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isIntIn(v: unknown, min: number, max: number): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
}

function shapeText(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 37)}...` : v);
  if (Array.isArray(v)) return 'an array';
  if (v === null) return 'null';
  if (typeof v === 'object') return 'an object';
  return String(v);
}

function errMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

const hostIsLittleEndian = endianness() === 'LE';

/**
 * sha256 (hex) over the four parts, each preceded by its byte length as an
 * unsigned 64-bit little-endian integer, so that bytes cannot move between
 * parts without changing the result.
 */
export function computeFingerprint(
  configBytes: Uint8Array,
  tokenizerBytes: Uint8Array,
  weightsJsonBytes: Uint8Array,
  weightsBinBytes: Uint8Array,
): string {
  const hash = createHash('sha256');
  for (const part of [configBytes, tokenizerBytes, weightsJsonBytes, weightsBinBytes]) {
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(part.byteLength));
    hash.update(len);
    hash.update(part);
  }
  return hash.digest('hex');
}

// ---------------------------------------------------------------- config validation

const CONFIG_LIMITS: Record<
  Exclude<
    keyof ModelConfig,
    | 'variant'
    | 'decoderDilations'
    | 'encoderDilations'
    | 'encoderPositions'
    | 'poolSlots'
    | 'memorySlots'
    | 'codeScheme'
  >,
  [number, number]
> = {
  vocabSize: [1, 65536],
  maxTokens: [1, 4096],
  modelDim: [1, 4096],
  latentDim: [1, 255],
  encoderLayers: [1, 64],
  kernelSize: [1, 64],
};
/** Optional integer fields: absent means the feature is off. */
const OPTIONAL_SLOTS = { poolSlots: RANGES.slots, memorySlots: RANGES.slots } as const;
const MAX_DECODER_LAYERS = RANGES.dilationLayers.max;
const MAX_DILATION = RANGES.dilation.max;

/** Validates an untrusted ModelConfig; throws an Error naming the first bad field. Unknown fields are refused. */
export function validateModelConfig(value: unknown): ModelConfig {
  if (!isPlainObject(value)) throw new Error(`config must be a JSON object, got ${describe(value)}`);
  const known = new Set<string>([
    'variant',
    'decoderDilations',
    'encoderDilations',
    'encoderPositions',
    ...Object.keys(OPTIONAL_SLOTS),
    'codeScheme',
    ...Object.keys(CONFIG_LIMITS),
  ]);
  for (const key of Object.keys(value)) {
    if (!known.has(key)) throw new Error(`unknown config field "${key}"`);
  }
  if (!isOneOf(VARIANTS, value.variant)) {
    throw new Error(`variant must be one of ${VARIANTS.join(', ')}, got ${describe(value.variant)}`);
  }
  for (const [key, [min, max]] of Object.entries(CONFIG_LIMITS)) {
    if (!isIntIn(value[key], min, max)) {
      throw new Error(`${key} must be an integer in ${min}..${max}, got ${describe(value[key])}`);
    }
  }
  const dil = value.decoderDilations;
  if (!Array.isArray(dil) || dil.length < 1 || dil.length > MAX_DECODER_LAYERS) {
    throw new Error(`decoderDilations must be an array of 1..${MAX_DECODER_LAYERS} integers, got ${describe(dil)}`);
  }
  dil.forEach((d: unknown, i: number) => {
    if (!isIntIn(d, 1, MAX_DILATION)) {
      throw new Error(`decoderDilations[${i}] must be an integer in 1..${MAX_DILATION}, got ${describe(d)}`);
    }
  });
  const encDil = value.encoderDilations;
  if (encDil !== undefined) {
    if (!Array.isArray(encDil) || encDil.length !== value.encoderLayers) {
      throw new Error(
        `encoderDilations must be an array of ${String(value.encoderLayers)} integers (one per encoder layer), got ${describe(encDil)}`,
      );
    }
    encDil.forEach((d: unknown, i: number) => {
      if (!isIntIn(d, 1, MAX_DILATION))
        throw new Error(`encoderDilations[${i}] must be an integer in 1..${MAX_DILATION}, got ${describe(d)}`);
    });
  }
  if (value.encoderPositions !== undefined && typeof value.encoderPositions !== 'boolean') {
    throw new Error(`encoderPositions must be true or false, got ${describe(value.encoderPositions)}`);
  }
  if (value.codeScheme !== undefined) {
    if (value.codeScheme !== 'precision')
      throw new Error(`codeScheme must be "precision" or absent, got ${describe(value.codeScheme)}`);
    if (value.variant !== 'vae')
      throw new Error(
        `codeScheme "precision" needs variant vae (its steps follow the posterior), got ${value.variant}`,
      );
  }
  const slots: Partial<Pick<ModelConfig, keyof typeof OPTIONAL_SLOTS>> = {};
  for (const [key, range] of Object.entries(OPTIONAL_SLOTS) as [keyof typeof OPTIONAL_SLOTS, NumberRange][]) {
    if (value[key] === undefined) continue;
    if (!isIntIn(value[key], range.min, range.max))
      throw new Error(`${key} must be an integer in ${range.min}..${range.max}, got ${describe(value[key])}`);
    slots[key] = value[key] as number;
  }
  return {
    ...(encDil !== undefined ? { encoderDilations: [...(encDil as number[])] } : {}),
    ...slots,
    ...(value.codeScheme !== undefined ? { codeScheme: 'precision' as const } : {}),
    ...(value.encoderPositions !== undefined ? { encoderPositions: value.encoderPositions as boolean } : {}),
    variant: value.variant,
    vocabSize: value.vocabSize as number,
    maxTokens: value.maxTokens as number,
    modelDim: value.modelDim as number,
    latentDim: value.latentDim as number,
    encoderLayers: value.encoderLayers as number,
    decoderDilations: [...(dil as number[])],
    kernelSize: value.kernelSize as number,
  };
}

// ---------------------------------------------------------------- manifest / weights.json validation

function validateManifest(value: unknown): BundleManifest {
  if (!isPlainObject(value)) throw new Error(`manifest.json must hold a JSON object, got ${describe(value)}`);
  if (value.format !== BUNDLE_FORMAT) {
    throw new Error(
      `manifest.json: format is ${describe(value.format)}, expected "${BUNDLE_FORMAT}" (not a TextVAE model bundle)`,
    );
  }
  if (value.formatVersion !== BUNDLE_FORMAT_VERSION) {
    if (typeof value.formatVersion === 'number' && Number.isInteger(value.formatVersion)) {
      throw new Error(
        `bundle format version ${value.formatVersion} is not supported by this version of TextVAE (supports ${BUNDLE_FORMAT_VERSION})`,
      );
    }
    throw new Error(`manifest.json: formatVersion must be an integer, got ${describe(value.formatVersion)}`);
  }
  if (typeof value.fingerprint !== 'string' || !SHA256_HEX.test(value.fingerprint)) {
    throw new Error(
      `manifest.json: fingerprint must be 64 lowercase hex characters, got ${describe(value.fingerprint)}`,
    );
  }
  if (typeof value.createdAt !== 'string') {
    throw new Error(`manifest.json: createdAt must be a string, got ${describe(value.createdAt)}`);
  }
  if (!isPlainObject(value.files))
    throw new Error(`manifest.json: files must be an object, got ${describe(value.files)}`);
  const files: Record<string, BundleFileEntry> = {};
  for (const [name, entry] of Object.entries(value.files)) {
    if (!ALLOWED_FILES.has(name) || name === 'manifest.json') {
      throw new Error(`manifest.json lists ${describe(name)}, which is not a file a bundle may contain`);
    }
    if (!isPlainObject(entry) || !isIntIn(entry.bytes, 0, Number.MAX_SAFE_INTEGER)) {
      throw new Error(`manifest.json: files["${name}"].bytes must be a non-negative integer`);
    }
    if (typeof entry.sha256 !== 'string' || !SHA256_HEX.test(entry.sha256)) {
      throw new Error(`manifest.json: files["${name}"].sha256 must be 64 lowercase hex characters`);
    }
    files[name] = { bytes: entry.bytes, sha256: entry.sha256 };
  }
  const manifest: BundleManifest = {
    format: BUNDLE_FORMAT,
    formatVersion: BUNDLE_FORMAT_VERSION,
    fingerprint: value.fingerprint,
    createdAt: value.createdAt,
    files,
  };
  if (value.training !== undefined) manifest.training = normalizeTrainingFacts(value.training);
  if (value.metrics !== undefined) manifest.metrics = value.metrics;
  return manifest;
}

const DTYPES_TEXT = WEIGHTS_DTYPES.map((d) => `"${d}"`).join(' or ');

/** Validates weights.json against the length of weights.bin. */
function validateWeightsIndex(value: unknown, binBytes: number): WeightsIndex {
  if (!isPlainObject(value)) throw new Error(`weights.json must hold a JSON object, got ${describe(value)}`);
  if (!isOneOf(WEIGHTS_DTYPES, value.dtype))
    throw new Error(`weights.json: dtype ${describe(value.dtype)} is not supported (expected ${DTYPES_TEXT})`);
  const indexDtype = value.dtype;
  if (binBytes % DTYPE_BYTES[indexDtype] !== 0) {
    throw new Error(`weights.bin is ${binBytes} bytes, not a whole number of ${indexDtype} values`);
  }
  if (value.littleEndian !== true)
    throw new Error(`weights.json: littleEndian must be true, got ${describe(value.littleEndian)}`);
  if (!Array.isArray(value.tensors))
    throw new Error(`weights.json: tensors must be an array, got ${describe(value.tensors)}`);
  const seen = new Set<string>();
  const tensors: WeightsIndexEntry[] = [];
  value.tensors.forEach((t: unknown, i: number) => {
    if (!isPlainObject(t)) throw new Error(`weights.json: tensors[${i}] must be an object`);
    const name = t.name;
    if (typeof name !== 'string' || name.length === 0)
      throw new Error(`weights.json: tensors[${i}].name must be a non-empty string`);
    if (seen.has(name)) throw new Error(`weights.json: tensor ${name} is listed twice`);
    seen.add(name);
    const shape = t.shape;
    if (!Array.isArray(shape) || !shape.every((d: unknown) => isIntIn(d, 0, Number.MAX_SAFE_INTEGER))) {
      throw new Error(`weights.json: tensor ${name} has an invalid shape (must be an array of non-negative integers)`);
    }
    if (!isIntIn(t.offset, 0, Number.MAX_SAFE_INTEGER) || !isIntIn(t.length, 0, Number.MAX_SAFE_INTEGER)) {
      throw new Error(`weights.json: tensor ${name} needs non-negative integer offset and length`);
    }
    if (t.dtype !== undefined && !isOneOf(WEIGHTS_DTYPES, t.dtype)) {
      throw new Error(`weights.json: tensor ${name} has dtype ${describe(t.dtype)}, expected ${DTYPES_TEXT}`);
    }
    const dtype: WeightsDtype = t.dtype ?? indexDtype;
    const elements = (shape as number[]).reduce((a, b) => a * b, 1);
    if (elements !== t.length) {
      throw new Error(
        `weights.json: tensor ${name} has length ${t.length} but shape ${shapeText(shape as number[])} needs ${elements}`,
      );
    }
    const size = DTYPE_BYTES[dtype];
    if ((t.offset + t.length) * size > binBytes) {
      throw new Error(
        `weights.json: tensor ${name} (${dtype} elements ${t.offset}..${t.offset + t.length}) is out of range of weights.bin (${binBytes} bytes)`,
      );
    }
    tensors.push({
      name,
      shape: [...(shape as number[])],
      offset: t.offset,
      length: t.length,
      ...(dtype !== indexDtype ? { dtype } : {}),
    });
  });
  const span = (t: WeightsIndexEntry) => {
    const size = DTYPE_BYTES[t.dtype ?? indexDtype];
    return { name: t.name, start: t.offset * size, end: (t.offset + t.length) * size };
  };
  const byOffset = tensors
    .filter((t) => t.length > 0)
    .map(span)
    .sort((a, b) => a.start - b.start);
  for (let i = 1; i < byOffset.length; i++) {
    const prev = byOffset[i - 1];
    const cur = byOffset[i];
    if (cur.start < prev.end) {
      throw new Error(`weights.json: tensors ${prev.name} and ${cur.name} overlap in weights.bin`);
    }
  }
  return { dtype: indexDtype, littleEndian: true, tensors };
}

function checkShapes(weights: NamedWeights, expected: Record<string, number[]>): void {
  for (const [name, shape] of Object.entries(expected)) {
    const w = weights[name];
    if (!w) throw new Error(`weights.json: missing weight ${name} (expected shape ${shapeText(shape)})`);
    if (w.shape.length !== shape.length || w.shape.some((d, i) => d !== shape[i])) {
      throw new Error(`weight ${name} has shape ${shapeText(w.shape)}, expected ${shapeText(shape)}`);
    }
  }
  for (const name of Object.keys(weights)) {
    if (!Object.prototype.hasOwnProperty.call(expected, name)) {
      throw new Error(`weights.json: unexpected weight ${name} (the model has no such parameter)`);
    }
  }
}

function parseJson(file: string, bytes: Uint8Array): unknown {
  try {
    return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch (err) {
    throw new Error(`${file} is not valid JSON (${errMessage(err)})`, { cause: err });
  }
}

function capFor(file: string, maxFileBytes: number | undefined): number {
  if (file === 'weights.bin') return maxFileBytes ?? DEFAULT_MAX_WEIGHTS_BYTES;
  return Math.min(DEFAULT_MAX_JSON_BYTES, maxFileBytes ?? Infinity);
}

function isInside(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

const NO_MANIFEST = 'no manifest.json: not a TextVAE model folder';

async function resolveBundleDir(shown: string): Promise<string> {
  let real: string;
  try {
    real = await fs.realpath(shown);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new Error('bundle folder not found', { cause: err });
    throw new Error(`cannot open bundle folder (${errMessage(err)})`, { cause: err });
  }
  const st = await fs.stat(real);
  if (!st.isDirectory()) throw new Error('not a folder (a model bundle is a folder)');
  return real;
}

/** lstat + realpath a bundle member; refuses links, non-files and anything resolving outside `realDir`. */
async function checkMember(realDir: string, name: string): Promise<number> {
  const p = path.join(realDir, name);
  const st = await fs.lstat(p);
  if (st.isSymbolicLink()) {
    throw new Error(`${name} is a symbolic link; bundle files must be regular files inside the bundle folder`);
  }
  if (st.isDirectory()) {
    throw new Error(
      ALLOWED_FILES.has(name)
        ? `${name} is a folder, expected a file`
        : `unexpected folder ${name} (bundles may not contain sub-folders)`,
    );
  }
  if (!st.isFile()) throw new Error(`${name} is not a regular file`);
  const real = await fs.realpath(p);
  if (!isInside(realDir, real) || path.dirname(real) !== realDir) {
    throw new Error(`${name} resolves outside the bundle folder`);
  }
  return st.size;
}

function checkSize(file: string, size: number, maxFileBytes: number | undefined): void {
  const cap = capFor(file, maxFileBytes);
  if (size > cap) throw new Error(`${file} is ${size} bytes, over the ${cap}-byte limit`);
}

// ---------------------------------------------------------------- load

/** Reads and validates manifest.json only (no weights): for "Show Model Info". */
export async function readManifest(dir: string): Promise<BundleManifest> {
  try {
    await recoverBestEffort(dir);
    const realDir = await resolveBundleDir(dir);
    let size: number;
    try {
      size = await checkMember(realDir, 'manifest.json');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(NO_MANIFEST, { cause: err });
      throw err;
    }
    checkSize('manifest.json', size, undefined);
    const bytes = await fs.readFile(path.join(realDir, 'manifest.json'));
    return validateManifest(parseJson('manifest.json', bytes));
  } catch (err) {
    if (err instanceof BundleError) throw err;
    throw new BundleError(dir, errMessage(err));
  }
}

/** A save that crashed midway left hidden siblings: put the previous bundle back, remove the rest. */
async function recoverBestEffort(dir: string): Promise<void> {
  // Loading must work in read-only places too, so a failed clean-up is no error here.
  await recoverDirAtomic(dir).catch(() => undefined);
}

export async function loadBundle(dir: string, options: LoadBundleOptions = {}): Promise<LoadedBundle> {
  try {
    await recoverBestEffort(dir);
    return await loadBundleUnchecked(dir, options);
  } catch (err) {
    if (err instanceof BundleError) throw err;
    throw new BundleError(dir, errMessage(err));
  }
}

async function loadBundleUnchecked(dir: string, options: LoadBundleOptions): Promise<LoadedBundle> {
  const { maxFileBytes } = options;
  if (maxFileBytes !== undefined && !isIntIn(maxFileBytes, 0, Number.MAX_SAFE_INTEGER)) {
    throw new Error(`maxFileBytes must be a non-negative integer, got ${describe(maxFileBytes)}`);
  }
  const realDir = await resolveBundleDir(dir);

  // 1. Folder listing: only known names, only regular files, nothing pointing elsewhere.
  const names = (await fs.readdir(realDir)).sort();
  // A folder without a manifest is not a bundle at all: say so rather than name a stray file.
  if (!names.includes('manifest.json')) throw new Error(NO_MANIFEST);
  const sizes = new Map<string, number>();
  for (const name of names) {
    const size = await checkMember(realDir, name);
    if (!ALLOWED_FILES.has(name)) {
      throw new Error(`unexpected file ${name} (a bundle may contain only ${[...ALLOWED_FILES].join(', ')})`);
    }
    sizes.set(name, size);
  }
  for (const name of REQUIRED_BUNDLE_FILES) {
    if (!sizes.has(name)) throw new Error(`missing required file ${name}`);
  }
  // 2. Size caps, from stat, before reading anything.
  for (const [name, size] of sizes) checkSize(name, size, maxFileBytes);

  // 3. Manifest, and its agreement with the folder.
  const manifest = validateManifest(parseJson('manifest.json', await fs.readFile(path.join(realDir, 'manifest.json'))));
  for (const name of Object.keys(manifest.files)) {
    if (!sizes.has(name)) throw new Error(`manifest.json lists ${name}, which is not in the bundle folder`);
  }
  for (const name of sizes.keys()) {
    if (name !== 'manifest.json' && !Object.prototype.hasOwnProperty.call(manifest.files, name)) {
      throw new Error(`${name} is in the bundle folder but not listed in manifest.json`);
    }
  }

  // 4. Contents: sizes and checksums, then the fingerprint.
  const contents = new Map<string, Buffer>();
  for (const [name, entry] of Object.entries(manifest.files)) {
    const bytes = await fs.readFile(path.join(realDir, name));
    if (bytes.length !== sizes.get(name)) throw new Error(`${name} changed while the bundle was being loaded`);
    if (bytes.length !== entry.bytes) {
      throw new Error(`${name} is corrupt: it is ${bytes.length} bytes but manifest.json says ${entry.bytes}`);
    }
    if (sha256Hex(bytes) !== entry.sha256) throw new Error(`${name} is corrupt: checksum mismatch`);
    contents.set(name, bytes);
  }
  const configBytes = contents.get('config.json')!;
  const tokenizerBytes = contents.get('tokenizer.json')!;
  const weightsJsonBytes = contents.get('weights.json')!;
  const weightsBin = contents.get('weights.bin')!;
  const fingerprint = computeFingerprint(configBytes, tokenizerBytes, weightsJsonBytes, weightsBin);
  if (fingerprint !== manifest.fingerprint) {
    throw new Error(
      `fingerprint mismatch: manifest.json says ${manifest.fingerprint} but the bundle files hash to ${fingerprint}`,
    );
  }

  // 5. Parse and validate the payload files.
  let config: ModelConfig;
  try {
    config = validateModelConfig(parseJson('config.json', configBytes));
  } catch (err) {
    const msg = errMessage(err);
    throw new Error(msg.startsWith('config.json') ? msg : `config.json: ${msg}`, { cause: err });
  }
  const tokenizer = parseJson('tokenizer.json', tokenizerBytes);
  const priorBytes = contents.get('prior.json');
  const prior = priorBytes ? parseJson('prior.json', priorBytes) : undefined;
  const cacheBytes = contents.get('cache.json');
  const cache = cacheBytes ? parseJson('cache.json', cacheBytes) : undefined;
  const index = validateWeightsIndex(parseJson('weights.json', weightsJsonBytes), weightsBin.length);

  const weights: NamedWeights = {};
  for (const t of index.tensors) {
    const dtype = t.dtype ?? index.dtype;
    const data =
      dtype === 'float16'
        ? readFloat16LE(weightsBin, t.offset * 2, t.length)
        : readFloat32LE(weightsBin, t.offset * 4, t.length);
    // A diverged or tampered model would otherwise load and silently produce empty text.
    let bad = 0;
    for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) bad++;
    if (bad > 0) {
      throw new Error(
        `weights.bin: tensor ${t.name} holds ${bad} non-finite value${bad === 1 ? '' : 's'} (NaN or Infinity); the model is broken (retrain it)`,
      );
    }
    weights[t.name] = { shape: t.shape, data };
  }

  if (options.expectedShapes) {
    let expected: Record<string, number[]>;
    try {
      expected = options.expectedShapes(config);
    } catch (err) {
      throw new Error(`config.json does not describe a model this version of TextVAE can build (${errMessage(err)})`, {
        cause: err,
      });
    }
    checkShapes(weights, expected);
  }

  let sizeBytes = 0;
  for (const size of sizes.values()) sizeBytes += size;
  return {
    dir: path.resolve(dir),
    manifest,
    config,
    tokenizer,
    weights,
    fingerprint,
    sizeBytes,
    weightsDtype: index.dtype,
    ...(prior !== undefined ? { prior } : {}),
    ...(cache !== undefined ? { cache } : {}),
  };
}

function readFloat32LE(bin: Uint8Array, start: number, length: number): Float32Array {
  const out = new Float32Array(length);
  if (hostIsLittleEndian) {
    new Uint8Array(out.buffer).set(bin.subarray(start, start + length * 4));
  } else {
    const view = new DataView(bin.buffer, bin.byteOffset + start, length * 4);
    for (let i = 0; i < length; i++) out[i] = view.getFloat32(i * 4, true);
  }
  return out;
}

/** The optional text files of a loaded bundle (REPORT.md, COMMAND.md, prior.json...), by name: for a re-save. */
export async function readOptionalFiles(bundle: LoadedBundle): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of OPTIONAL_BUNDLE_FILES)
    if (bundle.manifest.files[name]) out[name] = await fs.readFile(path.join(bundle.dir, name), 'utf8');
  return out;
}

/** What saves `bundle` again as it is (the same fingerprint): add `extras` to write a copy with other optional files. */
export function resaveInput(bundle: LoadedBundle): SaveBundleInput {
  return {
    config: bundle.config,
    tokenizer: bundle.tokenizer,
    weights: bundle.weights,
    weightsDtype: bundle.weightsDtype,
    training: bundle.manifest.training,
    metrics: bundle.manifest.metrics,
  };
}

// ---------------------------------------------------------------- save

function jsonBytes(what: string, value: unknown, pretty: boolean): Buffer {
  let text: string | undefined;
  try {
    text = pretty ? JSON.stringify(value, null, 2) : JSON.stringify(value);
  } catch (err) {
    throw new Error(`${what} cannot be saved as JSON (${errMessage(err)})`, { cause: err });
  }
  if (text === undefined) throw new Error(`${what} cannot be saved as JSON (got ${describe(value)})`);
  return Buffer.from(`${text}\n`, 'utf8');
}

/**
 * Refuses an output folder that saving would destroy: only a missing path, an empty folder or a
 * folder that holds a TextVAE bundle (and nothing else) may be replaced. A regular file, a
 * symbolic link or a folder of other files is a BundleError, before anything is written.
 * Resolves to true when `dir` holds a bundle that saving would replace (callers that must not
 * replace a model without being told to check it), false when it is missing or empty.
 */
export async function checkBundleTarget(dir: string): Promise<boolean> {
  const refuse = (detail: string): never => {
    throw new BundleError(dir, `${detail}; choose a new or empty folder for the model`);
  };
  let st: import('node:fs').Stats;
  try {
    st = await fs.lstat(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    return refuse(`cannot check the output folder (${errMessage(err)})`);
  }
  if (st.isSymbolicLink()) refuse('is a symbolic link, not a model folder');
  if (!st.isDirectory()) refuse('exists and is not a folder');
  let names: string[] = [];
  try {
    names = await fs.readdir(dir);
  } catch (err) {
    refuse(`cannot read the output folder (${errMessage(err)})`);
  }
  if (names.length === 0) return false;
  const foreign = names.filter((n) => !ALLOWED_FILES.has(n));
  if (foreign.length > 0) {
    const shown = foreign
      .slice(0, 3)
      .map((n) => describe(n))
      .join(', ');
    refuse(`holds files that are not part of a TextVAE bundle (${shown}${foreign.length > 3 ? ', …' : ''})`);
  }
  let format: unknown;
  try {
    format = (parseJson('manifest.json', await fs.readFile(path.join(dir, 'manifest.json'))) as { format?: unknown })
      ?.format;
  } catch {
    format = undefined;
  }
  if (format !== BUNDLE_FORMAT) refuse('is not a TextVAE bundle (no valid manifest.json)');
  return true;
}

/** Whether two paths name the same file or folder (links resolved where they exist). */
export function samePath(a: string, b: string): boolean {
  const real = (p: string) => {
    try {
      return realpathSync(p);
    } catch {
      return path.resolve(p);
    }
  };
  return real(a) === real(b);
}

/** A new model goes to a new or empty folder: a model, other files or a file there is refused. */
export function checkNewFolder(out: string): void {
  const there = lstatSync(out, { throwIfNoEntry: false });
  if (there && (!there.isDirectory() || readdirSync(out).length > 0))
    throw new Error(`${out} already exists: choose a new folder`);
}

/** A bundle derived from `source` goes to a new or empty folder: never over its source or another model. */
export function checkNewCopy(source: string, out: string): void {
  if (samePath(source, out)) throw new Error(`the output folder must differ from ${source}`);
  checkNewFolder(out);
}

/**
 * Writes a bundle to `dir` atomically (temp sibling folder, then swap).
 * Everything is validated and serialised before the disk is touched, so a bad
 * input never disturbs an existing bundle. Refuses inputs whose files would
 * exceed the default load caps, since such a bundle could not be loaded back.
 * Only replaces what checkBundleTarget allows.
 */
export async function saveBundle(dir: string, input: SaveBundleInput): Promise<SavedBundle> {
  let files: Map<string, Buffer>;
  let fingerprint: string;
  let keptFloat32: string[];
  try {
    ({ files, fingerprint, keptFloat32 } = serialiseBundle(input));
  } catch (err) {
    throw new BundleError(dir, `cannot save bundle: ${errMessage(err)}`);
  }
  await recoverBestEffort(dir);
  await checkBundleTarget(dir);
  try {
    await replaceDirAtomic(dir, async (tmp) => {
      for (const [name, bytes] of files) await fs.writeFile(path.join(tmp, name), bytes, { flag: 'wx' });
    });
  } catch (err) {
    throw new BundleError(dir, `cannot save bundle: ${errMessage(err)}`);
  }
  return { fingerprint, keptFloat32 };
}

function serialiseBundle(input: SaveBundleInput): {
  files: Map<string, Buffer>;
  fingerprint: string;
  keptFloat32: string[];
} {
  if (!isPlainObject(input)) throw new Error('input must be an object');
  let config: ModelConfig;
  try {
    config = validateModelConfig(input.config);
  } catch (err) {
    throw new Error(`config: ${errMessage(err)}`, { cause: err });
  }

  // Weights: check everything, then lay them out back to back in insertion order.
  if (!isPlainObject(input.weights)) throw new Error('weights must be an object of named tensors');
  const indexDtype = input.weightsDtype ?? 'float32';
  if (!isOneOf(WEIGHTS_DTYPES, indexDtype)) {
    throw new Error(`weightsDtype must be ${WEIGHTS_DTYPES.join(' or ')}, got ${describe(indexDtype)}`);
  }
  const index: WeightsIndex = { dtype: indexDtype, littleEndian: true, tensors: [] };
  const encoded = new Map<string, Uint8Array>();
  const keptFloat32: string[] = [];
  let total = 0;
  for (const [name, t] of Object.entries(input.weights)) {
    if (name.length === 0) throw new Error('a weight has an empty name');
    if (!isPlainObject(t) || !(t.data instanceof Float32Array))
      throw new Error(`weight ${name} must have Float32Array data`);
    if (!Array.isArray(t.shape) || !t.shape.every((d) => isIntIn(d, 0, Number.MAX_SAFE_INTEGER))) {
      throw new Error(`weight ${name} has an invalid shape (must be an array of non-negative integers)`);
    }
    const elements = t.shape.reduce((a, b) => a * b, 1);
    if (t.data.length !== elements) {
      throw new Error(`weight ${name} has ${t.data.length} values but shape ${shapeText(t.shape)} needs ${elements}`);
    }
    const halves = indexDtype === 'float16' ? toFloat16(t.data) : undefined;
    if (halves) encoded.set(name, littleEndianBytes(halves));
    else if (indexDtype === 'float16') keptFloat32.push(name);
    const dtype: WeightsDtype = halves ? 'float16' : 'float32';
    // Each tensor starts on a multiple of its own element size.
    const size = DTYPE_BYTES[dtype];
    total = Math.ceil(total / size) * size;
    index.tensors.push({
      name,
      shape: [...t.shape],
      offset: total / size,
      length: elements,
      ...(dtype !== indexDtype ? { dtype } : {}),
    });
    total += elements * size;
    if (total > DEFAULT_MAX_WEIGHTS_BYTES) {
      throw new Error(`weights.bin would be over the ${DEFAULT_MAX_WEIGHTS_BYTES}-byte limit`);
    }
  }
  const weightsBin = Buffer.alloc(total);
  for (const t of index.tensors) {
    const bytes = encoded.get(t.name) ?? littleEndianBytes(input.weights[t.name].data);
    weightsBin.set(bytes, t.offset * DTYPE_BYTES[t.dtype ?? indexDtype]);
  }

  const files = new Map<string, Buffer>();
  files.set('config.json', jsonBytes('config', config, true));
  files.set('tokenizer.json', jsonBytes('tokenizer', input.tokenizer, false));
  files.set('weights.json', jsonBytes('weights index', index, false));
  files.set('weights.bin', weightsBin);

  if (input.extras !== undefined) {
    if (!isPlainObject(input.extras)) throw new Error('extras must be an object of file name to text');
    for (const [name, text] of Object.entries(input.extras)) {
      if (!(OPTIONAL_BUNDLE_FILES as readonly string[]).includes(name)) {
        throw new Error(`extra file ${describe(name)} is not allowed (allowed: ${OPTIONAL_BUNDLE_FILES.join(', ')})`);
      }
      if (typeof text !== 'string') throw new Error(`extra file ${name} must be text`);
      files.set(name, Buffer.from(text, 'utf8'));
    }
  }

  const fingerprint = computeFingerprint(
    files.get('config.json')!,
    files.get('tokenizer.json')!,
    files.get('weights.json')!,
    weightsBin,
  );
  const manifest: BundleManifest = {
    format: BUNDLE_FORMAT,
    formatVersion: BUNDLE_FORMAT_VERSION,
    fingerprint,
    createdAt: new Date().toISOString(),
    files: {},
  };
  for (const [name, bytes] of files) manifest.files[name] = { bytes: bytes.length, sha256: sha256Hex(bytes) };
  if (input.training !== undefined) manifest.training = input.training;
  if (input.metrics !== undefined) manifest.metrics = input.metrics;
  files.set('manifest.json', jsonBytes('manifest (training/metrics)', manifest, true));

  for (const [name, bytes] of files) {
    if (name !== 'weights.bin' && bytes.length > DEFAULT_MAX_JSON_BYTES) {
      throw new Error(`${name} would be ${bytes.length} bytes, over the ${DEFAULT_MAX_JSON_BYTES}-byte limit`);
    }
  }
  return { files, fingerprint, keptFloat32 };
}

/** The bytes of a typed array in little-endian order (a view where the host is little-endian). */
function littleEndianBytes(data: Float32Array | Uint16Array): Uint8Array {
  if (hostIsLittleEndian) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = Buffer.alloc(data.byteLength);
  for (let i = 0; i < data.length; i++) {
    if (data instanceof Float32Array) out.writeFloatLE(data[i], i * 4);
    else out.writeUInt16LE(data[i], i * 2);
  }
  return out;
}
