/**
 * The `textvae` CLI as users run it: the built dist/cli.js in a child process.
 * Exit codes: 0 success, 1 failure, 2 usage; 130 when training is interrupted.
 */
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import * as fs from 'node:fs';
import { spawnSync } from 'node:child_process';

import { formatLatentCode } from '../../src/core/latentCode';
import { SENTENCES, TINY_DOC } from '../helpers/engine';
import {
  TINY_TRAIN_ARGS,
  describeRun,
  ensureCliBuilt,
  runCli,
  spawnCli,
  stderrLines,
  trainCliModel,
  type CliModel,
  type CliResult,
} from '../helpers/cli';
import { makeTempDir, writeFiles } from '../helpers/tmp';

let fixturePromise: Promise<CliModel> | null = null;
/** One tiny model per file, trained through the CLI on first use. */
const fixture = () => (fixturePromise ??= trainCliModel());

/** Exit code `code`, and standard error is exactly one 'textvae: ...' line matching `message`. */
function assertOneLineError(r: CliResult, code: number, message: RegExp): void {
  assert.equal(r.code, code, describeRun(r));
  const lines = stderrLines(r);
  assert.equal(lines.length, 1, `one line on stderr, got:\n${r.stderr}`);
  assert.match(lines[0], /^textvae: /);
  assert.match(lines[0], message);
  assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
}

/** A data folder with nothing to skip, so that stderr holds only the error. */
let cleanData = '';

before(() => {
  ensureCliBuilt();
  cleanData = writeFiles(makeTempDir('textvae-data-'), { 'sentences.txt': TINY_DOC });
});

describe('usage errors exit 2, failures exit 1', () => {
  test('--help exits 0 and no command at all prints usage with exit 2', async () => {
    const help = await runCli(['--help']);
    assert.equal(help.code, 0, describeRun(help));
    assert.match(help.stdout, /^usage: textvae <command>/m);
    const none = await runCli([]);
    assert.equal(none.code, 2);
    assert.match(none.stdout, /^usage: textvae <command>/m);
  });

  test('an unknown command', async () => {
    assertOneLineError(await runCli(['frobnicate']), 2, /unknown command 'frobnicate'/);
  });

  test('an unknown flag', async () => {
    assertOneLineError(await runCli(['info', '--no-such-flag']), 2, /no-such-flag/);
  });

  test('a bad number', async () => {
    const { dir } = await fixture();
    assertOneLineError(
      await runCli(['train', '--data', cleanData, '--out', path.join(makeTempDir(), 'm'), '--steps', 'many']),
      2,
      /--steps must be an integer.*'many'/,
    );
    assertOneLineError(
      await runCli(['sample', '--model', dir, '-n', '0']),
      2,
      /(^|[^-])-n must be an integer from 1 to 256/,
    );
    assertOneLineError(await runCli(['decode', '--temperature', 'NaN']), 2, /--temperature must be a number/);
    assertOneLineError(
      await runCli([
        'train',
        '--data',
        cleanData,
        '--out',
        path.join(makeTempDir(), 'm'),
        '--steps',
        '1',
        '--encoder-dilations',
        '1,two',
      ]),
      2,
      /--encoder-dilations must be a comma-separated list.*'1,two'/,
    );
  });

  test('train takes the architecture from --encoder-dilations, --encoder-positions and --decoder-dilations', async () => {
    const dir = path.join(makeTempDir(), 'm');
    const run = await runCli([
      'train',
      '--data',
      cleanData,
      '--out',
      dir,
      '--steps',
      '2',
      ...TINY_TRAIN_ARGS,
      '--encoder-dilations',
      '1,2,4',
      '--encoder-positions',
      '--decoder-dilations',
      '1,3',
    ]);
    assert.equal(run.code, 0, describeRun(run));
    const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
    assert.deepEqual(
      [config.encoderLayers, config.encoderDilations, config.encoderPositions, config.decoderDilations],
      [3, [1, 2, 4], true, [1, 3]],
    );
  });

  test('train --weights-dtype float16 stores half-size weights that load; other dtypes are usage errors', async () => {
    const dir = path.join(makeTempDir(), 'm');
    const run = await runCli([
      'train',
      '--data',
      cleanData,
      '--out',
      dir,
      '--steps',
      '1',
      ...TINY_TRAIN_ARGS,
      '--weights-dtype',
      'float16',
    ]);
    assert.equal(run.code, 0, describeRun(run));
    const index = JSON.parse(fs.readFileSync(path.join(dir, 'weights.json'), 'utf8'));
    assert.equal(index.dtype, 'float16');
    const elements = index.tensors.reduce((n: number, t: { length: number }) => n + t.length, 0);
    assert.equal(fs.statSync(path.join(dir, 'weights.bin')).size, elements * 2);
    const encoded = await runCli(['encode', '--model', dir, '--text', 'a short line']);
    assert.equal(encoded.code, 0, describeRun(encoded));
    assert.match(encoded.stdout, /^tvae\d+:[0-9a-f]{8}:/);
    assertOneLineError(
      await runCli([
        'train',
        '--data',
        cleanData,
        '--out',
        path.join(makeTempDir(), 'm'),
        '--steps',
        '1',
        '--weights-dtype',
        'int8',
      ]),
      2,
      /--weights-dtype must be one of float32, float16/,
    );
  });

  test('an option of another command is a usage error naming the option and the command', async () => {
    const out = path.join(makeTempDir(), 'm');
    const to = await runCli(['train', '--data', cleanData, '--out', out, '--steps', '1', '--to', out]);
    assertOneLineError(to, 2, /--to does not apply to 'train' \(it belongs to interpolate\)/);
    assert.equal(fs.existsSync(out), false, 'nothing was trained');
    assertOneLineError(await runCli(['info', '--temperature', '2']), 2, /--temperature does not apply to 'info'/);
    assertOneLineError(
      await runCli(['encode', '--split', 'val', '--text', 'x']),
      2,
      /--split does not apply to 'encode'/,
    );
    assertOneLineError(await runCli(['sample', '5']), 2, /'sample' takes no arguments \(got '5'\)/);
  });

  test('each command lists its own options in --help, and the usage names every command', async () => {
    const train = await runCli(['train', '--help']);
    assert.equal(train.code, 0, describeRun(train));
    assert.match(train.stdout, /^usage: textvae train --data PATH\.\.\. --out DIR/m);
    assert.match(train.stdout, /^ {2}--vocab-size N +tokenizer vocabulary \(260 to 65536\)$/m);
    assert.doesNotMatch(train.stdout, /--to-file|--temperature/);
    const all = await runCli(['--help']);
    for (const command of ['info', 'train', 'eval', 'encode', 'decode', 'reconstruct', 'sample', 'interpolate', 'demo'])
      assert.match(all.stdout, new RegExp(`^  ${command} `, 'm'));
    assert.match(all.stdout, /^decoding \(eval, decode, reconstruct, sample, interpolate\):$/m);
    // compress prints tvz3: codes too (inputs of several segments): its help says so.
    const compress = await runCli(['compress', '--help']);
    assert.match(compress.stdout, /prints a tvz2: code \(tvz3: where it takes more than one 32 KiB segment\)/);
  });

  test('a bad choice', async () => {
    assertOneLineError(
      await runCli(['decode', '--strategy', 'psychic']),
      2,
      /--strategy must be one of greedy, sample, beam/,
    );
  });

  test('eval without --data, --sentences or --samples names all three', async () => {
    assertOneLineError(
      await runCli(['eval']),
      2,
      /say what to evaluate: --data PATH\.\.\., --sentences FILE or --samples N/,
    );
  });

  test('train without --out, without data or without a bound', async () => {
    assertOneLineError(await runCli(['train', '--data', '.', '--steps', '5']), 2, /--out DIR is required/);
    assertOneLineError(
      await runCli(['train', '--out', path.join(makeTempDir(), 'm'), '--steps', '5']),
      2,
      /--data PATH is required/,
    );
    assertOneLineError(
      await runCli(['train', '--data', cleanData, '--out', path.join(makeTempDir(), 'm')]),
      2,
      /bound the run/,
    );
  });

  test('a failure (missing model, missing data) exits 1 with a one-line message naming it', async () => {
    const missing = path.join(makeTempDir(), 'no-model-here');
    assertOneLineError(await runCli(['info', '--model', missing]), 1, new RegExp(`${missing}.*not found`));
    const { dir } = await fixture();
    assertOneLineError(
      await runCli(['eval', '--model', dir, '--data', '/no/such/folder']),
      1,
      /no such file or folder: \/no\/such\/folder/,
    );
  });

  test('--verbose adds the stack trace', async () => {
    const missing = path.join(makeTempDir(), 'no-model-here');
    const r = await runCli(['info', '--model', missing, '--verbose']);
    assert.equal(r.code, 1);
    assert.match(stderrLines(r)[0], /^textvae: .*not found/);
    assert.match(r.stderr, /^\s+at /m, 'a stack trace follows');
  });
});

describe('with a tiny trained model', () => {
  test('train skips binary and oversized files, logging the reason, and reports progress as JSON lines', async () => {
    const { train, data, dir } = await fixture();
    assert.match(train.stderr, new RegExp(`skipped ${path.join(data, 'blob.bin')}: binary content`));
    assert.match(train.stderr, new RegExp(`skipped ${path.join(data, 'huge.txt')}: larger than \\d+ bytes`));
    assert.match(train.stderr, /^1 document: 1 for training, nothing held out; backend \w+$/m);
    const lines = train.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(
      lines.map((l) => l.type),
      ['metrics', 'metrics', 'metrics', 'metrics', 'done'],
    );
    const done = lines.at(-1)!;
    assert.equal(done.out, dir);
    assert.equal(done.steps, 160);
    assert.equal(done.cancelled, false);
  });

  test('train fits prior.json unless --no-prior; sample --chunks N draws paragraphs; --latent picks the prior', async () => {
    const { dir, train } = await fixture();
    assert.ok(fs.existsSync(path.join(dir, 'prior.json')), 'a finished run fits a prior');
    assert.match(train.stderr, /^latent prior fitted: 1 component over \d+ chunks/m);
    const plain = path.join(makeTempDir('textvae-noprior-'), 'model');
    const trained = await runCli([
      'train',
      '--data',
      cleanData,
      '--out',
      plain,
      '--steps',
      '5',
      '--no-prior',
      ...TINY_TRAIN_ARGS,
    ]);
    assert.equal(trained.code, 0, describeRun(trained));
    assert.ok(!fs.existsSync(path.join(plain, 'prior.json')));
    assertOneLineError(await runCli(['sample', '--model', plain, '--latent', 'fitted']), 2, /has no prior\.json/);
    assertOneLineError(await runCli(['sample', '--chunks', '17']), 2, /--chunks must be an integer from 1 to 16/);
    const withPrior = path.join(makeTempDir('textvae-prior-'), 'model');
    const fit = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'scripts/fit-prior.ts', plain, '--out', withPrior, '--data', cleanData],
      { cwd: path.resolve(__dirname, '..', '..'), encoding: 'utf8' },
    );
    assert.equal(fit.status, 0, fit.stderr);
    assert.match(fit.stdout, /prior\.json, 1 full component over \d+ chunks of 1 document, with a transition/);
    const infoOf = async (model: string) => JSON.parse((await runCli(['info', '--json', '--model', model])).stdout);
    assert.equal((await infoOf(plain)).prior, null);
    assert.deepEqual((await infoOf(withPrior)).prior.components, 1);
    const runs: string[][] = [];
    for (const [model, latent] of [
      [plain, []],
      [withPrior, []],
      [withPrior, ['--latent', 'standard']],
    ] as const) {
      const r = await runCli([
        'sample',
        '--json',
        '--model',
        model,
        '-n',
        '2',
        '--chunks',
        '3',
        '--seed',
        '2',
        ...latent,
      ]);
      assert.equal(r.code, 0, describeRun(r));
      runs.push(JSON.parse(r.stdout).samples);
    }
    assert.equal(runs[0].length, 2);
    assert.notDeepEqual(runs[1], runs[0], 'the fitted prior draws other codes');
    assert.deepEqual(runs[2], runs[0], '--latent standard samples as a model without a prior does');
  });

  test('info --json describes the model and the backend', async () => {
    const { dir } = await fixture();
    const r = await runCli(['info', '--json', '--model', dir]);
    assert.equal(r.code, 0, describeRun(r));
    const info = JSON.parse(r.stdout);
    assert.equal(info.variant, 'ae');
    assert.equal(info.config.modelDim, 48);
    assert.equal(info.config.latentDim, 16);
    assert.match(info.fingerprint, /^[0-9a-f]{64}$/);
    assert.ok(['tensorflow', 'wasm', 'cpu'].includes(info.backend));
    assert.equal(info.training.step, 160);
  });

  test('info prints the metrics the bundle recorded one a line, not as a JSON blob', async () => {
    const { dir } = await fixture();
    const r = await runCli(['info', '--model', dir]);
    assert.equal(r.code, 0, describeRun(r));
    assert.match(r.stdout, /^metrics \(recorded when the model was saved\):\n {2}\S/m);
    assert.match(r.stdout, /^ {2}bits_per_byte +\d+(\.\d{1,4})?$/m);
    assert.doesNotMatch(r.stdout, /[{}]/);
  });

  test('info gives the size on disk in the units Show Model Info uses', async () => {
    const { dir } = await fixture();
    const [text, json] = await Promise.all([
      runCli(['info', '--model', dir]),
      runCli(['info', '--json', '--model', dir]),
    ]);
    const { parameters, sizeBytes } = JSON.parse(json.stdout);
    assert.ok(sizeBytes > 1024 * 1024 * 0.1, 'the fixture is big enough to show a rounding');
    const kib = (sizeBytes / 1024).toFixed(1);
    assert.match(
      text.stdout,
      new RegExp(`^parameters: +${parameters.toLocaleString('en')} \\(${kib.replace('.', '\\.')} KiB on disk\\)$`, 'm'),
    );
  });

  test('eval --json prints one JSON object whose bits per byte are recon + KL', async () => {
    const { dir, data } = await fixture();
    const r = await runCli(['eval', '--json', '--model', dir, '--data', data]);
    assert.equal(r.code, 0, describeRun(r));
    const lines = r.stdout.split('\n').filter((l) => l !== '');
    assert.equal(lines.length, 1, `one line of JSON, got:\n${r.stdout}`);
    const m = JSON.parse(lines[0]);
    for (const key of [
      'bytes',
      'bits_per_byte',
      'recon_bits_per_byte',
      'kl_bits_per_byte',
      'active_units',
      'token_accuracy',
    ]) {
      assert.equal(typeof m[key], 'number', `${key}: ${JSON.stringify(m[key])}`);
      assert.ok(Number.isFinite(m[key]), key);
    }
    assert.ok(['tensorflow', 'wasm', 'cpu'].includes(m.backend));
    assert.equal(m.bytes, Buffer.byteLength(TINY_DOC), 'every byte of the one text file, nothing of the skipped ones');
    assert.ok(
      Math.abs(m.bits_per_byte - (m.recon_bits_per_byte + m.kl_bits_per_byte)) <= 1e-9 * Math.max(1, m.bits_per_byte),
    );
    assert.equal(m.kl_bits_per_byte, 0, "an 'ae' model has no KL");
    assert.ok(
      m.token_accuracy > 0.9 && m.token_accuracy <= 1,
      `token accuracy ${m.token_accuracy} on its own training text`,
    );
    assert.ok(m.active_units >= 1 && m.active_units <= 16);
  });

  test('eval --cache adds the document-cache figures; bad --cache-params are refused naming the file', async () => {
    const { dir, data } = await fixture();
    const r = await runCli(['eval', '--json', '--cache', '--model', dir, '--data', data]);
    assert.equal(r.code, 0, describeRun(r));
    const m = JSON.parse(r.stdout);
    assert.ok(Number.isFinite(m.cache_bits_per_byte) && m.cache_bits_per_byte > 0, JSON.stringify(m));
    assert.ok(
      Math.abs(m.cache_bits_per_byte - (m.cache_recon_bits_per_byte + m.kl_bits_per_byte)) <= 1e-9,
      'recon with the cache + KL',
    );
    const params = path.join(makeTempDir(), 'cache.json');
    fs.writeFileSync(params, JSON.stringify({ order: 1, decay: 1, escape: 1, lambdas: [0.5] }));
    assertOneLineError(
      await runCli(['eval', '--cache', '--cache-params', params, '--model', dir, '--data', data]),
      1,
      /cache\.json: cache parameters need 6 lambdas for their order and bins, not 1/,
    );
    assertOneLineError(await runCli(['eval', '--cache', '--sentences', params]), 2, /--cache applies to --data/);
  });

  test('encode then decode round-trips the text through stdin and stdout', async () => {
    const { dir } = await fixture();
    const enc = await runCli(['encode', '--model', dir], { input: TINY_DOC });
    assert.equal(enc.code, 0, describeRun(enc));
    const codes = enc.stdout.trim().split('\n');
    assert.equal(codes.length, SENTENCES.length);
    for (const c of codes) assert.match(c, /^tvae1:[0-9a-f]{8}:[A-Za-z0-9_-]+$/);
    const dec = await runCli(['decode', '--model', dir], { input: enc.stdout });
    assert.equal(dec.code, 0, describeRun(dec));
    assert.equal(dec.stdout, TINY_DOC + '\n');
    // Codes given as arguments, and --json output.
    const json = await runCli(['decode', '--json', '--model', dir, codes[1], codes[0]]);
    assert.equal(json.code, 0, describeRun(json));
    const out = JSON.parse(json.stdout);
    assert.equal(out.codes, 2);
    assert.equal(out.text, `${SENTENCES[1]}\n\n${SENTENCES[0]}\n\n`);
  });

  test('decode of a corrupt, truncated or wrong-model code exits 1 naming the problem', async () => {
    const { dir } = await fixture();
    const enc = await runCli(['encode', '--model', dir, '--text', SENTENCES[0]]);
    assert.equal(enc.code, 0, describeRun(enc));
    const code = enc.stdout.trim();
    const prefix = code.slice(0, code.lastIndexOf(':') + 1);
    const payload = code.slice(prefix.length);
    const fp8 = prefix.split(':')[1];

    const flipped = payload[5] === 'A' ? 'B' : 'A';
    const corrupt = prefix + payload.slice(0, 5) + flipped + payload.slice(6);
    const truncated = prefix + payload.slice(0, payload.length - 8);
    const otherFp = fp8 === 'deadbeef' ? 'feedface' : 'deadbeef';
    const otherModel = formatLatentCode(new Float32Array(16).fill(0.5), otherFp);
    const wrongSize = formatLatentCode(new Float32Array(8).fill(0.5), fp8);
    // Independent processes: run them side by side.
    const [r1, r2, r3, r4, r5] = await Promise.all([
      runCli(['decode', '--model', dir, corrupt]),
      runCli(['decode', '--model', dir], { input: `see ${truncated} here` }),
      runCli(['decode', '--model', dir, otherModel]),
      runCli(['decode', '--model', dir, wrongSize]),
      runCli(['decode', '--model', dir], { input: 'no codes in here' }),
    ]);
    assertOneLineError(r1, 1, /corrupt/);
    assertOneLineError(r2, 1, /truncated/);
    assertOneLineError(r3, 1, new RegExp(`made by model ${otherFp}; the active model is ${fp8}`));
    assertOneLineError(r4, 1, /8 latent dimensions; the active model has 16/);
    assertOneLineError(r5, 1, /no latent codes \(tvae2:\.\.\.\) found/);
  });

  test('SIGINT during train --minutes 5 exits 130 and leaves a loadable bundle', async () => {
    const { data } = await fixture();
    const out = path.join(makeTempDir('textvae-sigint-'), 'model');
    const child = spawnCli([
      'train',
      '--data',
      data,
      '--out',
      out,
      '--minutes',
      '5',
      '--log-every',
      '5',
      ...TINY_TRAIN_ARGS,
    ]);
    let stdout = '';
    let stderr = '';
    let interrupted = false;
    child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.stdout!.setEncoding('utf8').on('data', (s: string) => {
      stdout += s;
      // Interrupt once training is under way (the first metrics line), not during start-up.
      if (!interrupted && stdout.includes('"type":"metrics"')) {
        interrupted = true;
        child.kill('SIGINT');
      }
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
      child.on('close', (c, s) => resolve([c, s])),
    );
    clearTimeout(killer);
    const run = { code, signal, stdout, stderr };
    assert.ok(interrupted, describeRun(run));
    assert.equal(code, 130, describeRun(run));
    assert.match(stderr, /cancelling/);
    const done = JSON.parse(stdout.trim().split('\n').at(-1)!);
    assert.equal(done.type, 'done');
    assert.equal(done.cancelled, true);
    assert.ok(done.steps >= 5 && done.steps < 10_000, `${done.steps} steps`);

    const info = await runCli(['info', '--json', '--model', out]);
    assert.equal(info.code, 0, describeRun(info));
    const facts = JSON.parse(info.stdout);
    assert.equal(facts.fingerprint, done.fingerprint);
    assert.equal(facts.training.finished, false);
    assert.equal(facts.training.step, done.steps);
    const enc = await runCli(['encode', '--model', out, '--text', SENTENCES[2]]);
    assert.equal(enc.code, 0, describeRun(enc));
  });
});

describe('bad input and mistakes found by the hardening run (issue 11)', () => {
  test('train --out never replaces a folder of other files, a file or the current folder', async () => {
    const root = makeTempDir('textvae-out-guard-');
    const notes = writeFiles(path.join(root, 'notes'), { 'thesis.txt': 'years of work' });
    const file = path.join(root, 'file.txt');
    fs.writeFileSync(file, 'keep me');
    const cases: [string[], RegExp][] = [
      [['--out', notes], /not part of a TextVAE bundle \("thesis\.txt"\)/],
      [['--out', file], /exists and is not a folder/],
      [['--out', '.'], /not part of a TextVAE bundle/],
    ];
    const runs = await Promise.all(
      cases.map(([out]) =>
        runCli(['train', '--data', cleanData, ...out, '--steps', '2', ...TINY_TRAIN_ARGS], { cwd: notes }),
      ),
    );
    runs.forEach((r, i) => assertOneLineError(r, 1, cases[i][1]));
    assert.equal(fs.readFileSync(path.join(notes, 'thesis.txt'), 'utf8'), 'years of work');
    assert.equal(fs.readFileSync(file, 'utf8'), 'keep me');
    assert.deepEqual(fs.readdirSync(root).sort(), ['file.txt', 'notes']);
  });

  test('train --out onto a model refuses unless --overwrite, which replaces it with a whole new bundle', async () => {
    const { dir, data } = await fixture();
    const model = path.join(makeTempDir('textvae-overwrite-'), 'model');
    fs.cpSync(dir, model, { recursive: true });
    const before = fs.readFileSync(path.join(model, 'manifest.json'), 'utf8');
    const other = path.join(makeTempDir('textvae-overwrite-'), 'other');
    fs.cpSync(dir, other, { recursive: true });
    const [plain, fromElsewhere, fineTuneInPlace] = await Promise.all([
      runCli(['train', '--data', '/no/such/folder', '--out', model, '--steps', '2', ...TINY_TRAIN_ARGS]),
      runCli(['train', '--data', data, '--out', model, '--resume', other, '--steps', '200']),
      runCli(['train', '--data', data, '--out', model, '--from', model, '--overwrite', '--steps', '2']),
    ]);
    assertOneLineError(
      fineTuneInPlace,
      2,
      /--out must differ from --from .*model \(the model fine-tuned from is only read\)$/,
    );
    // Refused before the corpus is read (the data folder does not exist), naming the way out.
    const refused = /--out .*model already holds a model: choose a new folder, or add --overwrite to replace it$/;
    assertOneLineError(plain, 1, refused);
    assertOneLineError(fromElsewhere, 1, refused);
    assert.equal(fs.readFileSync(path.join(model, 'manifest.json'), 'utf8'), before);

    const replaced = await runCli([
      'train',
      '--data',
      data,
      '--out',
      model,
      '--overwrite',
      '--steps',
      '2',
      ...TINY_TRAIN_ARGS,
    ]);
    assert.equal(replaced.code, 0, describeRun(replaced));
    const facts = JSON.parse(fs.readFileSync(path.join(model, 'manifest.json'), 'utf8'));
    assert.notEqual(facts.fingerprint, JSON.parse(before).fingerprint);
    assert.equal(facts.training.step, 2);
    assert.equal((await runCli(['info', '--model', model])).code, 0);
    assert.deepEqual(fs.readdirSync(path.dirname(model)), ['model'], 'no temporary folder left beside it');
  });

  test('every number is checked before the corpus is read; a negative value is named, not "ambiguous"', async () => {
    const out = path.join(makeTempDir(), 'm');
    const [lr, minutes, n, missing] = await Promise.all([
      runCli(['train', '--data', '/no/such/folder', '--out', out, '--steps', '3', '--lr', '5']),
      runCli(['train', '--data', cleanData, '--out', out, '--minutes', '-1']),
      runCli(['sample', '-n', '-2']),
      runCli(['train', '--data', cleanData, '--out', '--steps', '3']),
    ]);
    assertOneLineError(lr, 2, /--lr must be a number from 0\.000001 to 1 \(got '5'\)|--lr must be .*\(got '5'\)/);
    assertOneLineError(minutes, 2, /--minutes must be a number from 0\.01 to .* \(got '-1'\)/);
    assertOneLineError(n, 2, /-n must be an integer from 1 to 256 \(got '-2'\)/);
    assertOneLineError(missing, 2, /--out needs a value \(for a value that starts with a dash, write --out=VALUE\)/);
  });

  test('--beam with another --strategy is a usage error, for every command that decodes', async () => {
    const runs = await Promise.all([
      runCli(['decode', '--beam', '4', '--strategy', 'greedy', 'tvae1:x']),
      runCli(['reconstruct', '--beam', '4', '--strategy', 'sample', '--text', 'hi']),
      runCli(['sample', '--beam', '2', '--strategy', 'sample']),
      runCli(['interpolate', '--from', 'a', '--to', 'b', '--beam', '3', '--strategy', 'greedy']),
    ]);
    for (const r of runs) assertOneLineError(r, 2, /--beam applies to --strategy beam only \(got --strategy \w+\)/);
  });

  test('--rerank is range-checked and applies to beam search only', async () => {
    const [greedy, sample, negative, word] = await Promise.all([
      runCli(['decode', '--rerank', '1', '--strategy', 'greedy', 'tvae1:x']),
      runCli(['eval', '--sentences', 'x.txt', '--rerank', '1', '--strategy', 'sample']),
      runCli(['reconstruct', '--rerank', '-1', '--text', 'hi']),
      runCli(['reconstruct', '--rerank', 'lots', '--text', 'hi']),
    ]);
    assertOneLineError(greedy, 2, /--rerank applies to --strategy beam only \(got --strategy greedy\)/);
    assertOneLineError(sample, 2, /--rerank applies to --strategy beam only \(got --strategy sample\)/);
    assertOneLineError(negative, 2, /--rerank must be a number from 0 to 100 \(got '-1'\)/);
    assertOneLineError(word, 2, /--rerank must be a number from 0 to 100 \(got 'lots'\)/);
  });

  test('a decoding option the strategy ignores is a usage error naming the strategies that read it', async () => {
    const cases: [string[], RegExp][] = [
      [
        ['decode', '--strategy', 'beam', '--temperature', '0.5', 'tvae1:x'],
        /--temperature applies to --strategy sample only \(got --strategy beam\)$/,
      ],
      [
        ['decode', '--top-p', '0.9', 'tvae1:x'],
        /--top-p applies to --strategy sample only \(decode uses greedy unless --strategy says otherwise\)$/,
      ],
      [
        ['reconstruct', '--beam', '4', '--seed', '3', '--text', 'hi'],
        /--seed applies to --strategy sample only \(reconstruct uses beam unless --strategy says otherwise\)$/,
      ],
      [
        ['interpolate', '--from', 'a', '--to', 'b', '--strategy', 'beam', '--no-repeat-ngram', '2'],
        /--no-repeat-ngram applies to --strategy greedy or sample only \(got --strategy beam\)$/,
      ],
      [['sample', '--strategy', 'greedy', '--temperature', '0.5'], /--temperature applies to --strategy sample only/],
      [['eval', '--data', '.', '--temperature', '0.5'], /--temperature applies to --sentences and --samples/],
      [['eval', '--data', '.', '--chunks', '2'], /--chunks applies to --samples N$/],
      [['eval', '--sentences', 'x.txt', '--seed', '2'], /--seed applies to --strategy sample only \(eval uses greedy/],
    ];
    const runs = await Promise.all(cases.map(([args]) => runCli(args)));
    runs.forEach((r, i) => assertOneLineError(r, 2, cases[i][1]));
    // What a strategy reads is taken; sample's --seed also draws the codes, so any strategy takes it.
    const { dir } = await fixture();
    const code = (await runCli(['encode', '--model', dir, '--text', SENTENCES[0]])).stdout.trim();
    const ok = await Promise.all([
      runCli(['sample', '--model', dir, '-n', '1', '--strategy', 'greedy', '--seed', '3']),
      runCli(['decode', '--model', dir, '--strategy', 'sample', '--temperature', '0.5', '--seed', '2', code]),
      runCli(['decode', '--model', dir, '--beam', '2', '--rerank', '0', code]),
    ]);
    for (const r of ok) assert.equal(r.code, 0, describeRun(r));
  });

  test('encode: --seed without --sample, and --sample on a model without a posterior spread, are named', async () => {
    const { dir } = await fixture();
    const [seed, notVae] = await Promise.all([
      runCli(['encode', '--model', dir, '--seed', '3', '--text', SENTENCES[0]]),
      runCli(['encode', '--model', dir, '--sample', '--text', SENTENCES[0]]),
    ]);
    assertOneLineError(seed, 2, /--seed applies to --sample$/);
    assertOneLineError(notVae, 2, /--sample draws from a vae's posterior; .* is variant ae$/);
  });

  test('resuming below the checkpoint, or without a bound, is a usage error and leaves the bundle alone', async () => {
    const { dir, data } = await fixture();
    const before = fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8');
    const [below, same, unbounded] = await Promise.all([
      runCli(['train', '--data', data, '--out', dir, '--resume', dir, '--steps', '100']),
      runCli(['train', '--data', data, '--out', dir, '--resume', dir, '--steps', '160']),
      runCli(['train', '--data', data, '--out', dir, '--resume', dir]),
    ]);
    assertOneLineError(below, 2, /--steps 100 is not above the checkpoint's step 160: nothing would be trained/);
    assertOneLineError(same, 2, /--steps 160 is not above the checkpoint's step 160/);
    assertOneLineError(unbounded, 2, /bound the resumed run with --minutes, --steps or --epochs/);
    assert.equal(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'), before);
  });

  test('a folder or a missing file where a file belongs, and an --out that cannot be written: one line, nothing left', async () => {
    const { dir } = await fixture();
    const root = makeTempDir('textvae-paths-');
    const folder = writeFiles(path.join(root, 'notes'), { 'readme.md': 'not a model' });
    const code = (await runCli(['compress', '--model', dir, '--text', 'hi'])).stdout.trim();
    const [encode, reconstruct, fromFile, toFolder, noFolder, decompressToFolder, notModel] = await Promise.all([
      runCli(['encode', '--model', dir, folder]),
      runCli(['reconstruct', '--model', dir, folder]),
      runCli(['interpolate', '--model', dir, '--from-file', path.join(root, 'missing.txt'), '--to', 'x']),
      runCli(['compress', '--model', dir, '--text', 'hi', '--out', folder]),
      runCli(['compress', '--model', dir, '--text', 'hi', '--out', path.join(root, 'no', 'such', 'x.tvz')]),
      runCli(['decompress', '--model', dir, code, '--out', folder]),
      runCli(['info', '--model', folder]),
    ]);
    assertOneLineError(encode, 1, /^textvae: not a file: .*notes$/);
    assertOneLineError(reconstruct, 1, /^textvae: not a file: .*notes$/);
    assertOneLineError(fromFile, 1, /^textvae: no such file: .*missing\.txt$/);
    assertOneLineError(toFolder, 1, /^textvae: --out .*notes is a folder; give a file name$/);
    assertOneLineError(noFolder, 1, /^textvae: --out .*x\.tvz: no such folder .*such$/);
    assertOneLineError(decompressToFolder, 1, /^textvae: --out .*notes is a folder; give a file name$/);
    assertOneLineError(notModel, 1, /notes: no manifest\.json: not a TextVAE model folder$/);
    assert.deepEqual(fs.readdirSync(root), ['notes']);
    assert.deepEqual(fs.readdirSync(folder), ['readme.md']);
  });

  test('compress of an empty file: a code that decompresses to nothing, and a summary without a placeholder', async () => {
    const { dir } = await fixture();
    const root = makeTempDir('textvae-empty-');
    const empty = path.join(root, 'empty.txt');
    fs.writeFileSync(empty, '');
    const binary = path.join(root, 'empty.tvz');
    const [asCode, asFile, asText] = await Promise.all([
      runCli(['compress', '--model', dir, empty]),
      runCli(['compress', '--model', dir, empty, '--out', binary]),
      runCli(['compress', '--model', dir, '--text', '']),
    ]);
    for (const r of [asCode, asFile, asText]) assert.equal(r.code, 0, describeRun(r));
    assert.match(asCode.stderr, /^0 bytes -> \d+ bytes \(binary form\)\n$/);
    assert.match(asFile.stderr, /^0 bytes -> \d+ bytes \(binary form\), written to .*empty\.tvz\n$/);
    assert.equal(asText.stdout, asCode.stdout);
    const [fromCode, fromFile] = await Promise.all([
      runCli(['decompress', '--model', dir, asCode.stdout.trim()]),
      runCli(['decompress', '--model', dir, binary]),
    ]);
    for (const r of [fromCode, fromFile]) {
      assert.equal(r.code, 0, describeRun(r));
      assert.equal(r.stdout, '');
      assert.equal(r.stderr, '');
    }
  });

  test('a lossless code given to decode, a latent code to decompress: the message names the other command', async () => {
    const { dir } = await fixture();
    const [enc, comp] = await Promise.all([
      runCli(['encode', '--model', dir, '--text', SENTENCES[0]]),
      runCli(['compress', '--model', dir, '--text', SENTENCES[0]]),
    ]);
    const latent = enc.stdout.trim();
    const lossless = comp.stdout.trim();
    const [asArg, asText, asLatent] = await Promise.all([
      runCli(['decode', '--model', dir, lossless]),
      runCli(['decode', '--model', dir, '--text', `see ${lossless}`]),
      runCli(['decompress', '--model', dir, latent]),
    ]);
    assertOneLineError(asArg, 1, /a lossless code \(tvz2:\.\.\.\) is read by textvae decompress/);
    assertOneLineError(asText, 1, /a lossless code \(tvz2:\.\.\.\) is read by textvae decompress/);
    assertOneLineError(asLatent, 1, /a latent code \(tvae2:\.\.\.\) is read by textvae decode/);
  });

  test('decode reads each argument by what it is: a padded code, a file named tvae-codes.txt, "-"', async () => {
    const { dir } = await fixture();
    const enc = await runCli(['encode', '--model', dir, '--text', SENTENCES[0]]);
    assert.equal(enc.code, 0, describeRun(enc));
    const code = enc.stdout.trim();
    const folder = makeTempDir('textvae-decode-args-');
    const file = path.join(folder, 'tvae-codes.txt');
    fs.writeFileSync(file, `notes\n${code}\n`);
    const [padded, named, stdin, neither] = await Promise.all([
      runCli(['decode', '--model', dir, `  ${code}  `]),
      runCli(['decode', '--model', dir, 'tvae-codes.txt'], { cwd: folder }),
      runCli(['decode', '--model', dir, '-'], { input: code }),
      runCli(['decode', '--model', dir, 'tvae-missing.txt'], { cwd: folder }),
    ]);
    for (const r of [padded, named, stdin]) {
      assert.equal(r.code, 0, describeRun(r));
      assert.equal(r.stdout.trim(), SENTENCES[0]);
    }
    assertOneLineError(neither, 1, /'tvae-missing\.txt' is neither a file nor a latent code \(tvae2:\.\.\.\)/);
  });
});

describe('demo (npm start)', () => {
  before(ensureCliBuilt);

  test('shows a lossless code of the default model that decompresses to its sentence exactly', async () => {
    const demo = await runCli(['demo']);
    assert.equal(demo.code, 0, describeRun(demo));
    const code = /tvz2:[0-9a-f]{8}:[A-Za-z0-9_-]+/.exec(demo.stdout)?.[0];
    assert.ok(code, `a tvz2: code in the demo's output:\n${demo.stdout}`);
    assert.match(demo.stdout, /decoded back: identical/);
    // Two sentences through tvae2 codes and back, each text on one tidy line.
    assert.equal(demo.stdout.match(/^code: +tvae2:[0-9a-f]{8}:\S+$/gm)?.length, 2, demo.stdout);
    assert.equal(demo.stdout.match(/^reconstructed: \S.*$/gm)?.length, 2, demo.stdout);
    assert.doesNotMatch(demo.stdout, /[ \t]$/m, 'no line ends in spaces');
    const back = await runCli(['decompress', code]);
    assert.equal(back.code, 0, describeRun(back));
    assert.equal(back.stdout, 'This module provides access to the mathematical functions defined by the C standard.');
  });
});
