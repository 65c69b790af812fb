/** Turns documents into tokenised, paragraph-aware examples with a deterministic train/validation split. */
import { stableHash } from './random';
import type { CorpusFile } from './corpus';
import type { Tokenizer } from './tokenizer';
import { chunkForTraining } from './chunker';

export interface Example {
  tokens: number[];
  bytes: number;
  /** Index of the document the chunk came from (in order): a document cache starts afresh at each. */
  doc?: number;
}

/** True for files in the validation (held-out) part: decided by a hash of the relative path only. */
export function isHeldOut(relativePath: string, valFraction: number): boolean {
  return (stableHash(relativePath) % 10000) / 10000 < valFraction;
}

export function splitFiles(files: CorpusFile[], valFraction: number): { train: CorpusFile[]; val: CorpusFile[] } {
  const train: CorpusFile[] = [];
  const val: CorpusFile[] = [];
  for (const f of files) (isHeldOut(f.relativePath, valFraction) ? val : train).push(f);
  return { train, val };
}

export function makeExamples(texts: string[], tokenizer: Tokenizer, maxTokens: number): Example[] {
  const out: Example[] = [];
  const encoder = new TextEncoder();
  texts.forEach((text, doc) => {
    for (const chunk of chunkForTraining(text, (s) => tokenizer.encode(s).length, maxTokens)) {
      out.push({ tokens: tokenizer.encode(chunk), bytes: encoder.encode(chunk).length, doc });
    }
  });
  return out;
}

/**
 * Splits examples when the files alone cannot give both parts (a single document, say):
 * every example is assigned by a hash of its position.
 */
export function splitExamples(examples: Example[], valFraction: number): { train: Example[]; val: Example[] } {
  const train: Example[] = [];
  const val: Example[] = [];
  examples.forEach((ex, i) => ((stableHash(`example:${i}`) % 10000) / 10000 < valFraction ? val : train).push(ex));
  return { train, val };
}
