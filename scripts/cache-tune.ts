/**
 * Chooses the document cache's form (order, decay, escape) and its λ per state on a tuning set:
 * training files of the given corpora (never the held-out files the figures are reported on).
 * The model runs once over the tuning text; each cache form is then scored on the stored
 * log-probabilities, with λ fitted on half of the documents and measured on the other half.
 *
 *   node --import tsx scripts/cache-tune.ts --model models/default --data .corpora/debian-docs \
 *     --data .corpora/python-docs --kb 200 [--out DIR]
 *
 * The last line printed is the chosen parameter set (JSON: `textvae eval --cache --cache-params`).
 * With --out, a copy of the model bundle is written to DIR (new or empty) with that set as its
 * cache.json, which `textvae eval --cache` then uses; the model and its fingerprint are unchanged.
 */
import { parseArgs } from 'node:util';
import { checkNewCopy, loadBundle, readOptionalFiles, resaveInput, saveBundle } from '../src/core/bundle';
import { weightShapes } from '../src/core/model';
import { TextVae } from '../src/core/textVae';
import { makeExamples } from '../src/core/dataset';
import { evaluate } from '../src/core/evaluate';
import { selectTrainingFiles } from './corpus-subset';
import {
  DocumentCache,
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
    orders: { type: 'string', default: '0,1,2,3,4,6' },
    decays: { type: 'string', default: '1,0.999,0.995' },
    escapes: { type: 'string', default: '0.5,1,2' },
    /** Entropy bin sets to try, separated by ';' (each a comma list of thresholds in nats, or empty). */
    bins: { type: 'string', default: ';0.2,0.5,0.8' },
    /**
     * Score as the lossless coder would meet the tokens: a document's chunks in segments of 32 KiB,
     * each segment's blocks in lockstep (step by step, longest block first), each block's own
     * earlier tokens as the context, no EOS.
     */
    lockstep: { type: 'boolean', default: false },
    out: { type: 'string' },
  },
});

interface Chunk {
  targets: Int32Array;
  logp: Float32Array;
  doubt: Float32Array;
  bytes: number;
}

function lockstep(V: number, params: CacheParams, docs: Chunk[][], visit: (r: CacheRecord) => void): void {
  const cache = new DocumentCache(V, params);
  for (const doc of docs) {
    const segments: Chunk[][] = [[]];
    let bytes = 0;
    for (const c of doc) {
      if (bytes + c.bytes > 32 * 1024 && segments[segments.length - 1].length > 0) {
        segments.push([]);
        bytes = 0;
      }
      segments[segments.length - 1].push(c);
      bytes += c.bytes;
    }
    for (const seg of segments) {
      cache.reset();
      const blocks = seg.slice().sort((a, b) => b.targets.length - a.targets.length);
      for (let t = 0; t < blocks[0].targets.length - 1; t++)
        for (const b of blocks) {
          if (t >= b.targets.length - 1) break;
          const context = Array.from(b.targets.subarray(Math.max(0, t - params.order), t));
          const token = b.targets[t];
          visit({
            modelProb: Math.exp(b.logp[t]),
            cacheProb: cache.prob(token, context),
            state: cache.state(b.doubt[t], context),
          });
          cache.observe(token, context);
        }
    }
  }
}

async function main(): Promise<void> {
  await initBackend('tensorflow');
  const vae = await TextVae.load(values.model!);
  const V = vae.model.config.vocabSize;
  const docs: Chunk[][] = [];
  let bytes = 0;
  for (const dir of values.data ?? []) {
    // The same choice as `corpus-subset.ts --every N --max-file-kb 50 --kb K`.
    const files = await selectTrainingFiles(dir, Number(values.every), 0, { maxFileKb: 50, kb: Number(values.kb) });
    const chosen = files.map((f) => f.text);
    const examples = makeExamples(chosen, vae.tokenizer, vae.config.maxTokens);
    const first = docs.length;
    const m = await evaluate(vae.model, examples, {
      onTargets: (i, targets, logp, doubt) => {
        const d = first + examples[i].doc!;
        (docs[d] ??= []).push({
          targets: targets.slice(),
          logp: logp.slice(),
          doubt: doubt.slice(),
          bytes: examples[i].bytes,
        });
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
    if (values.lockstep) lockstep(V, params, part, (r) => out.push(r));
    else scoreDocuments(V, params, part, (r) => out.push(r));
    return out;
  };
  const plainRecords = records({ order: 0, decay: 1, escape: 1, lambdas: [] }, docs);
  const plain = mixedNats(plainRecords, []);
  const bpb = (nats: number) => nats / Math.LN2 / bytes;
  console.log(
    `plain reconstruction: ${bpb(plain).toFixed(4)} bits/byte over ${bytes} bytes, ${plainRecords.length} tokens`,
  );
  const results: { params: CacheParams; held: number }[] = [];
  const list = (s: string) => s.split(',').map(Number);
  for (const order of list(values.orders!))
    for (const decay of list(values.decays!))
      for (const escape of order === 0 ? [1] : list(values.escapes!))
        for (const binSpec of values.bins!.split(';')) {
          const doubtBins = binSpec === '' ? [] : list(binSpec);
          const form = { order, decay, escape, doubtBins, lambdas: [] };
          const parts = halves.map((h) => records(form, h));
          const S = stateCount(form);
          let held = 0;
          for (let k = 0; k < 2; k++) held += mixedNats(parts[1 - k], fitLambdas(parts[k], S));
          results.push({ params: form, held });
          console.log(
            `order ${order} decay ${decay} escape ${escape} bins [${doubtBins}]: ${bpb(held).toFixed(4)} bits/byte (gain ${(bpb(plain) - bpb(held)).toFixed(4)})`,
          );
        }
  results.sort((a, b) => a.held - b.held);
  const best = results[0].params;
  const lambdas = fitLambdas(records(best, docs), stateCount(best)).map((l) => +l.toFixed(4));
  const chosen = { ...best, lambdas };
  console.log(JSON.stringify(chosen));
  if (values.out) await writeCopy(values.model!, values.out, chosen);
}

/** A copy of the bundle at `dir` with `params` as its cache.json, written to `out` (new or empty). */
async function writeCopy(dir: string, out: string, params: CacheParams): Promise<void> {
  checkNewCopy(dir, out);
  const raw = await loadBundle(dir, { expectedShapes: weightShapes });
  const extras = { ...(await readOptionalFiles(raw)), 'cache.json': JSON.stringify(params) + '\n' };
  const saved = await saveBundle(out, { ...resaveInput(raw), extras });
  if (saved.fingerprint !== raw.fingerprint) throw new Error('the fingerprint changed while adding cache.json');
  console.error(`${out}: a copy of ${dir} with cache.json`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
