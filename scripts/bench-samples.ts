/**
 * `npm run bench:samples` (issue 8, target 3): samples from the prior under a grid of decoding
 * settings, scored by src/core/sampleQuality.ts next to held-out chunks of the reference text (the
 * model's training domain) cut to the same length. Prints a Markdown table and writes every score
 * and sample to a JSON file. Seeds are fixed, so a rerun on the same model draws the same samples.
 *
 *   npm run bench:samples -- [--model DIR] [--reference PATH] [--n 32] [--seed 1]
 *       [--temperatures 0.6,0.8,1] [--top-p 0.95] [--no-repeat 3,0] [--json FILE]
 *
 * One setting is `textvae eval --samples N --temperature T --top-p P --no-repeat-ngram K --seed S
 * --reference PATH`; this script loads the model once for the whole grid.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend } from '../src/core/backend';
import { collectCorpus } from '../src/core/corpus';
import { TextVae } from '../src/core/textVae';
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
    json: { type: 'string' },
  },
});
const numbers = (s: string) => s.split(',').map(Number);

interface Row {
  setting: string;
  temperature?: number;
  topP?: number;
  noRepeatNgram?: number;
  quality: SampleQuality;
  texts: string[];
}

function table(rows: Row[]): string {
  const pct = (v: number | null) => (v === null ? '–' : `${(v * 100).toFixed(v > 0 && v < 0.1 ? 1 : 0)} %`);
  const head =
    '| text | loops | longest repeat (words, max) | word runs | distinct-1 / -2 | known words | sentences / sample | well-formed | balanced | with a verb | markup lines | mean chars |';
  const lines = [head, head.replace(/[^|]+/g, (c) => '-'.repeat(Math.max(3, c.length)))];
  for (const { setting, quality: q } of rows)
    lines.push(
      `| ${setting} | ${pct(q.loop_share)} | ${q.longest_repeat_words_max} | ${pct(q.word_run_share)} | ` +
        `${q.distinct_1.toFixed(2)} / ${q.distinct_2.toFixed(2)} | ${pct(q.known_word_share)} | ` +
        `${q.sentences_per_sample.toFixed(2)} | ${pct(q.sentence_ok_share)} | ${pct(q.sentence_balanced_share)} | ` +
        `${pct(q.sentence_verb_share)} | ${pct(q.markup_line_share)} | ${Math.round(q.mean_chars)} |`,
    );
  return lines.join('\n');
}

async function main(): Promise<void> {
  const backend = await initBackend('auto');
  const vae = await TextVae.load(values.model);
  const n = Number(values.n);
  const seed = Number(values.seed);
  const referencePaths = values.reference ?? [ensureCorpus('python-docs')];
  const { files } = await collectCorpus(referencePaths);
  const reference = referenceFor(files, n, (t) => vae.chunk(t), DEFAULT_VAL_FRACTION);
  const rows: Row[] = [];
  if (reference.chunks.length)
    rows.push({
      setting: `reference: ${reference.chunks.length} held-out chunks`,
      quality: scoreSamples(reference.chunks, reference.vocabulary),
      texts: reference.chunks,
    });
  for (const noRepeatNgram of numbers(values['no-repeat']))
    for (const temperature of numbers(values.temperatures))
      for (const topP of numbers(values['top-p'])) {
        const started = Date.now();
        const texts = await vae.sample(n, { strategy: 'sample', temperature, topP, noRepeatNgram, seed });
        rows.push({
          setting: `T ${temperature}, top-p ${topP}, no-repeat ${noRepeatNgram}`,
          temperature,
          topP,
          noRepeatNgram,
          quality: scoreSamples(texts, reference.vocabulary),
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
    seed,
    rows,
  };
  fs.writeFileSync(out, JSON.stringify(record, null, 1) + '\n');
  process.stdout.write(
    `model ${vae.dir} (${vae.fingerprint.slice(0, 8)}), ${n} samples per setting, seed ${seed}, backend ${backend.name}\n\n` +
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
