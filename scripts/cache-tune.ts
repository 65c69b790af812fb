/**
 * Chooses the document cache's form (order, decay, escape) and its λ per state on a tuning set:
 * training files of the given corpora (never the held-out files the figures are reported on).
 * The model runs once over the tuning text; each cache form is then scored on the stored
 * log-probabilities, with λ fitted on half of the documents and measured on the other half.
 *
 *   node --import tsx scripts/cache-tune.ts --model models/default --data .corpora/debian-docs \
 *     --data .corpora/python-docs --kb 200
 */
import { parseArgs } from 'node:util';
import { collectCorpus } from '../src/core/corpus';
import { splitForTraining } from '../src/core/split';
import { TextVae } from '../src/core/textVae';
import { makeExamples } from '../src/core/dataset';
import { evaluate } from '../src/core/evaluate';
import { DEFAULT_VAL_FRACTION } from '../src/core/trainingRun';
import {
  fitLambdas,
  mixedNats,
  scoreDocuments,
  stateCount,
  type CacheParams,
  type CacheRecord,
} from '../src/core/documentCache';
import { initBackend } from '../src/core/backend';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'models/default' },
    data: { type: 'string', multiple: true },
    /** Tuning text per corpus: every n-th training file by path until this many kB. */
    kb: { type: 'string', default: '200' },
    every: { type: 'string', default: '37' },
  },
});

interface Chunk {
  targets: Int32Array;
  logp: Float32Array;
}

async function main(): Promise<void> {
  await initBackend('tensorflow');
  const vae = await TextVae.load(values.model!);
  const V = vae.model.config.vocabSize;
  const docs: Chunk[][] = [];
  let bytes = 0;
  for (const dir of values.data ?? []) {
    const { files } = await collectCorpus([dir]);
    const train = new Set(splitForTraining(files, DEFAULT_VAL_FRACTION).train);
    const chosen: string[] = [];
    let kb = 0;
    const sorted = files.filter((f) => train.has(f.text)).sort((a, b) => (a.relativePath < b.relativePath ? -1 : 1));
    for (const [i, f] of sorted.entries()) {
      if (i % Number(values.every) !== 0 || f.bytes > 50_000) continue;
      if (kb + f.bytes / 1000 > Number(values.kb)) break;
      chosen.push(f.text);
      kb += f.bytes / 1000;
    }
    const examples = makeExamples(chosen, vae.tokenizer, vae.config.maxTokens);
    const first = docs.length;
    const m = await evaluate(vae.model, examples, {
      onTargets: (i, targets, logp) => {
        const d = first + examples[i].doc!;
        (docs[d] ??= []).push({ targets: targets.slice(), logp: logp.slice() });
      },
    });
    bytes += m.bytes;
    console.error(
      `${dir}: ${chosen.length} training files, ${m.bytes} bytes, −ELBO ${m.bits_per_byte.toFixed(4)} bits/byte`,
    );
  }
  // Interleaved halves: λ is fitted on one and measured on the other, then the other way round.
  const halves = [docs.filter((_, i) => i % 2 === 0), docs.filter((_, i) => i % 2 === 1)];
  const records = (params: CacheParams, part: Chunk[][]): CacheRecord[] => {
    const out: CacheRecord[] = [];
    scoreDocuments(V, params, part, (r) => out.push(r));
    return out;
  };
  const plainRecords = records({ order: 0, decay: 1, escape: 1, lambdas: [] }, docs);
  const plain = mixedNats(plainRecords, []);
  const bpb = (nats: number) => nats / Math.LN2 / bytes;
  console.log(`plain reconstruction: ${bpb(plain).toFixed(4)} bits/byte over ${bytes} bytes`);
  const results: { params: CacheParams; held: number }[] = [];
  for (const order of [0, 1, 2, 3, 4, 6])
    for (const decay of [1, 0.999, 0.995])
      for (const escape of order === 0 ? [1] : [0.5, 1, 2]) {
        const form = { order, decay, escape, lambdas: [] };
        const parts = halves.map((h) => records(form, h));
        const S = stateCount(order);
        let held = 0;
        for (let k = 0; k < 2; k++) held += mixedNats(parts[1 - k], fitLambdas(parts[k], S));
        results.push({ params: form, held });
        console.log(
          `order ${order} decay ${decay} escape ${escape}: ${bpb(held).toFixed(4)} bits/byte (gain ${(bpb(plain) - bpb(held)).toFixed(4)})`,
        );
      }
  results.sort((a, b) => a.held - b.held);
  const best = results[0].params;
  const lambdas = fitLambdas(records(best, docs), stateCount(best.order)).map((l) => +l.toFixed(4));
  console.log(JSON.stringify({ ...best, lambdas }));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
