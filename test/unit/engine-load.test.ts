/** Loading untrusted bundles: every refusal names the bundle. */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { before, test } from 'node:test';
import { BundleError, loadBundle, saveBundle } from '../../src/core/bundle';
import { TextVae } from '../../src/core/textVae';
import { setupBackend, sharedTiny } from '../helpers/engine';
import { makeTempDir } from '../helpers/tmp';

let model: string;
before(async () => {
  await setupBackend();
  model = (await sharedTiny({ maxSteps: 5 })).dir;
});

/** A copy of the tiny model with its tokenizer.json replaced (a consistent, re-hashed bundle). */
async function withTokenizer(edit: (t: Record<string, unknown>) => unknown): Promise<string> {
  const b = await loadBundle(model);
  const dir = path.join(makeTempDir('textvae-load-'), 'model');
  await saveBundle(dir, {
    config: b.config,
    tokenizer: edit({ ...(b.tokenizer as Record<string, unknown>) }),
    weights: b.weights,
  });
  return dir;
}

test('a hostile pre-tokenizer is refused at load, naming the bundle, without running it', async () => {
  const dir = await withTokenizer((t) => ({ ...t, pretokenizer: '(a|aa)+$' }));
  await assert.rejects(TextVae.load(dir), (err: unknown) => {
    assert.ok(err instanceof BundleError, String(err));
    assert.ok(err.message.startsWith(`${dir}: tokenizer.json: pretokenizer`), err.message);
    return true;
  });
});

test('tokenizer errors name the bundle', async () => {
  for (const edit of [
    (t: Record<string, unknown>) => ({ ...t, kind: 'wordpiece' }),
    (t: Record<string, unknown>) => ({ ...t, merges: [[1, 2]] }),
    (t: Record<string, unknown>) => ({ ...t, merges: (t.merges as unknown[]).slice(1) }),
  ]) {
    const dir = await withTokenizer(edit);
    await assert.rejects(TextVae.load(dir), (err: unknown) => {
      assert.ok(err instanceof BundleError, String(err));
      assert.ok(err.message.startsWith(`${dir}: tokenizer.json`), err.message);
      return true;
    });
  }
});
