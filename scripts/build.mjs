// Bundles every entry point with esbuild. `--watch` rebuilds on change.
import * as esbuild from 'esbuild';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TFJS_FREE_BUNDLES, tfjsInputs } from './boundaries.mjs';

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');
// Native addons are resolved from node_modules at run time, never bundled.
const nativeExternals = ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'];

// ignoreAnnotations: tfjs registers backends and gradients as import side effects that its
// package.json "sideEffects" lists would otherwise let esbuild drop.
const common = {
  bundle: true,
  ignoreAnnotations: true,
  sourcemap: !production,
  minify: production,
  logLevel: 'warning',
  legalComments: 'none',
};
/**
 * Fails a bundle of the extension host or a webview that contains tfjs (esbuild's metafile lists
 * every input): those processes must stay light and never load the engine.
 */
function tfjsGuard(outfile) {
  return {
    name: 'tfjs-guard',
    setup(build) {
      build.onEnd((result) => {
        const found = result.metafile ? tfjsInputs(result.metafile, outfile) : [];
        if (found.length === 0) return;
        const text = `${outfile} bundles tfjs (${found.length} modules, e.g. ${found[0]}): the extension host and webviews must not import modules that load tfjs`;
        if (watch) console.error(`error: ${text}`);
        else throw new Error(text);
      });
    },
  };
}

const builds = [
  {
    ...common,
    entryPoints: ['src/cli/textvae.ts'],
    outfile: 'dist/cli.js',
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: nativeExternals,
  },
  {
    ...common,
    entryPoints: ['src/worker/engineWorker.ts'],
    outfile: 'dist/worker.js',
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: nativeExternals,
  },
  {
    ...common,
    entryPoints: ['src/extension/extension.ts'],
    outfile: 'dist/extension.js',
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: ['vscode'],
  },
  {
    ...common,
    entryPoints: ['src/webview/generator/main.ts'],
    outfile: 'media/dist/generator.js',
    platform: 'browser',
    target: 'es2022',
    format: 'iife',
  },
  {
    ...common,
    entryPoints: ['src/webview/training/main.ts'],
    outfile: 'media/dist/training.js',
    platform: 'browser',
    target: 'es2022',
    format: 'iife',
  },
]
  .filter((b) => b.entryPoints.every((e) => fs.existsSync(e)))
  .map((b) => (TFJS_FREE_BUNDLES.includes(b.outfile) ? { ...b, metafile: true, plugins: [tfjsGuard(b.outfile)] } : b));

// The wasm backend loads its binaries from beside the bundle.
fs.mkdirSync('dist', { recursive: true });
const wasmDir = path.join('node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist');
for (const f of fs.readdirSync(wasmDir).filter((f) => f.endsWith('.wasm')))
  fs.copyFileSync(path.join(wasmDir, f), path.join('dist', f));

if (watch) {
  for (const b of builds) await (await esbuild.context(b)).watch();
  console.log('watching for changes...');
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
  fs.chmodSync('dist/cli.js', 0o755);
}
