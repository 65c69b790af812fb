/** Reads the weights that scripts/gpu/train_torch.py writes (weights.json + weights.bin, the bundle's format). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { NamedWeights } from '../../src/core/types';

export function readRunWeights(dir: string): NamedWeights {
  const index = JSON.parse(fs.readFileSync(path.join(dir, 'weights.json'), 'utf8')) as {
    tensors: { name: string; shape: number[]; offset: number; length: number }[];
  };
  const bin = fs.readFileSync(path.join(dir, 'weights.bin'));
  const all = new Float32Array(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength));
  const out: NamedWeights = {};
  for (const t of index.tensors) out[t.name] = { shape: t.shape, data: all.slice(t.offset, t.offset + t.length) };
  return out;
}
