/**
 * Copies a chosen part of a corpus's training files (as `textvae train` splits them: the held-out
 * files never come along) into a new folder, keeping their relative paths. Files are taken in path
 * order, numbered from 0:
 *
 *   --every N        keep file i when i % N == 0 (a thinner corpus, to balance two of them)
 *   --skip-every M   leave out file i when i % M == 0 (scripts/cache-tune.ts tunes on those)
 *   --max-file-kb F  leave out files over F kB;  --kb K  stop before the total passes K kB
 *
 * `--every 23 --max-file-kb 50 --kb 300` gives exactly the files scripts/cache-tune.ts tunes on.
 *   node --import tsx scripts/corpus-subset.ts --data .corpora/debian-docs --every 6 --skip-every 23 --out /tmp/deb6
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { collectCorpus, type CorpusFile } from '../src/core/corpus';
import { splitForTraining } from '../src/core/split';
import { DEFAULT_VAL_FRACTION } from '../src/core/trainingRun';

/** Indexes (in path order) of the training files kept. */
export function chooseFiles(count: number, every: number, skipEvery: number): number[] {
  const kept: number[] = [];
  for (let i = 0; i < count; i++) if (i % every === 0 && !(skipEvery > 0 && i % skipEvery === 0)) kept.push(i);
  return kept;
}

/** The training files of `data` (held-out files never), in path order, chosen as the options say. */
export async function selectTrainingFiles(
  data: string,
  every: number,
  skipEvery: number,
  limits: { maxFileKb?: number; kb?: number } = {},
): Promise<CorpusFile[]> {
  if (!(Number.isInteger(every) && every >= 1)) throw new Error(`--every must be a whole number ≥ 1, got ${every}`);
  if (!(Number.isInteger(skipEvery) && skipEvery >= 0))
    throw new Error(`--skip-every must be a whole number ≥ 0, got ${skipEvery}`);
  const { files } = await collectCorpus([data]);
  const train = new Set(splitForTraining(files, DEFAULT_VAL_FRACTION).train);
  const sorted = files.filter((f) => train.has(f.text)).sort((a, b) => (a.relativePath < b.relativePath ? -1 : 1));
  const chosen: CorpusFile[] = [];
  let bytes = 0;
  for (const i of chooseFiles(sorted.length, every, skipEvery)) {
    const f = sorted[i];
    if (limits.maxFileKb !== undefined && f.bytes > limits.maxFileKb * 1000) continue;
    if (limits.kb !== undefined && (bytes + f.bytes) / 1000 > limits.kb) break;
    chosen.push(f);
    bytes += f.bytes;
  }
  return chosen;
}

export async function corpusSubset(
  data: string,
  out: string,
  every: number,
  skipEvery: number,
  limits: { maxFileKb?: number; kb?: number } = {},
): Promise<{ files: number; bytes: number }> {
  if (fs.existsSync(out)) throw new Error(`--out ${out} exists; choose a new folder`);
  const chosen = await selectTrainingFiles(data, every, skipEvery, limits);
  for (const f of chosen) {
    const target = path.join(out, f.relativePath);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, f.text);
  }
  return { files: chosen.length, bytes: chosen.reduce((s, f) => s + f.bytes, 0) };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      data: { type: 'string' },
      out: { type: 'string' },
      every: { type: 'string', default: '1' },
      'skip-every': { type: 'string', default: '0' },
      'max-file-kb': { type: 'string' },
      kb: { type: 'string' },
    },
  });
  if (!values.data || !values.out)
    throw new Error('usage: corpus-subset.ts --data DIR --out DIR [--every N] [--skip-every M]');
  const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
  const r = await corpusSubset(values.data, values.out, Number(values.every), Number(values['skip-every']), {
    maxFileKb: num(values['max-file-kb']),
    kb: num(values.kb),
  });
  process.stdout.write(`${values.out}: ${r.files} training files of ${values.data}, ${r.bytes} bytes\n`);
}

if (process.argv[1]?.endsWith('corpus-subset.ts')) {
  main().catch((err: unknown) => {
    process.stderr.write(`corpus-subset: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
