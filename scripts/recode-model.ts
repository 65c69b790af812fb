/**
 * Turns a trained model into one that writes short tvae2 codes (the precision scheme of
 * src/core/latentPrecision.ts): same weights and tokenizer, codeScheme 'precision', and each
 * dimension's quantisation step taken from the model's posteriors over the corpus's training files.
 * DIR is only read; the new bundle is written atomically to a new or empty folder.
 *
 *   node --import tsx scripts/recode-model.ts models/default --out /tmp/short --data .corpora/python-docs
 *   ... --step-factor 2 --val-fraction 0.05 --seed 1
 */
import { parseArgs } from 'node:util';
import { initBackend } from '../src/core/backend';
import { collectCorpus } from '../src/core/corpus';
import { splitForTraining } from '../src/core/split';
import { DEFAULT_STEP_FACTOR, recodeBundle } from '../src/core/latentStats';

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      out: { type: 'string' },
      data: { type: 'string', multiple: true },
      'step-factor': { type: 'string', default: String(DEFAULT_STEP_FACTOR) },
      'val-fraction': { type: 'string', default: '0.05' },
      seed: { type: 'string', default: '1' },
    },
  });
  if (positionals.length !== 1 || !values.out || !values.data?.length)
    throw new Error('usage: recode-model.ts DIR --out DIR2 --data CORPUS... [--step-factor F]');
  const stepFactor = Number(values['step-factor']);
  if (!(stepFactor > 0 && stepFactor <= 100)) throw new Error('--step-factor must be a number in (0, 100]');
  await initBackend('auto');
  const { files } = await collectCorpus(values.data);
  // The statistics are of training text: the held-out files stay unseen, as in `textvae train`.
  const { train } = splitForTraining(files, Number(values['val-fraction']));
  const fingerprint = await recodeBundle(positionals[0], values.out, {
    texts: train,
    stepFactor,
    seed: Number(values.seed),
  });
  process.stdout.write(`${values.out}: ${fingerprint.slice(0, 8)} (tvae2 codes, step ${stepFactor} posterior std)\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`recode-model: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
