import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { judgeCli, type Run } from '../hardening/harness';

const run = (over: Partial<Run>): Run => ({ code: 0, signal: null, stdout: '', stderr: '', timedOut: false, ...over });

describe('hardening verdicts on CLI runs', () => {
  test('exit 0 with nothing printed fails a command that must print', () => {
    assert.equal(judgeCli(run({ stdout: ' \n' }), { output: true }).verdict, 'unhandled');
    assert.equal(judgeCli(run({ stdout: 'tvae1:abc\n' }), { output: true }).verdict, 'handled');
    assert.equal(judgeCli(run({ stdout: '' })).verdict, 'handled');
  });

  test('an error exit needs one "textvae:" line and no stack trace or error dump', () => {
    assert.equal(judgeCli(run({ code: 1, stderr: 'textvae: the input text is empty\n' })).verdict, 'handled');
    const stack = 'textvae: boom\n    at main (/x/cli.js:1:1)\n';
    assert.equal(judgeCli(run({ code: 1, stderr: stack })).verdict, 'unhandled');
    const dump = "TypeError: x is not a function\n{\n  code: 'E'\n}\ntextvae: boom\n";
    assert.equal(judgeCli(run({ code: 1, stderr: dump })).verdict, 'unhandled');
    assert.equal(judgeCli(run({ code: 1, stderr: 'boom\n' })).verdict, 'unhandled');
    assert.equal(judgeCli(run({ code: 3, stderr: 'textvae: x\n' })).verdict, 'unhandled');
  });

  test('a stack trace fails even a successful exit', () => {
    assert.equal(judgeCli(run({ stdout: 'ok', stderr: 'Error: late\n    at f (a.js:1:1)\n' })).verdict, 'unhandled');
  });

  test('the message must name what it is about', () => {
    const r = run({ code: 2, stderr: 'textvae: --steps does not apply to info\n' });
    assert.equal(judgeCli(r, { mustName: '--steps' }).verdict, 'handled');
    assert.equal(judgeCli(r, { mustName: '--minutes' }).verdict, 'unhandled');
  });
});
