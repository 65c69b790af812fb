import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { rememberActive, targetEditor } from '../../src/extension/logic/targetEditor';

describe('the editor an editor command works on', () => {
  test('the active editor when there is one', () => {
    assert.equal(targetEditor('a', ['a', 'b'], ['b']), 'a');
  });

  test('focus elsewhere (a walkthrough button): the one visible editor', () => {
    assert.equal(targetEditor(undefined, ['sample'], []), 'sample');
  });

  test('focus elsewhere with several visible: the most recently active one still visible', () => {
    assert.equal(targetEditor(undefined, ['a', 'b', 'c'], ['gone', 'b', 'a']), 'b');
  });

  test('nothing to work on: none visible, or several and none was active', () => {
    assert.equal(targetEditor(undefined, [], ['a']), undefined);
    assert.equal(targetEditor(undefined, ['a', 'b'], ['closed']), undefined);
  });

  test('the recent list: most recent first, no repeats, bounded; focus leaving keeps it', () => {
    let recent: string[] = [];
    for (const e of ['a', 'b', undefined, 'a', 'c']) recent = rememberActive(recent, e);
    assert.deepEqual(recent, ['c', 'a', 'b']);
    assert.equal(rememberActive(['x', 'y', 'z'], 'w', 3).length, 3);
  });
});
