import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { applyEdits, planEdits } from '../../src/extension/logic/edits';

describe('planEdits', () => {
  test('multi-selection replacements become one sorted batch', () => {
    const text = 'alpha beta gamma delta';
    // Selections in editor order (primary last), not document order.
    const ranges = [
      { start: 17, end: 22 },
      { start: 0, end: 5 },
      { start: 11, end: 16 },
    ];
    const edits = planEdits(ranges, ['D', 'A', 'G']);
    assert.deepEqual(
      edits.map((e) => e.start),
      [0, 11, 17],
    );
    assert.equal(applyEdits(text, edits), 'A beta G D');
  });

  test('empty selections and missing replacements are left alone', () => {
    const edits = planEdits(
      [
        { start: 3, end: 3 },
        { start: 0, end: 2 },
        { start: 4, end: 6 },
      ],
      ['x', 'y', undefined],
    );
    assert.deepEqual(edits, [{ start: 0, end: 2, text: 'y' }]);
  });

  test('reversed ranges are normalised', () => {
    assert.deepEqual(planEdits([{ start: 5, end: 1 }], ['z']), [{ start: 1, end: 5, text: 'z' }]);
  });

  test('the same range twice is edited once; conflicting texts for it throw', () => {
    assert.equal(
      planEdits(
        [
          { start: 0, end: 3 },
          { start: 0, end: 3 },
        ],
        ['q', 'q'],
      ).length,
      1,
    );
    assert.throws(
      () =>
        planEdits(
          [
            { start: 0, end: 3 },
            { start: 0, end: 3 },
          ],
          ['q', 'r'],
        ),
      /two different replacements/,
    );
  });

  test('overlapping ranges cannot be applied in one batch', () => {
    assert.throws(
      () =>
        planEdits(
          [
            { start: 0, end: 5 },
            { start: 4, end: 8 },
          ],
          ['a', 'b'],
        ),
      /overlap/,
    );
  });

  test('adjacent (touching) ranges are fine', () => {
    const edits = planEdits(
      [
        { start: 0, end: 2 },
        { start: 2, end: 4 },
      ],
      ['1', '2'],
    );
    assert.equal(applyEdits('abcdef', edits), '12ef');
  });

  test('mismatched lengths are a programming error', () => {
    assert.throws(() => planEdits([{ start: 0, end: 1 }], []), /replacements/);
  });
});
