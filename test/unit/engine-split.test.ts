import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { splitFiles } from '../../src/core/dataset';
import { splitForTraining } from '../../src/core/split';

const file = (relativePath: string, text = `text of ${relativePath}\n`) => ({
  relativePath,
  text,
  path: `/w/${relativePath}`,
  bytes: text.length,
});

describe('splitForTraining', () => {
  test('agrees with the CLI split (splitFiles) when that gives both parts', () => {
    const files = Array.from({ length: 200 }, (_, i) => file(`docs/f${i}.md`));
    const cli = splitFiles(files, 0.05);
    assert.ok(cli.val.length > 0 && cli.train.length > 0);
    const r = splitForTraining(files, 0.05);
    assert.equal(r.method, 'files');
    assert.deepEqual(
      r.val,
      cli.val.map((f) => f.text),
    );
    assert.deepEqual(
      r.train,
      cli.train.map((f) => f.text),
    );
  });

  test('a small workspace still gets a held-out file, never all of them', () => {
    for (let n = 2; n <= 12; n++) {
      const files = Array.from({ length: n }, (_, i) => file(`n${n}/f${i}.txt`));
      const r = splitForTraining(files, 0.05);
      assert.ok(r.val.length >= 1, `n=${n}: nothing held out`);
      assert.ok(r.train.length >= 1, `n=${n}: nothing to train on`);
      assert.equal(r.train.length + r.val.length, n);
      // Every document lands on exactly one side.
      assert.deepEqual([...r.train, ...r.val].sort(), files.map((f) => f.text).sort());
    }
  });

  test('which files are held out depends on their paths, not on their order', () => {
    for (const n of [3, 5, 8]) {
      const files = Array.from({ length: n }, (_, i) => file(`a/${i}.md`));
      const a = splitForTraining(files, 0.05);
      const b = splitForTraining([...files].reverse(), 0.05);
      assert.deepEqual([...a.val].sort(), [...b.val].sort());
      assert.deepEqual([...a.train].sort(), [...b.train].sort());
    }
  });

  test('a single document is split by paragraphs, losing no text', () => {
    const paragraphs = Array.from({ length: 30 }, (_, i) => `Paragraph ${i} has some words.\n\n`);
    const text = paragraphs.join('');
    const r = splitForTraining([file('only.md', text)], 0.05);
    assert.equal(r.method, 'paragraphs');
    assert.equal(r.train.length, 1);
    assert.equal(r.val.length, 1);
    assert.ok(r.val[0].length > 0 && r.train[0].length > 0);
    assert.equal(r.train[0].length + r.val[0].length, text.length);
    for (const p of paragraphs) assert.ok(r.train[0].includes(p) !== r.val[0].includes(p));
  });

  test('one paragraph, or no held-out fraction: everything trains', () => {
    assert.deepEqual(splitForTraining([file('one.md', 'Just one paragraph.')], 0.05), {
      train: ['Just one paragraph.'],
      val: [],
      method: 'none',
      heldOutFiles: 0,
    });
    const files = [file('a.md'), file('b.md')];
    assert.equal(splitForTraining(files, 0).val.length, 0);
  });
});
