import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  formatSimilarity,
  levenshtein,
  similarity,
  similarityDetailed,
  tokenize,
  MAX_CHARS_FOR_CHARACTER_LEVEL,
} from '../../src/extension/logic/similarity';

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
