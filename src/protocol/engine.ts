/**
 * The one typed protocol between the extension host and the engine worker process
 * (child_process IPC). Requests get exactly one response; notifications flow worker -> host.
 * This file has no runtime dependencies so that every side can import it.
 */
import type { BackendReport, BackendRequest } from '../core/backend';
import type { DecodeOptions, InterpolationMode, ModelInfo } from '../core/textVae';
import type { MetricsLine } from '../core/train';
import type { EvalMetrics } from '../core/evaluate';
import type { Variant } from '../core/types';

export interface TrainParams {
  /** Files and folders to read (the worker reads them, not the host). */
  paths: string[];
  include?: string[];
  exclude?: string[];
  maxFileBytes?: number;
  out: string;
  minutes?: number;
  maxSteps?: number;
  seed?: number;
  variant?: Variant;
  valFraction?: number;
  /** Smaller models for quick runs (tests, small workspaces). */
  modelDim?: number;
  vocabSize?: number;
  latentDim?: number;
  logEvery?: number;
}

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

export interface MapDocument {
  uri: string;
  text: string;
}

export interface MapPoint {
  x: number;
  y: number;
  uri: string;
  /** Character offset of the chunk in its document. */
  offset: number;
  line: number;
  preview: string;
}

export interface EngineMethods {
  initialize: { params: { backend: BackendRequest }; result: BackendReport };
  loadModel: { params: { dir: string }; result: ModelInfo & { backend: string } };
  modelInfo: { params: Record<string, never>; result: (ModelInfo & { backend: string }) | null };
  encode: { params: { text: string; sample?: boolean; seed?: number }; result: { codes: string[]; chunks: string[] } };
  decode: { params: { codes: string[]; options?: DecodeOptions }; result: { texts: string[] } };
  reconstruct: {
    params: { text: string; options?: DecodeOptions };
    result: { text: string; chunks: { input: string; output: string }[] };
  };
  sample: { params: { n: number; options?: DecodeOptions }; result: { samples: string[] } };
  interpolate: {
    params: { from: string; to: string; steps: number; mode: InterpolationMode; options?: DecodeOptions };
    result: { steps: { alpha: number; text: string }[] };
  };
  train: { params: TrainParams; result: TrainOutcome };
  latentMap: { params: { documents: MapDocument[]; maxPoints?: number }; result: { points: MapPoint[] } };
}

export type EngineMethod = keyof EngineMethods;

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
