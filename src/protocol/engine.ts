/**
 * The one typed protocol between the extension host and the engine worker process
 * (child_process IPC). Requests get exactly one response; notifications flow worker -> host.
 * No tfjs, no vscode: every side imports it. Each side parses what it receives with the schemas here.
 */
import type {
  BackendReport,
  EvalMetrics,
  MapDocument as EngineMapDocument,
  MapPoint,
  MetricsLine,
  ModelInfo,
} from '../core/types';
import * as v from 'valibot';
import type { EngineParams } from './validateParams';
import { parseOrNull } from './schema';

/** Params of a training run (the schema in validateParams.ts declares them). */
export type TrainParams = EngineParams['train'];

export interface TrainOutcome {
  out: string;
  fingerprint: string;
  steps: number;
  cancelled: boolean;
  elapsedSeconds: number;
  final: EvalMetrics & { evaluated_on?: 'held-out' | 'training' };
  files: number;
  skipped: { path: string; reason: string }[];
}

export type MapDocument = EngineParams['latentMap']['documents'][number];
export type { MapPoint };

// The schema's documents are the engine's: one shape.
const mapDocumentsMatch: EngineMapDocument extends MapDocument
  ? MapDocument extends EngineMapDocument
    ? true
    : false
  : false = true;
void mapDocumentsMatch;

/** What each request returns. */
export interface EngineResults {
  initialize: BackendReport;
  loadModel: ModelInfo & { backend: string };
  modelInfo: (ModelInfo & { backend: string }) | null;
  encode: { codes: string[]; chunks: string[] };
  decode: { texts: string[] };
  /** A lossless code of the text, with the text's and the binary form's sizes in bytes. */
  compressLossless: { code: string; bytes: number; codeBytes: number };
  /** One exact text per lossless code. */
  decompressLossless: { texts: string[] };
  reconstruct: { text: string; chunks: { input: string; output: string }[] };
  sample: { samples: string[] };
  interpolate: { steps: { alpha: number; text: string }[] };
  train: TrainOutcome;
  latentMap: { points: MapPoint[] };
}

export type EngineMethod = keyof EngineResults;

/** Each method's params (inferred from the schemas) and result. */
export type EngineMethods = { [M in EngineMethod]: { params: EngineParams[M]; result: EngineResults[M] } };

export interface EngineNotifications {
  trainMetrics: MetricsLine;
  trainLog: { message: string };
  /** How far a long request has got (lossless compression): `done` of `total` units (bytes). */
  requestProgress: { id: number; done: number; total: number };
}

const messageId = v.pipe(v.number(), v.safeInteger(), v.minValue(1));
const plainObject = v.custom<object>(
  (x) => typeof x === 'object' && x !== null && !Array.isArray(x),
  'must be an object',
);

/**
 * Host -> worker. A request's method is only a string here: the worker answers an unknown one
 * with a 'bad-input' error (it needs the id for that), and validateParams checks the params.
 */
const HostToWorkerSchema = v.variant('kind', [
  v.object({ kind: v.literal('request'), id: messageId, method: v.string(), params: v.unknown() }),
  v.object({ kind: v.literal('cancel'), id: messageId }),
]);

/** Worker -> host. A response carries a result (null included) or an error. */
const WorkerToHostSchema = v.variant('kind', [
  v.object({ kind: v.literal('ready'), pid: messageId }),
  v.pipe(
    v.object({
      kind: v.literal('response'),
      id: messageId,
      result: v.optional(v.unknown()),
      error: v.optional(v.object({ message: v.string(), code: v.optional(v.string()) })),
    }),
    v.check((r) => r.error !== undefined || 'result' in r, 'a response needs a result or an error'),
  ),
  v.object({
    kind: v.literal('notification'),
    method: v.picklist([
      'trainMetrics',
      'trainLog',
      'requestProgress',
    ] as const satisfies readonly (keyof EngineNotifications)[]),
    params: plainObject,
  }),
]);

export type HostToWorker = v.InferOutput<typeof HostToWorkerSchema>;
export type WorkerToHost = v.InferOutput<typeof WorkerToHostSchema>;

/** Errors that carry a machine-readable code across the process boundary. */
export type EngineErrorCode = 'cancelled' | 'no-model' | 'bad-code' | 'bad-input' | 'bundle' | 'internal';

/** A message from the host, or null for anything malformed. */
export function parseHostMessage(value: unknown): HostToWorker | null {
  return parseOrNull(HostToWorkerSchema, value);
}

/** A message from the worker, or null for anything malformed. */
export function parseWorkerMessage(value: unknown): WorkerToHost | null {
  return parseOrNull(WorkerToHostSchema, value);
}
