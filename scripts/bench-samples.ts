/**
 * `npm run bench:samples` (issue 8, target 3): samples from the prior under a grid of decoding
 * settings, scored by src/core/sampleQuality.ts next to held-out chunks of the reference text (the
 * model's training domain) cut to the same length. Prints a Markdown table and writes every score
 * and sample to a JSON file. Seeds are fixed, so a rerun on the same model draws the same samples.
 *
 *   npm run bench:samples -- [--model DIR] [--reference PATH] [--n 32] [--seed 1[,2...]]
 *       [--temperatures 0.6,0.8,1] [--top-p 0.95] [--no-repeat 3,0] [--json FILE]
 *       [--latent default,standard,fitted,fitted@0.8,independent] [--chunks 1] [--candidates 1,4]
 *
 * --latent: where codes come from. default: as `textvae sample` (the bundle's prior.json, else
 * N(0, I)); standard: N(0, I); fitted[@S]: the fitted prior, spread S (1); independent[@S]: the
 * fitted mixture for every chunk of a paragraph, without the transition. --chunks P: paragraphs of
 * P chunks, against reference pieces of P consecutive held-out chunks; the "topic" column is then
 * the mean cosine between the codes of a piece's consecutive chunks (re-encoded). --candidates K:
 * keep the likeliest of K draws per token. Several seeds are pooled in one row; "well-formed per
 * seed" shows the spread.
 *
 * One setting is `textvae eval --samples N --temperature T --top-p P --no-repeat-ngram K --seed S
 * --reference PATH`; this script loads the model once for the whole grid.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend } from '../src/core/backend';
import { collectCorpus } from '../src/core/corpus';
import { TextVae, type SampleRun } from '../src/core/textVae';
import { DEFAULT_VAL_FRACTION } from '../src/core/trainingRun';
import { referenceFor, scoreSamples, type SampleQuality } from '../src/core/sampleQuality';
import { ensureCorpus } from './corpus/build';

const REPO = path.resolve(__dirname, '..');
const { values } = parseArgs({
  options: {
    model: { type: 'string', default: path.join(REPO, 'models', 'default') },
    reference: { type: 'string', multiple: true },
    n: { type: 'string', default: '32' },
    seed: { type: 'string', default: '1' },
    temperatures: { type: 'string', default: '0.6,0.8,1' },
    'top-p': { type: 'string', default: '0.95' },
    'no-repeat': { type: 'string', default: '3,0' },
    latent: { type: 'string', default: 'default' },
    chunks: { type: 'string', default: '1' },
    candidates: { type: 'string', default: '1' },
    json: { type: 'string' },
  },
});
const numbers = (s: string) => s.split(',').map(Number);

interface Row {
  setting: string;
  temperature?: number;
  topP?: number;
  noRepeatNgram?: number;
  latent?: string;
  candidates?: number;
  quality: SampleQuality;
  /** Well-formed share of each seed's samples alone. */
  perSeed: (number | null)[];
  /** Mean cosine between consecutive chunks' codes (paragraphs only). */
  topic: number | null;
  texts: string[];
}

/** The sampling options of a --latent entry. */
function latentOptions(entry: string): Pick<SampleRun, 'latentPrior' | 'latentScale' | 'transition'> {
  const [kind, scale] = entry.split('@');
  const latentScale = scale === undefined ? undefined : Number(scale);
  if (kind === 'default') return {};
  if (kind === 'standard') return { latentPrior: 'standard' };
  if (kind === 'fitted') return { latentPrior: 'fitted', latentScale };
  if (kind === 'independent') return { latentPrior: 'fitted', latentScale, transition: false };
  throw new Error(`--latent ${entry}: use default, standard, fitted[@S] or independent[@S]`);
}

/** Mean cosine similarity between the posterior means of consecutive chunks of each text. */
async function topicCoherence(vae: TextVae, texts: string[]): Promise<number | null> {
  let sum = 0,
    count = 0;
  for (const text of texts) {
    const pieces = vae.chunk(text).filter((c) => c.trim() !== '');
    if (pieces.length < 2) continue;
    const codes = await vae.encodeChunks(pieces);
    for (let i = 1; i < codes.length; i++) {
      let dot = 0,
        a = 0,
        b = 0;
      for (let j = 0; j < codes[i].length; j++) {
        dot += codes[i - 1][j] * codes[i][j];
        a += codes[i - 1][j] ** 2;
        b += codes[i][j] ** 2;
      }
      sum += dot / Math.sqrt(a * b || 1);
      count++;
    }
  }
  return count ? sum / count : null;
}

function table(rows: Row[]): string {
  const pct = (v: number | null) => (v === null ? '–' : `${(v * 100).toFixed(v > 0 && v < 0.1 ? 1 : 0)} %`);
  const head =
    '| text | loops | longest repeat (words, max) | word runs | distinct-1 / -2 | known words | sentences / sample | well-formed | well-formed per seed | balanced | with a verb | markup lines | topic | mean chars |';
  const lines = [head, head.replace(/[^|]+/g, (c) => '-'.repeat(Math.max(3, c.length)))];
  for (const { setting, quality: q, perSeed, topic } of rows)
    lines.push(
      `| ${setting} | ${pct(q.loop_share)} | ${q.longest_repeat_words_max} | ${pct(q.word_run_share)} | ` +
        `${q.distinct_1.toFixed(2)} / ${q.distinct_2.toFixed(2)} | ${pct(q.known_word_share)} | ` +
        `${q.sentences_per_sample.toFixed(2)} | ${pct(q.sentence_ok_share)} | ${perSeed.map(pct).join(', ')} | ` +
        `${pct(q.sentence_balanced_share)} | ${pct(q.sentence_verb_share)} | ${pct(q.markup_line_share)} | ` +
        `${topic === null ? '–' : topic.toFixed(2)} | ${Math.round(q.mean_chars)} |`,
    );
  return lines.join('\n');
}

async function main(): Promise<void> {
  const backend = await initBackend('auto');
  const vae = await TextVae.load(values.model);
  const n = Number(values.n);
  const seeds = numbers(values.seed);
  const chunks = Number(values.chunks);
  const referencePaths = values.reference ?? [ensureCorpus('python-docs')];
  const { files } = await collectCorpus(referencePaths);
  const reference = referenceFor(files, n * seeds.length, (t) => vae.chunk(t), DEFAULT_VAL_FRACTION, chunks);
  const rows: Row[] = [];
  const coherence = (texts: string[]) => (chunks > 1 ? topicCoherence(vae, texts) : Promise.resolve(null));
  if (reference.chunks.length)
    rows.push({
      setting: `reference: ${reference.chunks.length} held-out ${chunks > 1 ? `runs of ${chunks} chunks` : 'chunks'}`,
      quality: scoreSamples(reference.chunks, reference.vocabulary),
      perSeed: [],
      topic: await coherence(reference.chunks),
      texts: reference.chunks,
    });
  for (const latent of values.latent.split(','))
    for (const candidates of numbers(values.candidates))
      for (const noRepeatNgram of numbers(values['no-repeat']))
        for (const temperature of numbers(values.temperatures))
          for (const topP of numbers(values['top-p'])) {
            const started = Date.now();
            const texts: string[] = [];
            const perSeed: (number | null)[] = [];
            for (const s of seeds) {
              const part = await vae.sample(n, {
                strategy: 'sample',
                temperature,
                topP,
                noRepeatNgram,
                seed: s,
                chunks,
                candidates,
                ...latentOptions(latent),
              });
              perSeed.push(scoreSamples(part, reference.vocabulary).sentence_ok_share);
              texts.push(...part);
            }
            rows.push({
              setting:
                `${latent}${candidates > 1 ? `, best of ${candidates}` : ''}, ` +
                `T ${temperature}, top-p ${topP}, no-repeat ${noRepeatNgram}`,
              temperature,
              topP,
              noRepeatNgram,
              latent,
              candidates,
              quality: scoreSamples(texts, reference.vocabulary),
              perSeed,
              topic: await coherence(texts),
              texts,
            });
            process.stderr.write(`${rows.at(-1)!.setting}: ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
          }
  const out =
    values.json ?? path.join(REPO, '.bench', `samples-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const record = {
    model: vae.dir,
    fingerprint: vae.fingerprint,
    backend: backend.name,
    reference: referencePaths,
    n,
    seeds,
    chunks,
    prior: vae.prior ? vae.prior.json.fit : null,
    rows,
  };
  fs.writeFileSync(out, JSON.stringify(record, null, 1) + '\n');
  process.stdout.write(
    `model ${vae.dir} (${vae.fingerprint.slice(0, 8)}${vae.prior ? ', with prior.json' : ''}), ${n} samples per setting and seed, ` +
      `seeds ${seeds.join(', ')}, ${chunks} chunk${chunks > 1 ? 's' : ''} per sample, backend ${backend.name}\n\n` +
      table(rows) +
      '\n\n' +
      rows.map((r) => `${r.setting}: unknown words ${r.quality.unknown_words.slice(0, 8).join(', ')}`).join('\n') +
      `\n\nscores and samples: ${out}\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`bench-samples: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
