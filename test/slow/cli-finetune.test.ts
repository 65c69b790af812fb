/**
 * `textvae train --from DIR` (fine-tuning) and `textvae eval --sentences FILE`, through the built CLI.
 */
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { SENTENCES } from '../helpers/engine';
import { describeRun, ensureCliBuilt, runCli, stderrLines, trainCliModel, type CliModel } from '../helpers/cli';
import { makeTempDir, writeFiles } from '../helpers/tmp';

let parent: CliModel;
let newData = '';

function hashes(dir: string): string {
  return fs
    .readdirSync(dir)
    .sort()
    .map(
      (n) =>
        `${n}:${createHash('sha256')
          .update(fs.readFileSync(path.join(dir, n)))
          .digest('hex')}`,
    )
    .join('\n');
}

function manifest(dir: string): { fingerprint: string; training: Record<string, unknown> } {
  return JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
}

before(async () => {
  ensureCliBuilt();
  parent = await trainCliModel();
  newData = writeFiles(makeTempDir('textvae-newdata-'), {
    'harbour.txt': 'Ships leave the harbour at dawn.\n\nThe tide turns twice a day.\n\nGulls follow the boats home.',
  });
});

describe('textvae train --from', () => {
  test('fine-tunes: same tokenizer and config, parent fingerprint in the manifest, parent untouched', async () => {
    const before = hashes(parent.dir);
    const out = path.join(makeTempDir('textvae-ft-'), 'model');
    const r = await runCli(['train', '--from', parent.dir, '--data', newData, '--out', out, '--steps', '6']);
    assert.equal(r.code, 0, describeRun(r));
    assert.match(r.stderr, /fine-tuning .* keeping its \d+-token tokenizer/);
    assert.equal(hashes(parent.dir), before);
    for (const f of ['tokenizer.json', 'config.json'])
      assert.equal(
        fs.readFileSync(path.join(out, f), 'utf8'),
        fs.readFileSync(path.join(parent.dir, f), 'utf8'),
        `${f} differs from the parent's`,
      );
    const m = manifest(out);
    assert.deepEqual(m.training.parent, {
      fingerprint: manifest(parent.dir).fingerprint,
      // Only the folder's name: no absolute path of the trainer's machine goes into a shared bundle.
      name: path.basename(parent.dir),
    });
    assert.equal(m.training.step, 6);
    // The parent is an 'ae': without --variant the fine-tuned model stays one.
    assert.equal(JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8')).variant, 'ae');
  });

  test('an architecture flag that differs from the parent is refused with one clear line, nothing written', async () => {
    const out = path.join(makeTempDir('textvae-ft-'), 'model');
    const r = await runCli([
      'train',
      ...['--from', parent.dir, '--data', newData, '--out', out, '--steps', '6'],
      ...['--model-dim', '64', '--variant', 'vae'],
    ]);
    assert.equal(r.code, 1, describeRun(r));
    const lines = stderrLines(r).filter((l) => l.startsWith('textvae: '));
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], /keeps the parent model's architecture/);
    assert.match(lines[0], /modelDim 64 \(the parent has 48\)/);
    assert.match(lines[0], /variant "vae" \(the parent has "ae"\)/);
    assert.equal(fs.existsSync(out), false);
  });

  test('--from with --resume is a usage error; a missing parent fails clearly', async () => {
    const out = path.join(makeTempDir('textvae-ft-'), 'model');
    const both = await runCli(['train', '--from', parent.dir, '--resume', parent.dir, '--data', newData, '--out', out]);
    assert.equal(both.code, 2, describeRun(both));
    assert.match(both.stderr, /--from starts a new run .* --resume continues one/);
    const missing = path.join(makeTempDir('textvae-ft-'), 'nothing-here');
    const r = await runCli(['train', '--from', missing, '--data', newData, '--out', out, '--steps', '2']);
    assert.equal(r.code, 1, describeRun(r));
    assert.match(r.stderr, new RegExp(`textvae: ${missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  });
});

describe('textvae eval --sentences', () => {
  test('exact, similarity, word F1 and code length per line; a line the model cannot know lowers exact', async () => {
    const file = path.join(makeTempDir('textvae-sent-'), 'sentences.txt');
    fs.writeFileSync(file, [...SENTENCES, '', 'Owls hoot at dusk.'].join('\n') + '\n');
    const r = await runCli(['eval', '--model', parent.dir, '--sentences', file, '--json']);
    assert.equal(r.code, 0, describeRun(r));
    const m = JSON.parse(r.stdout);
    assert.equal(m.sentences, SENTENCES.length + 1, 'blank lines are not sentences');
    // The fixture reconstructs its six training sentences exactly; the seventh it never saw.
    assert.equal(m.exact, SENTENCES.length / (SENTENCES.length + 1));
    assert.ok(m.char_similarity > 6 / 7 && m.char_similarity < 1, `char_similarity ${m.char_similarity}`);
    assert.ok(m.word_f1 >= 6 / 7 && m.word_f1 < 1, `word_f1 ${m.word_f1}`);
    // Latent 16: every code has a 30-character payload.
    const lines = [...SENTENCES, 'Owls hoot at dusk.'];
    const expected = lines.reduce((s, l) => s + 30 / l.length, 0) / lines.length;
    assert.ok(Math.abs(m.code_chars_per_text_char - expected) < 1e-9, `${m.code_chars_per_text_char} vs ${expected}`);
    assert.equal(m.strategy, 'greedy');
    assert.equal(m.bits_per_byte, undefined, 'without --data there are no corpus figures');
  });

  test('decoding flags apply, --data figures come alongside, and bad files fail clearly', async () => {
    const file = path.join(makeTempDir('textvae-sent-'), 'sentences.txt');
    fs.writeFileSync(file, SENTENCES.slice(0, 2).join('\r\n'));
    const r = await runCli([
      'eval',
      '--model',
      parent.dir,
      '--sentences',
      file,
      '--beam',
      '2',
      '--data',
      parent.data,
      '--json',
    ]);
    assert.equal(r.code, 0, describeRun(r));
    const m = JSON.parse(r.stdout);
    assert.equal(m.strategy, 'beam');
    assert.equal(m.sentences, 2);
    assert.ok(m.bits_per_byte > 0);
    const missing = await runCli(['eval', '--model', parent.dir, '--sentences', file + '.nope']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no such file: .*\.nope/);
    const blank = path.join(makeTempDir('textvae-sent-'), 'blank.txt');
    fs.writeFileSync(blank, '\n  \n');
    const empty = await runCli(['eval', '--model', parent.dir, '--sentences', blank]);
    assert.equal(empty.code, 1);
    assert.match(empty.stderr, /has no sentences/);
    const neither = await runCli(['eval', '--model', parent.dir]);
    assert.equal(neither.code, 2);
  });
});
