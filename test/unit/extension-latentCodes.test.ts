import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatLatentCode } from '../../src/core/latentCode';
import { codeAt, groupCodeRuns, planCodeRuns } from '../../src/extension/logic/latentCodes';
import { findLatentCodes } from '../../src/core/latentCode';
import { applyEdits, planEdits } from '../../src/extension/logic/edits';

const FP = '0123abcd99999999';
const code = (seed: number) =>
  formatLatentCode(
    Float32Array.from({ length: 8 }, (_, i) => Math.sin(seed * 7 + i)),
    FP,
  );
const [A, B, C, D] = [code(1), code(2), code(3), code(4)];

describe('groupCodeRuns', () => {
  test('codes separated only by whitespace form one run; other text splits runs', () => {
    const text = `x ${A} ${B}\n\t${C} y ${D}`;
    const runs = groupCodeRuns(text, findLatentCodes(text));
    assert.deepEqual(
      runs.map((r) => r.codes),
      [[A, B, C], [D]],
    );
    assert.equal(text.slice(runs[0].start, runs[0].end), `${A} ${B}\n\t${C}`);
    assert.equal(text.slice(runs[1].start, runs[1].end), D);
  });

  test('input order does not matter', () => {
    const text = `${A} ${B}`;
    const found = findLatentCodes(text).reverse();
    assert.deepEqual(
      groupCodeRuns(text, found).map((r) => r.codes),
      [[A, B]],
    );
  });

  test('punctuation between codes breaks the run', () => {
    const text = `${A}, ${B}`;
    assert.equal(groupCodeRuns(text, findLatentCodes(text)).length, 2);
  });
});

describe('codeAt', () => {
  test('finds the code containing the offset, including just after its end', () => {
    const text = `see ${A} here`;
    assert.equal(codeAt(text, 4)?.code, A);
    assert.equal(codeAt(text, 4 + A.length)?.code, A);
    assert.equal(codeAt(text, 3), undefined);
    assert.equal(codeAt(text, 4 + A.length + 1), undefined);
  });

  test('a code glued to other identifier characters is not a code', () => {
    assert.equal(codeAt(`x${A}`, 3), undefined);
  });
});

describe('planCodeRuns', () => {
  const text = `intro ${A} ${B} middle ${C}\n${D} end`;
  const at = (s: string) => text.indexOf(s);

  test('a cursor on one code of a run picks the whole run', () => {
    const runs = planCodeRuns(text, [{ start: at(B) + 3, end: at(B) + 3 }]);
    assert.deepEqual(
      runs.map((r) => r.codes),
      [[A, B]],
    );
  });

  test('a cursor outside any code picks nothing', () => {
    assert.deepEqual(planCodeRuns(text, [{ start: 2, end: 2 }]), []);
  });

  test('a selection picks only the codes it overlaps, grouped into runs', () => {
    const runs = planCodeRuns(text, [{ start: at(B) + 2, end: at(D) + 1 }]);
    assert.deepEqual(
      runs.map((r) => r.codes),
      [[B], [C, D]],
    );
    assert.equal(runs[0].start, at(B));
    assert.equal(runs[1].end, at(D) + D.length);
  });

  test('a reversed selection (anchor after active) works the same', () => {
    const forward = planCodeRuns(text, [{ start: at(A), end: at(B) + B.length }]);
    const backward = planCodeRuns(text, [{ start: at(B) + B.length, end: at(A) }]);
    assert.deepEqual(backward, forward);
    assert.deepEqual(
      forward.map((r) => r.codes),
      [[A, B]],
    );
  });

  test('two cursors on the same run give it once; runs come out sorted', () => {
    const runs = planCodeRuns(text, [
      { start: at(D) + 1, end: at(D) + 1 },
      { start: at(A) + 1, end: at(A) + 1 },
      { start: at(B) + 1, end: at(B) + 1 },
    ]);
    assert.deepEqual(
      runs.map((r) => r.codes),
      [
        [A, B],
        [C, D],
      ],
    );
  });

  test('a selection and a cursor on overlapping parts of a run merge', () => {
    const runs = planCodeRuns(text, [
      { start: at(C), end: at(C) + 5 },
      { start: at(D) + 2, end: at(D) + 2 },
    ]);
    assert.deepEqual(
      runs.map((r) => r.codes),
      [[C, D]],
    );
  });

  test('the planned runs replace cleanly with per-run texts', () => {
    const runs = planCodeRuns(text, [{ start: 0, end: text.length }]);
    const edits = planEdits(
      runs,
      runs.map((r) => `<${r.codes.length}>`),
    );
    assert.equal(applyEdits(text, edits), 'intro <2> middle <2> end');
  });
});
