/** Training saves the weight storage it is asked for; the weights it trains stay float32. */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';

import { loadBundle } from '../../src/core/bundle';
import { setupBackend, trainTiny } from '../helpers/engine';

before(async () => {
  await setupBackend();
});

test("weightsDtype float16 saves halves; a resumed run keeps its checkpoint's storage unless told", async () => {
  const first = await trainTiny({ maxSteps: 2, weightsDtype: 'float16' });
  assert.equal((await loadBundle(first.dir)).weightsDtype, 'float16');
  const kept = await trainTiny({ resume: first.dir, maxSteps: 3 });
  assert.equal((await loadBundle(kept.dir)).weightsDtype, 'float16');
  const wide = await trainTiny({ resume: first.dir, maxSteps: 3, weightsDtype: 'float32' });
  assert.equal((await loadBundle(wide.dir)).weightsDtype, 'float32');
  assert.equal((await loadBundle((await trainTiny({ maxSteps: 1 })).dir)).weightsDtype, 'float32');
});
