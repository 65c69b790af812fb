/** scripts/bundleArgs.ts: the command line fit-prior.ts and recode-model.ts share. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseBundleArgs } from '../../scripts/bundleArgs';

const USAGE = 'tool.ts DIR --out DIR2 --data CORPUS... [--k K]';
const OWN = { k: { type: 'string', default: '16' }, flag: { type: 'boolean', default: false } } as const;
const parse = (args: string[]) => parseBundleArgs(USAGE, OWN, args);

describe('scripts/bundleArgs parseBundleArgs', () => {
  test('reads DIR, --out, every --data, the shared defaults and the script’s own options', () => {
    const r = parse(['model', '--out', 'new', '--data', 'a', '--data', 'b', '--k', '4', '--flag']);
    assert.equal(r.dir, 'model');
    assert.equal(r.out, 'new');
    assert.deepEqual(r.data, ['a', 'b']);
    assert.equal(r.values['val-fraction'], '0.05');
    assert.equal(r.values.seed, '1');
    assert.equal(r.values.k, '4');
    assert.equal(r.values.flag, true);
    const d = parse(['model', '--out', 'new', '--data', 'a', '--seed', '7', '--val-fraction', '0.1']);
    assert.equal(d.values.k, '16');
    assert.equal(d.values.flag, false);
    assert.equal(d.values.seed, '7');
    assert.equal(d.values['val-fraction'], '0.1');
  });

  test('without one DIR, --out or --data: the usage line', () => {
    for (const args of [
      [],
      ['--out', 'new', '--data', 'a'],
      ['m1', 'm2', '--out', 'new', '--data', 'a'],
      ['model', '--data', 'a'],
      ['model', '--out', 'new'],
    ]) {
      assert.throws(() => parse(args), { message: `usage: ${USAGE}` }, JSON.stringify(args));
    }
  });

  test('an option of neither the script nor the shared set is refused by name', () => {
    assert.throws(
      () => parse(['model', '--out', 'new', '--data', 'a', '--units', 'lines']),
      /Unknown option '--units'/,
    );
  });
});
