/**
 * The native backend installer (src/extension/logic/nativeInstall.ts) with stand-in `npm`
 * programs on PATH: missing tools, failures of both routes, cancel, success and reinstall.
 * Nothing is downloaded; the real route is exercised by the e2e scenario `native-install`.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  MARKER,
  NativeInstallCancelled,
  NativeInstallError,
  findOnPath,
  installNative,
  nativeDir,
  nativeRoot,
  readInstall,
  removeInstall,
  cleanLeftovers,
  type InstallOptions,
} from '../../src/extension/logic/nativeInstall';
import { makeTempDir, writeFiles } from '../helpers/tmp';
import { REPO } from '../helpers/cli';

const NODE_DIR = path.dirname(process.execPath);

/** A folder of executables named after `scripts` (node programs). */
function fakeBin(scripts: Record<string, string>): string {
  const dir = makeTempDir('textvae-fakebin-');
  for (const [name, body] of Object.entries(scripts)) {
    const p = path.join(dir, name);
    fs.writeFileSync(p, `#!${process.execPath}\n${body}\n`);
    fs.chmodSync(p, 0o755);
  }
  return dir;
}

/** A stand-in tfjs-node: enough API for the installer's check. */
const FAKE_TFJS_NODE = `
  module.exports = {
    getBackend: () => process.env.FAKE_BACKEND || 'tensorflow',
    ones: () => null,
    matMul: () => ({ dataSync: () => [2] }),
  };`;

const NPM_OK = `
  const fs = require('fs'), path = require('path');
  const d = path.join(process.cwd(), 'node_modules', '@tensorflow', 'tfjs-node');
  fs.mkdirSync(d, { recursive: true });
  fs.writeFileSync(path.join(d, 'package.json'), JSON.stringify({ name: '@tensorflow/tfjs-node', main: 'index.js' }));
  fs.writeFileSync(path.join(d, 'index.js'), ${JSON.stringify(FAKE_TFJS_NODE)});
  fs.writeFileSync(path.join(d, 'weights.bin'), Buffer.alloc(3000));
  console.log('added 1 package');`;

function options(storageDir: string, bin: string, extra: Partial<InstallOptions> = {}): InstallOptions {
  const env = { ...process.env, PATH: [bin, NODE_DIR].join(path.delimiter) };
  return {
    storageDir,
    setupScript: path.join(storageDir, 'no-such-script.sh'),
    runtime: { execPath: process.execPath, env },
    env,
    platform: 'darwin', // the PyPI route refuses: only the npm route can succeed
    arch: 'arm64',
    signal: new AbortController().signal,
    log: () => undefined,
    progress: () => undefined,
    ...extra,
  };
}

/** What is in the native folder besides the finished install. */
function leftovers(storageDir: string): string[] {
  try {
    return fs.readdirSync(nativeRoot(storageDir)).filter((n) => n !== path.basename(nativeDir(storageDir)));
  } catch {
    return [];
  }
}

describe('native backend installer', () => {
  test('findOnPath finds executables only', () => {
    const bin = fakeBin({ npm: '' });
    writeFiles(bin, { 'not-exec': 'x' });
    const env = { PATH: bin };
    assert.equal(findOnPath('npm', env, 'linux'), path.join(bin, 'npm'));
    assert.equal(findOnPath('not-exec', env, 'linux'), undefined);
    assert.equal(findOnPath('nothing', env, 'linux'), undefined);
  });

  test('without npm on PATH: a clear error, nothing written', async () => {
    const storage = makeTempDir('textvae-native-');
    const bin = fakeBin({ node: '' });
    const env = { PATH: bin };
    await assert.rejects(
      installNative({ ...options(storage, bin), env }),
      (err: Error) => err instanceof NativeInstallError && /npm is not on PATH.*install Node\.js/.test(err.message),
    );
    assert.equal(fs.existsSync(nativeRoot(storage)), false);
  });

  test('both routes failing: the error names each reason, and no partial install is kept', async () => {
    const storage = makeTempDir('textvae-native-');
    const bin = fakeBin({
      npm: `require("fs").writeFileSync("half.txt", "x"); console.error("npm error code ENOTFOUND"); console.error("npm error Error: getaddrinfo ENOTFOUND storage.googleapis.com"); console.error("npm error Node.js v20"); console.error("npm error A complete log of this run can be found in: /x.log"); process.exit(1);`,
    });
    const err = await installNative(options(storage, bin)).then(
      () => assert.fail('should fail'),
      (e: Error) => e,
    );
    assert.ok(err instanceof NativeInstallError, String(err));
    assert.match(err.message, /npm install: Error: getaddrinfo ENOTFOUND storage\.googleapis\.com\. /);
    assert.match(err.message, /PyPI wheel route: it supports only Linux x86_64 \(this is darwin arm64\)/);
    assert.equal(readInstall(storage), undefined);
    assert.deepEqual(leftovers(storage), []);
    assert.equal(fs.existsSync(nativeDir(storage)), false);
  });

  test('the PyPI route without compilers names what to install, and never runs apt-get', async (t) => {
    if (process.platform !== 'linux' || process.arch !== 'x64') {
      t.skip('the PyPI route is Linux x86_64 only');
      return;
    }
    const storage = makeTempDir('textvae-native-');
    // A PATH with node, bash and the basic tools, but no gcc, make, nm or python3 (and no apt-get).
    const bin = fakeBin({ npm: 'process.exit(1)' });
    for (const tool of ['bash', 'uname', 'id', 'sort', 'dirname', 'cat', 'node']) {
      const found = findOnPath(tool, process.env);
      if (!found) {
        t.skip(`${tool} is not on PATH here`);
        return;
      }
      fs.symlinkSync(found, path.join(bin, tool));
    }
    const env = { ...process.env, PATH: bin };
    const err = await installNative({
      ...options(storage, bin),
      env,
      platform: 'linux',
      arch: 'x64',
      routes: ['pypi'],
      setupScript: path.join(REPO, 'scripts', 'setup-native.sh'),
    }).then(
      () => assert.fail('should fail'),
      (e: Error) => e,
    );
    assert.ok(err instanceof NativeInstallError, String(err));
    assert.match(err.message, /PyPI wheel route: missing build tools .*apt-get install .*build-essential/);
    assert.deepEqual(leftovers(storage), []);
  });

  test('an addon that does not give the tensorflow backend is refused', async () => {
    const storage = makeTempDir('textvae-native-');
    const bin = fakeBin({ npm: NPM_OK });
    const o = options(storage, bin);
    o.runtime = { ...o.runtime, env: { ...o.runtime.env, FAKE_BACKEND: 'cpu' } };
    await assert.rejects(installNative(o), /npm install: the addon does not load/);
    assert.equal(fs.existsSync(nativeDir(storage)), false);
    assert.deepEqual(leftovers(storage), []);
  });

  test('cancel ends the whole process group and keeps nothing', async () => {
    const storage = makeTempDir('textvae-native-');
    const pidFile = path.join(makeTempDir('textvae-pid-'), 'pid');
    // npm starts a grandchild (like an install script) and waits for it.
    const bin = fakeBin({
      npm: `
        const { spawn } = require('child_process');
        const c = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'inherit' });
        require('fs').writeFileSync(${JSON.stringify(pidFile)}, String(c.pid));
        require('fs').writeFileSync('half.txt', 'x');
        setInterval(() => {}, 1000);`,
    });
    const controller = new AbortController();
    const done = installNative(options(storage, bin, { signal: controller.signal }));
    const until = Date.now() + 20_000;
    while (!fs.existsSync(pidFile) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    assert.ok(fs.existsSync(pidFile), 'the stand-in npm started');
    const grandchild = Number(fs.readFileSync(pidFile, 'utf8'));
    controller.abort();
    await assert.rejects(done, (e: Error) => e instanceof NativeInstallCancelled);
    const alive = () => {
      try {
        process.kill(grandchild, 0);
        return true;
      } catch {
        return false;
      }
    };
    const deadline = Date.now() + 5000;
    while (alive() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(alive(), false, 'the install script child was ended too');
    assert.deepEqual(leftovers(storage), []);
    assert.equal(fs.existsSync(nativeDir(storage)), false);
  });

  test('success: the install is complete (marker, size, route); a reinstall replaces it whole', async () => {
    const storage = makeTempDir('textvae-native-');
    const bin = fakeBin({ npm: NPM_OK });
    const steps: string[] = [];
    const info = await installNative(options(storage, bin, { progress: (m) => steps.push(m) }));
    assert.equal(info.route, 'npm');
    assert.ok(info.bytes >= 3000, String(info.bytes));
    assert.match(info.check, /^backend tensorflow, N-API \d+, Node /);
    assert.ok(
      steps.some((s) => /npm install @tensorflow\/tfjs-node@/.test(s)),
      JSON.stringify(steps),
    );
    assert.deepEqual(readInstall(storage), info);
    assert.ok(fs.existsSync(path.join(nativeDir(storage), 'node_modules', '@tensorflow', 'tfjs-node', 'index.js')));
    assert.ok(fs.existsSync(path.join(nativeDir(storage), MARKER)));
    assert.deepEqual(leftovers(storage), []);

    // A stale temp folder from a crashed install is removed by the next one.
    fs.mkdirSync(path.join(nativeRoot(storage), '.tmp-deadbeef'));
    fs.writeFileSync(path.join(nativeDir(storage), 'old-only.txt'), 'x');
    const again = await installNative(options(storage, bin));
    assert.notEqual(again.installedAt, undefined);
    assert.equal(fs.existsSync(path.join(nativeDir(storage), 'old-only.txt')), false, 'the old install was replaced');
    assert.deepEqual(leftovers(storage), []);

    // Remove: gone whole; nothing half-deleted is left beside it.
    assert.equal(removeInstall(storage), true);
    assert.equal(readInstall(storage), undefined);
    assert.deepEqual(fs.readdirSync(nativeRoot(storage)), []);
    assert.equal(removeInstall(storage), false);
  });

  test("leftovers: a crashed install's folders and other versions go; a running install's folder stays", () => {
    const storage = makeTempDir('textvae-native-');
    const root = nativeRoot(storage);
    const running = `.tmp-${process.pid}-aaaaaa`; // this process is alive: another window's install
    const crashed = '.tmp-2147483646-bbbbbb'; // no such process
    writeFiles(root, {
      [`${running}/x`]: 'x',
      [`${crashed}/x`]: 'x',
      '.old-2147483646-cccccc/x': 'x',
      'tfjs-node-4.0.0/x': 'x',
      [`${path.basename(nativeDir(storage))}/x`]: 'x',
    });
    assert.deepEqual(cleanLeftovers(storage).sort(), [crashed, '.old-2147483646-cccccc', 'tfjs-node-4.0.0'].sort());
    assert.deepEqual(fs.readdirSync(root).sort(), [running, path.basename(nativeDir(storage))].sort());
  });
});
