// Installs what the tests need beyond npm packages, idempotently:
// code-server + Debian's chromium for the end-to-end tests, and native TensorFlow for tfjs-node.
// TEXTVAE_REQUIRE_NATIVE=1 (CI) makes a failed native setup fatal instead of falling back to wasm.
// PyTorch (Debian's python3-torch) for the GPU route's DDP test; TEXTVAE_REQUIRE_TORCH=1 (CI) makes
// its failure fatal, where otherwise that test is skipped with the reason.
import { spawnSync } from 'node:child_process';

function run(label, cmd, args) {
  process.stdout.write(`\n[pretest] ${label}\n`);
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  return r.status === 0;
}

if (!run('end-to-end prerequisites (code-server, chromium)', 'bash', ['scripts/ci-setup.sh'])) {
  process.stderr.write('[pretest] could not install the end-to-end test prerequisites (see above)\n');
  process.exit(1);
}
if (!run('native TensorFlow for @tensorflow/tfjs-node', 'bash', ['scripts/setup-native.sh'])) {
  if (process.env.TEXTVAE_REQUIRE_NATIVE === '1') {
    process.stderr.write('[pretest] native TensorFlow setup failed and TEXTVAE_REQUIRE_NATIVE=1\n');
    process.exit(1);
  }
  process.stderr.write('[pretest] WARNING: native TensorFlow is not available; the tests run on the wasm backend\n');
}
if (!run('PyTorch with torch.distributed (gloo) for the DDP test', 'bash', ['scripts/setup-torch.sh'])) {
  if (process.env.TEXTVAE_REQUIRE_TORCH === '1') {
    process.stderr.write('[pretest] PyTorch setup failed and TEXTVAE_REQUIRE_TORCH=1\n');
    process.exit(1);
  }
  process.stderr.write('[pretest] WARNING: no PyTorch; test/slow/gpu-ddp.test.ts will be skipped\n');
}
