import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseGeneratorCommand,
  parseGeneratorNotification,
  parseGeneratorViewState,
  parseMetricsLine,
  parseTrainingCommand,
  parseTrainingNotification,
  parseTrainingViewState,
} from '../../src/protocol/webview';

const msg = (method: string, params: unknown, id: unknown = 1) => ({ id, method, params });
const point = { x: 0.5, y: -1, uri: 'file:///w/a.md', offset: 10, line: 2, preview: 'hello' };

test('generator notifications: valid messages parse', () => {
  assert.deepEqual(parseGeneratorNotification(msg('model', { model: null })), {
    id: 1,
    method: 'model',
    params: { model: null },
  });
  const model = { name: 'm', fingerprint: 'abcdef0123', variant: 'vae', backend: 'cpu' };
  assert.deepEqual(parseGeneratorNotification(msg('model', { model })), { id: 1, method: 'model', params: { model } });
  assert.deepEqual(parseGeneratorNotification(msg('samples', { items: ['a', ''] })), {
    id: 1,
    method: 'samples',
    params: { items: ['a', ''] },
  });
  assert.deepEqual(parseGeneratorNotification(msg('busy', { busy: true, label: 'x' })), {
    id: 1,
    method: 'busy',
    params: { busy: true, label: 'x' },
  });
  assert.deepEqual(parseGeneratorNotification(msg('map', { points: [point] })), {
    id: 1,
    method: 'map',
    params: { points: [point] },
  });
  assert.deepEqual(parseGeneratorNotification(msg('selection', { slot: 'to', text: 'sel' })), {
    id: 1,
    method: 'selection',
    params: { slot: 'to', text: 'sel' },
  });
  assert.ok(
    parseGeneratorNotification(msg('settings', { count: 3, temperature: 0.8, topP: 0.95, steps: 5, mode: 'linear' })),
  );
  assert.ok(
    parseGeneratorNotification(
      msg('interpolation', {
        items: [
          { alpha: 0, text: 'a' },
          { alpha: 1, text: 'b' },
        ],
      }),
    ),
  );
});

test('generator notifications: malformed messages are rejected', () => {
  const bad: unknown[] = [
    null,
    'samples',
    [],
    { method: 'samples', params: { items: [] } }, // no id
    msg('samples', { items: [] }, '1'),
    msg('nope', {}),
    msg('samples', null),
    msg('samples', { items: [1] }),
    msg('samples', { items: 'a' }),
    msg('model', {}),
    msg('model', { model: { name: 'x' } }),
    msg('busy', { busy: 'yes' }),
    msg('busy', { busy: true, label: 3 }),
    msg('map', { points: [{ ...point, x: 'a' }] }),
    msg('map', { points: [{ ...point, offset: -1 }] }),
    msg('map', { points: [{ ...point, x: Infinity }] }),
    msg('selection', { slot: 'middle', text: 'x' }),
    msg('interpolation', { items: [{ alpha: '0', text: 'a' }] }),
    msg('settings', { count: 0, temperature: 0.8, topP: 0.95, steps: 5, mode: 'linear' }),
    msg('settings', { count: 3, temperature: 0.8, topP: 0.95, steps: 5, mode: 'curvy' }),
    msg('error', { message: 42 }),
  ];
  for (const b of bad) assert.equal(parseGeneratorNotification(b), null, JSON.stringify(b));
});

test('generator commands: ranges and fields are checked on the host side', () => {
  // A form without a paragraph length (an older webview's) samples one chunk each.
  assert.deepEqual(parseGeneratorCommand(msg('sample', { n: 3, temperature: 0.8, seed: 1, maxTokens: 64 })), {
    id: 1,
    method: 'sample',
    params: { n: 3, temperature: 0.8, seed: 1, maxTokens: 64, chunks: 1 },
  });
  assert.equal(
    parseGeneratorCommand(msg('sample', { n: 3, temperature: 0.8, seed: 1, maxTokens: 64, chunks: 9 })),
    null,
  );
  assert.equal(parseGeneratorCommand(msg('sample', { n: 33, temperature: 0.8, seed: 1, maxTokens: 64 })), null);
  assert.equal(parseGeneratorCommand(msg('sample', { n: 1.5, temperature: 0.8, seed: 1, maxTokens: 64 })), null);
  assert.equal(parseGeneratorCommand(msg('sample', { n: 3, temperature: 0, seed: 1, maxTokens: 64 })), null);
  assert.equal(parseGeneratorCommand(msg('sample', { n: 3, temperature: 0.8, seed: -1, maxTokens: 64 })), null);
  assert.ok(parseGeneratorCommand(msg('interpolate', { from: 'a', to: 'b', steps: 5, mode: 'spherical' })));
  assert.equal(parseGeneratorCommand(msg('interpolate', { from: 'a', to: 'b', steps: 1, mode: 'spherical' })), null);
  assert.equal(parseGeneratorCommand(msg('openLocation', { uri: 'file:///a', offset: -3 })), null);
  assert.equal(parseGeneratorCommand(msg('openLocation', { uri: '', offset: 0 })), null);
  assert.deepEqual(parseGeneratorCommand(msg('copy', { text: 'x' })), { id: 1, method: 'copy', params: { text: 'x' } });
  assert.equal(parseGeneratorCommand(msg('insert', { text: 1 })), null);
  assert.deepEqual(parseGeneratorCommand(msg('cancel', {})), { id: 1, method: 'cancel', params: {} });
  assert.equal(parseGeneratorCommand(msg('useSelection', { slot: 'x' })), null);
  // Notification names are not commands.
  assert.equal(parseGeneratorCommand(msg('samples', { items: [] })), null);
  // Inherited property names are not methods either.
  assert.equal(parseGeneratorCommand(msg('toString', {})), null);
  assert.equal(parseGeneratorCommand(msg('__proto__', {})), null);
});

test('envelope: replyTo names the command a notification answers; ids are whole numbers', () => {
  assert.deepEqual(parseGeneratorNotification({ id: 5, method: 'samples', params: { items: ['a'] }, replyTo: 2 }), {
    id: 5,
    method: 'samples',
    params: { items: ['a'] },
    replyTo: 2,
  });
  assert.equal(parseGeneratorNotification({ id: 5, method: 'samples', params: { items: [] }, replyTo: '2' }), null);
  assert.equal(parseGeneratorNotification(msg('samples', { items: [] }, 1.5)), null);
  assert.equal(parseGeneratorNotification(msg('samples', { items: [] }, -1)), null);
  // Unknown keys in params are dropped, not passed on.
  assert.deepEqual(parseGeneratorCommand(msg('copy', { text: 'x', extra: 1 }))?.params, { text: 'x' });
});

test('generator view state: restored when valid, fields checked', () => {
  const state = {
    sample: { n: 2, temperature: 1, seed: 7, maxTokens: 32, chunks: 3 },
    interpolate: { from: 'a', to: 'b', steps: 4, mode: 'linear' },
    samples: ['x'],
    interpolation: [{ alpha: 0.5, text: 'y' }],
  };
  assert.deepEqual(parseGeneratorViewState(state), { ...state, map: [] });
  // A state saved before the form had a paragraph length: one chunk.
  const { chunks: _chunks, ...older } = state.sample;
  assert.deepEqual(parseGeneratorViewState({ ...state, sample: older })?.sample, { ...older, chunks: 1 });
  assert.deepEqual(parseGeneratorViewState({ ...state, map: [point] })?.map, [point]);
  // Bad results are dropped, bad form values make the whole state unusable.
  assert.deepEqual(parseGeneratorViewState({ ...state, samples: [1] })?.samples, []);
  assert.equal(parseGeneratorViewState({ ...state, sample: { ...state.sample, n: 0 } }), null);
  assert.equal(parseGeneratorViewState(undefined), null);
  assert.equal(parseGeneratorViewState('x'), null);
});

const line = {
  type: 'metrics',
  step: 10,
  epoch: 0.1,
  progress: 0.05,
  elapsed_s: 3,
  tokens_per_s: 1000,
  bytes_per_s: 4000,
  loss: 3.2,
  recon_bits_per_byte: 2,
  kl_bits_per_byte: 0.1,
  beta: 0,
  learning_rate: 0.002,
  grad_norm: 1,
  val_bits_per_byte: null,
  val_recon_bits_per_byte: null,
  val_kl_bits_per_byte: null,
  active_units: 0,
  mutual_information: null,
  sparsity: null,
  token_accuracy: null,
  tensors: 10,
  backend: 'cpu',
};

test('metrics lines: null (NaN after JSON) reads as NaN; wrong types are rejected', () => {
  const m = parseMetricsLine(line);
  assert.ok(m);
  assert.ok(Number.isNaN(m.val_bits_per_byte));
  assert.equal(m.loss, 3.2);
  assert.equal(parseMetricsLine({ ...line, loss: '3' }), null);
  assert.equal(parseMetricsLine({ ...line, step: 1.5 }), null);
  assert.equal(parseMetricsLine({ ...line, type: 'log' }), null);
  const { backend: _b, ...noBackend } = line;
  assert.equal(parseMetricsLine(noBackend), null);
});

test('training notifications and commands', () => {
  assert.deepEqual(parseTrainingNotification(msg('reset', { title: 't' })), {
    id: 1,
    method: 'reset',
    params: { title: 't' },
  });
  assert.equal(parseTrainingNotification(msg('reset', { title: 1 })), null);
  assert.deepEqual(parseTrainingNotification(msg('reset', { title: 't', idle: true })), {
    id: 1,
    method: 'reset',
    params: { title: 't', idle: true },
  });
  assert.equal(parseTrainingNotification(msg('reset', { title: 't', idle: 'yes' })), null);
  assert.equal(parseTrainingNotification(msg('metrics', { ...line, kl_bits_per_byte: 'x' })), null);
  assert.equal(parseTrainingNotification(msg('metrics', line))?.method, 'metrics');
  assert.deepEqual(parseTrainingNotification(msg('done', { message: 'ok', cancelled: false })), {
    id: 1,
    method: 'done',
    params: { message: 'ok', cancelled: false },
  });
  assert.equal(parseTrainingNotification(msg('done', { message: 'ok' })), null);
  const snap = {
    title: 't',
    points: [{ step: 1, loss: 1, kl: null, val: null }],
    latest: line,
    done: null,
    cancelling: false,
  };
  assert.equal(parseTrainingNotification(msg('snapshot', snap))?.method, 'snapshot');
  assert.equal(parseTrainingNotification(msg('snapshot', { ...snap, points: [{ step: 'a' }] })), null);
  assert.deepEqual(parseTrainingCommand(msg('cancel', {})), { id: 1, method: 'cancel', params: {} });
  assert.equal(parseTrainingCommand(msg('metrics', {})), null);
});

test('training view state restore', () => {
  const s = parseTrainingViewState({
    title: 'x',
    points: [{ step: 2, loss: null, kl: 0.1, val: 2 }],
    latest: null,
    done: { message: 'm', cancelled: true },
  });
  assert.deepEqual(s, {
    title: 'x',
    points: [{ step: 2, loss: null, kl: 0.1, val: 2 }],
    latest: null,
    done: { message: 'm', cancelled: true },
    cancelling: false,
  });
  assert.equal(parseTrainingViewState({ title: 'x', points: 'no', latest: null, done: null }), null);
  assert.equal(parseTrainingViewState({ title: 'x', points: [], latest: { type: 'metrics' }, done: null }), null);
});
