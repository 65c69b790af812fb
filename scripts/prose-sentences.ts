/**
 * Short one-line prose sentences of a corpus's held-out files: the input of
 * `textvae eval --sentences` for target 1 of issue 8 (and of scripts/finalize-model.ts).
 *
 *   node --import tsx scripts/prose-sentences.ts --data .corpora/python-docs > /tmp/python-held.txt
 *   node --import tsx scripts/prose-sentences.ts --data DIR --split all
 *
 * A sentence is a trimmed line that starts with a capitalised word, ends with a full stop, is
 * 33 to 93 characters long and has no markup characters (` * : _ |); lines that start like an
 * earlier one (first 20 characters) are dropped. The held-out files are those `textvae train`
 * holds out with the same --val-fraction.
 */
import { parseArgs } from 'node:util';
import { collectCorpus } from '../src/core/corpus';
import { splitForTraining } from '../src/core/split';

export function proseSentences(texts: readonly string[]): string[] {
  const prose: string[] = [];
  const seen = new Set<string>();
  for (const text of texts) {
    for (const line of text.split('\n')) {
      const s = line.trim();
      if (/^[A-Z][a-z].{30,90}\.$/.test(s) && !/[`*:_|]/.test(s) && !seen.has(s.slice(0, 20))) {
        seen.add(s.slice(0, 20));
        prose.push(s);
      }
    }
  }
  return prose;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      data: { type: 'string', multiple: true },
      split: { type: 'string', default: 'val' },
      'val-fraction': { type: 'string', default: '0.05' },
    },
  });
  if (!values.data?.length) throw new Error('--data PATH is required');
  if (values.split !== 'val' && values.split !== 'all') throw new Error('--split must be val or all');
  const { files } = await collectCorpus(values.data);
  const texts =
    values.split === 'all' ? files.map((f) => f.text) : splitForTraining(files, Number(values['val-fraction'])).val;
  const sentences = proseSentences(texts);
  if (sentences.length === 0) throw new Error('no prose sentences found');
  process.stdout.write(sentences.join('\n') + '\n');
}

// Run as a script, not when scripts/finalize-model.ts imports proseSentences.
if (require.main === module)
  main().catch((err: unknown) => {
    process.stderr.write(`prose-sentences: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
