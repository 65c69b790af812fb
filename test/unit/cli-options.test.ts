/** The CLI's option machinery (src/cli/options.ts), in process: parsing, checks, generated help. */
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { UsageError, commandUsage, parseCommand, usageText, type CommandSpec } from '../../src/cli/options';
import { RANGES } from '../../src/core/choices';

const run = async () => 0;
const COMMON = { help: { kind: 'flag', short: 'h', help: 'this help' } } as const;
const COMMANDS: Record<string, CommandSpec<unknown>> = {
  make: {
    synopsis: '--out DIR',
    summary: 'make a thing',
    options: {
      ...COMMON,
      out: { kind: 'string', arg: 'DIR', help: 'where' },
      beam: { kind: 'number', arg: 'N', range: RANGES.beamWidth, default: 4, help: 'beam width' },
      rerank: { kind: 'number', arg: 'L', range: RANGES.beamWidth, help: 'weight (0 = off)' },
      mode: { kind: 'choice', choices: ['linear', 'spherical'], help: 'path' },
      layers: { kind: 'list', arg: '1,2,...', range: RANGES.dilation, count: RANGES.dilationLayers, help: 'dilations' },
    },
    run,
  },
  long: {
    synopsis: '--data PATH... | --sentences F | --samples N',
    summary: 'a long synopsis',
    options: { ...COMMON },
    run,
  },
  look: {
    synopsis: '[FILE]',
    summary: 'look',
    options: { ...COMMON, from: { kind: 'string', arg: 'T', help: 'start' } },
    positionals: true,
    run,
  },
};

function usageError(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (err: unknown) => err instanceof UsageError && message.test(err.message));
}

test('values are checked and converted; defaults apply only when not given', () => {
  const o = parseCommand(COMMANDS, 'make', ['--out', 'x', '--mode', 'linear', '--layers', '1, 2,4']);
  assert.deepEqual(
    [o.string('out'), o.number('beam'), o.choice('mode'), o.list('layers')],
    ['x', 4, 'linear', [1, 2, 4]],
  );
  assert.equal(o.given('beam'), false);
  assert.equal(parseCommand(COMMANDS, 'make', ['--beam', '7']).number('beam'), 7);
});

test('bad values are usage errors that name the flag, its range and the value', () => {
  usageError(
    () => parseCommand(COMMANDS, 'make', ['--beam', '17']),
    /^--beam must be an integer from 1 to 16 \(got '17'\)$/,
  );
  usageError(() => parseCommand(COMMANDS, 'make', ['--beam', '']), /--beam must be an integer/);
  usageError(
    () => parseCommand(COMMANDS, 'make', ['--mode', 'round']),
    /--mode must be one of linear, spherical \(got 'round'\)/,
  );
  usageError(
    () => parseCommand(COMMANDS, 'make', ['--layers', '1,,2']),
    /--layers must be a comma-separated list of 1 to 64 integers/,
  );
});

test('an option of another command, an unknown option, a stray argument and an unknown command are usage errors', () => {
  usageError(
    () => parseCommand(COMMANDS, 'make', ['--from', 'a']),
    /^--from does not apply to 'make' \(it belongs to look\)$/,
  );
  usageError(
    () => parseCommand(COMMANDS, 'make', ['--nope']),
    /^unknown option '--nope' \(try: textvae make --help\)$/,
  );
  usageError(() => parseCommand(COMMANDS, 'make', ['extra']), /^'make' takes no arguments \(got 'extra'\)$/);
  assert.deepEqual(parseCommand(COMMANDS, 'look', ['file.txt']).positionals, ['file.txt']);
  usageError(() => parseCommand(COMMANDS, 'fly', []), /^unknown command 'fly'/);
});

test('a handler reading an option its command does not declare, or as another kind, is a bug', () => {
  const o = parseCommand(COMMANDS, 'look', []);
  assert.throws(() => o.string('out'), /internal: 'look' reads --out as a string/);
  assert.throws(() => o.number('from'), /internal: 'look' reads --from as a number/);
});

test('one option name declared with two types is caught at start-up', () => {
  const clash: Record<string, CommandSpec<unknown>> = {
    ...COMMANDS,
    other: { synopsis: '', summary: '', options: { out: { kind: 'flag', help: 'x' } }, run },
  };
  assert.throws(
    () => parseCommand(clash, 'make', []),
    /internal: --out of '(make|other)' is declared differently elsewhere/,
  );
});

test('the help is generated from the declarations: ranges, defaults, choices and where each option applies', () => {
  const all = usageText(COMMANDS, [{ title: 'common options', options: COMMON }], 'tool');
  assert.match(all, /^common options \(every command\):$/m);
  assert.match(all, /^ {2}-h, --help +this help$/m);
  assert.match(all, /^make:$/m);
  // Summaries start in one column; a synopsis too long for its own puts its summary on the next line.
  const summaryColumn = (summary: string) =>
    all
      .split('\n')
      .find((l) => l.endsWith(summary))!
      .lastIndexOf(summary);
  assert.equal(summaryColumn('make a thing'), summaryColumn('look'));
  assert.match(all, /^ {2}long {9}--data PATH\.\.\. \| --sentences F \| --samples N\n {50}a long synopsis$/m);
  assert.match(all, /^ {2}--beam N +beam width \(1 to 16; default 4\)$/m);
  assert.match(all, /^ {2}--rerank L +weight \(0 = off; 1 to 16\)$/m);
  assert.match(all, /^ {2}--mode linear\|spherical +path$/m);
  const make = commandUsage('make', COMMANDS.make);
  assert.match(make, /^usage: textvae make --out DIR$/m);
  assert.doesNotMatch(make, /--from/);
});
