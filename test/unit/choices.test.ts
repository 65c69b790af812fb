/** package.json's settings cannot import core/choices.ts; these tests keep the two equal. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

import {
  BACKEND_REQUESTS,
  DECODE_STRATEGIES,
  INTERPOLATION_MODES,
  MODEL_SIZES,
  SETTING_RANGES,
  VARIANTS,
  describeRange,
  inRange,
  type NumberRange,
} from '../../src/core/choices';

const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8'));
const settings = pkg.contributes.configuration.properties as Record<
  string,
  { enum?: string[]; minimum?: number; maximum?: number; type: string }
>;

test('every enumerated setting offers exactly the engine choices', () => {
  assert.deepEqual(new Set(settings['textvae.backend'].enum), new Set(BACKEND_REQUESTS));
  assert.deepEqual(new Set(settings['textvae.training.variant'].enum), new Set(VARIANTS));
  assert.deepEqual(new Set(settings['textvae.training.modelSize'].enum), new Set(MODEL_SIZES));
  assert.deepEqual(new Set(settings['textvae.interpolation.mode'].enum), new Set(INTERPOLATION_MODES));
  // The settings offer the deterministic strategies only; sampling is the generator's.
  for (const s of settings['textvae.decoding.strategy'].enum!)
    assert.ok((DECODE_STRATEGIES as readonly string[]).includes(s), s);
});

test('every ranged setting has the range of SETTING_RANGES', () => {
  const pairs: [string, NumberRange][] = [
    ['textvae.sampling.count', SETTING_RANGES.sampleCount],
    ['textvae.sampling.temperature', SETTING_RANGES.temperature],
    ['textvae.sampling.topP', SETTING_RANGES.topP],
    ['textvae.decoding.beamWidth', SETTING_RANGES.beamWidth],
    ['textvae.decoding.rerank', SETTING_RANGES.rerank],
    ['textvae.interpolation.steps', SETTING_RANGES.interpolationSteps],
    ['textvae.training.minutes', SETTING_RANGES.trainingMinutes],
  ];
  for (const [key, range] of pairs) {
    const s = settings[key];
    assert.deepEqual([s.minimum, s.maximum, s.type === 'integer'], [range.min, range.max, range.integer], key);
  }
});

test('ranges check integers and bounds, and describe themselves', () => {
  const r: NumberRange = { min: 1, max: 16, integer: true };
  assert.deepEqual(
    [0, 1, 2.5, 16, 17, NaN, '3'].map((v) => inRange(r, v)),
    [false, true, false, true, false, false, false],
  );
  assert.equal(describeRange(r), 'an integer from 1 to 16');
  assert.equal(describeRange({ min: 0.01, max: Infinity, integer: false }), 'a number of at least 0.01');
});
