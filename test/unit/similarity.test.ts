import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  formatSimilarity,
  levenshtein,
  similarity,
  similarityDetailed,
  tokenize,
  MAX_CHARS_FOR_CHARACTER_LEVEL,
  sentenceMetrics,
  wordF1,
} from '../../src/core/similarity';

describe('levenshtein', () => {
  test('classic examples', () => {
    assert.equal(levenshtein([...'kitten'], [...'sitting']), 3);
    assert.equal(levenshtein([...'flaw'], [...'lawn']), 2);
    assert.equal(levenshtein([], [...'abc']), 3);
    assert.equal(levenshtein([...'abc'], []), 3);
    assert.equal(levenshtein([...'same'], [...'same']), 0);
  });

  test('is symmetric', () => {
    assert.equal(levenshtein([...'intention'], [...'execution']), levenshtein([...'execution'], [...'intention']));
    assert.equal(levenshtein([...'intention'], [...'execution']), 5);
  });

  test('works on token arrays', () => {
    assert.equal(levenshtein(['the', 'cat', 'sat'], ['the', 'dog', 'sat', 'down']), 2);
  });
});

describe('similarity', () => {
  test('identical texts score 1, disjoint texts of equal length score 0', () => {
    assert.equal(similarity('hello', 'hello'), 1);
    assert.equal(similarity('', ''), 1);
    assert.equal(similarity('aaaa', 'bbbb'), 0);
    assert.equal(similarity('', 'abc'), 0);
  });

  test('character level: 1 - distance / longer length', () => {
    // kitten -> sitting: 3 edits, longer length 7.
    assert.equal(similarity('kitten', 'sitting'), 1 - 3 / 7);
  });

  test('counts characters, not UTF-16 units', () => {
    // One emoji replaced by another: one edit out of two characters.
    assert.equal(similarity('a😀', 'a😎'), 0.5);
  });

  test('long texts switch to a token-level measure', () => {
    const a = 'word '.repeat(MAX_CHARS_FOR_CHARACTER_LEVEL / 4);
    const b = a.replace(/word $/, 'other ');
    const r = similarityDetailed(a, b);
    assert.equal(r.method, 'tokens');
    const n = tokenize(a).length;
    assert.equal(r.score, 1 - 1 / n);
  });

  test('very long texts use bags of tokens and still tell order-insensitive overlap', () => {
    const words = Array.from({ length: 5000 }, (_, i) => `w${i}`);
    const r = similarityDetailed(words.join(' '), [...words].reverse().join(' '));
    assert.equal(r.method, 'bag-of-tokens');
    assert.equal(r.score, 1);
  });

  test('formatting: rounded down, 100% only when identical', () => {
    assert.equal(formatSimilarity(0.876), '87%');
    assert.equal(formatSimilarity(0.9999), '99%');
    assert.equal(formatSimilarity(1), '100%');
    assert.equal(formatSimilarity(0), '0%');
  });
});

describe('wordF1', () => {
  test('multiset F1 of lower-cased words, punctuation ignored', () => {
    assert.equal(wordF1('The cat sat.', 'the CAT sat'), 1);
    assert.equal(wordF1('one two three four', 'one two'), 2 / 3);
    // "the" twice in the output matches only the one "the" of the reference.
    assert.equal(wordF1('the cat', 'the the'), 0.5);
    assert.equal(wordF1('alpha', 'beta'), 0);
    assert.equal(wordF1('', '...'), 1);
    assert.equal(wordF1('Größe über', 'größe'), 2 / 3);
  });
});

describe('sentenceMetrics', () => {
  test('a crafted pair: one exact (bar a trailing newline), one truncated with two codes', () => {
    const m = sentenceMetrics([
      { text: 'The cat sat.', codes: ['tvae1:abcdef12:AAAAAA'], output: 'The cat sat.\n' },
      { text: 'one two three four', codes: ['tvae1:abcdef12:AAAA', 'tvae1:abcdef12:BBBBBB'], output: 'one two' },
    ]);
    assert.equal(m.sentences, 2);
    assert.equal(m.exact, 0.5);
    // 'one two three four' -> 'one two': 11 deletions over 18 characters.
    assert.equal(m.char_similarity, (1 + 7 / 18) / 2);
    assert.equal(m.word_f1, (1 + 2 / 3) / 2);
    // Payload characters only (the "tvae1:<fp8>:" prefix is fixed): 6 of 12, then 4 + 6 of 18.
    assert.equal(m.code_chars_per_text_char, (6 / 12 + 10 / 18) / 2);
  });

  test('nothing in common scores 0; no sentences give NaN rather than a made-up figure', () => {
    const m = sentenceMetrics([{ text: 'abc', codes: ['tvae1:abcdef12:QQ'], output: 'xyz' }]);
    assert.deepEqual([m.exact, m.char_similarity, m.word_f1], [0, 0, 0]);
    const none = sentenceMetrics([]);
    assert.equal(none.sentences, 0);
    assert.ok(Number.isNaN(none.exact));
  });
});
