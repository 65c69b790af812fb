// The architecture's boundaries, shared by eslint.config.mjs, the build and their unit test.

/**
 * Engine modules (src/core/<name>.ts) that load tfjs, directly or through another. The extension
 * host and the webviews must not import them; test/unit/boundaries.test.ts keeps the list exact.
 */
export const TFJS_CORE_MODULES = [
  'backend',
  'evaluate',
  'latentSearch',
  'latentStats',
  'lossless/tfMatMul',
  'model',
  'objective',
  'ops',
  'optimizer',
  'textVae',
  'train',
  'trainingRun',
];

/** Bundles that run in the extension host or a webview: none may contain tfjs. */
export const TFJS_FREE_BUNDLES = ['dist/extension.js', 'media/dist/generator.js', 'media/dist/training.js'];

/** The inputs of an esbuild metafile's output that come from a tfjs package. */
export function tfjsInputs(metafile, outfile) {
  const output = metafile.outputs[outfile];
  if (!output) return [];
  return Object.keys(output.inputs).filter(
    (p) => /(^|\/)node_modules\/@tensorflow\//.test(p) || /^@tensorflow\//.test(p),
  );
}
