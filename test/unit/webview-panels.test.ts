/**
 * The two panel classes against a small fake of the vscode API: the ready handshake, queueing
 * while hidden, requests to the engine, editor actions, single instances and revive.
 */
import { beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import Module from 'node:module';

// ---------------------------------------------------------------- a fake vscode

type Listener<T> = (e: T) => void;
class EventEmitter<T> {
  private listeners: Listener<T>[] = [];
  event = (l: Listener<T>) => {
    this.listeners.push(l);
    return { dispose: () => (this.listeners = this.listeners.filter((x) => x !== l)) };
  };
  fire(e: T) {
    for (const l of [...this.listeners]) l(e);
  }
}

class Uri {
  constructor(
    readonly scheme: string,
    readonly path: string,
  ) {}
  static parse(s: string) {
    const m = /^([a-z][\w+.-]*):(?:\/\/)?(.*)$/i.exec(s);
    if (!m) throw new Error('bad uri');
    return new Uri(m[1], '/' + m[2].replace(/^\/+/, ''));
  }
  static joinPath(base: Uri, ...parts: string[]) {
    return new Uri(base.scheme, [base.path, ...parts].join('/'));
  }
  toString() {
    return `${this.scheme}://${this.path}`;
  }
}

class Position {
  constructor(
    readonly line: number,
    readonly character: number,
  ) {}
}
class Range {
  constructor(
    readonly start: Position,
    readonly end: Position,
  ) {}
}
class Selection extends Range {
  get isEmpty() {
    return this.start.line === this.end.line && this.start.character === this.end.character;
  }
}

class CancellationTokenSource {
  private emitter = new EventEmitter<void>();
  token = { isCancellationRequested: false, onCancellationRequested: this.emitter.event };
  cancel() {
    this.token.isCancellationRequested = true;
    this.emitter.fire();
  }
  dispose() {}
}

interface FakePanel {
  viewType: string;
  title: string;
  visible: boolean;
  viewColumn: number;
  iconPath?: unknown;
  options?: Record<string, unknown>;
  revealed: number;
  disposed: boolean;
  posted: { id: number; method: string; params: any; replyTo?: number }[];
  deliver: boolean;
  receive(m: unknown): void;
  setVisible(v: boolean): void;
  webview: any;
  reveal(): void;
  dispose(): void;
  onDidDispose: any;
  onDidChangeViewState: any;
}

function makePanel(viewType: string, title: string): FakePanel {
  const onMessage = new EventEmitter<unknown>();
  const onDispose = new EventEmitter<void>();
  const onView = new EventEmitter<unknown>();
  const panel: FakePanel = {
    viewType,
    title,
    visible: true,
    viewColumn: 2,
    revealed: 0,
    disposed: false,
    posted: [],
    deliver: true,
    receive: (m) => onMessage.fire(m),
    setVisible(v) {
      panel.visible = v;
      onView.fire({});
    },
    webview: {
      html: '',
      options: {},
      cspSource: 'https://fake.vscode-cdn.net',
      asWebviewUri: (u: Uri) => u,
      postMessage: async (m: any) => {
        if (panel.deliver) panel.posted.push(m);
        return panel.deliver;
      },
      onDidReceiveMessage: onMessage.event,
    },
    reveal() {
      panel.revealed++;
    },
    dispose() {
      if (panel.disposed) return;
      panel.disposed = true;
      onDispose.fire();
    },
    onDidDispose: onDispose.event,
    onDidChangeViewState: onView.event,
  };
  return panel;
}

function makeEditor(text: string, sel: [number, number], scheme = 'file') {
  const lines = text.split('\n');
  const pos = (o: number) => {
    let line = 0;
    while (line < lines.length - 1 && o > lines[line].length) o -= lines[line++].length + 1;
    return new Position(line, o);
  };
  const offset = (p: Position) => lines.slice(0, p.line).reduce((a, l) => a + l.length + 1, 0) + p.character;
  const editor = {
    edits: [] as { range: Range; text: string }[][],
    editOptions: [] as unknown[],
    viewColumn: 1,
    document: {
      uri: new Uri(scheme, '/w/doc.md'),
      isClosed: false,
      getText: (r?: Range) => (r ? text.slice(offset(r.start), offset(r.end)) : text),
      positionAt: pos,
    },
    selection: new Selection(pos(sel[0]), pos(sel[1])),
    get selections() {
      return [editor.selection];
    },
    edit: async (cb: (b: { replace(r: Range, t: string): void }) => void, options: unknown) => {
      const batch: { range: Range; text: string }[] = [];
      cb({ replace: (range, t) => batch.push({ range, text: t }) });
      editor.edits.push(batch);
      editor.editOptions.push(options);
      return true;
    },
    revealRange: () => {},
  };
  return editor;
}

const onActiveEditor = new EventEmitter<any>();
const fake = {
  panels: [] as FakePanel[],
  errors: [] as string[],
  statusMessages: [] as string[],
  clipboard: '',
  shown: [] as { uri: Uri; options: any }[],
  workspaceFolder: true,
};
const vscodeFake = {
  Uri,
  Range,
  Position,
  Selection,
  EventEmitter,
  CancellationTokenSource,
  ViewColumn: { Active: -1, Beside: -2, One: 1, Two: 2 },
  TextEditorRevealType: { Default: 0, InCenter: 1, InCenterIfOutsideViewport: 2, AtTop: 3 },
  window: {
    activeTextEditor: undefined as any,
    visibleTextEditors: [] as any[],
    onDidChangeActiveTextEditor: onActiveEditor.event,
    createWebviewPanel(viewType: string, title: string, _show: unknown, options: Record<string, unknown>) {
      const p = makePanel(viewType, title);
      p.webview.options = { ...options };
      p.options = options;
      fake.panels.push(p);
      return p;
    },
    showErrorMessage: async (m: string) => {
      fake.errors.push(m);
      return undefined;
    },
    setStatusBarMessage: (m: string) => {
      fake.statusMessages.push(m);
      return { dispose() {} };
    },
    showTextDocument: async (doc: any, options: any) => {
      fake.shown.push({ uri: doc.uri, options });
      return { revealRange() {}, document: doc, selection: options.selection };
    },
  },
  workspace: {
    getWorkspaceFolder: () => (fake.workspaceFolder ? { uri: new Uri('file', '/w') } : undefined),
    openTextDocument: async (uri: Uri) => ({ uri, positionAt: (o: number) => new Position(0, o) }),
  },
  env: {
    clipboard: {
      writeText: async (t: string) => {
        fake.clipboard = t;
      },
    },
  },
};

const M = Module as unknown as { _load: (request: string, ...rest: unknown[]) => unknown };
const originalLoad = M._load;
M._load = function (request: string, ...rest: unknown[]) {
  if (request === 'vscode') return vscodeFake;
  return originalLoad.call(this, request, ...rest);
};
// require(), not import: the panels must load after the vscode stub above is in place.
/* eslint-disable @typescript-eslint/no-require-imports -- see above */
const { GeneratorPanel } =
  require('../../src/extension/panels/generatorPanel') as typeof import('../../src/extension/panels/generatorPanel');
const { TrainingPanel } =
  require('../../src/extension/panels/trainingPanel') as typeof import('../../src/extension/panels/trainingPanel');
/* eslint-enable @typescript-eslint/no-require-imports */

// ---------------------------------------------------------------- helpers

const extensionUri = new Uri('file', '/ext');
const tick = () => new Promise((r) => setTimeout(r, 0));
let nextId = 1;
const cmd = (method: string, params: unknown = {}) => ({ id: nextId++, method, params });

function makeHost(engine: (method: string, params: any, token: any) => Promise<any>) {
  const modelChanged = new EventEmitter<void>();
  const requests: { method: string; params: any }[] = [];
  const log: string[] = [];
  let model: any = { name: 'm', fingerprint: '0123456789ab', variant: 'vae', backend: 'cpu' };
  const host = {
    engine: {
      request: (method: string, params: any, token: any) => {
        requests.push({ method, params });
        return engine(method, params, token);
      },
    } as any,
    getModelState: () => model,
    onDidChangeModel: modelChanged.event,
    collectMapDocuments: async () => [{ uri: 'file:///w/a.md', text: 'hello' }],
    output: { appendLine: (l: string) => log.push(l) } as any,
    getSettings: () => ({ count: 4, temperature: 0.7, topP: 0.9, steps: 6, mode: 'linear' as const }),
  };
  return { host, requests, log, modelChanged, setModel: (m: any) => (model = m) };
}

const methods = (p: FakePanel) => p.posted.map((m) => m.method);

beforeEach(() => {
  (GeneratorPanel as any).instance?.dispose();
  (TrainingPanel as any).instance?.dispose();
  fake.panels.length = 0;
  fake.errors.length = 0;
  fake.statusMessages.length = 0;
  fake.shown.length = 0;
  fake.workspaceFolder = true;
  vscodeFake.window.activeTextEditor = undefined;
  vscodeFake.window.visibleTextEditors = [];
});

// ---------------------------------------------------------------- generator

test('generator: one panel, strict CSP with a fresh nonce, ready handshake', async () => {
  const { host } = makeHost(async () => ({}));
  const a = GeneratorPanel.createOrShow(extensionUri as any, host);
  assert.equal(GeneratorPanel.createOrShow(extensionUri as any, host), a);
  assert.equal(fake.panels.length, 1);
  assert.equal(fake.panels[0].revealed, 1);
  const panel = fake.panels[0];
  assert.equal(panel.viewType, 'textvae.generator');
  const html1: string = panel.webview.html;
  assert.match(
    html1,
    /default-src 'none'; img-src https:\/\/fake.vscode-cdn.net data:; style-src https:\/\/fake.vscode-cdn.net; script-src 'nonce-[A-Za-z0-9+/=]+'; font-src https:\/\/fake.vscode-cdn.net/,
  );
  assert.match(html1, /src="file:\/\/\/ext\/media\/dist\/generator.js"/);
  assert.deepEqual(panel.webview.options.localResourceRoots.map(String), ['file:///ext/media']);
  assert.equal(panel.webview.options.enableScripts, true);
  assert.equal(panel.options?.retainContextWhenHidden, false);
  // Nothing is sent before the webview is ready.
  assert.equal(panel.posted.length, 0);
  panel.receive(cmd('ready'));
  await tick();
  assert.deepEqual(methods(panel), ['model', 'settings', 'busy']);
  assert.deepEqual(panel.posted[1].params, { count: 4, temperature: 0.7, topP: 0.9, steps: 6, mode: 'linear' });
  a.dispose();
  const b = GeneratorPanel.createOrShow(extensionUri as any, host);
  assert.notEqual(b, a);
  const nonce = (h: string) => /nonce-([^']+)'/.exec(h)?.[1];
  assert.notEqual(nonce(fake.panels[1].webview.html), nonce(html1));
});

test('generator: sample goes to the engine with the form values and topP from the settings', async () => {
  const { host, requests } = makeHost(async () => ({ samples: ['one', 'two'] }));
  GeneratorPanel.createOrShow(extensionUri as any, host);
  const panel = fake.panels[0];
  panel.receive(cmd('ready'));
  await tick();
  panel.posted.length = 0;
  panel.receive(cmd('sample', { n: 2, temperature: 0.5, seed: 9, maxTokens: 40, chunks: 3 }));
  await tick();
  await tick();
  assert.deepEqual(requests, [
    {
      method: 'sample',
      params: { n: 2, chunks: 3, options: { strategy: 'sample', temperature: 0.5, topP: 0.9, seed: 9, maxTokens: 40 } },
    },
  ]);
  assert.deepEqual(methods(panel), ['busy', 'samples', 'busy']);
  assert.equal(panel.posted[0].params.busy, true);
  assert.deepEqual(panel.posted[1].params, { items: ['one', 'two'] });
  assert.deepEqual(panel.posted[2].params, { busy: false });
  // Out-of-range values never reach the engine.
  panel.receive(cmd('sample', { n: 1000, temperature: 0.5, seed: 9, maxTokens: 40 }));
  await tick();
  assert.equal(requests.length, 1);
});

test('generator: answers carry the id of the command they answer; the rest carry none', async () => {
  let fail = false;
  const { host } = makeHost(async () => {
    if (fail) throw new Error('no model');
    return { samples: ['one'] };
  });
  GeneratorPanel.createOrShow(extensionUri as any, host);
  const panel = fake.panels[0];
  panel.receive({ id: 41, method: 'ready', params: {} });
  await tick();
  panel.posted.length = 0;
  panel.receive({ id: 42, method: 'sample', params: { n: 1, temperature: 0.5, seed: 1, maxTokens: 8 } });
  await tick();
  await tick();
  const byMethod = (m: string) => panel.posted.filter((p) => p.method === m);
  assert.equal(byMethod('samples')[0].replyTo, 42);
  assert.ok(byMethod('busy').every((p) => p.replyTo === undefined));
  fail = true;
  panel.receive({ id: 43, method: 'loadMap', params: {} });
  await tick();
  await tick();
  assert.equal(byMethod('error')[0].replyTo, 43);
  // Host message ids are its own sequence.
  const ids = panel.posted.map((p) => p.id);
  assert.deepEqual(
    ids,
    [...ids].sort((a, b) => a - b),
  );
});

test('generator: engine failures are shown inline and as an error message', async () => {
  const { host } = makeHost(async () => {
    throw new Error('the engine fell over');
  });
  GeneratorPanel.createOrShow(extensionUri as any, host);
  const panel = fake.panels[0];
  panel.receive(cmd('ready'));
  panel.receive(cmd('interpolate', { from: 'a', to: 'b', steps: 3, mode: 'spherical' }));
  await tick();
  await tick();
  const err = panel.posted.find((m) => m.method === 'error');
  assert.equal(err?.params.message, 'the engine fell over');
  assert.deepEqual(fake.errors, ['TextVAE: the engine fell over']);
  assert.deepEqual(panel.posted[panel.posted.length - 1], {
    id: panel.posted[panel.posted.length - 1].id,
    method: 'busy',
    params: { busy: false },
  });
});

test('generator: cancel stops the request without an error', async () => {
  let started!: () => void;
  const startedP = new Promise<void>((r) => (started = r));
  const { host } = makeHost(
    (_m, _p, token) =>
      new Promise((_resolve, reject) => {
        started();
        token.onCancellationRequested(() => reject(Object.assign(new Error('cancelled'), { code: 'cancelled' })));
      }),
  );
  GeneratorPanel.createOrShow(extensionUri as any, host);
  const panel = fake.panels[0];
  panel.receive(cmd('ready'));
  panel.receive(cmd('loadMap'));
  await startedP;
  panel.receive(cmd('cancel'));
  await tick();
  await tick();
  assert.ok(!methods(panel).includes('error'));
  assert.equal(panel.posted.find((m) => m.method === 'notice')?.params.message, 'Cancelled.');
  assert.deepEqual(fake.errors, []);
});

test('generator: while hidden, notifications are queued (newest of each kind) and sent after ready', async () => {
  const { host, modelChanged, setModel } = makeHost(async () => ({ samples: ['late'] }));
  GeneratorPanel.createOrShow(extensionUri as any, host);
  const panel = fake.panels[0];
  panel.receive(cmd('ready'));
  panel.receive(cmd('sample', { n: 1, temperature: 0.5, seed: 1, maxTokens: 8 }));
  panel.setVisible(false);
  await tick();
  await tick();
  setModel(null);
  modelChanged.fire();
  panel.posted.length = 0;
  panel.setVisible(true);
  panel.receive(cmd('ready'));
  await tick();
  assert.deepEqual(methods(panel), ['model', 'settings', 'samples', 'busy']);
  assert.deepEqual(panel.posted[0].params, { model: null });
  assert.deepEqual(panel.posted[2].params, { items: ['late'] });
});

test('generator: copy, insert and editor selection', async () => {
  const { host, log } = makeHost(async () => ({}));
  GeneratorPanel.createOrShow(extensionUri as any, host);
  const panel = fake.panels[0];
  panel.receive(cmd('ready'));
  panel.receive(cmd('copy', { text: 'copied text' }));
  await tick();
  assert.equal(fake.clipboard, 'copied text');
  assert.deepEqual(fake.statusMessages, ['Copied']);

  // No editor yet.
  panel.receive(cmd('insert', { text: 'x' }));
  panel.receive(cmd('useSelection', { slot: 'from' }));
  await tick();
  const errors = panel.posted
    .filter((m) => m.method === 'error')
    .map((m) => m.params.message)
    .sort();
  assert.deepEqual(errors, ['Open a text editor to insert into.', 'Select some text in an editor first.']);

  // The editor the user was in before the webview took the focus.
  const editor = makeEditor('hello world\nsecond line', [6, 11]);
  vscodeFake.window.visibleTextEditors = [editor];
  onActiveEditor.fire(editor);
  onActiveEditor.fire(undefined);
  panel.receive(cmd('useSelection', { slot: 'to' }));
  await tick();
  assert.deepEqual(panel.posted.find((m) => m.method === 'selection')?.params, { slot: 'to', text: 'world' });
  panel.receive(cmd('insert', { text: 'INSERTED' }));
  await tick();
  assert.equal(editor.edits.length, 1, 'one edit: one undo step');
  assert.equal(editor.edits[0][0].text, 'INSERTED');
  assert.deepEqual(editor.editOptions[0], { undoStopBefore: true, undoStopAfter: true });

  // Malformed messages are ignored (and logged).
  panel.receive({ id: 1, method: 'insert', params: { text: 5 } });
  panel.receive('garbage');
  await tick();
  assert.equal(editor.edits.length, 1);
  assert.equal(log.filter((l) => /malformed/.test(l)).length, 2);
});

test('generator: openLocation opens workspace documents at the offset', async () => {
  const { host } = makeHost(async () => ({
    points: [{ x: 0, y: 0, uri: 'file:///w/a.md', offset: 5, line: 0, preview: 'p' }],
  }));
  GeneratorPanel.createOrShow(extensionUri as any, host);
  const panel = fake.panels[0];
  panel.receive(cmd('ready'));
  panel.receive(cmd('openLocation', { uri: 'file:///w/a.md', offset: 7 }));
  await tick();
  await tick();
  assert.equal(fake.shown.length, 1);
  assert.equal(fake.shown[0].options.selection.start.character, 7);
  fake.workspaceFolder = false;
  panel.receive(cmd('openLocation', { uri: 'file:///etc/passwd', offset: 0 }));
  await tick();
  await tick();
  assert.equal(fake.shown.length, 1);
  assert.match(panel.posted.filter((m) => m.method === 'error').pop()?.params.message, /not part of the workspace/);
});

test('generator: revive re-sets html and handlers', async () => {
  const { host } = makeHost(async () => ({}));
  const restored = makePanel('textvae.generator', 'TextVAE Generator');
  const g = GeneratorPanel.revive(restored as any, { sample: {} }, extensionUri as any, host);
  assert.ok(g);
  assert.match(restored.webview.html, /generator\.js/);
  assert.equal(restored.webview.options.enableScripts, true);
  restored.receive(cmd('ready'));
  await tick();
  assert.deepEqual(methods(restored), ['model', 'settings', 'busy']);
  assert.equal(GeneratorPanel.createOrShow(extensionUri as any, host), g);
});

// ---------------------------------------------------------------- training

const line = (step: number) => ({
  type: 'metrics' as const,
  step,
  epoch: 0,
  progress: 0.1,
  elapsed_s: 1,
  tokens_per_s: 1,
  bytes_per_s: 1,
  loss: 2,
  recon_bits_per_byte: 1,
  kl_bits_per_byte: 0.1,
  beta: 1,
  learning_rate: 0.001,
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
});

test('training: snapshot on ready, live updates, cancel once, done', async () => {
  let cancels = 0;
  const t = TrainingPanel.show(extensionUri as any, () => cancels++);
  assert.equal(TrainingPanel.current(), t);
  assert.equal(
    TrainingPanel.show(extensionUri as any, () => cancels++),
    t,
  );
  const panel = fake.panels[0];
  assert.match(panel.webview.html, /training\.js/);
  t.reset('Run 1');
  t.addMetrics(line(10));
  assert.equal(panel.posted.length, 0, 'nothing before ready');
  panel.receive(cmd('ready'));
  await tick();
  assert.deepEqual(methods(panel), ['snapshot']);
  const snap = panel.posted[0].params;
  assert.equal(snap.title, 'Run 1');
  assert.deepEqual(snap.points, [{ step: 10, loss: 2, kl: 0.1, val: null }]);
  t.addMetrics(line(20));
  await tick();
  assert.deepEqual(methods(panel), ['snapshot', 'metrics']);
  panel.receive(cmd('cancel'));
  panel.receive(cmd('cancel'));
  assert.equal(cancels, 1);
  t.done('Cancelled after 20 steps.', true);
  panel.receive(cmd('cancel'));
  assert.equal(cancels, 1);
  await tick();
  assert.equal(panel.posted[panel.posted.length - 1].method, 'done');
  // Hidden: nothing posted; the next ready gets the whole state.
  panel.setVisible(false);
  t.reset('Run 2');
  panel.posted.length = 0;
  panel.setVisible(true);
  panel.receive(cmd('ready'));
  await tick();
  assert.deepEqual(methods(panel), ['snapshot']);
  assert.equal(panel.posted[0].params.title, 'Run 2');
  assert.deepEqual(panel.posted[0].params.points, []);
  // A placeholder title: no run attached, so Cancel does nothing.
  t.reset('No training run yet.', { idle: true });
  panel.receive(cmd('cancel'));
  assert.equal(cancels, 1);
  await tick();
  assert.deepEqual(panel.posted[panel.posted.length - 1].params, { title: 'No training run yet.', idle: true });
  t.dispose();
  assert.equal(TrainingPanel.current(), undefined);
});

test('training: revive restores the curves and marks an unfinished run as detached', async () => {
  const restored = makePanel('textvae.training', 'TextVAE Training');
  const state = {
    title: 'Old run',
    points: [{ step: 5, loss: 1, kl: null, val: null }],
    latest: null,
    done: null,
    cancelling: false,
  };
  const t = TrainingPanel.revive(restored as any, state, extensionUri as any, () => {});
  assert.equal(TrainingPanel.current(), t);
  assert.match(restored.webview.html, /training\.js/);
  restored.receive(cmd('ready'));
  await tick();
  const snap = restored.posted[0].params;
  assert.deepEqual(snap.points, state.points);
  assert.equal(snap.done.cancelled, true);
  assert.match(snap.done.message, /reloaded/);
  // Garbage state: an empty view.
  t.dispose();
  const other = makePanel('textvae.training', 'TextVAE Training');
  TrainingPanel.revive(other as any, 'garbage', extensionUri as any, () => {});
  other.receive(cmd('ready'));
  await tick();
  assert.deepEqual(other.posted[0].params, { title: '', points: [], latest: null, done: null, cancelling: false });
});
