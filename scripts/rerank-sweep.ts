/**
 * Chooses beam reranking's weight by measurement (issue 8, target 1): for each sentence of FILE, one
 * beam search per width and one re-encoding of its candidates, then every weight scored from those
 * same candidates, so a sweep costs one decode per width rather than one per setting.
 *
 *   node --import tsx scripts/rerank-sweep.ts --model models/default --sentences /tmp/python-held.txt \
 *     --beam 4 --beam 8 --weight 0 --weight 0.1 --weight 1
 *
 * Prints one JSON line per (width, form, weight): the `eval --sentences` metrics of that choice
 * (form 'normalised' is the engine's score, 'sum' the summed log-likelihood in its place), plus
 * `oracle_exact`: the fraction of sentences for which some candidate was exact (reranking's ceiling),
 * and `truth_would_win`: the fraction for which the sentence itself, scored the same way, beats
 * every candidate (at weight 0: how often the beam, not the model, is at fault); `beam_ms` and
 * `reencode_ms`: total time in beam search and in re-encoding the candidates; `better_than_plain`,
 * `worse_than_plain`: sentences whose character similarity rose or fell against the plain beam.
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { TextVae } from '../src/core/textVae';
import { sentenceMetrics, similarity, type RoundTrip } from '../src/core/similarity';
import * as tf from '@tensorflow/tfjs-core';
import { lengthNormalised, pickReranked, rerankScore, type RerankCandidate } from '../src/core/rerank';
import { makeBatch } from '../src/core/model';
import { PAD } from '../src/core/tokenizer';
import { initBackend } from '../src/core/backend';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'models/default' },
    sentences: { type: 'string' },
    beam: { type: 'string', multiple: true, default: ['4'] },
    weight: { type: 'string', multiple: true, default: ['0', '0.03', '0.1', '0.3', '1', '3'] },
  },
});
/** A candidate (or the sentence itself) with both likelihood forms. */
type Scored = RerankCandidate & { logp: number };
const FORMS = ['normalised', 'sum'] as const;

async function main(): Promise<void> {
  if (!values.sentences) throw new Error('give --sentences FILE');
  await initBackend('auto');
  const vae = await TextVae.load(values.model!);
  const lines = fs
    .readFileSync(values.sentences, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');
  // Weight 0 in the engine's form, the plain beam, comes first: the reference of the paired counts.
  const weights = [0, ...values.weight!.map(Number).filter((w) => w !== 0)];

  const codes = await Promise.all(lines.map((l) => vae.encodeToCodes(l)));
  // The sentence itself as a candidate: its re-encoding and its log-likelihood given its own code.
  const reencodedTruth = await vae.posteriors(lines);
  const truth: (Scored | null)[] = [];
  for (let i = 0; i < lines.length; i++) {
    const zs = vae.parseCodes(codes[i]);
    const tokens = Math.min(vae.tokenizer.encode(lines[i]).length, vae.config.maxTokens);
    const logp = zs.length === 1 ? await logLikelihood(vae, lines[i], zs[0]) : NaN;
    truth.push(zs.length === 1 ? { logp, score: lengthNormalised(logp, tokens), ...reencodedTruth[i] } : null);
  }
  for (const width of values.beam!.map(Number)) {
    // Per sentence, per chunk: the candidates with their re-encodings, and the chunk's z.
    // Time in the beam search and in re-encoding its candidates, interleaved so load hits both alike.
    let beamMs = 0;
    let reencodeMs = 0;
    const perSentence: { z: Float32Array; candidates: (Scored & { text: string })[] }[][] = [];
    for (const c of codes) {
      const chunks = [];
      for (const z of vae.parseCodes(c)) {
        const t0 = performance.now();
        const candidates = await vae.beamCandidates(z, { strategy: 'beam', beamWidth: width });
        const t1 = performance.now();
        const reencoded = await vae.posteriors(candidates.map((x) => x.text));
        beamMs += t1 - t0;
        reencodeMs += performance.now() - t1;
        chunks.push({ z, candidates: candidates.map((x, i) => ({ ...x, ...reencoded[i] })) });
      }
      perSentence.push(chunks);
    }
    const oracle =
      perSentence.filter((chunks, i) =>
        chunks.length === 1 ? chunks[0].candidates.some((x) => x.text.trim() === lines[i].trim()) : false,
      ).length / lines.length;
    let plain: number[] | undefined;
    for (const [form, weight] of FORMS.flatMap((f) => weights.map((w) => [f, w] as const))) {
      // 'normalised' is the engine's score; 'sum' puts the summed log-likelihood in its place.
      const as = (c: Scored): RerankCandidate => (form === 'sum' ? { ...c, score: c.logp } : c);
      const rows: RoundTrip[] = perSentence.map((chunks, i) => ({
        text: lines[i],
        codes: codes[i],
        output: chunks.map((ch) => ch.candidates[pickReranked(ch.candidates.map(as), ch.z, weight)].text).join(''),
      }));
      // Would the score pick the sentence itself over every other candidate, were it in the pool?
      const truthWins =
        perSentence.filter((chunks, i) => {
          const own = truth[i];
          if (!own) return false;
          const { z, candidates } = chunks[0];
          const bar = rerankScore(as(own), z, weight);
          return candidates.every((x) => x.text.trim() === lines[i].trim() || rerankScore(as(x), z, weight) < bar);
        }).length / lines.length;
      const m = sentenceMetrics(rows);
      // Paired against the plain beam's output: sentences whose character similarity rose or fell.
      const sims = rows.map((r) => similarity(r.text.trim(), r.output.trim()));
      plain ??= sims;
      const better = sims.filter((s, i) => s > plain![i]).length;
      const worse = sims.filter((s, i) => s < plain![i]).length;
      console.log(
        JSON.stringify({
          beam: width,
          form,
          weight,
          ...m,
          oracle_exact: oracle,
          truth_would_win: truthWins,
          better_than_plain: better,
          worse_than_plain: worse,
          beam_ms: beamMs,
          reencode_ms: reencodeMs,
        }),
      );
    }
  }
  vae.dispose();
}

/** log p(text|z) in nats, EOS included: the quantity a finished beam's score sums. */
async function logLikelihood(vae: TextVae, text: string, z: Float32Array): Promise<number> {
  const batch = makeBatch([vae.tokenizer.encode(text)], [0], vae.config.maxTokens);
  const T1 = batch.length + 1;
  const logp = tf.tidy(() =>
    tf.logSoftmax(
      vae.model.decodeLogits(tf.tensor2d(z, [1, z.length]), tf.tensor2d(batch.decoderInput, [1, T1], 'int32')),
    ),
  );
  const data = await logp.data();
  logp.dispose();
  const V = vae.config.vocabSize;
  let sum = 0;
  for (let t = 0; t < T1 && batch.targets[t] !== PAD; t++) sum += data[t * V + batch.targets[t]];
  return sum;
}

void main();
