/** Runs the GPU route's TypeScript scripts (scripts/gpu/*.ts) the way their usage lines say. */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { REPO } from './cli';

export function runGpuScript(script: string, args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', path.join(REPO, 'scripts', 'gpu', script), ...args], {
    cwd: REPO,
    encoding: 'utf8',
    env: { ...process.env, TEXTVAE_BACKEND: process.env.TEXTVAE_BACKEND ?? 'auto' },
  });
}
