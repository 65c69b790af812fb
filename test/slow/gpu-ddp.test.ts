/**
 * The GPU route scales out with PyTorch's DistributedDataParallel: scripts/gpu/train_torch.py under
 * torchrun. On the CPU, with two processes on the gloo backend, a run must train the weights that one
 * process trains on the same global batch (same seed, same steps), to float rounding.
 *
 * Needs a Python with torch (scripts/setup-torch.sh, run by `npm test`'s pretest, installs Debian's
 * python3-torch as root). Without one the test is skipped with the reason, unless
 * TEXTVAE_REQUIRE_TORCH=1 (CI), where it fails.
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

/** Trains into a fresh folder, as one process or as `processes` under torchrun; returns the folder and stdout. */
function train(processes: number, batchSize: number, extra: string[] = []): { out: string; stdout: string } {
  const out = path.join(makeTempDir('textvae-ddp-run-'), 'run');
  const args = [TRAINER, '--data', data, '--out', out, ...TRAIN, '--batch-size', String(batchSize), ...extra];
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
  const r = spawnSync(python, [...launcher, ...args], {
    cwd: REPO,
    encoding: 'utf8',
    timeout: 180_000,
    // One thread per process: two processes on shared cores.
    env: { ...process.env, OMP_NUM_THREADS: '1' },
  });
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

const result = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, 'result.json'), 'utf8'));

describe('DDP on the GPU route: torchrun, gloo, two CPU processes', { skip }, () => {
  before(() => {
    assert.ok(python, `TEXTVAE_REQUIRE_TORCH=1 but there is no PyTorch: ${why}`);
    data = path.join(makeTempDir('textvae-ddp-data-'), 'data');
    const r = runGpuScript('export-dataset.ts', [
      '--data',
      fixturePath('workspace'),
      '--out',
      data,
      '--val-fraction',
      '0.25',
    ]);
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
