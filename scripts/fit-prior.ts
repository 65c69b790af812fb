/**
 * Fits a latent prior (src/core/latentPrior.ts) to a trained model's codes of its training text and
 * writes a copy of the bundle with it as prior.json: the same model and fingerprint (codes stay
 * valid), sampling from where text lives instead of N(0, I), and paragraphs of consecutive codes.
 * DIR is only read; the new bundle is written atomically to a new or empty folder.
 *
 *   node --import tsx scripts/fit-prior.ts models/default --out /tmp/with-prior \
 *       --data .corpora/python-docs --data .corpora/debian-docs
 *   ... --components 16 --covariance full|diag --chunks 8192 --no-transition --val-fraction 0.05 --seed 1
 *
 * The fit takes the training files (as `textvae train` splits them); the held-out files give the
 * figures printed at the end (mean log-density of their codes under the prior and under N(0, I)).
 */
import { fitPriorBundle, type PriorFitFacts } from '../src/core/latentStats';
import { parseBundleArgs, splitCorpus } from './bundleArgs';

async function main(): Promise<void> {
  const { dir, out, data, values } = parseBundleArgs(
    'fit-prior.ts DIR --out DIR2 --data CORPUS... [--components K] [--chunks N]',
    {
      components: { type: 'string', default: '16' },
      covariance: { type: 'string', default: 'full' },
      chunks: { type: 'string', default: '8192' },
      'no-transition': { type: 'boolean', default: false },
    },
  );
  const components = Number(values.components);
  const maxChunks = Number(values.chunks);
  if (!(Number.isInteger(components) && components >= 1 && components <= 256))
    throw new Error('--components must be an integer from 1 to 256');
  if (!(Number.isInteger(maxChunks) && maxChunks >= 2 && maxChunks <= 1_000_000))
    throw new Error('--chunks must be an integer from 2 to 1000000');
  if (values.covariance !== 'full' && values.covariance !== 'diag')
    throw new Error('--covariance must be full or diag');
  const { train, val } = await splitCorpus(data, values['val-fraction']);
  const started = Date.now();
  const prior = await fitPriorBundle(dir, out, {
    train,
    heldOut: val,
    components,
    covariance: values.covariance,
    maxChunks,
    transition: !values['no-transition'],
    seed: Number(values.seed),
    command: `node --import tsx scripts/fit-prior.ts ${process.argv.slice(2).join(' ')}`,
  });
  const f = prior.fit as PriorFitFacts;
  const h = f.heldOut;
  process.stdout.write(
    `${out}: prior.json, ${f.components} ${f.covariance} component${f.components === 1 ? '' : 's'} over ${f.chunks} chunks of ${f.documents} document${f.documents === 1 ? '' : 's'}` +
      `${prior.transition ? ', with a transition' : ''} (${((Date.now() - started) / 1000).toFixed(0)} s)\n` +
      (h
        ? `held out (${h.chunks} codes, nats per code): mixture ${h.mixture.toFixed(2)}, N(0, I) ${h.standard.toFixed(2)}` +
          (h.transition !== undefined
            ? `; ${h.pairs} consecutive pairs: transition ${h.transition.toFixed(2)}, independent ${h.independent!.toFixed(2)}`
            : '') +
          '\n'
        : ''),
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`fit-prior: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
