/** Every CLI command with empty, huge, binary, invalid-UTF-8 and whitespace-free input; codes gone wrong. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { formatLatentCode } from '../../src/core/latentCode';
import { REPO } from '../helpers/cli';
import { makeTempDir, writeFiles } from '../helpers/tmp';
import { TINY_ARGS, cliCommands, type Fixture } from './fixtures';
import { dataLost, judgeCli, lostFrom, runCliBounded, snapshot, unhandled, type Case, type Inputs } from './harness';

const LIMIT_MS = 240_000;

type InputKind = 'empty' | 'huge' | 'binary' | 'invalid-utf8' | 'no-whitespace';

function makeInput(kind: InputKind, inputs: Inputs): Buffer {
  switch (kind) {
    case 'empty':
      return Buffer.alloc(0);
    case 'huge':
      return Buffer.from(inputs.prose(150_000));
    case 'binary':
      return inputs.bytes(50_000);
    case 'invalid-utf8':
      return inputs.invalidUtf8(20_000);
    case 'no-whitespace':
      return Buffer.from(inputs.noWhitespace(100_000));
  }
}

/**
 * How each command gets the input: as a file argument, on standard input, as a data folder or,
 * for commands that read no text, as the model folder's manifest. Unknown (new) commands get it
 * as a file argument and on standard input.
 */
function invocations(
  command: string,
  f: Fixture,
  file: string,
  modelOfInput: string,
): { args: string[]; stdin?: Buffer; label: string }[] {
  const m = ['--model', f.model];
  switch (command) {
    case 'info':
    case 'demo':
      return [{ args: [command, '--model', modelOfInput], label: 'as the model folder' }];
    case 'sample':
      return [{ args: [command, '--model', modelOfInput, '-n', '1'], label: 'as the model folder' }];
    case 'train':
      return [
        {
          args: [command, '--data', file, '--out', path.join(path.dirname(file), 'out'), '--steps', '2', ...TINY_ARGS],
          label: 'as --data',
        },
      ];
    case 'eval':
      return [{ args: [command, ...m, '--data', file], label: 'as --data' }];
    case 'interpolate':
      return [
        {
          args: [command, ...m, '--from-file', file, '--to-file', file, '--steps', '2'],
          label: 'as --from-file/--to-file',
        },
      ];
    default:
      return [
        { args: [command, ...m, file], label: 'as a file' },
        { args: [command, ...m, '-'], stdin: fs.readFileSync(file), label: 'on stdin' },
      ];
  }
}

export function cliCases(f: Fixture, inputs: Inputs): Case[] {
  const cases: Case[] = [];
  const kinds: InputKind[] = ['empty', 'huge', 'binary', 'invalid-utf8', 'no-whitespace'];
  for (const command of cliCommands()) {
    for (const kind of kinds) {
      const content = makeInput(kind, inputs);
      const dir = makeTempDir('textvae-hardening-cli-');
      const file = path.join(dir, `input-${kind}.txt`);
      fs.writeFileSync(file, content);
      const modelOfInput = writeFiles(path.join(dir, 'model-of-input'), { 'manifest.json': content });
      // A file of the user's next to the input: it must survive whatever the command does.
      fs.writeFileSync(path.join(dir, 'keep.txt'), 'the user’s own file');
      for (const inv of invocations(command, f, file, modelOfInput)) {
        cases.push({
          group: 'CLI commands',
          name: `${command} with ${kind} input ${inv.label}`,
          limitMs: LIMIT_MS,
          async run() {
            const before = snapshot(dir);
            const r = await runCliBounded(inv.args, { input: inv.stdin, cwd: dir, limitMs: LIMIT_MS - 5_000 });
            const lost = lostFrom(before, snapshot(dir));
            if (lost) return dataLost(lost);
            return judgeCli(r, { output: true });
          },
        });
      }
    }
  }
  // An option of another command is a usage error (exit 2) naming it, never silently ignored.
  for (const command of cliCommands()) {
    const foreign =
      command === 'train' ? ['--mode', 'linear'] : command === 'interpolate' ? ['--data', '.'] : ['--steps', '3'];
    cases.push({
      group: 'CLI commands',
      name: `${command} with ${foreign[0]}, an option it does not take`,
      limitMs: LIMIT_MS,
      async run() {
        const r = await runCliBounded([command, ...foreign], { limitMs: LIMIT_MS - 5_000 });
        const outcome = judgeCli(r, { mustName: `${foreign[0]} does not apply to '${command}'` });
        return outcome.verdict === 'handled' && r.code !== 2 ? unhandled(`exit ${r.code}, not 2`) : outcome;
      },
    });
  }
  // --out onto what is not a model: refused, and every file of the user's still there.
  const targets: [string, (dir: string) => string][] = [
    ['a folder of the user’s files', (d) => d],
    ['a regular file', (d) => path.join(d, 'keep.txt')],
    ['"." (the current folder)', () => '.'],
    [
      'a bundle with a file of the user’s added',
      (d) => {
        const b = path.join(d, 'bundle');
        fs.mkdirSync(b);
        for (const n of fs.readdirSync(f.model)) fs.copyFileSync(path.join(f.model, n), path.join(b, n));
        fs.writeFileSync(path.join(b, 'my-notes.txt'), 'mine');
        return b;
      },
    ],
  ];
  for (const [label, target] of targets) {
    cases.push({
      group: 'CLI commands',
      name: `train --out onto ${label}`,
      limitMs: LIMIT_MS,
      async run() {
        const dir = writeFiles(makeTempDir('textvae-hardening-out-'), {
          'keep.txt': 'the user’s own file',
          'sub/deep.txt': 'more',
        });
        const out = target(dir);
        const before = snapshot(dir);
        const r = await runCliBounded(['train', '--data', f.data, '--out', out, '--steps', '3', ...TINY_ARGS], {
          cwd: dir,
          limitMs: LIMIT_MS - 5_000,
        });
        const lost = lostFrom(before, snapshot(dir));
        if (lost) return dataLost(`${lost} (exit ${r.code})`);
        const outcome = judgeCli(r);
        return outcome.verdict === 'handled' && r.code === 0
          ? unhandled('exit 0: the run replaced something')
          : outcome;
      },
    });
  }
  // Usage mistakes from the first hardening run: each is exit 2 with a message that names it.
  const mistakes: [string, string[], string][] = [
    ['--minutes -1', ['train', '--data', f.data, '--out', 'x', '--minutes', '-1'], '--minutes must be'],
    [
      '--lr out of range, with data that does not exist',
      ['train', '--data', '/no/such', '--out', 'x', '--steps', '2', '--lr', '7'],
      '--lr must be',
    ],
    [
      '--beam with --strategy greedy',
      ['decode', '--beam', '4', '--strategy', 'greedy', 'tvae1:x'],
      '--beam applies to --strategy beam only',
    ],
    [
      '--resume below the checkpoint',
      ['train', '--data', f.data, '--out', f.model, '--resume', f.model, '--steps', '1'],
      'is not above the checkpoint',
    ],
    [
      '--resume without a bound',
      ['train', '--data', f.data, '--out', f.model, '--resume', f.model],
      'bound the resumed run',
    ],
  ];
  for (const [label, args, message] of mistakes) {
    cases.push({
      group: 'CLI commands',
      name: `usage mistake: ${label}`,
      limitMs: LIMIT_MS,
      async run() {
        const r = await runCliBounded(args, { limitMs: LIMIT_MS - 5_000 });
        const outcome = judgeCli(r, { mustName: message });
        return outcome.verdict === 'handled' && r.code !== 2 ? unhandled(`exit ${r.code}, not 2`) : outcome;
      },
    });
  }
  // The line that once took quadratic time (over 10 minutes for 1 MB): now seconds.
  const line = inputs.noWhitespace(1_000_000);
  cases.push({
    group: 'CLI commands',
    name: 'encode of a 1 MB line without whitespace',
    limitMs: LIMIT_MS,
    async run() {
      return judgeCli(
        await runCliBounded(['encode', '--model', f.model, '-'], { input: line, limitMs: LIMIT_MS - 5_000 }),
        { output: true },
      );
    },
  });
  return cases;
}

/** Codes that are corrupt, truncated, from another model, or of the wrong size, through `decode`. */
export async function codeCases(f: Fixture, inputs: Inputs): Promise<Case[]> {
  const enc = await runCliBounded(
    ['encode', '--model', f.model, '--text', 'A latent code is a short vector of numbers.'],
    {
      limitMs: LIMIT_MS,
    },
  );
  if (enc.code !== 0) throw new Error(`encode for the code cases failed: ${enc.stderr}`);
  const good = enc.stdout.trim().split('\n')[0];
  const prefix = good.slice(0, good.lastIndexOf(':') + 1);
  const payload = good.slice(prefix.length);
  const fp = prefix.split(':')[1];
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const variants: [string, string][] = [];
  for (let i = 0; i < 4; i++) {
    const at = inputs.rng.int(payload.length);
    let c = inputs.pick([...alphabet]);
    if (c === payload[at]) c = c === 'A' ? 'B' : 'A';
    variants.push([`corrupt (character ${at} changed)`, prefix + payload.slice(0, at) + c + payload.slice(at + 1)]);
  }
  for (let i = 0; i < 3; i++) {
    const cut = inputs.rng.int(good.length - 1) + 1;
    variants.push([`truncated to ${cut} characters`, good.slice(0, cut)]);
  }
  variants.push([
    'from another model',
    formatLatentCode(new Float32Array(16).fill(0.3), fp === 'deadbeef' ? 'feedface' : 'deadbeef'),
  ]);
  variants.push(['with the wrong number of dimensions', formatLatentCode(new Float32Array(5).fill(0.3), fp)]);
  variants.push(['random characters after the prefix', prefix + inputs.noWhitespace(40)]);
  variants.push(['a payload of 100 kB', prefix + 'A'.repeat(100_000)]);
  variants.push(['a fingerprint of garbage', `tvae1:${inputs.noWhitespace(8)}:${payload}`]);
  // Good codes given the ways that once failed: padded, or in a file whose name starts with "tvae".
  const folder = makeTempDir('textvae-hardening-codes-');
  fs.writeFileSync(path.join(folder, 'tvae-codes.txt'), `${good}\n`);
  const mustDecode: [string, string[]][] = [
    ['a good code padded with spaces, as an argument', [`  ${good}  `]],
    ['a file named tvae-codes.txt', ['tvae-codes.txt']],
  ];
  const extra: Case[] = mustDecode.map(([name, args]) => ({
    group: 'latent codes',
    name,
    limitMs: LIMIT_MS,
    async run() {
      const r = await runCliBounded(['decode', '--model', f.model, ...args], {
        cwd: folder,
        limitMs: LIMIT_MS - 5_000,
      });
      const outcome = judgeCli(r, { output: true });
      return outcome.verdict === 'handled' && r.code !== 0 ? unhandled(`exit ${r.code}: ${r.stderr.trim()}`) : outcome;
    },
  }));
  return extra.concat(
    variants.map(([name, code]) => ({
      group: 'latent codes',
      name,
      limitMs: LIMIT_MS,
      async run() {
        return judgeCli(
          await runCliBounded(['decode', '--model', f.model, '-'], {
            input: `text ${code} more`,
            limitMs: LIMIT_MS - 5_000,
          }),
          { output: true },
        );
      },
    })),
  );
}

/** Lossless codes gone wrong, through `decompress`: as an argument, on stdin, and in the binary form. */
export async function losslessCases(f: Fixture, inputs: Inputs): Promise<Case[]> {
  const original = `${inputs.prose(300)}\nLine two, with tabs\tand “quotes”.\n`;
  const folder = makeTempDir('textvae-hardening-lossless-');
  const source = path.join(folder, 'original.txt');
  fs.writeFileSync(source, original);
  const enc = await runCliBounded(['compress', '--model', f.model, source], { limitMs: LIMIT_MS });
  if (enc.code !== 0) throw new Error(`compress for the lossless cases failed: ${enc.stderr}`);
  const good = enc.stdout.trim();
  const binary = path.join(folder, 'original.tvz');
  const bin = await runCliBounded(['compress', '--model', f.model, source, '--out', binary], { limitMs: LIMIT_MS });
  if (bin.code !== 0) throw new Error(`compress --out for the lossless cases failed: ${bin.stderr}`);
  // The tiny fixture model codes prose with brotli; the default model codes its own domain with
  // the model (range-coded), so damage reaches the model decoder too.
  const defaultModel = path.join(REPO, 'models', 'default');
  const sentence = 'The for statement iterates over the items of any sequence, in the order that they appear.';
  const byModel = await runCliBounded(['compress', '--model', defaultModel, '--text', sentence], {
    limitMs: LIMIT_MS,
  });
  if (byModel.code !== 0) throw new Error(`compress with the default model failed: ${byModel.stderr}`);
  const sources: { label: string; model: string; text: string; good: string }[] = [
    { label: 'brotli-coded', model: f.model, text: original, good },
    { label: 'model-coded', model: defaultModel, text: sentence, good: byModel.stdout.trim() },
  ];
  const cases: Case[] = [];
  for (const src of sources) {
    for (const [name, code] of damagedCodes(src.good, inputs)) {
      for (const how of ['as an argument', 'on stdin'] as const) {
        cases.push({
          group: 'lossless codes',
          name: `${src.label}: ${name}, ${how}`,
          limitMs: LIMIT_MS,
          async run() {
            const r = await runCliBounded(
              ['decompress', '--model', src.model, ...(how === 'on stdin' ? ['-'] : [code])],
              { input: how === 'on stdin' ? code : undefined, limitMs: LIMIT_MS - 5_000 },
            );
            // A damaged code never yields text: exit 0 is wrong unless it gave back the original exactly.
            if (r.code === 0 && r.stdout !== src.text)
              return unhandled(`exit 0 with other text: ${r.stdout.slice(0, 80)}`);
            return judgeCli(r, { output: true });
          },
        });
      }
    }
  }
  // The binary form damaged: a byte changed, cut short, the magic byte of another version.
  const bytes = fs.readFileSync(binary);
  const damaged: [string, (b: Buffer) => Buffer][] = [
    [
      'a byte changed',
      (b) => {
        const c = Buffer.from(b);
        const i = 5 + inputs.rng.int(c.length - 5);
        c[i] ^= 1 + inputs.rng.int(255);
        return c;
      },
    ],
    ['cut short', (b) => b.subarray(0, 5 + inputs.rng.int(b.length - 5))],
    ['the header only', (b) => b.subarray(0, 5)],
    ['another version', (b) => Buffer.concat([Buffer.from([0xfe]), b.subarray(1)])],
  ];
  for (const [name, damage] of damaged) {
    cases.push({
      group: 'lossless codes',
      name: `binary form: ${name}`,
      limitMs: LIMIT_MS,
      async run() {
        const dir = makeTempDir('textvae-hardening-tvz-');
        const file = path.join(dir, 'damaged.tvz');
        fs.writeFileSync(file, damage(bytes));
        const out = path.join(dir, 'out.txt');
        fs.writeFileSync(out, 'the user’s own file');
        const r = await runCliBounded(['decompress', '--model', f.model, file, '--out', out], {
          limitMs: LIMIT_MS - 5_000,
        });
        const after = fs.readFileSync(out, 'utf8');
        if (r.code !== 0 && after !== 'the user’s own file') return dataLost('a failed decompress changed --out');
        if (r.code === 0 && after !== original) return unhandled('exit 0 with other bytes in --out');
        return judgeCli(r);
      },
    });
  }
  // Good codes must give back the original byte for byte, in every form.
  const exact: [string, string[], string | undefined, (typeof sources)[number]][] = [
    ['a good code as an argument', [good], undefined, sources[0]],
    ['a good code on stdin, padded', ['-'], `  ${good}\n`, sources[0]],
    ['the binary form as a file', [binary], undefined, sources[0]],
    ['a good model-coded code', [sources[1].good], undefined, sources[1]],
  ];
  for (const [name, args, input, src] of exact) {
    cases.push({
      group: 'lossless codes',
      name,
      limitMs: LIMIT_MS,
      async run() {
        const r = await runCliBounded(['decompress', '--model', src.model, ...args], {
          input,
          limitMs: LIMIT_MS - 5_000,
        });
        const outcome = judgeCli(r, { output: true });
        if (outcome.verdict !== 'handled') return outcome;
        if (r.code !== 0) return unhandled(`exit ${r.code}: ${r.stderr.trim()}`);
        return r.stdout === src.text ? outcome : unhandled('the bytes differ from the original');
      },
    });
  }
  return cases;
}

/** A good lossless code damaged: characters changed, one letter's case flipped, cut short, relabelled. */
function damagedCodes(good: string, inputs: Inputs): [string, string][] {
  const prefix = good.slice(0, good.lastIndexOf(':') + 1);
  const payload = good.slice(prefix.length);
  const fp = prefix.split(':')[1];
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const variants: [string, string][] = [];
  for (let i = 0; i < 3; i++) {
    const at = inputs.rng.int(payload.length);
    let c = inputs.pick([...alphabet]);
    if (c === payload[at]) c = c === 'A' ? 'B' : 'A';
    variants.push([`corrupt (character ${at} changed)`, prefix + payload.slice(0, at) + c + payload.slice(at + 1)]);
  }
  // One character's case flipped: still well-formed base64url, different bits.
  const letters = [...payload].flatMap((c, i) => (/[a-zA-Z]/.test(c) ? [i] : []));
  const at = inputs.pick(letters);
  const flipped = payload[at] === payload[at].toLowerCase() ? payload[at].toUpperCase() : payload[at].toLowerCase();
  variants.push([`character ${at} flipped in case`, prefix + payload.slice(0, at) + flipped + payload.slice(at + 1)]);
  for (let i = 0; i < 2; i++) {
    const cut = prefix.length + inputs.rng.int(payload.length - 1) + 1;
    variants.push([`truncated to ${cut} characters`, good.slice(0, cut)]);
  }
  const version = prefix.split(':')[0]; // tvzN
  variants.push(['from another model', `${version}:${fp === 'deadbeef' ? 'feedface' : 'deadbeef'}:${payload}`]);
  variants.push(['an unknown version', `tvz9:${fp}:${payload}`]);
  variants.push([
    'a payload of 100 kB of garbage',
    prefix + inputs.noWhitespace(100_000).replace(/[^A-Za-z0-9_-]/g, 'x'),
  ]);
  return variants;
}
