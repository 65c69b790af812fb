/**
 * Chooses beam reranking's weight by measurement (issue 8, target 1): for each sentence of FILE, one
 * beam search per width and one re-encoding of its candidates, then every weight scored from those
 * same candidates, so a sweep costs one decode per width rather than one per setting.
 *
 *   node --import tsx scripts/rerank-sweep.ts --model models/default --sentences /tmp/python-held.txt \
 *     --beam 4 --beam 8 --weight 0 --weight 0.1 --weight 1
 *
 * Prints one JSON line per (width, weight): the `eval --sentences` metrics of that choice, plus
 * `oracle_exact`: the fraction of sentences for which some candidate was exact (reranking's ceiling),
 * and `truth_reencodes_closest`: the fraction whose own text re-encodes closer to z (higher
 * log q(z|x)) than every candidate does (whether the re-encoding signal points at the truth).
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { TextVae } from '../src/core/textVae';
import { sentenceMetrics, type RoundTrip } from '../src/core/similarity';
import { pickReranked, reencodeLogDensity, type RerankCandidate } from '../src/core/rerank';
import { initBackend } from '../src/core/backend';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'models/default' },
    sentences: { type: 'string' },
    beam: { type: 'string', multiple: true, default: ['4'] },
    weight: { type: 'string', multiple: true, default: ['0', '0.03', '0.1', '0.3', '1', '3'] },
  },
});
async function main(): Promise<void> {
  if (!values.sentences) throw new Error('give --sentences FILE');
  await initBackend('auto');
  const vae = await TextVae.load(values.model!);
  const lines = fs
    .readFileSync(values.sentences, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');
  const weights = values.weight!.map(Number);

  const codes = await Promise.all(lines.map((l) => vae.encodeToCodes(l)));
  const truth = await vae.posteriors(lines);
  for (const width of values.beam!.map(Number)) {
    // Per sentence, per chunk: the candidates with their re-encodings, and the chunk's z.
    const perSentence: { z: Float32Array; candidates: (RerankCandidate & { text: string })[] }[][] = [];
    for (const c of codes) {
      const chunks = [];
      for (const z of vae.parseCodes(c)) {
        const candidates = await vae.beamCandidates(z, { strategy: 'beam', beamWidth: width });
        const reencoded = await vae.posteriors(candidates.map((x) => x.text));
        chunks.push({ z, candidates: candidates.map((x, i) => ({ ...x, ...reencoded[i] })) });
      }
      perSentence.push(chunks);
    }
    const oracle =
      perSentence.filter((chunks, i) =>
        chunks.length === 1 ? chunks[0].candidates.some((x) => x.text.trim() === lines[i].trim()) : false,
      ).length / lines.length;
    // Does re-encoding point at the truth? The sentence itself re-encodes closer to z than every candidate.
    const truthCloser =
      perSentence.filter((chunks, i) => {
        if (chunks.length !== 1) return false;
        const { z, candidates } = chunks[0];
        const own = reencodeLogDensity(z, truth[i].mu, truth[i].logvar);
        return candidates.every(
          (x) => x.text.trim() === lines[i].trim() || reencodeLogDensity(z, x.mu, x.logvar) < own,
        );
      }).length / lines.length;
    for (const weight of weights) {
      const rows: RoundTrip[] = perSentence.map((chunks, i) => ({
        text: lines[i],
        codes: codes[i],
        output: chunks.map((ch) => ch.candidates[pickReranked(ch.candidates, ch.z, weight)].text).join(''),
      }));
      const m = sentenceMetrics(rows);
      console.log(
        JSON.stringify({ beam: width, weight, ...m, oracle_exact: oracle, truth_reencodes_closest: truthCloser }),
      );
    }
  }
  vae.dispose();
}

void main();
