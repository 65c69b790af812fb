import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MetricsLine } from '../../src/core/train';
import {
  canRequest,
  defaultViewState,
  initialState,
  reduce,
  type GeneratorAction,
  type GeneratorState,
} from '../../src/webview/generator/state';
import type { GeneratorNotification, GeneratorNotifications, MethodCall } from '../../src/protocol/webview';
import {
  canCancel,
  emptyTrainingState,
  MAX_POINTS,
  reduce as reduceTraining,
  runStatus,
  thin,
  toPoint,
} from '../../src/protocol/trainingState';

let nextId = 1;
/** A notification from the host; `replyTo`: the id of the request it answers. */
const note = (m: MethodCall<GeneratorNotifications>, replyTo?: number): GeneratorAction => ({
  type: 'notification',
  message: { id: nextId++, ...m, ...(replyTo === undefined ? {} : { replyTo }) } as GeneratorNotification,
});
const run = (s: GeneratorState, ...actions: GeneratorAction[]) => actions.reduce(reduce, s);

test('generator: settings seed the form only without saved state', () => {
  const settings = { count: 5, temperature: 1.2, topP: 0.9, steps: 7, mode: 'linear' as const };
  const fresh = run(initialState(null), note({ method: 'settings', params: settings }));
  assert.equal(fresh.view.sample.n, 5);
  assert.equal(fresh.view.sample.temperature, 1.2);
  assert.equal(fresh.view.interpolate.steps, 7);
  assert.equal(fresh.view.interpolate.mode, 'linear');
  // A second settings message (e.g. after a reload of the same page) keeps what the user chose.
  const edited = run(fresh, { type: 'sampleForm', patch: { n: 2 } }, note({ method: 'settings', params: settings }));
  assert.equal(edited.view.sample.n, 2);
  const saved = defaultViewState();
  saved.sample.n = 9;
  assert.equal(run(initialState(saved), note({ method: 'settings', params: settings })).view.sample.n, 9);
});

test('generator: results, selection, busy and errors', () => {
  let s = initialState(null);
  assert.equal(s.model, undefined);
  assert.equal(canRequest(s), true);
  s = reduce(s, note({ method: 'model', params: { model: null } }));
  assert.equal(s.model, null);
  assert.equal(canRequest(s), true, 'the engine may load a model on the first request');
  s = reduce(
    s,
    note({ method: 'model', params: { model: { name: 'm', fingerprint: 'f', variant: 'vae', backend: 'cpu' } } }),
  );
  s = reduce(s, { type: 'requested', label: 'Sampling…', id: 1 });
  assert.equal(s.busy, true);
  assert.equal(canRequest(s), false);
  s = reduce(s, note({ method: 'error', params: { message: 'boom' } }));
  assert.equal(s.error, 'boom');
  s = run(
    s,
    note({ method: 'samples', params: { items: ['a', 'b'] } }),
    note({ method: 'busy', params: { busy: false } }),
  );
  assert.deepEqual(s.view.samples, ['a', 'b']);
  assert.equal(s.error, null);
  assert.equal(s.busy, false);
  s = reduce(s, note({ method: 'selection', params: { slot: 'to', text: 'sel' } }));
  assert.equal(s.view.interpolate.to, 'sel');
  assert.equal(s.view.interpolate.from, '');
  const before = s.view;
  s = reduce(s, note({ method: 'notice', params: { message: 'Cancelled.' } }));
  assert.equal(s.view, before, 'a notice leaves the persisted view alone');
  s = reduce(s, { type: 'dismissError' });
  assert.equal(s.error, null);
  s = reduce(
    s,
    note({ method: 'map', params: { points: [{ x: 0, y: 0, uri: 'u', offset: 0, line: 0, preview: '' }] } }),
  );
  assert.equal(s.view.map?.length, 1);
});

const metrics = (step: number, over: Partial<MetricsLine> = {}): MetricsLine => ({
  type: 'metrics',
  step,
  epoch: 0,
  progress: step / 100,
  elapsed_s: step,
  tokens_per_s: 1,
  bytes_per_s: 1,
  loss: 10 / step,
  recon_bits_per_byte: 1,
  kl_bits_per_byte: 0.1,
  beta: 1,
  learning_rate: 1e-3,
  grad_norm: 1,
  val_bits_per_byte: NaN,
  val_recon_bits_per_byte: NaN,
  val_kl_bits_per_byte: NaN,
  active_units: 1,
  mutual_information: NaN,
  sparsity: NaN,
  token_accuracy: NaN,
  tensors: 1,
  backend: 'cpu',
  ...over,
});

test('generator: answers to a cancelled request are dropped, answers to the next one are not', () => {
  let s = run(initialState(null), { type: 'requested', label: 'Sampling…', id: 4 });
  s = run(s, note({ method: 'samples', params: { items: ['kept'] } }, 4));
  assert.deepEqual(s.view.samples, ['kept']);
  s = run(s, { type: 'requested', label: 'Sampling…', id: 7 }, { type: 'cancelRequested' });
  // The host had sent these before it saw the Cancel.
  s = run(
    s,
    note({ method: 'samples', params: { items: ['late'] } }, 7),
    note({ method: 'error', params: { message: 'late failure' } }, 7),
    note({ method: 'notice', params: { message: 'Cancelled.' } }),
    note({ method: 'busy', params: { busy: false } }),
  );
  assert.deepEqual(s.view.samples, ['kept']);
  assert.equal(s.error, null);
  assert.equal(s.notice, 'Cancelled.');
  assert.equal(s.busy, false);
  s = run(s, { type: 'requested', label: 'Interpolating…', id: 9 });
  s = run(s, note({ method: 'interpolation', params: { items: [{ alpha: 0, text: 'new' }] } }, 9));
  assert.deepEqual(s.view.interpolation, [{ alpha: 0, text: 'new' }]);
  // Notifications that answer nothing (model, settings, selection) are never dropped.
  s = run(s, note({ method: 'selection', params: { slot: 'from', text: 'sel' } }));
  assert.equal(s.view.interpolate.from, 'sel');
});

test('training: reset, metrics, cancel, done', () => {
  let s = emptyTrainingState();
  assert.equal(runStatus(s), 'idle');
  assert.equal(canCancel(s), false);
  s = reduceTraining(s, { type: 'reset', title: 'Run' });
  assert.equal(runStatus(s), 'starting');
  assert.equal(canCancel(s), true);
  s = reduceTraining(s, { type: 'metrics', line: metrics(10) });
  assert.equal(runStatus(s), 'running');
  s = reduceTraining(s, { type: 'metrics', line: metrics(20, { val_bits_per_byte: 2.5 }) });
  assert.deepEqual(s.points, [
    { step: 10, loss: 1, kl: 0.1, val: null },
    { step: 20, loss: 0.5, kl: 0.1, val: 2.5 },
  ]);
  assert.equal(s.latest?.step, 20);
  s = reduceTraining(s, { type: 'cancelRequested' });
  assert.equal(runStatus(s), 'cancelling');
  assert.equal(canCancel(s), false);
  s = reduceTraining(s, { type: 'done', message: 'stopped', cancelled: true });
  assert.equal(runStatus(s), 'cancelled');
  assert.equal(s.cancelling, false);
  assert.equal(reduceTraining(s, { type: 'cancelRequested' }), s);
  // JSON round trip (setState) keeps the state usable.
  assert.deepEqual(JSON.parse(JSON.stringify(s.points)), s.points);
  s = reduceTraining(s, { type: 'reset', title: 'Next' });
  assert.deepEqual(s, emptyTrainingState('Next'));
});

test('training: a step that goes back restarts the curve from there', () => {
  let s = emptyTrainingState('t');
  for (const step of [10, 20, 30]) s = reduceTraining(s, { type: 'metrics', line: metrics(step) });
  s = reduceTraining(s, { type: 'metrics', line: metrics(20) });
  assert.deepEqual(
    s.points.map((p) => p.step),
    [10, 20],
  );
});

test('training: non-finite values become null points', () => {
  assert.deepEqual(toPoint(metrics(5, { loss: Infinity, kl_bits_per_byte: NaN, val_bits_per_byte: 1 })), {
    step: 5,
    loss: null,
    kl: null,
    val: 1,
  });
});

test('training: long histories are thinned, keeping the first and the newest points', () => {
  const points = Array.from({ length: MAX_POINTS * 3 }, (_, i) => ({ step: i + 1, loss: 1, kl: 1, val: 1 }));
  const t = thin(points);
  assert.ok(t.length <= MAX_POINTS);
  assert.equal(t[0].step, 1);
  assert.equal(t[t.length - 1].step, MAX_POINTS * 3);
  const tail = t.slice(-Math.floor(MAX_POINTS / 4)).map((p) => p.step);
  assert.deepEqual(
    tail,
    tail.map((_, i) => tail[0] + i),
    'the newest quarter is kept at full density',
  );
  for (let i = 1; i < t.length; i++) assert.ok(t[i].step > t[i - 1].step);
  assert.equal(thin(points.slice(0, 10)).length, 10);
  let s = emptyTrainingState('t');
  for (let i = 1; i <= MAX_POINTS + 10; i++) s = reduceTraining(s, { type: 'metrics', line: metrics(i) });
  assert.ok(s.points.length <= MAX_POINTS);
});

test('training: an idle reset is a placeholder without Cancel until metrics arrive', () => {
  let s = reduceTraining(emptyTrainingState(), { type: 'reset', title: 'No training run yet', idle: true });
  assert.equal(runStatus(s), 'idle');
  assert.equal(canCancel(s), false);
  s = reduceTraining(s, { type: 'metrics', line: metrics(1) });
  assert.equal(runStatus(s), 'running');
  assert.equal(s.idle, undefined);
  s = reduceTraining(s, { type: 'reset', title: 'Next run' });
  assert.equal(runStatus(s), 'starting');
});
