/**
 * Sample quality scores (issue 8, target 3) on hand-written texts whose faults are known, and
 * `textvae eval --samples` as users run it.
 */
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';

import {
  balanced,
  longestWordRun,
  referenceFor,
  scoreSample,
  scoreSamples,
  sentences,
  wordVocabulary,
  words,
} from '../../src/core/sampleQuality';
import { REPO, describeRun, ensureCliBuilt, runCli, stderrLines } from '../helpers/cli';
import { makeTempDir, writeFiles } from '../helpers/tmp';

const CLEAN =
  'The list type is a mutable sequence. It stores references to objects, and its length can change.\n' +
  'Use the append method to add one item at the end. Sorting happens in place.';
const LOOPING = 'The value of the key is the value of the key is the value of the key is the value.';
const STUTTER = 'This function returns the the the value of the key.';

describe('loops and runs', () => {
  test('a looping sample scores as looping, a clean paragraph does not', () => {
    const looping = scoreSamples([LOOPING]);
    assert.equal(looping.loop_share, 1);
    assert.ok(looping.longest_repeat_words_max >= 8, `repeat of ${looping.longest_repeat_words_max} words`);
    const clean = scoreSamples([CLEAN]);
    assert.equal(clean.loop_share, 0);
    assert.equal(clean.word_run_share, 0);
    assert.ok(clean.longest_repeat_words_max < 4);
    assert.ok(clean.longest_repeat_chars_max < 12, `clean text repeats only short pieces like " the "`);
    assert.ok(looping.longest_repeat_chars_max > 40);
  });

  test('loops of any period count once they repeat four words', () => {
    assert.equal(scoreSamples(['the the the the the']).loop_share, 1);
    assert.equal(scoreSamples(['a b a b a b']).loop_share, 1);
    assert.equal(scoreSamples(['a b a b a']).loop_share, 0, 'a b a b repeats only "a b a"');
  });

  test('runs of the same word, case aside', () => {
    assert.equal(longestWordRun(words(STUTTER)), 3);
    assert.equal(longestWordRun(words('The the end')), 2);
    assert.equal(longestWordRun([]), 0);
    const set = scoreSamples([STUTTER, CLEAN]);
    assert.equal(set.word_run_share, 0.5);
    assert.equal(set.longest_word_run, 3);
  });

  test('code and markup make no word run; prose does, punctuation aside', () => {
    assert.equal(scoreSample('Use datetime.fromtimestamp(time.time()) or ``%s:%s`` here.').longestWordRun, 1);
    assert.equal(scoreSample('Raise an error; see see the :ref:`detail`.').longestWordRun, 2);
    assert.equal(scoreSample('Automatic control, control and more.').longestWordRun, 2);
  });

  test('repeated characters are found inside one long word, whitespace runs counting as one', () => {
    assert.ok(scoreSample('PyErr_GeneratorGeneratorGeneratorGenerator').longestRepeatChars >= 18);
    assert.equal(scoreSample('a        b        c').longestRepeatChars, 1);
  });
});

describe('variety and words', () => {
  test('distinct-1 and distinct-2 over all samples', () => {
    const q = scoreSamples(['a b a b', 'c']);
    assert.equal(q.distinct_1, 3 / 5);
    assert.equal(q.distinct_2, 2 / 3, 'pairs are counted within a sample, never across two');
  });

  test('known words against a vocabulary; the unknown ones are listed, most frequent first', () => {
    const vocabulary = wordVocabulary(['The list type stores objects.']);
    const q = scoreSamples(['The list zorbs zorbs flurp objects.'], vocabulary);
    assert.equal(q.known_word_share, 3 / 6);
    assert.deepEqual(q.unknown_words, ['zorbs', 'flurp']);
    assert.equal(scoreSamples(['The list']).known_word_share, null, 'no vocabulary, no score');
  });

  test('words keep identifiers and contractions whole', () => {
    assert.deepEqual(words("Don't call os.path_join(x2) twice"), ["don't", 'call', 'os', 'path_join', 'x2', 'twice']);
  });
});

describe('sentences', () => {
  test('a clean paragraph: every sentence is well-formed', () => {
    const s = sentences(CLEAN);
    assert.equal(s.length, 4);
    assert.ok(
      s.every((x) => x.wellFormed),
      JSON.stringify(s),
    );
    assert.equal(scoreSamples([CLEAN]).sentence_ok_share, 1);
  });

  test('a continuation at the start and a cut-off end are not judged', () => {
    const s = sentences('of the file is closed. The file is read again. Then the reader');
    assert.deepEqual(
      s.map((x) => x.text),
      ['The file is read again.'],
    );
  });

  test('fragments, word salad and broken markup fail', () => {
    const [noVerb] = sentences('The big red dog of the garden.');
    assert.equal(noVerb.wellFormed, false);
    assert.equal(noVerb.hasVerb, false);
    const [open] = sentences('Call :func:`len on the list (and its items.');
    assert.equal(open.balanced, false);
    assert.equal(open.wellFormed, false);
    const [thirdPerson] = sentences('For a module, it disassembles all functions.');
    assert.equal(thirdPerson.wellFormed, true, 'an -s verb after a pronoun');
    const [plural] = sentences('The values of the keys.');
    assert.equal(plural.hasVerb, false, 'an -s word after "the" is a noun');
    const [short] = sentences('It is.');
    assert.equal(short.wellFormed, false, 'fewer than three words');
    assert.equal(balanced('A (b [c] d) "e" `f`.'), true);
    assert.equal(balanced('A (b]'), false);
  });

  test('abbreviations do not end a sentence; markup lines are not prose', () => {
    const s = sentences('Some types, e.g. lists, are mutable.\n.. note::\n-----\nThey can change.');
    assert.deepEqual(
      s.map((x) => x.text),
      ['Some types, e.g. lists, are mutable.', 'They can change.'],
    );
  });
});

describe('markup', () => {
  test('lines holding RST or HTML markup are counted', () => {
    const q = scoreSamples(['Use :func:`len` here.\nplain words\n------\n<b>bold</b>\n.. versionadded:: 3.2\n\n']);
    assert.equal(q.markup_line_share, 4 / 5);
    assert.equal(scoreSamples([CLEAN]).markup_line_share, 0);
  });
});

describe('reference text', () => {
  test('words come from the training split, chunks from the held-out split', () => {
    const files = Array.from({ length: 40 }, (_, i) => ({
      relativePath: `doc${i}.txt`,
      text: `Word${i} one.\n\nWord${i} two.\n`,
    }));
    const r = referenceFor(files, 5, (t) => t.split(/(?<=\n\n)/), 0.2);
    assert.ok(r.heldOutFiles > 0 && r.trainFiles > 0);
    assert.equal(r.chunks.length, 5);
    for (const chunk of r.chunks) {
      const word = words(chunk)[0];
      assert.equal(r.vocabulary.has(word), false, `${word} is held out, so not a known word`);
    }
    assert.ok(r.vocabulary.has('one'));
  });

  test('for paragraph samples, each reference piece is consecutive chunks of one document', () => {
    const files = Array.from({ length: 40 }, (_, i) => ({
      relativePath: `doc${i}.txt`,
      text: `Word${i} one.\n\nWord${i} two.\n\nWord${i} three.\n`,
    }));
    const r = referenceFor(files, 100, (t) => t.split(/(?<=\n\n)/), 0.2, 2);
    assert.equal(r.chunks.length, r.heldOutFiles, 'one run of two per document: the third chunk has no partner');
    for (const piece of r.chunks) assert.match(piece, /^Word(\d+) one\.\n\nWord\1 two\.\n\n$/);
  });

  test('fewer held-out chunks than asked: all of them', () => {
    const files = [
      { relativePath: 'a.txt', text: 'Alpha.\n\nBeta.\n' },
      { relativePath: 'b.txt', text: 'Gamma.\n' },
    ];
    const r = referenceFor(files, 10, (t) => [t], 0.5);
    assert.equal(r.chunks.length, 1);
  });

  test('an empty set is an error, not a row of zeros', () => {
    assert.throws(() => scoreSamples([]), /no texts/);
  });
});

describe('textvae eval --samples', () => {
  before(ensureCliBuilt);
  const model = path.join(REPO, 'models', 'default');

  test('--reference without --samples is bad usage', async () => {
    const r = await runCli(['eval', '--model', model, '--reference', REPO]);
    assert.equal(r.code, 2, describeRun(r));
    assert.match(stderrLines(r)[0], /--reference applies to --samples N/);
  });

  test('scores N samples next to N held-out reference chunks, as one JSON object', async () => {
    const data = writeFiles(makeTempDir('textvae-ref-'), {
      ...Object.fromEntries(
        Array.from({ length: 20 }, (_, i) => [
          `doc${i}.txt`,
          // Long enough for several chunks, so that there are runs of consecutive ones.
          `The function returns a list of values.\n\nEach call ${i} creates a new object.\n\n`.repeat(8),
        ]),
      ),
    });
    const args = ['eval', '--json', '--model', model, '--samples', '4', '--seed', '3', '--reference', data];
    const r = await runCli(args);
    assert.equal(r.code, 0, describeRun(r));
    const m = JSON.parse(r.stdout);
    assert.equal(m.sample_quality.samples, 4);
    assert.equal(m.sample_texts.length, 4);
    assert.deepEqual(m.sample_decoding, {
      strategy: 'sample',
      temperature: 0.8,
      top_p: 0.95,
      no_repeat_ngram: 3,
      seed: 3,
      // The default model carries a fitted prior (prior.json), and sampling uses it.
      latent: 'fitted',
      chunks: 1,
      candidates: 1,
    });
    assert.equal(typeof m.sample_quality.known_word_share, 'number');
    assert.ok(m.reference_quality.samples >= 1 && m.reference_quality.samples <= 4);
    assert.equal(m.reference_quality.known_word_share, 1, 'held-out chunks use only words of the training split');
    const again = JSON.parse((await runCli(args)).stdout);
    assert.deepEqual(again.sample_texts, m.sample_texts, 'the same seed draws the same samples');
    // Paragraphs of two chunks, next to runs of two consecutive held-out chunks.
    const two = JSON.parse((await runCli([...args, '--chunks', '2'])).stdout);
    assert.equal(two.sample_decoding.chunks, 2);
    assert.equal(two.sample_texts.length, 4);
    assert.ok(
      two.reference_quality.mean_chars > m.reference_quality.mean_chars * 1.5,
      'two chunks per reference piece',
    );
  });
});
