import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as path from 'node:path';
import {
  estimateSecondsLeft,
  formatDuration,
  lagStats,
  markdownCodeBlock,
  modelFolderName,
  modelInfoMarkdown,
  modelInfoSummary,
  oneLine,
  statusBarText,
  trainingFinishedMessage,
  trainingProgressMessage,
  uniqueName,
} from '../../src/extension/logic/format';
import { hostileModelInfo, injected, renderMarkdown } from '../helpers/markdown';
import {
  isInside,
  modelDisplayName,
  needsTrustPrompt,
  resolveModelChoice,
  resolveSettingPath,
} from '../../src/extension/logic/modelResolution';
import { pca2 } from '../../src/core/projection';
import { sampleSource } from '../../src/core/latentPrior';

describe('texts', () => {
  test('status bar: model name and backend, or "not started"', () => {
    assert.equal(statusBarText('default', undefined), '$(symbol-misc) TextVAE: default · not started');
    assert.equal(
      statusBarText('model-20250101-120000', 'wasm'),
      '$(symbol-misc) TextVAE: model-20250101-120000 · wasm',
    );
  });

  test('status bar: a model folder named like an icon shows as typed, not as an icon', () => {
    const text = statusBarText('$(alert) a $(x)', 'wasm');
    assert.equal(text, '$(symbol-misc) TextVAE: \\$(alert) a \\$(x) · wasm');
    // Only the product's own icon is left unescaped.
    assert.deepEqual(text.match(/(?<!\\)\$\(/g), ['$(']);
  });

  test('training finished message', () => {
    assert.equal(
      trainingFinishedMessage({ final: { bits_per_byte: 2.34567, active_units: 12 } as never }),
      'Training finished: held-out 2.346 bits/byte, 12 active units. The new model is now active.',
    );
  });

  test('time left is extrapolated from progress', () => {
    assert.equal(estimateSecondsLeft(0.25, 60), 180);
    assert.equal(estimateSecondsLeft(1, 60), 0);
    assert.equal(estimateSecondsLeft(0, 60), undefined);
    assert.equal(formatDuration(180), '3 min');
    assert.equal(formatDuration(45), '45 s');
    assert.equal(formatDuration(2 * 3600 + 15 * 60), '2 h 15 min');
    assert.equal(
      trainingProgressMessage({ progress: 0.5, elapsed_s: 30, loss: 1.23456, step: 40 }),
      '50% · about 30 s left · loss 1.235 · step 40',
    );
  });

  test('model folder names are timestamps and never reuse an existing folder', () => {
    assert.equal(modelFolderName(new Date(2025, 0, 2, 3, 4, 5)), 'model-20250102-030405');
    const existing = new Set(['model-x', 'model-x-2']);
    assert.equal(
      uniqueName('model-x', (n) => existing.has(n)),
      'model-x-3',
    );
    assert.equal(
      uniqueName('model-y', (n) => existing.has(n)),
      'model-y',
    );
  });

  test('lag statistics convert nanoseconds to milliseconds', () => {
    const h = {
      percentile: (p: number) => (p === 50 ? 10_500_000 : 42_000_000),
      max: 120_000_000,
      mean: 12_000_000,
      count: 99,
    };
    assert.deepEqual(lagStats(h), { p50_ms: 10.5, p99_ms: 42, max_ms: 120, mean_ms: 12, samples: 99 });
    // The sampling interval is not lag: it is taken off (never below 0).
    assert.deepEqual(lagStats(h, 11), { p50_ms: 0, p99_ms: 31, max_ms: 109, mean_ms: 1, samples: 99 });
  });

  test('oneLine keeps the first non-empty line', () => {
    assert.equal(oneLine('\n  first\nsecond'), 'first');
    assert.equal(oneLine('x'.repeat(500), 10).length, 10);
  });

  test('model info lists metrics and training facts that exist', () => {
    const md = modelInfoMarkdown(
      {
        dir: '/m',
        fingerprint: 'abcdef0123',
        variant: 'vae',
        backend: 'wasm',
        parameters: 1234567,
        sizeBytes: 5 * 1024 * 1024,
        vocabSize: 512,
        config: {
          latentDim: 16,
          modelDim: 64,
          maxTokens: 64,
          vocabSize: 512,
          decoderDilations: [1, 2],
          encoderLayers: 2,
        },
        metrics: {
          bits_per_byte: 2.5,
          fitted_cache_bits_per_byte: 2.1,
          active_units: 7,
          mutual_information: 1.5,
          kl_bits_per_byte: 0.25,
        },
        training: { step: 300, seed: 1 },
      },
      'mine',
    );
    const withPrior = { variant: 'vae', prior: { components: 16, transition: true } };
    assert.equal(sampleSource(withPrior), 'the fitted prior.json (16 components, a transition for paragraphs)');
    assert.match(md, /\| Bits per byte \| 2\.5 \|\n\| … with the cache, under the fitted prior \| 2\.1 \|/);
    assert.doesNotMatch(md, /with the document cache/, 'only the figures the bundle has');
    assert.match(md, /\| Active units \| 7 \|/);
    assert.match(md, /\| Mutual information \(nats\) \| 1\.5 \|/);
    assert.match(md, /\| Parameters \| 1,234,567 \|/);
    assert.match(md, /\| Size on disk \| 5\.0 MiB \|/);
    assert.match(md, /\| Steps \| 300 \|/);
    assert.match(md, /\| Samples from \| N\(0, I\) \(no prior\.json\) \|/);
    assert.doesNotMatch(md, /Token accuracy/);
    assert.match(md, /\n## Training\n\n\| \| \|/);
    assert.doesNotMatch(md, /Training metrics|Training facts/);
  });

  test('model info names the evaluation by the text it was measured on, and so does the summary', () => {
    const base = {
      dir: '/m',
      fingerprint: 'abcdef0123',
      variant: 'vae',
      backend: 'wasm',
      parameters: 1000,
      sizeBytes: 1000,
      vocabSize: 512,
      config: { latentDim: 16, modelDim: 64, maxTokens: 64, vocabSize: 512, decoderDilations: [1], encoderLayers: 2 },
    };
    const md = (metrics: unknown) => modelInfoMarkdown({ ...base, metrics }, 'm');
    const heading = (metrics: unknown) =>
      /\n## ([^\n]+)\n\n([^\n]+)\n\n\| \| \|\n\|---\|---\|\n\| Bits per byte/.exec(md(metrics))?.slice(1);
    assert.deepEqual(heading({ bits_per_byte: 2, split: 'val' }), [
      'Held-out evaluation',
      'On held-out documents, which the model did not train on.',
    ]);
    assert.deepEqual(heading({ bits_per_byte: 2, evaluated_on: 'held-out' })?.[0], 'Held-out evaluation');
    assert.deepEqual(heading({ bits_per_byte: 2, evaluated_on: 'held-out sample' })?.[0], 'Held-out evaluation');
    assert.deepEqual(heading({ bits_per_byte: 2, evaluated_on: 'training' }), [
      'Evaluation on training text',
      'On text the model was trained on: no documents were held out.',
    ]);
    assert.deepEqual(heading({ bits_per_byte: 2, split: 'all' })?.[0], 'Evaluation');
    assert.match(md(undefined), /\n## Evaluation\n\nNo metrics recorded in this bundle\./);
    const summary = (metrics: unknown) => modelInfoSummary({ ...base, metrics }, 'm');
    assert.match(summary({ bits_per_byte: 2, split: 'val' }), /, held-out 2\.000 bits\/byte\.$/);
    assert.match(summary({ bits_per_byte: 2, evaluated_on: 'training' }), /, 2\.000 bits\/byte on training text\.$/);
  });
});

describe('text from a bundle or a model is shown, never interpreted', () => {
  const HOSTILE = [
    '<img src="https://evil.example/track.png">',
    '# Injected heading',
    '[Run me](command:workbench.action.terminal.new)',
    '![x](https://evil.example/x.png)',
    'https://evil.example/page and www.evil.example',
    'two\nlines | and a cell',
    '`code` *emphasis* __strong__',
    '<script>alert(1)</script>',
    'esc \u001b[31m red \u0000 nul \u2028 sep',
    '&lt;img src=x&gt;',
  ];

  test('Model Info escapes every manifest string, the folder and the backend detail', () => {
    for (const evil of HOSTILE) {
      const source = modelInfoMarkdown(hostileModelInfo(evil), evil, evil);
      const html = renderMarkdown(source);
      // One title, two section headings; nothing else that a reader did not write.
      assert.deepEqual(injected(html, 3), [], `${JSON.stringify(evil)} rendered as:\n${html}`);
      assert.doesNotMatch(html, /href=|src="http/);
      // Every value stays on its row: the tables keep their 13 + 1 + 4 rows.
      assert.equal((html.match(/<tr>/g) ?? []).length, 1 + 13 + (1 + 1) + (1 + 3), html);
    }
  });

  test('a decoded text in the hover is one code block whatever it contains', () => {
    for (const evil of [...HOSTILE, '```\n# escaped?\n```', '````', 'a ``` b']) {
      const html = renderMarkdown(`decoded:\n\n${markdownCodeBlock(evil)}`);
      assert.equal((html.match(/<pre>/g) ?? []).length, 1, html);
      assert.deepEqual(injected(html.replace(/<pre>[\s\S]*<\/pre>/, ''), 0), [], html);
      // eslint-disable-next-line no-control-regex -- the check is that no control character survives
      assert.doesNotMatch(html, /\u001b|\u0000/);
    }
  });
});

describe('model resolution', () => {
  const base = { folders: ['/ws/a', '/ws/b'], stateDir: '/store/models/model-1', defaultDir: '/ext/models/default' };

  test('the setting wins, resolved against the first workspace folder', () => {
    const c = resolveModelChoice({ ...base, setting: 'models/mine' });
    assert.deepEqual(c, { dir: path.resolve('/ws/a/models/mine'), source: 'setting', name: 'mine' });
    assert.equal(resolveSettingPath('${workspaceFolder}/m', ['/ws/a']), path.resolve('/ws/a/m'));
    assert.equal(resolveSettingPath('~/m', [], '/home/u'), path.join('/home/u', 'm'));
  });

  test('then the workspace state, then the bundled default', () => {
    assert.equal(resolveModelChoice({ ...base, setting: '  ' }).source, 'workspace');
    assert.equal(resolveModelChoice({ ...base, setting: undefined }).dir, '/store/models/model-1');
    const d = resolveModelChoice({ ...base, setting: '', stateDir: undefined });
    assert.deepEqual(d, { dir: '/ext/models/default', source: 'default', name: 'default' });
    assert.equal(modelDisplayName('/ext/models/default/', '/ext/models/default'), 'default');
  });

  test('untrusted workspaces ask before loading a model from the workspace only', () => {
    const untrusted = { trusted: false, settingFromWorkspace: false, folders: base.folders };
    assert.equal(needsTrustPrompt({ dir: '/ws/b/m', source: 'workspace', name: 'm' }, untrusted), true);
    assert.equal(
      needsTrustPrompt(
        { dir: '/elsewhere/m', source: 'setting', name: 'm' },
        { ...untrusted, settingFromWorkspace: true },
      ),
      true,
    );
    assert.equal(needsTrustPrompt({ dir: '/elsewhere/m', source: 'setting', name: 'm' }, untrusted), false);
    assert.equal(needsTrustPrompt({ dir: '/store/models/model-1', source: 'workspace', name: 'm' }, untrusted), false);
    assert.equal(
      needsTrustPrompt({ dir: '/ws/b/m', source: 'workspace', name: 'm' }, { ...untrusted, trusted: true }),
      false,
    );
    assert.equal(
      needsTrustPrompt({ dir: '/ext/models/default', source: 'default', name: 'default' }, untrusted),
      false,
    );
  });

  test('isInside', () => {
    assert.ok(isInside('/ws/a/x/y', '/ws/a'));
    assert.ok(isInside('/ws/a', '/ws/a'));
    assert.ok(!isInside('/ws/ab', '/ws/a'));
    assert.ok(!isInside('/ws', '/ws/a'));
  });
});

describe('pca2', () => {
  test('points on a line: the first axis carries all the spread, the second none', () => {
    const dir = [1, 2, 2].map((v) => v / 3);
    const vecs = [-2, -1, 0, 1, 2].map((t) => dir.map((d) => 5 + t * d));
    const { points, components, variances } = pca2(vecs);
    assert.deepEqual(
      points.map((p) => Math.round(p.x * 1e6) / 1e6),
      [-2, -1, 0, 1, 2],
    );
    for (const p of points) assert.ok(Math.abs(p.y) < 1e-9);
    assert.ok(Math.abs(variances[0] - 2) < 1e-9);
    assert.ok(variances[1] < 1e-9);
    components[0].forEach((v, i) => assert.ok(Math.abs(v - dir[i]) < 1e-6));
  });

  test('an ellipse: axes found in order of variance, coordinates preserve distances', () => {
    const vecs = Array.from({ length: 36 }, (_, i) => {
      const a = (i / 36) * 2 * Math.PI;
      return [3 * Math.cos(a), 0, Math.sin(a)];
    });
    const { points, variances } = pca2(vecs);
    assert.ok(variances[0] > variances[1]);
    for (let i = 0; i < vecs.length; i++) {
      const r2 = points[i].x ** 2 + points[i].y ** 2;
      const v2 = vecs[i][0] ** 2 + vecs[i][2] ** 2;
      assert.ok(Math.abs(r2 - v2) < 1e-6);
    }
    assert.ok(Math.abs(Math.abs(points[0].x) - 3) < 1e-6);
  });

  test('degenerate inputs', () => {
    assert.deepEqual(pca2([]).points, []);
    assert.deepEqual(
      pca2([
        [1, 2],
        [1, 2],
      ]).points,
      [
        { x: 0, y: 0 },
        { x: 0, y: 0 },
      ],
    );
    assert.throws(() => pca2([[1], [1, 2]]), /same length/);
  });
});
