/**
 * Backend selection (auto, forced, unknown) and agreement between backends on the same model.
 * Other backends are exercised in child processes (dist/cli.js): a process holds one backend.
 */
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';

import type { BackendReport } from '../../src/core/backend';
import { initBackend } from '../../src/core/backend';
import { parseLatentCode } from '../../src/core/latentCode';
import { setupBackend } from '../helpers/engine';
import { CLI, REPO, describeRun, ensureCliBuilt, runCli, stderrLines } from '../helpers/cli';
import { fixturePath } from '../helpers/fixtures';
import { makeTempDir } from '../helpers/tmp';

const NAMES = ['tensorflow', 'wasm', 'cpu'];
/** Multilingual documents written for the tests. */
const DOCS = fixturePath('multilingual');
/** One quantisation step of a code (4/127) plus float noise. */
const TOLERANCE = 0.05;

let report: BackendReport;
let modelPromise: Promise<string> | null = null;

/** A small model trained through the CLI on the multilingual fixtures, once per file. */
function smallModel(): Promise<string> {
  return (modelPromise ??= (async () => {
    const out = path.join(makeTempDir('textvae-backends-'), 'model');
    const r = await runCli([
      'train',
      '--steps',
      '30',
      '--model-dim',
      '32',
      '--vocab-size',
      '300',
      '--data',
      DOCS,
      '--out',
      out,
      '--log-every',
      '10',
      // tvae1 codes: their fine, fixed step (4/127) is what TOLERANCE compares backends at, and they
      // parse without the model. tvae2's coarse per-model steps have tests of their own.
      '--code-scheme',
      'int8',
    ]);
    if (r.code !== 0) throw new Error(`training the small model failed: ${describeRun(r)}`);
    return out;
  })());
}

/** dist/cli.js and its wasm files copied where @tensorflow/tfjs-node cannot be resolved. */
function relocatedCli(): { cli: string; isolated: boolean } {
  const dir = makeTempDir('textvae-nonative-');
  for (const f of fs.readdirSync(path.dirname(CLI)).filter((f) => f === 'cli.js' || f.endsWith('.wasm'))) {
    fs.copyFileSync(path.join(path.dirname(CLI), f), path.join(dir, f));
  }
  const cli = path.join(dir, 'cli.js');
  let isolated = true;
  try {
    createRequire(cli).resolve('@tensorflow/tfjs-node');
    isolated = false;
  } catch {
    // Not resolvable from there: what the test needs.
  }
  return { cli, isolated };
}

before(async () => {
  ensureCliBuilt();
  report = await setupBackend();
});

describe('backend selection', () => {
  test('the process backend is one of tensorflow, wasm, cpu, and says why earlier choices were passed over', () => {
    assert.ok(NAMES.includes(report.name), report.name);
    assert.equal(typeof report.detail, 'string');
    assert.ok(report.detail.length > 0);
    if (!process.env.TEXTVAE_BACKEND || process.env.TEXTVAE_BACKEND === 'auto') {
      // auto tries tensorflow (gpu build, then cpu build), then wasm: nothing is skipped silently.
      if (report.name === 'tensorflow') assert.match(report.skipped.join('; '), /tfjs-node-gpu/);
      else assert.match(report.skipped.join('; '), /tfjs-node/);
    }
  });

  test('a process keeps its backend: asking for another one fails, auto returns the same', async () => {
    assert.equal(await initBackend('auto'), report);
    assert.equal(await initBackend(report.name), report);
    const other = report.name === 'cpu' ? 'wasm' : 'cpu';
    await assert.rejects(initBackend(other), new RegExp(`'${report.name}' is already initialised.*'${other}'`));
  });

  test("the CLI's auto reports the backend it chose", async () => {
    const model = await smallModel();
    const r = await runCli(['info', '--json', '--backend', 'auto', '--model', model], {
      env: { TEXTVAE_BACKEND: undefined },
    });
    assert.equal(r.code, 0, describeRun(r));
    const info = JSON.parse(r.stdout);
    assert.ok(NAMES.includes(info.backend), info.backend);
    assert.ok(Array.isArray(info.backends_skipped));
  });

  test('forcing tensorflow where @tensorflow/tfjs-node cannot be loaded fails with a clear error', async (t) => {
    const { cli, isolated } = relocatedCli();
    if (!isolated) {
      t.skip(`@tensorflow/tfjs-node resolves even from ${path.dirname(cli)} (global install?), so it cannot be hidden`);
      return;
    }
    const model = await smallModel();
    const env = { NODE_PATH: undefined, TEXTVAE_BACKEND: undefined };
    const forced = await runCli(['info', '--backend', 'tensorflow', '--model', model], { cli, env });
    assert.equal(forced.code, 1, describeRun(forced));
    const lines = stderrLines(forced);
    assert.equal(lines.length, 1, forced.stderr);
    assert.match(lines[0], /^textvae: backend 'tensorflow' is not available: .*@tensorflow\/tfjs-node: not installed/);
    // Never a silent fallback: auto in the same place picks another backend and says why.
    const auto = await runCli(['info', '--json', '--model', model], { cli, env });
    assert.equal(auto.code, 0, describeRun(auto));
    const info = JSON.parse(auto.stdout);
    assert.notEqual(info.backend, 'tensorflow');
    assert.ok(
      info.backends_skipped.some((s: string) => /@tensorflow\/tfjs-node: not installed/.test(s)),
      JSON.stringify(info.backends_skipped),
    );
  });

  test('TEXTVAE_NATIVE_DIR: tfjs-node installed in a folder of its own is found from there', async (t) => {
    const { cli, isolated } = relocatedCli();
    let native = true;
    try {
      createRequire(path.join(REPO, 'package.json')).resolve('@tensorflow/tfjs-node');
    } catch {
      native = false;
    }
    if (!isolated || !native) {
      t.skip('needs @tensorflow/tfjs-node in this checkout and a place where it is not resolvable');
      return;
    }
    const model = await smallModel();
    const env = { NODE_PATH: undefined, TEXTVAE_BACKEND: undefined };
    // The repository plays the install folder (it holds node_modules/@tensorflow/tfjs-node).
    const r = await runCli(['info', '--json', '--model', model], { cli, env: { ...env, TEXTVAE_NATIVE_DIR: REPO } });
    assert.equal(r.code, 0, describeRun(r));
    const info = JSON.parse(r.stdout);
    if (info.backend !== 'tensorflow' && /tfjs-node: (?!not installed)/.test(info.backends_skipped.join('; '))) {
      t.skip(`tfjs-node is there but does not load: ${info.backends_skipped.join('; ')}`);
      return;
    }
    assert.equal(info.backend, 'tensorflow', JSON.stringify(info.backends_skipped));
    // A folder without it: the reason names it as not installed, and auto goes on to wasm.
    const empty = makeTempDir('textvae-native-empty-');
    const r2 = await runCli(['info', '--json', '--model', model], { cli, env: { ...env, TEXTVAE_NATIVE_DIR: empty } });
    assert.equal(r2.code, 0, describeRun(r2));
    const info2 = JSON.parse(r2.stdout);
    assert.notEqual(info2.backend, 'tensorflow');
    assert.ok(info2.backends_skipped.some((s: string) => /@tensorflow\/tfjs-node: not installed/.test(s)));
  });

  test('an unknown backend name given with --backend is a usage error (exit 2)', async () => {
    const r = await runCli(['info', '--backend', 'gpu']);
    assert.equal(r.code, 2, describeRun(r));
    assert.match(stderrLines(r)[0], /--backend must be one of auto, tensorflow, wasm, cpu \(got 'gpu'\)/);
  });

  test('an unknown backend name in TEXTVAE_BACKEND is a usage error (exit 2)', async () => {
    const model = await smallModel();
    const r = await runCli(['info', '--model', model], { env: { TEXTVAE_BACKEND: 'gpu' } });
    assert.match(r.stderr, /unknown backend 'gpu'|must be one of/);
    assert.equal(r.code, 2, describeRun(r));
  });
});

describe('cross-backend agreement', () => {
  test('encode on wasm, cpu (and tensorflow where available) gives codes within one quantisation step', async (t) => {
    const model = await smallModel();
    const text = fs.readFileSync(path.join(DOCS, 'zh-autoencoders.md'), 'utf8').slice(0, 1500);
    const backends = ['wasm', 'cpu', 'tensorflow'];
    const results = await Promise.all(
      backends.map((b) =>
        runCli(['encode', '--backend', b, '--json', '--model', model, '--text', text], {
          env: { TEXTVAE_BACKEND: undefined },
        }),
      ),
    );
    const vectors = new Map<string, Float32Array[]>();
    results.forEach((r, i) => {
      const b = backends[i];
      if (b === 'tensorflow' && r.code === 1 && /'tensorflow' is not available/.test(r.stderr)) {
        t.diagnostic(`tensorflow not compared: ${stderrLines(r)[0]}`);
        return;
      }
      assert.equal(r.code, 0, `${b}: ${describeRun(r)}`);
      const out = JSON.parse(r.stdout);
      assert.equal(out.backend, b);
      vectors.set(
        b,
        (out.codes as string[]).map((c) => parseLatentCode(c)),
      );
    });
    const ref = vectors.get('wasm')!;
    assert.ok(ref.length >= 2, `a text of several chunks (${ref.length} codes)`);
    // The comparison means something only if codes vary much more than the tolerance.
    let spread = 0;
    for (const z of ref) for (let j = 0; j < z.length; j++) spread = Math.max(spread, Math.abs(z[j] - ref[0][j]));
    assert.ok(spread > 10 * TOLERANCE, `codes of different chunks differ by at most ${spread}`);
    for (const [b, zs] of vectors) {
      assert.equal(zs.length, ref.length, `${b}: number of codes`);
      let worst = 0;
      zs.forEach((z, i) => {
        for (let j = 0; j < z.length; j++) {
          worst = Math.max(worst, Math.abs(z[j] - ref[i][j]));
        }
      });
      t.diagnostic(`${b} vs wasm: max |dz| = ${worst.toFixed(4)} over ${zs.length} codes`);
      assert.ok(worst <= TOLERANCE, `${b} vs wasm: max |dz| = ${worst}`);
    }
    assert.ok(vectors.has('cpu'));
  });
});
