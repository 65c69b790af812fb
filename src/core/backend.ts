/**
 * Chooses the tfjs backend at run time: native TensorFlow where its addon loads
 * (tfjs-node-gpu, then tfjs-node), else tfjs's wasm backend, else its pure-JS cpu backend.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { BACKEND_NAMES, BACKEND_REQUESTS, isOneOf, type BackendName, type BackendRequest } from './choices';
import { registerLeanGradients } from './ops';
import type { BackendReport } from './types';

export type { BackendName, BackendRequest, BackendReport };

let active: BackendReport | null = null;

interface WasmBackendInternals {
  readSync(dataId: object): ArrayLike<number>;
  makeOutput(shape: number[], dtype: string): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array;
}

/**
 * tfjs's wasm backend lacks UnsortedSegmentSum, which the gradient of gather (our embedding
 * lookup) needs. The sum is cheap, so a JavaScript kernel is enough.
 */
function registerMissingWasmKernels(): void {
  if (tf.getKernel('UnsortedSegmentSum', 'wasm')) return;
  tf.registerKernel({
    kernelName: 'UnsortedSegmentSum',
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const b = backend as unknown as WasmBackendInternals;
      const x = inputs.x as tf.TensorInfo;
      const ids = b.readSync((inputs.segmentIds as tf.TensorInfo).dataId);
      const numSegments = (attrs as { numSegments: number }).numSegments;
      const values = b.readSync(x.dataId);
      const inner = x.shape.slice(1).reduce((p, q) => p * q, 1);
      const out = b.makeOutput([numSegments, ...x.shape.slice(1)], x.dtype);
      const target = b.typedArrayFromHeap(out);
      target.fill(0);
      for (let i = 0; i < ids.length; i++) {
        const seg = ids[i];
        if (seg < 0 || seg >= numSegments) continue;
        const src = i * inner,
          dst = seg * inner;
        for (let j = 0; j < inner; j++) target[dst + j] += values[src + j];
      }
      return out;
    },
  });
}

/**
 * Where a native package may be resolved from: beside the bundle (node_modules), then the folder
 * named by TEXTVAE_NATIVE_DIR (a separate install, e.g. the extension's global storage).
 */
function nativeRequirers(): NodeJS.Require[] {
  const out = [createRequire(__filename)];
  const extra = process.env.TEXTVAE_NATIVE_DIR;
  if (extra) out.push(createRequire(path.join(path.resolve(extra), 'package.json')));
  return out;
}

/** Loads a native tfjs-node package; returns false with the reason in `skipped` when it cannot. */
function tryLoadNative(pkg: string, skipped: string[]): boolean {
  const reasons: string[] = [];
  for (const req of nativeRequirers()) {
    let resolved: string;
    try {
      // Not bundled: the native addon is resolved at run time.
      resolved = req.resolve(pkg);
    } catch {
      continue;
    }
    try {
      req(resolved);
      if (tf.findBackend('tensorflow')) return true;
      reasons.push(`loaded but registered no 'tensorflow' backend`);
    } catch (err) {
      reasons.push(err instanceof Error ? err.message.split('\n')[0] : String(err));
    }
  }
  skipped.push(`${pkg}: ${reasons.join('; ') || 'not installed'}`);
  return false;
}

function wasmDirectory(): string | null {
  const candidates = [
    process.env.TEXTVAE_WASM_DIR,
    __dirname,
    path.join(__dirname, '..', '..', 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist'),
    path.join(__dirname, '..', 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist'),
  ];
  for (const dir of candidates) {
    if (dir && fs.existsSync(path.join(dir, 'tfjs-backend-wasm-simd.wasm'))) return dir;
  }
  try {
    return path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm'));
  } catch {
    return null;
  }
}

async function trySet(name: string, skipped: string[]): Promise<boolean> {
  try {
    if (await tf.setBackend(name)) {
      await tf.ready();
      registerLeanGradients();
      return true;
    }
    skipped.push(`${name}: failed to initialise`);
  } catch (err) {
    skipped.push(`${name}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  }
  return false;
}

/** Initialises a backend once per process. A forced backend that fails is an error, never a silent fallback. */
export async function initBackend(request: BackendRequest = 'auto'): Promise<BackendReport> {
  if (active) {
    if (request !== 'auto' && request !== active.name) {
      throw new Error(`backend '${active.name}' is already initialised in this process; cannot switch to '${request}'`);
    }
    return active;
  }
  if (!isOneOf(BACKEND_REQUESTS, request)) {
    throw new Error(`unknown backend '${request}' (choose one of ${BACKEND_REQUESTS.join(', ')})`);
  }
  tf.env().set('IS_TEST', false);
  // tfjs prints a banner suggesting tfjs-node; we report the backend ourselves.
  tf.env().set('PROD', true);
  const skipped: string[] = [];
  const order: readonly BackendName[] = request === 'auto' ? BACKEND_NAMES : [request];
  // TensorFlow's C++ start-up notices would otherwise reach the user's terminal.
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
  for (const name of order) {
    if (name === 'tensorflow') {
      let detail = '';
      if (tryLoadNative('@tensorflow/tfjs-node-gpu', skipped)) detail = 'tfjs-node-gpu';
      else if (tryLoadNative('@tensorflow/tfjs-node', skipped)) detail = 'tfjs-node';
      if (detail && (await trySet('tensorflow', skipped))) return (active = { name, detail, skipped });
    } else if (name === 'wasm') {
      const dir = wasmDirectory();
      if (!dir) {
        skipped.push('wasm: tfjs-backend-wasm*.wasm files not found');
        continue;
      }
      setWasmPaths(dir.endsWith(path.sep) ? dir : dir + path.sep);
      if (await trySet('wasm', skipped)) {
        registerMissingWasmKernels();
        const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
        return (active = { name, detail: simd ? 'simd' : 'no simd', skipped });
      }
    } else if (await trySet('cpu', skipped)) {
      return (active = { name, detail: 'pure JavaScript', skipped });
    }
  }
  throw new Error(`backend '${request}' is not available: ${skipped.join('; ')}`);
}

export function activeBackend(): BackendReport | null {
  return active;
}
