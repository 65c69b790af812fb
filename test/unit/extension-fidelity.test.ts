/** The notice after Compress Selection to Latent Code, and the edits behind its Undo / Use Lossless Code. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { applyEdits, planEdits } from '../../src/extension/logic/edits';
import {
  fidelityNotice,
  MAX_CHECKED_CODES,
  placedRanges,
  planReplaceBack,
  PREVIEW_CHARS,
  tooManyToCheck,
} from '../../src/extension/logic/fidelity';

const CODE_A = 'tvae2:1a2b3c4d:AAAA';
const CODE_B = 'tvae2:1a2b3c4d:BBBBBB';

/** A document, the compress edits applied to it, and where the codes now lie. */
function compressed(text: string, ranges: { start: number; end: number }[], codes: string[]) {
  const edits = planEdits(ranges, codes);
  const after = applyEdits(text, edits);
  return { edits, after, placed: placedRanges(edits) };
}

describe('placedRanges and planReplaceBack', () => {
  const text = 'one two three four five';
  // "two" and "four", selected in reverse order: the codes are longer than the words.
  const { after, placed } = compressed(
    text,
    [
      { start: 14, end: 18 },
      { start: 4, end: 7 },
    ],
    [CODE_B, CODE_A],
  );

  test('the ranges are where the codes lie after the batch', () => {
    assert.equal(after, `one ${CODE_A} three ${CODE_B} five`);
    assert.deepEqual(
      placed.map((p) => after.slice(p.start, p.end)),
      [CODE_A, CODE_B],
    );
  });

  test('Undo: the inverse edits give back the original text exactly', () => {
    const undo = planReplaceBack((s, e) => after.slice(s, e), placed, ['two', 'four']);
    assert.ok(undo);
    assert.equal(applyEdits(after, undo), text);
  });

  test('Use Lossless Code: the latent codes give way to other codes, the rest untouched', () => {
    const swap = planReplaceBack((s, e) => after.slice(s, e), placed, ['tvz2:x', 'tvz2:y']);
    assert.ok(swap);
    assert.equal(applyEdits(after, swap), 'one tvz2:x three tvz2:y five');
  });

  test('a document edited before the codes (offsets moved) is left alone', () => {
    const edited = `Hi. ${after}`;
    assert.equal(
      planReplaceBack((s, e) => edited.slice(s, e), placed, ['two', 'four']),
      undefined,
    );
  });

  test('a code edited by the user is left alone, even where the other one is intact', () => {
    const edited = after.replace(CODE_B, `${CODE_B.slice(0, -1)}x`);
    assert.equal(
      planReplaceBack((s, e) => edited.slice(s, e), placed, ['two', 'four']),
      undefined,
    );
  });

  test('a document cut short before the codes end is left alone', () => {
    const cut = after.slice(0, placed[1].end - 2);
    assert.equal(
      planReplaceBack((s, e) => cut.slice(s, e), placed, ['two', 'four']),
      undefined,
    );
  });

  test('an edit after the codes does not matter', () => {
    const edited = `${after} six`;
    const undo = planReplaceBack((s, e) => edited.slice(s, e), placed, ['two', 'four']);
    assert.ok(undo);
    assert.equal(applyEdits(edited, undo), `${text} six`);
  });
});

describe('fidelityNotice', () => {
  const original = 'Assignment in Python binds a name to an object.';

  test('one code: the measured share of characters and a quoted preview', () => {
    const decoded = 'Assignment in Python copies the object to a name.';
    const msg = fidelityNotice([{ original, codes: [CODE_A] }], [decoded]);
    assert.match(
      msg,
      /^Replaced 1 selection with a latent code\. Latent codes are approximate: it reconstructs as “Assignment in Python copies the object to a name\.” \((\d+)% of characters match\)\.$/,
    );
    // 1 - edit distance / longer length, rounded down.
    const pct = Number(/\((\d+)%/.exec(msg)?.[1]);
    assert.ok(pct > 20 && pct < 100, msg);
  });

  test('a paraphrase with nothing in common reads 0%', () => {
    const msg = fidelityNotice([{ original: 'aaaa', codes: [CODE_A] }], ['bbbb']);
    assert.match(msg, /\(0% of characters match\)/);
  });

  test('a long reconstruction is cut with … and shown on one line', () => {
    const decoded = `${'word '.repeat(40)}\nlast`;
    const msg = fidelityNotice([{ original, codes: [CODE_A] }], [decoded]);
    const quoted = /“([^”]*)”/.exec(msg)?.[1] ?? '';
    assert.ok(quoted.endsWith('…'), quoted);
    assert.ok(quoted.length <= PREVIEW_CHARS, `${quoted.length} characters`);
    assert.ok(!quoted.includes('\n') && !msg.includes('last'));
  });

  test('an exact reconstruction says so, without a percentage', () => {
    const msg = fidelityNotice([{ original, codes: [CODE_A] }], [original]);
    assert.equal(msg, 'Replaced 1 selection with a latent code. It reconstructs exactly as written.');
  });

  test('one selection in several codes: plural', () => {
    const msg = fidelityNotice([{ original, codes: [CODE_A, CODE_B] }], ['Assignment in Python.']);
    assert.match(
      msg,
      /^Replaced 1 selection with 2 latent codes\. Latent codes are approximate: they reconstruct as “/,
    );
  });

  test('several selections: the first quoted, one figure over all of them', () => {
    const replaced = [
      { original: 'abcd', codes: [CODE_A] },
      { original: 'efgh', codes: [CODE_B] },
    ];
    // Half the characters of each selection come back.
    const msg = fidelityNotice(replaced, ['abxx', 'yygh']);
    assert.equal(
      msg,
      'Replaced 2 selections with 2 latent codes. Latent codes are approximate: the first reconstructs as “abxx”; 55% of characters match overall.',
    );
  });

  test('decoding failed: the replacement is named, and that it could not be checked', () => {
    const msg = fidelityNotice([{ original, codes: [CODE_A] }], new Error('the engine stopped'));
    assert.equal(
      msg,
      'Replaced 1 selection with a latent code. Latent codes are approximate, and TextVAE could not check how this one reconstructs: the engine stopped.',
    );
  });

  test('too many codes to decode: not checked, and the notice says why', () => {
    assert.equal(tooManyToCheck(MAX_CHECKED_CODES), undefined);
    const n = MAX_CHECKED_CODES + 1;
    const codes = Array.from({ length: n }, () => CODE_A);
    const msg = fidelityNotice([{ original, codes }], tooManyToCheck(n)!);
    assert.equal(
      msg,
      `Replaced 1 selection with ${n} latent codes. Latent codes are approximate, and TextVAE could not check how these reconstruct: ${n} codes are more than the ${MAX_CHECKED_CODES} TextVAE decodes for this notice.`,
    );
  });
});
