/** The settings table against package.json's contributes.configuration, and how values are read. */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import {
  SETTINGS,
  ignoredDecodingSettings,
  settingId,
  type SettingKey,
  type SettingSpec,
} from '../../src/protocol/settings';

interface Declared {
  type: string;
  default: unknown;
  enum?: string[];
  minimum?: number;
  maximum?: number;
}

const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as {
  contributes: { configuration: { properties: Record<string, Declared> } };
};
const declared = pkg.contributes.configuration.properties;
const keys = Object.keys(SETTINGS) as SettingKey[];

test('every textvae.* setting in package.json is in the table, and nothing else', () => {
  assert.deepEqual(keys.map(settingId).sort(), Object.keys(declared).sort());
});

test('package.json declares the same defaults, choices and ranges as the table', () => {
  for (const key of keys) {
    const spec: SettingSpec<unknown> = SETTINGS[key];
    const d = declared[settingId(key)];
    assert.deepEqual(d.default, spec.default, `${key}: default`);
    // The same set; package.json orders its enum for the settings UI.
    assert.deepEqual(d.enum?.slice().sort(), spec.choices?.slice().sort(), `${key}: enum`);
    const range = spec.range;
    assert.equal(d.minimum, range?.min, `${key}: minimum`);
    assert.equal(d.maximum, range && range.max !== Infinity ? range.max : undefined, `${key}: maximum`);
    const type = range
      ? range.integer
        ? 'integer'
        : 'number'
      : Array.isArray(spec.default)
        ? 'array'
        : typeof spec.default;
    assert.equal(d.type, type, `${key}: type`);
  }
});

test('every default reads back as itself', () => {
  for (const key of keys) {
    const spec: SettingSpec<unknown> = SETTINGS[key];
    assert.deepEqual(spec.read(spec.default), spec.default, key);
  }
});

test('a missing or malformed value reads as the default', () => {
  for (const key of keys) {
    const spec: SettingSpec<unknown> = SETTINGS[key];
    for (const raw of [undefined, null, {}, NaN])
      assert.deepEqual(spec.read(raw), spec.default, `${key} <- ${String(raw)}`);
  }
  assert.equal(SETTINGS.backend.read('gpu'), 'auto');
  assert.equal(SETTINGS['training.variant'].read('VAE'), 'vae');
  assert.equal(SETTINGS['hover.enabled'].read('false'), true);
});

test('numbers are clamped into their range and integers rounded', () => {
  assert.equal(SETTINGS['sampling.count'].read(1000), 32);
  assert.equal(SETTINGS['sampling.count'].read(2.6), 3);
  assert.equal(SETTINGS['sampling.temperature'].read(0), 0.05);
  assert.equal(SETTINGS['decoding.beamWidth'].read(-3), 1);
  assert.equal(SETTINGS['training.minutes'].read(5000), 1440);
  assert.equal(SETTINGS['training.maxFileSizeKB'].read(1e9), 1e9);
  assert.equal(SETTINGS['training.seed'].read(-1), 0);
});

test('glob lists drop empty items; an empty include list means the default', () => {
  assert.deepEqual(SETTINGS['training.include'].read(['', '  ', 7]), SETTINGS['training.include'].default);
  assert.deepEqual(SETTINGS['training.include'].read(['**/*.md', '']), ['**/*.md']);
  assert.deepEqual(SETTINGS['training.exclude'].read([]), []);
  assert.equal(SETTINGS['training.outputFolder'].read('  .textvae/models '), '.textvae/models');
});

test('only the settings module reads the configuration', () => {
  const root = path.join(__dirname, '..', '..', 'src');
  const offenders: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.ts$/.test(e.name) && /getConfiguration\(/.test(fs.readFileSync(p, 'utf8')))
        offenders.push(path.relative(root, p));
    }
  };
  walk(root);
  assert.deepEqual(offenders, [path.join('extension', 'config.ts')]);
});

test('beam settings the user gave are named when greedy decoding would not use them', () => {
  assert.equal(
    ignoredDecodingSettings('greedy', ['decoding.beamWidth', 'decoding.rerank']),
    'textvae.decoding.beamWidth and textvae.decoding.rerank apply to beam search only: with textvae.decoding.strategy greedy, they are not used',
  );
  assert.equal(
    ignoredDecodingSettings('greedy', ['decoding.rerank', 'decoding.strategy']),
    'textvae.decoding.rerank applies to beam search only: with textvae.decoding.strategy greedy, it is not used',
  );
  assert.equal(ignoredDecodingSettings('beam', ['decoding.beamWidth', 'decoding.rerank']), undefined);
  assert.equal(ignoredDecodingSettings('greedy', []), undefined, 'defaults left alone are not the user asking');
});
