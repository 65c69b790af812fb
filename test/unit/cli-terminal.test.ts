import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { visibleControls, writeText } from '../../src/cli/terminal';

const HOSTILE = 'a\u001b]0;pwned\u0007b\u001b[2J\rc\u0000d\u007f\u009be\u0085\nf\tg é 变';

function sink(isTTY: boolean): { chunks: string[]; stream: { isTTY: boolean; write(s: string): boolean } } {
  const chunks: string[] = [];
  return { chunks, stream: { isTTY, write: (s: string) => (chunks.push(s), true) } };
}

describe('generated text on a terminal', () => {
  test('control characters other than newline and tab become visible escapes', () => {
    assert.equal(visibleControls(HOSTILE), 'a\\x1b]0;pwned\\x07b\\x1b[2J\\x0dc\\x00d\\x7f\\x9be\\x85\nf\tg é 变');
    // The controls are what this looks for.
    // eslint-disable-next-line no-control-regex
    assert.doesNotMatch(visibleControls(HOSTILE), /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
  });

  test('escaped on a TTY, byte-exact when piped', () => {
    const tty = sink(true);
    writeText(tty.stream as never, HOSTILE);
    assert.equal(tty.chunks.join(''), visibleControls(HOSTILE));
    const pipe = sink(false);
    writeText(pipe.stream as never, HOSTILE);
    assert.equal(pipe.chunks.join(''), HOSTILE);
  });
});
