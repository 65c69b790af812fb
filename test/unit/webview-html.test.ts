import { test } from 'node:test';
import assert from 'node:assert/strict';
import { contentSecurityPolicy, escapeHtml, renderWebviewHtml } from '../../src/extension/panels/html';
import { createPoster, handleMessage } from '../../src/webview/common/post';
import { createActions as generatorActions } from '../../src/webview/generator/actions';
import { createActions as trainingActions } from '../../src/webview/training/actions';
import { toAction } from '../../src/protocol/trainingState';
import {
  parseMessage,
  GENERATOR_COMMANDS,
  GENERATOR_NOTIFICATIONS,
  TRAINING_COMMANDS,
  TRAINING_NOTIFICATIONS,
  type GeneratorCommands,
  type TrainingCommands,
} from '../../src/protocol/webview';

const handleGenerator = (data: unknown, push: (m: unknown) => void) =>
  handleMessage(GENERATOR_NOTIFICATIONS, data, push);
const handleTraining = (data: unknown, push: (a: unknown) => void) =>
  handleMessage(TRAINING_NOTIFICATIONS, data, (m) => push(toAction(m)));

const base = {
  cspSource: 'https://x.vscode-cdn.net',
  title: 'T <&>',
  styles: ['https://x/a.css', 'https://x/b.css'],
  script: 'https://x/main.js',
  bodyClass: 'generator',
};

test('the CSP is strict and uses the nonce', () => {
  assert.equal(
    contentSecurityPolicy('SRC', 'abc'),
    "default-src 'none'; img-src SRC data:; style-src SRC; script-src 'nonce-abc'; font-src SRC",
  );
  const nonce = 'QUJDREVGR0hJSktMTU5PUFFS';
  const html = renderWebviewHtml({ ...base, nonce });
  assert.match(html, new RegExp(`script-src 'nonce-${nonce}'`));
  assert.match(html, new RegExp(`<script nonce="${nonce}" src="https://x/main.js"></script>`));
  assert.ok(!/unsafe-inline|unsafe-eval/.test(html));
  assert.ok(!/style=/.test(html), 'no inline styles');
  assert.ok(!/<style/.test(html));
  assert.equal((html.match(/<script/g) ?? []).length, 1);
  assert.match(
    html,
    /<link rel="stylesheet" href="https:\/\/x\/a.css">\s*<link rel="stylesheet" href="https:\/\/x\/b.css">/,
  );
  assert.match(html, /<title>T &lt;&amp;&gt;<\/title>/);
  assert.throws(() => renderWebviewHtml({ ...base, nonce: 'short' }));
  assert.throws(() => renderWebviewHtml({ ...base, nonce: '"><script>alert(1)</script>' }));
  assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
});

test('actions post well-formed, numbered commands and mark the view busy', () => {
  const sent: unknown[] = [];
  const dispatched: unknown[] = [];
  const a = generatorActions(
    createPoster<GeneratorCommands>((m) => sent.push(m)),
    (x) => dispatched.push(x),
  );
  a.ready();
  a.sample({ n: 2, temperature: 0.5, seed: 3, maxTokens: 10, chunks: 2 });
  a.interpolate({ from: 'a', to: 'b', steps: 3, mode: 'linear' });
  a.useSelection('from');
  a.copy('t');
  a.insert('t');
  a.loadMap();
  a.openLocation('file:///a', 5);
  a.cancel();
  assert.deepEqual(
    sent.map((m) => (m as { id: number }).id),
    [1, 2, 3, 4, 5, 6, 7, 8, 9],
  );
  for (const m of sent) assert.ok(parseMessage(GENERATOR_COMMANDS, m), JSON.stringify(m));
  assert.deepEqual(sent[1], {
    id: 2,
    method: 'sample',
    params: { n: 2, temperature: 0.5, seed: 3, maxTokens: 10, chunks: 2 },
  });
  assert.deepEqual(sent[7], { id: 8, method: 'openLocation', params: { uri: 'file:///a', offset: 5 } });
  assert.deepEqual(
    dispatched.map((d) => (d as { type: string }).type),
    ['requested', 'requested', 'requested', 'cancelRequested'],
  );
  // Each request is marked with the id of the message that asked for it.
  assert.deepEqual(
    dispatched.filter((d) => (d as { type: string }).type === 'requested').map((d) => (d as { id: number }).id),
    [2, 3, 7],
  );

  const tsent: unknown[] = [];
  const tdispatched: unknown[] = [];
  const t = trainingActions(
    createPoster<TrainingCommands>((m) => tsent.push(m)),
    (x) => tdispatched.push(x),
  );
  t.ready();
  t.cancel();
  for (const m of tsent) assert.ok(parseMessage(TRAINING_COMMANDS, m), JSON.stringify(m));
  assert.deepEqual(tdispatched, [{ type: 'cancelRequested' }]);
});

test('events: only valid notifications reach the reducer', () => {
  const got: unknown[] = [];
  assert.equal(
    handleGenerator({ id: 1, method: 'samples', params: { items: ['<b>x</b>'] } }, (a) => got.push(a)),
    true,
  );
  assert.equal(
    handleGenerator({ id: 2, method: 'samples', params: { items: [{}] } }, (a) => got.push(a)),
    false,
  );
  assert.equal(
    handleGenerator({ id: 3, method: 'sample', params: {} }, (a) => got.push(a)),
    false,
  );
  assert.equal(got.length, 1);
  const tgot: unknown[] = [];
  assert.equal(
    handleTraining({ id: 1, method: 'done', params: { message: 'm', cancelled: false } }, (a) => tgot.push(a)),
    true,
  );
  assert.equal(
    handleTraining({ id: 1, method: 'cancel', params: {} }, (a) => tgot.push(a)),
    false,
  );
  assert.deepEqual(tgot, [{ type: 'done', message: 'm', cancelled: false }]);
});
