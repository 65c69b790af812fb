/**
 * The command line that scripts/fit-prior.ts and scripts/recode-model.ts share: `DIR --out DIR2
 * --data CORPUS... [--val-fraction F] [--seed S]` beside each script's own options, and the corpus
 * split into training and held-out files as `textvae train` splits it.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { initBackend } from '../src/core/backend';
import { collectCorpus } from '../src/core/corpus';
import { splitForTraining, type SplitResult } from '../src/core/split';
import { DEFAULT_VAL_FRACTION } from '../src/core/trainingRun';

const SHARED = {
  out: { type: 'string' },
  data: { type: 'string', multiple: true },
  'val-fraction': { type: 'string', default: String(DEFAULT_VAL_FRACTION) },
  seed: { type: 'string', default: '1' },
} as const;

type Values<O extends Options> = ReturnType<
  typeof parseArgs<{ allowPositionals: true; options: typeof SHARED & O }>
>['values'];
type Options = NonNullable<ParseArgsConfig['options']>;

/** Parses `args` by the shared options and `own`; throws `usage: <usage>` without DIR, --out or --data. */
export function parseBundleArgs<O extends Options>(
  usage: string,
  own: O,
  args: string[] = process.argv.slice(2),
): { dir: string; out: string; data: string[]; values: Values<O> } {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { ...SHARED, ...own } });
  const { out, data } = values as { out?: string; data?: string[] };
  if (positionals.length !== 1 || !out || !data?.length) throw new Error(`usage: ${usage}`);
  return { dir: positionals[0], out, data, values: values as Values<O> };
}

/** Starts the backend, reads the corpora and splits them by --val-fraction. */
export async function splitCorpus(data: string[], valFraction: string): Promise<SplitResult> {
  await initBackend('auto');
  const { files } = await collectCorpus(data);
  return splitForTraining(files, Number(valFraction));
}
