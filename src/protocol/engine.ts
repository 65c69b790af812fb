/**
 * The one typed protocol between the extension host and the engine worker process
 * (child_process IPC). Requests get exactly one response; notifications flow worker -> host.
 * This file has no runtime dependencies so that every side can import it.
 */
import type {
  BackendReport,
  EvalMetrics,
  MapDocument as EngineMapDocument,
  MapPoint,
  MetricsLine,
  ModelInfo,
} from '../core/types';
import type { EngineParams } from './validateParams';

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
}

export type HostToWorker =
  { kind: 'request'; id: number; method: EngineMethod; params: unknown } | { kind: 'cancel'; id: number };

export type WorkerToHost =
  | { kind: 'ready'; pid: number }
  | { kind: 'response'; id: number; result?: unknown; error?: { message: string; code?: string } }
  | { kind: 'notification'; method: keyof EngineNotifications; params: unknown };

/** Errors that carry a machine-readable code across the process boundary. */
export type EngineErrorCode = 'cancelled' | 'no-model' | 'bad-code' | 'bad-input' | 'bundle' | 'internal';

export function isWorkerToHost(value: unknown): value is WorkerToHost {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as { kind?: unknown; id?: unknown; method?: unknown; pid?: unknown };
  if (v.kind === 'ready') return typeof v.pid === 'number';
  if (v.kind === 'response') return typeof v.id === 'number';
  if (v.kind === 'notification') return v.method === 'trainMetrics' || v.method === 'trainLog';
  return false;
}

export function isHostToWorker(value: unknown): value is HostToWorker {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as { kind?: unknown; id?: unknown; method?: unknown };
  if (typeof v.id !== 'number') return false;
  if (v.kind === 'cancel') return true;
  return v.kind === 'request' && typeof v.method === 'string';
}
