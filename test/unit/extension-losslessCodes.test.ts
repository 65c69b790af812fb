/** Reconstruct from Code and the hover find lossless `tvz1:` codes beside latent `tvae1:` ones. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { codeAt, findCodes, planCodeRuns } from '../../src/extension/logic/latentCodes';
import { validateParams } from '../../src/protocol/validateParams';

const LATENT = 'tvae1:0123abcd:AQIDBAUG';
const LOSSLESS = 'tvz1:0123abcd:pgMNKWrpdZSRd4nw';

test('both kinds are found in text order, and a run may mix them', () => {
  const text = `x ${LOSSLESS} ${LATENT}\n\nend ${LOSSLESS}.`;
  assert.deepEqual(
    findCodes(text).map((c) => c.code),
    [LOSSLESS, LATENT, LOSSLESS],
  );
  const runs = planCodeRuns(text, [{ start: 3, end: 3 }]);
  assert.deepEqual(runs, [{ start: 2, end: 2 + LOSSLESS.length + 1 + LATENT.length, codes: [LOSSLESS, LATENT] }]);
  assert.equal(codeAt(text, text.indexOf('end') + 5)?.code, LOSSLESS);
  assert.equal(codeAt(`a${LOSSLESS}`, 3), undefined, 'never inside a longer token');
});

test('the engine refuses empty lossless requests before any work', () => {
  assert.throws(() => validateParams('compressLossless', { text: '' }), /empty/);
  assert.throws(() => validateParams('decompressLossless', { codes: [] }));
  assert.deepEqual(validateParams('decompressLossless', { codes: [LOSSLESS] }), { codes: [LOSSLESS] });
});
