import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { chooseFiles, corpusSubset } from '../../scripts/corpus-subset';
import { isHeldOut } from '../../src/core/dataset';
import { DEFAULT_VAL_FRACTION } from '../../src/core/trainingRun';
import { makeTempDir } from '../helpers/tmp';

describe('scripts/corpus-subset', () => {
  test('keeps every n-th file and leaves out every m-th', () => {
    assert.deepEqual(chooseFiles(13, 2, 0), [0, 2, 4, 6, 8, 10, 12]);
    assert.deepEqual(chooseFiles(13, 1, 5), [1, 2, 3, 4, 6, 7, 8, 9, 11, 12]);
    assert.deepEqual(chooseFiles(13, 2, 3), [2, 4, 8, 10]);
  });

  test('copies training files only, with their paths, and never a held-out one', async () => {
    const root = makeTempDir('textvae-subset-');
    const corpus = path.join(root, 'corpus');
    const names = Array.from({ length: 60 }, (_, i) => `part${i % 3}/doc${i}.txt`);
    for (const name of names) {
      fs.mkdirSync(path.dirname(path.join(corpus, name)), { recursive: true });
      fs.writeFileSync(path.join(corpus, name), `Text of ${name}.\n`);
    }
    const held = names.filter((n) => isHeldOut(n, DEFAULT_VAL_FRACTION));
    assert.ok(held.length > 0, 'the fixture has held-out files');
    const out = path.join(root, 'subset');
    const r = await corpusSubset(corpus, out, 1, 0);
    assert.equal(r.files, names.length - held.length);
    for (const n of held) assert.equal(fs.existsSync(path.join(out, n)), false, `${n} is held out`);
    const kept = names.find((n) => !held.includes(n))!;
    assert.equal(fs.readFileSync(path.join(out, kept), 'utf8'), `Text of ${kept}.\n`);
    await assert.rejects(corpusSubset(corpus, out, 1, 0), /exists; choose a new folder/);
    // Limits as scripts/cache-tune.ts applies them: files over the size are passed over, the total stops.
    const size = Buffer.byteLength(`Text of ${kept}.\n`);
    assert.equal((await corpusSubset(corpus, path.join(root, 'small'), 1, 0, { maxFileKb: 0.001 })).files, 0);
    const capped = await corpusSubset(corpus, path.join(root, 'capped'), 1, 0, { kb: (2.5 * size) / 1000 });
    assert.equal(capped.files, 2);
    await assert.rejects(corpusSubset(corpus, path.join(root, 'x'), 0, 0), /--every must be a whole number/);
  });
});
