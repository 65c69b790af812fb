/**
 * Writes a copy of a model bundle whose weights are stored as float16 (half the size) or float32.
 * The source is only read; the copy is written atomically to a folder that must not exist yet.
 * The copy is a different model to latent codes: its fingerprint differs, so codes made by the
 * source are refused by it with the usual "made by model X" error.
 *
 *   node --import tsx scripts/convert-weights.ts --model models/default --out /tmp/default-f16 [--dtype float16]
 *
 * REPORT.md, eval.json, train-log.jsonl and the manifest's training and metrics records are kept
 * (they describe the source's training); COMMAND.md gains the conversion command.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { WEIGHTS_DTYPES, loadBundle, readOptionalFiles, saveBundle, type WeightsDtype } from '../src/core/bundle';
import { isOneOf } from '../src/core/choices';
import { weightShapes } from '../src/core/model';

/** True when `inner` is `outer` or lies inside it (symbolic links resolved where they exist). */
function within(outer: string, inner: string): boolean {
  const real = (p: string): string => {
    try {
      return fs.realpathSync(p);
    } catch {
      return path.join(real(path.dirname(p)), path.basename(p));
    }
  };
  const rel = path.relative(real(outer), real(inner));
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

export async function convertWeights(
  model: string,
  out: string,
  dtype: WeightsDtype,
): Promise<{ fingerprint: string; bytes: number; keptFloat32: string[] }> {
  if (within(model, out)) throw new Error(`--out ${out} is the model folder or inside it; choose a new folder`);
  if (fs.existsSync(out))
    throw new Error(`--out ${out} exists; choose a new folder (the conversion never replaces one)`);
  const source = await loadBundle(model, { expectedShapes: weightShapes });
  const extras = await readOptionalFiles(source);
  const command = `node --import tsx scripts/convert-weights.ts --model ${model} --out ${out} --dtype ${dtype}`;
  extras['COMMAND.md'] =
    (extras['COMMAND.md'] ?? '# How this model was made\n').replace(/\n*$/, '\n\n') +
    `Weights stored as ${dtype} (from ${source.weightsDtype}, model ${source.fingerprint.slice(0, 8)}):\n\n` +
    '```sh\n' +
    command +
    '\n```\n';
  const saved = await saveBundle(out, {
    config: source.config,
    tokenizer: source.tokenizer,
    weights: source.weights,
    weightsDtype: dtype,
    training: source.manifest.training,
    metrics: source.manifest.metrics,
    extras,
  });
  // Read back through the loader: the copy must be a loadable model.
  await loadBundle(out, { expectedShapes: weightShapes });
  return { ...saved, bytes: fs.statSync(path.join(out, 'weights.bin')).size };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: 'string' },
      out: { type: 'string' },
      dtype: { type: 'string', default: 'float16' },
    },
  });
  if (!values.model || !values.out) throw new Error('usage: --model DIR --out NEW_DIR [--dtype float16|float32]');
  if (!isOneOf(WEIGHTS_DTYPES, values.dtype)) {
    throw new Error(`--dtype must be ${WEIGHTS_DTYPES.join(' or ')}, got ${JSON.stringify(values.dtype)}`);
  }
  const r = await convertWeights(values.model, values.out, values.dtype);
  const kept = r.keptFloat32.length > 0 ? `; kept in float32 (beyond ±65504): ${r.keptFloat32.join(', ')}` : '';
  process.stdout.write(`${values.out}: ${values.dtype}, weights.bin ${r.bytes} bytes, model ${r.fingerprint}${kept}\n`);
}

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`convert-weights: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
