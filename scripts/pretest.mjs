// Installs what the tests need beyond npm packages, idempotently:
// code-server + Debian's chromium for the end-to-end tests, and native TensorFlow for tfjs-node.
// TEXTVAE_REQUIRE_NATIVE=1 (CI) makes a failed native setup fatal instead of falling back to wasm.
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
