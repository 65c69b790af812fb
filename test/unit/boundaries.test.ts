/**
 * The list of engine modules that load tfjs (scripts/boundaries.mjs), which ESLint forbids to the
 * extension host and webviews, must be exact: a new module that loads tfjs is forbidden too, and a
 * module that stops loading it becomes available.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as esbuild from 'esbuild';

import { REPO } from '../helpers/cli';
// @ts-expect-error -- a plain .mjs module shared with eslint.config.mjs and the build; it has no types.
import { TFJS_CORE_MODULES, tfjsInputs } from '../../scripts/boundaries.mjs';

test('TFJS_CORE_MODULES names exactly the engine modules whose bundle contains tfjs', async () => {
  const core = path.join(REPO, 'src', 'core');
  // Paths under src/core without '.ts', e.g. 'textVae', 'lossless/codec'.
  const modules = (fs.readdirSync(core, { recursive: true }) as string[])
    .filter((f) => f.endsWith('.ts'))
    .map((f) => f.slice(0, -3).split(path.sep).join('/'));
  const result = await esbuild.build({
    entryPoints: Object.fromEntries(modules.map((m) => [m, path.join(core, `${m}.ts`)])),
    bundle: true,
    write: false,
    metafile: true,
    outdir: path.join(REPO, '.boundaries-check'),
    platform: 'node',
    format: 'cjs',
    logLevel: 'silent',
    external: ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'],
  });
  const outputs = Object.keys(result.metafile.outputs);
  const loadsTfjs = modules.filter((m) => {
    const out = outputs.find((o) => o.endsWith(`.boundaries-check/${m}.js`));
    assert.ok(out, `no output for ${m}`);
    return tfjsInputs(result.metafile, out).length > 0;
  });
  assert.deepEqual([...loadsTfjs].sort(), [...TFJS_CORE_MODULES].sort());
});
