/**
 * The GPU route scales out with PyTorch's DistributedDataParallel: scripts/gpu/train_torch.py under
 * torchrun. On the CPU, with two processes on the gloo backend, a run must train the weights that one
 * process trains on the same global batch (same seed, same steps), to float rounding.
 *
 * Needs a Python with torch (scripts/setup-torch.sh, run by `npm test`'s pretest, installs Debian's
 * python3-torch as root). Without one the test is skipped with the reason, unless
 * TEXTVAE_REQUIRE_TORCH=1 (CI), where it fails.
 *
 * The trainer mirrors every architecture a user can train: its parity check must reproduce the
 * engine's loss for a model with attention pooling and z as decoder memory, and refuse when its math
 * leaves either out.
 */
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { REPO } from '../helpers/cli';
import { fixturePath } from '../helpers/fixtures';
import { runGpuScript } from '../helpers/gpu';
import { makeTempDir } from '../helpers/tmp';
import { readRunWeights } from '../../scripts/gpu/runWeights';
import { TextVaeModel } from '../../src/core/model';
import { loadBundle, saveBundle } from '../../src/core/bundle';
import type { ModelConfig, NamedWeights } from '../../src/core/types';
import { setupBackend } from '../helpers/engine';

const TRAINER = path.join(REPO, 'scripts', 'gpu', 'train_torch.py');
const REQUIRED = process.env.TEXTVAE_REQUIRE_TORCH === '1';

// The interpreter scripts/setup-torch.sh finds (it only looks here), or why there is none.
const found = spawnSync('bash', [path.join(REPO, 'scripts', 'setup-torch.sh'), '--find'], { encoding: 'utf8' });
const python = found.status === 0 ? found.stdout.trim().split('\n').pop()! : '';
const why = found.stderr.trim().split('\n').pop() ?? 'scripts/setup-torch.sh failed';
const skip = python || REQUIRED ? false : `no PyTorch here (${why}); CI installs it and sets TEXTVAE_REQUIRE_TORCH=1`;
if (skip) process.stderr.write(`\n[gpu-ddp] SKIPPED: ${skip}\n\n`);

// A tiny model and every random part of the objective: token dropout (the default 0.25), dropout on
// the residual branches, the reparameterisation noise; AE pre-training, KL annealing and free bits
// (beta reaches 1 at step 5 of 10). The lr is high so that ten steps move the weights far.
const TRAIN = [
  ['--steps', '10'],
  ['--model-dim', '16'],
  ['--latent-dim', '8'],
  ['--dilations', '1,2'],
  ['--seed', '3'],
  ['--lr', '0.01'],
  ['--warmup-steps', '2'],
  ['--ae-pretrain', '0.2'],
  ['--kl-anneal', '0.3'],
  ['--free-bits', '0.5'],
  ['--dropout', '0.1'],
  ['--eval-seconds', '1e9'],
  ['--device', 'cpu'],
].flat();

let data = '';

/** Runs the trainer as one process or as `processes` under torchrun; the spawn result and the run folder. */
function runTrainer(processes: number, args: string[]) {
  const out = path.join(makeTempDir('textvae-ddp-run-'), 'run');
  // torchrun itself (python -m torch.distributed.run). --redirects/--tee 9:1 touch only a tenth local
  // process: they spell "no redirection" in a way Debian's torch 1.13 parses on Python 3.11, where
  // its default value fails ("'NoneType' object has no attribute 'get'").
  const launcher =
    processes === 1
      ? []
      : ['-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', String(processes)].concat([
          '--redirects',
          '9:1',
          '--tee',
          '9:1',
        ]);
  const r = spawnSync(python, [...launcher, TRAINER, '--out', out, ...args], {
    cwd: REPO,
    encoding: 'utf8',
    timeout: 180_000,
    // One thread per process: two processes on shared cores.
    env: { ...process.env, OMP_NUM_THREADS: '1' },
  });
  return { r, out };
}

/** Trains into a fresh folder, as one process or as `processes` under torchrun; returns the folder and stdout. */
function train(processes: number, batchSize: number, extra: string[] = []): { out: string; stdout: string } {
  const { r, out } = runTrainer(processes, ['--data', data, ...TRAIN, '--batch-size', String(batchSize), ...extra]);
  assert.equal(r.status, 0, `train_torch.py (${processes} process(es)) failed:\n${r.stdout}\n${r.stderr}`);
  return { out, stdout: r.stdout };
}

/** The largest absolute difference between two runs' weights, over every tensor (the names must agree). */
function maxDifference(a: string, b: string): number {
  const wa = readRunWeights(a);
  const wb = readRunWeights(b);
  assert.deepEqual(Object.keys(wa).sort(), Object.keys(wb).sort());
  let worst = 0;
  for (const [name, t] of Object.entries(wa)) {
    assert.deepEqual(t.shape, wb[name].shape, name);
    t.data.forEach((x, i) => (worst = Math.max(worst, Math.abs(x - wb[name].data[i]))));
  }
  return worst;
}

/** export-dataset.ts on the fixture workspace, a quarter held out. */
const exported = (dir: string, extra: string[] = []) =>
  runGpuScript('export-dataset.ts', [
    '--data',
    fixturePath('workspace'),
    '--out',
    dir,
    '--val-fraction',
    '0.25',
    ...extra,
  ]);

const result = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, 'result.json'), 'utf8'));

describe('DDP on the GPU route: torchrun, gloo, two CPU processes', { skip }, () => {
  before(() => {
    assert.ok(python, `TEXTVAE_REQUIRE_TORCH=1 but there is no PyTorch: ${why}`);
    data = path.join(makeTempDir('textvae-ddp-data-'), 'data');
    const r = exported(data);
    assert.equal(r.status, 0, r.stderr);
  });

  test('two processes train the weights one process trains on the same global batch; another batch does not', () => {
    const one = train(1, 8);
    const two = train(2, 8);
    const initial = train(1, 8, ['--steps', '0']);
    const otherBatch = train(1, 6);

    // Float rounding only (the sums over the batch are split in two): measured 1.2e-7 with torch 1.13.
    const tolerance = 1e-5;
    assert.ok(maxDifference(one.out, two.out) <= tolerance, `DDP differs: ${maxDifference(one.out, two.out)}`);
    // The comparison has teeth: training moved the weights, and a different global batch ends elsewhere.
    assert.ok(maxDifference(one.out, initial.out) > 1000 * tolerance, 'ten steps moved the weights');
    assert.ok(maxDifference(one.out, otherBatch.out) > 1000 * tolerance, 'another global batch trains other weights');

    const [r1, r2] = [result(one.out), result(two.out)];
    assert.equal(r1.world_size, 1);
    assert.equal(r2.world_size, 2);
    assert.equal(r2.steps, 10);
    assert.ok(Math.abs(r1.val.bits_per_byte - r2.val.bits_per_byte) < 1e-5, 'the same held-out loss');
    // Rank 0 alone writes and prints.
    assert.deepEqual(fs.readdirSync(two.out).sort(), fs.readdirSync(one.out).sort());
    assert.equal(two.stdout.split('\n').filter((l) => l.startsWith('{"type": "done"')).length, 1);
    // And the engine takes the DDP run's weights: it reproduces the loss the trainer reports for them.
    const bundle = path.join(makeTempDir('textvae-ddp-model-'), 'model');
    const imported = runGpuScript('import-model.ts', ['--run', two.out, '--data', data, '--out', bundle]);
    assert.equal(imported.status, 0, imported.stderr);
    assert.ok(fs.existsSync(path.join(bundle, 'manifest.json')));
  });
});

describe('the GPU route mirrors attention pooling and z as decoder memory', { skip }, () => {
  let parityData = '';
  const SLOTS = { poolSlots: 2, memorySlots: 3 };

  before(async () => {
    assert.ok(python, `TEXTVAE_REQUIRE_TORCH=1 but there is no PyTorch: ${why}`);
    await setupBackend();
    const plain = path.join(makeTempDir('textvae-mirror-data-'), 'data');
    let r = exported(plain);
    assert.equal(r.status, 0, r.stderr);
    // A tiny pool + memory model on the dataset's tokenizer: the parity reference the trainer must reproduce.
    const meta = JSON.parse(fs.readFileSync(path.join(plain, 'dataset.json'), 'utf8'));
    const tokenizer = JSON.parse(fs.readFileSync(path.join(plain, 'tokenizer.json'), 'utf8'));
    const config: ModelConfig = { ...meta.config, modelDim: 16, latentDim: 8, decoderDilations: [1, 2], ...SLOTS };
    const model = new TextVaeModel(config, undefined, 7);
    const weights = await model.exportWeights();
    model.dispose();
    // Initial memory values are small (gain 0.1): made large, so that the memory's read-out moves the loss.
    for (const [name, w] of Object.entries(weights))
      if (name.endsWith('.mv') || name === 'dec.mem.w') w.data = w.data.map((x) => x * 20);
    const reference = path.join(makeTempDir('textvae-mirror-model-'), 'model');
    await saveBundle(reference, { config, tokenizer, weights });
    parityData = path.join(makeTempDir('textvae-mirror-parity-'), 'data');
    r = exported(parityData, ['--parity-model', reference]);
    assert.equal(r.status, 0, r.stderr);
  });

  const TINY = ['--steps', '2', '--model-dim', '16', '--latent-dim', '8', '--dilations', '1,2', '--device', 'cpu'];
  const SLOT_ARGS = ['--pool-slots', String(SLOTS.poolSlots), '--memory-slots', String(SLOTS.memorySlots)];

  test('the parity check reproduces the engine loss of a pool + memory model, and the engine takes the trained weights', () => {
    const { r, out } = runTrainer(1, ['--data', parityData, ...TINY, ...SLOT_ARGS, '--batch-size', '4']);
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    const parity = JSON.parse(r.stdout.split('\n').find((l) => l.startsWith('{"type": "parity"'))!);
    assert.equal(parity.ok, true);
    assert.ok(Math.abs(parity.torch.recon_nats / parity.engine.recon_nats - 1) < 1e-4);
    const config = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8'));
    assert.equal(config.poolSlots, SLOTS.poolSlots);
    assert.equal(config.memorySlots, SLOTS.memorySlots);
    // The engine reproduces the loss the trainer reports for its trained pool + memory weights.
    const bundle = path.join(makeTempDir('textvae-mirror-import-'), 'model');
    const imported = runGpuScript('import-model.ts', ['--run', out, '--data', parityData, '--out', bundle]);
    assert.equal(imported.status, 0, imported.stderr);
    assert.equal(JSON.parse(fs.readFileSync(path.join(bundle, 'config.json'), 'utf8')).memorySlots, SLOTS.memorySlots);
  });

  for (const left of ['poolSlots', 'memorySlots'] as const) {
    test(`math without ${left} does not pass the parity check: the trainer refuses to train`, () => {
      // The same dataset, but the trainer reads the reference as if it lacked the feature (the shapes still fit).
      const copy = path.join(makeTempDir('textvae-mirror-broken-'), 'data');
      fs.cpSync(parityData, copy, { recursive: true });
      const file = path.join(copy, 'parity', 'config.json');
      const config = JSON.parse(fs.readFileSync(file, 'utf8'));
      delete config[left];
      fs.writeFileSync(file, JSON.stringify(config));
      const { r } = runTrainer(1, ['--data', copy, ...TINY, '--batch-size', '4']);
      assert.equal(r.status, 1, r.stdout);
      assert.match(r.stderr, /loss differs from the engine's on the parity model; refusing to train/);
      assert.match(r.stdout, /"type": "parity", "ok": false/);
    });
  }

  test('slot counts out of range are refused before anything runs', () => {
    const { r } = runTrainer(1, ['--data', parityData, ...TINY, '--memory-slots', '0']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /--memory-slots must be an integer in 1\.\.64, got 0/);
  });
});

describe('the GPU route warm-starts from a bundle: export --from, train, import', { skip }, () => {
  let parent = '';
  let warmData = '';
  let parentWeights: NamedWeights = {};
  let parentConfig: ModelConfig;

  before(async () => {
    assert.ok(python, `TEXTVAE_REQUIRE_TORCH=1 but there is no PyTorch: ${why}`);
    await setupBackend();
    const plain = path.join(makeTempDir('textvae-warm-plain-'), 'data');
    let r = exported(plain);
    assert.equal(r.status, 0, r.stderr);
    // The parent: a tiny grown-style model (attention pooling, decoder memory) that writes tvae2 codes,
    // stored as float16 like models/default, with latent.step values the import must replace.
    const meta = JSON.parse(fs.readFileSync(path.join(plain, 'dataset.json'), 'utf8'));
    const tokenizer = JSON.parse(fs.readFileSync(path.join(plain, 'tokenizer.json'), 'utf8'));
    parentConfig = {
      ...meta.config,
      modelDim: 16,
      latentDim: 8,
      decoderDilations: [1, 2],
      poolSlots: 2,
      memorySlots: 2,
      codeScheme: 'precision',
    };
    const model = new TextVaeModel(parentConfig, undefined, 11);
    const weights = await model.exportWeights();
    model.dispose();
    weights['latent.step'].data.fill(0.5);
    parent = path.join(makeTempDir('textvae-warm-parent-'), 'model');
    await saveBundle(parent, {
      config: parentConfig,
      tokenizer,
      weights,
      weightsDtype: 'float16',
      training: { codeStepFactor: 3 },
    });
    parentWeights = (await loadBundle(parent)).weights;
    // Another corpus than the parent's tokenizer was trained on would do too: --from never trains one.
    warmData = path.join(makeTempDir('textvae-warm-data-'), 'data');
    r = exported(warmData, ['--from', parent]);
    assert.equal(r.status, 0, r.stderr);
  });

  test("the dataset takes the parent's tokenizer and every config field, and names the parent", () => {
    const meta = JSON.parse(fs.readFileSync(path.join(warmData, 'dataset.json'), 'utf8'));
    const manifest = JSON.parse(fs.readFileSync(path.join(parent, 'manifest.json'), 'utf8'));
    assert.deepEqual(meta.config, parentConfig);
    assert.equal(meta.from.fingerprint, manifest.fingerprint);
    assert.equal(meta.parity.fingerprint, manifest.fingerprint);
    assert.deepEqual(
      JSON.parse(fs.readFileSync(path.join(warmData, 'tokenizer.json'), 'utf8')),
      JSON.parse(fs.readFileSync(path.join(parent, 'tokenizer.json'), 'utf8')),
    );
  });

  test("training starts from the parent's float16 weights, and import writes a bundle with refreshed code steps", async () => {
    const base = ['--data', warmData, '--device', 'cpu', '--batch-size', '4', '--eval-seconds', '1e9'];
    // Zero steps: the parent's weights come back exactly (only latent.mean/std are re-estimated).
    const zero = runTrainer(1, [...base, '--steps', '0']);
    assert.equal(zero.r.status, 0, `${zero.r.stdout}\n${zero.r.stderr}`);
    assert.match(zero.r.stdout, /"type": "parity", "ok": true/);
    const start = readRunWeights(zero.out);
    assert.deepEqual(Object.keys(start).sort(), Object.keys(parentWeights).sort());
    for (const [name, w] of Object.entries(parentWeights))
      if (name !== 'latent.mean' && name !== 'latent.std') assert.deepEqual(start[name].data, w.data, name);

    const two = runTrainer(1, [...base, '--steps', '2', '--lr', '0.01', '--warmup-steps', '1']);
    assert.equal(two.r.status, 0, `${two.r.stdout}\n${two.r.stderr}`);
    const trained = readRunWeights(two.out);
    const moved = Math.max(
      ...trained['dec.mem.w'].data.map((x, i) => Math.abs(x - parentWeights['dec.mem.w'].data[i])),
    );
    assert.ok(moved > 1e-3, `two steps moved the weights (${moved})`);
    assert.deepEqual(trained['latent.step'].data, parentWeights['latent.step'].data, 'a statistic, never trained');

    // The engine reproduces the trainer's loss (import refuses otherwise), and the bundle loads.
    const bundle = path.join(makeTempDir('textvae-warm-import-'), 'model');
    const imported = runGpuScript('import-model.ts', ['--run', two.out, '--data', warmData, '--out', bundle]);
    assert.equal(imported.status, 0, imported.stderr);
    const loaded = await loadBundle(bundle);
    assert.deepEqual(loaded.config, parentConfig);
    const steps = Array.from(loaded.weights['latent.step'].data);
    assert.ok(
      steps.every((s) => Number.isFinite(s) && s > 0 && s !== 0.5),
      `latent.step refreshed: ${steps}`,
    );
    const training = loaded.manifest.training as { warmStartFrom: { fingerprint: string }; codeStepFactor: number };
    assert.equal(
      training.warmStartFrom.fingerprint,
      JSON.parse(fs.readFileSync(path.join(parent, 'manifest.json'), 'utf8')).fingerprint,
    );
    assert.equal(training.codeStepFactor, 3);
  });

  test('architecture flags and weights that do not fit the config are refused, naming the first mismatch', () => {
    const flag = runTrainer(1, ['--data', warmData, '--steps', '1', '--device', 'cpu', '--model-dim', '32']);
    assert.equal(flag.r.status, 1);
    assert.match(flag.r.stderr, /whose architecture is fixed: drop --model-dim/);

    const copy = path.join(makeTempDir('textvae-warm-broken-'), 'data');
    fs.cpSync(warmData, copy, { recursive: true });
    const file = path.join(copy, 'dataset.json');
    const meta = JSON.parse(fs.readFileSync(file, 'utf8'));
    meta.config.memorySlots = 3;
    fs.writeFileSync(file, JSON.stringify(meta));
    const shape = runTrainer(1, ['--data', copy, '--steps', '1', '--device', 'cpu']);
    assert.equal(shape.r.status, 1, shape.r.stdout);
    assert.match(
      shape.r.stderr,
      /does not fit the model: dec\.mem\.w is \[8, 32\], the model's config wants \[8, 48\]/,
    );
    assert.doesNotMatch(shape.r.stdout, /"type": "done"/);
  });
});
