/**
 * Turns a trained model into one that writes short tvae2 codes (the precision scheme of
 * src/core/latentPrecision.ts): same weights and tokenizer, codeScheme 'precision', and each
 * dimension's quantisation step taken from the model's posteriors over the corpus's training files.
 * DIR is only read; the new bundle is written atomically to a new or empty folder.
 *
 *   node --import tsx scripts/recode-model.ts models/default --out /tmp/short --data .corpora/python-docs
 *   ... --step-factor 2 --val-fraction 0.05 --seed 1 --units chunks|lines
 *
 * --units: what the statistics describe. chunks (default): the training examples, as
 * `textvae train` takes them. lines: single lines of the training files (at least 20 characters),
 * for models whose codes stand for a sentence or a line: a short text's posterior sits elsewhere
 * and is broader than a 64-token chunk's (docs/benchmarks.md, target 1).
 */
import { DEFAULT_STEP_FACTOR, recodeBundle } from '../src/core/latentStats';
import { Random } from '../src/core/random';
import { parseBundleArgs, splitCorpus } from './bundleArgs';

/** Lines the statistics of --units lines are taken over (512 of them are encoded). */
const LINES = 4096;

/** A seeded sample of the texts' trimmed lines of at least 20 characters, each its own text. */
function sampleLines(texts: string[], count: number, rng: Random): string[] {
  const lines = texts.flatMap((t) =>
    t
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.length >= 20),
  );
  return rng.shuffle(lines).slice(0, count);
}

async function main(): Promise<void> {
  const { dir, out, data, values } = parseBundleArgs(
    'recode-model.ts DIR --out DIR2 --data CORPUS... [--step-factor F]',
    {
      'step-factor': { type: 'string', default: String(DEFAULT_STEP_FACTOR) },
      units: { type: 'string', default: 'chunks' },
    },
  );
  const stepFactor = Number(values['step-factor']);
  if (values.units !== 'chunks' && values.units !== 'lines') throw new Error('--units must be chunks or lines');
  if (!(stepFactor > 0 && stepFactor <= 100)) throw new Error('--step-factor must be a number in (0, 100]');
  // The statistics are of training text: the held-out files stay unseen, as in `textvae train`.
  const { train } = await splitCorpus(data, values['val-fraction']);
  const seed = Number(values.seed);
  const texts = values.units === 'lines' ? sampleLines(train, LINES, new Random(seed)) : train;
  const fingerprint = await recodeBundle(dir, out, {
    texts,
    stepFactor,
    seed,
  });
  process.stdout.write(
    `${out}: ${fingerprint.slice(0, 8)} (tvae2 codes, step ${stepFactor} posterior std of ${values.units})\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`recode-model: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
