/**
 * Installs the native TensorFlow backend (@tensorflow/tfjs-node) into a folder of its own (the
 * extension's global storage), for users of the packaged extension, which ships only wasm.
 *
 * Two routes, tried in order:
 *   npm   `npm install @tensorflow/tfjs-node`: its install script downloads libtensorflow and a
 *         prebuilt addon from Google's storage;
 *   pypi  scripts/setup-native.sh: the TensorFlow C API from the PyPI wheel, addon built with node-gyp.
 * Everything happens in child processes in a temporary sibling folder, which is renamed into place
 * only after the addon has loaded in the runtime that will use it. A cancel or a failure removes
 * it, so the install folder is either complete or absent. No vscode here (unit-tested).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const TFJS_NODE_VERSION = '4.22.0';
/** Written last into the finished install: its presence means complete. */
export const MARKER = 'textvae-native.json';

export type InstallRoute = 'npm' | 'pypi';

export interface NativeInstallInfo {
  version: string;
  route: InstallRoute;
  bytes: number;
  seconds: number;
  installedAt: string;
  /** The backend and runtime the addon was checked in. */
  check: string;
}

export interface InstallOptions {
  /** The extension's global storage folder. */
  storageDir: string;
  /** scripts/setup-native.sh as shipped. */
  setupScript: string;
  /** The runtime the engine runs in (VS Code's Electron as Node, or Node), to check the addon with. */
  runtime: { execPath: string; env: NodeJS.ProcessEnv };
  /** Environment of npm, bash and their children (PATH decides which npm and node). */
  env: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  arch?: string;
  routes?: InstallRoute[];
  signal: AbortSignal;
  log(line: string): void;
  progress(message: string): void;
}

export class NativeInstallError extends Error {}
export class NativeInstallCancelled extends Error {
  constructor() {
    super('installing the native backend was cancelled');
  }
}

export function nativeRoot(storageDir: string): string {
  return path.join(storageDir, 'native');
}

/** The install folder: it holds package.json and node_modules/@tensorflow/tfjs-node. */
export function nativeDir(storageDir: string): string {
  return path.join(nativeRoot(storageDir), `tfjs-node-${TFJS_NODE_VERSION}`);
}

/** The finished install's record, or undefined when there is none (or it is incomplete). */
export function readInstall(storageDir: string): NativeInstallInfo | undefined {
  try {
    const info = JSON.parse(fs.readFileSync(path.join(nativeDir(storageDir), MARKER), 'utf8')) as NativeInstallInfo;
    return info.version === TFJS_NODE_VERSION ? info : undefined;
  } catch {
    return undefined;
  }
}

/** A temporary name in the install root, owned by this process (several windows share the storage). */
function ownedName(kind: 'tmp' | 'old'): string {
  return `.${kind}-${process.pid}-${randomBytes(6).toString('hex')}`;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes what an interrupted install or swap left behind, and installs of other tfjs-node
 * versions; never the install itself, nor the temporary folder of an install still running in
 * another window (its process is alive).
 */
export function cleanLeftovers(storageDir: string): string[] {
  const root = nativeRoot(storageDir);
  const removed: string[] = [];
  let names: string[];
  try {
    names = fs.readdirSync(root);
  } catch {
    return removed;
  }
  const current = path.basename(nativeDir(storageDir));
  for (const n of names) {
    const temp = /^\.(tmp|old)-(\d+)-/.exec(n);
    const stale = temp
      ? !processAlive(Number(temp[2]))
      : /^\.(tmp|old)-/.test(n) || (/^tfjs-node-/.test(n) && n !== current);
    if (!stale) continue;
    fs.rmSync(path.join(root, n), { recursive: true, force: true, maxRetries: 3 });
    removed.push(n);
  }
  return removed;
}

/** Removes the install (renamed away first, so that it is never seen half-deleted). */
export function removeInstall(storageDir: string): boolean {
  const dir = nativeDir(storageDir);
  if (!fs.existsSync(dir)) return false;
  const old = path.join(nativeRoot(storageDir), ownedName('old'));
  fs.renameSync(dir, old);
  fs.rmSync(old, { recursive: true, force: true, maxRetries: 3 });
  return true;
}

/** The full path of an executable found on PATH, or undefined. */
export function findOnPath(command: string, env: NodeJS.ProcessEnv, platform = process.platform): string | undefined {
  const dirs = (env.PATH ?? env.Path ?? '').split(path.delimiter).filter(Boolean);
  const exts = platform === 'win32' ? (env.PATHEXT ?? '.EXE;.CMD;.BAT').split(';') : [''];
  for (const d of dirs)
    for (const e of exts) {
      const p = path.join(d, command + e);
      try {
        if (fs.statSync(p).isFile()) {
          if (platform !== 'win32') fs.accessSync(p, fs.constants.X_OK);
          return p;
        }
      } catch {
        // not here
      }
    }
  return undefined;
}

/** Bytes on disk of a folder, hard links counted once. */
export function folderBytes(dir: string): number {
  const seen = new Set<string>();
  let total = 0;
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        const st = fs.lstatSync(p);
        const key = `${st.dev}:${st.ino}`;
        if (seen.has(key)) continue;
        seen.add(key);
        total += st.size;
      }
    }
  };
  walk(dir);
  return total;
}

interface RunResult {
  code: number | null;
  tail: string[];
}

/** Runs a command in its own process group; the signal ends the whole group. */
function run(
  command: string,
  args: string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv; signal: AbortSignal; onLine(line: string): void },
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    if (opts.signal.aborted) return reject(new NativeInstallCancelled());
    const unix = process.platform !== 'win32';
    // Windows runs npm.cmd only through a shell (Node refuses .cmd/.bat otherwise); the arguments are ours.
    const shell = !unix && /\.(cmd|bat)$/i.test(command);
    const child = spawn(shell ? `"${command}"` : command, args, {
      cwd: opts.cwd,
      env: opts.env,
      shell,
      detached: unix,
      stdio: ['ignore', 'pipe', 'pipe'],
      windowsHide: true,
    });
    const tail: string[] = [];
    let partial = '';
    const take = (chunk: string) => {
      const lines = (partial + chunk).split(/\r?\n/);
      partial = lines.pop() ?? '';
      for (const l of lines) {
        if (!l.trim()) continue;
        tail.push(l);
        if (tail.length > 40) tail.shift();
        opts.onLine(l);
      }
    };
    child.stdout.setEncoding('utf8').on('data', take);
    child.stderr.setEncoding('utf8').on('data', take);
    let killTimer: NodeJS.Timeout | undefined;
    const kill = (sig: NodeJS.Signals) => {
      try {
        if (unix && child.pid) process.kill(-child.pid, sig);
        // Windows has no process groups: end the tree.
        else if (child.pid)
          spawn('taskkill', ['/pid', String(child.pid), '/T', '/F'], { windowsHide: true }).on(
            'error',
            () => undefined,
          );
      } catch {
        // already gone
      }
    };
    const onAbort = () => {
      kill('SIGTERM');
      killTimer = setTimeout(() => kill('SIGKILL'), 3000);
    };
    opts.signal.addEventListener('abort', onAbort, { once: true });
    child.on('error', (err) => {
      opts.signal.removeEventListener('abort', onAbort);
      reject(new NativeInstallError(`could not run ${command}: ${err.message}`));
    });
    child.on('close', (code) => {
      opts.signal.removeEventListener('abort', onAbort);
      if (killTimer) clearTimeout(killTimer);
      if (partial.trim()) take('\n');
      if (opts.signal.aborted) reject(new NativeInstallCancelled());
      else resolve({ code, tail });
    });
  });
}

/** The lines that explain a failure: npm's and setup-native's error lines, else the last lines. */
function failureText(r: RunResult): string {
  const own = r.tail
    .filter((l) => /setup-native: ERROR:/.test(l))
    .map((l) => l.replace(/^.*setup-native: ERROR:\s*/, ''));
  if (own.length) return own.join('; ');
  const lines = r.tail
    .map((l) => l.replace(/^npm (error|ERR!)\s*/, '').trim())
    .filter((l) => l && !/^(A complete log|Node\.js v|command (failed|sh -c))/.test(l));
  const err =
    lines.find((l) => /\bError:/.test(l)) ??
    lines.find((l) => /\b(ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|E404|EACCES|ENOSPC)\b/.test(l));
  return err ?? (lines.slice(-2).join('; ') || `exit code ${r.code}`);
}

/** Loads tfjs-node from `dir` in the engine's runtime; resolves with a one-line description. */
async function checkAddon(dir: string, opts: InstallOptions): Promise<string> {
  const script = `
    const tf = require(require.resolve('@tensorflow/tfjs-node', { paths: [${JSON.stringify(dir)}] }));
    const s = tf.matMul(tf.ones([2, 2]), tf.ones([2, 2])).dataSync()[0];
    const rt = process.versions.electron ? 'Electron ' + process.versions.electron + ' (Node ' + process.versions.node + ')' : 'Node ' + process.versions.node;
    console.log('backend ' + tf.getBackend() + ', N-API ' + process.versions.napi + ', ' + rt);
    process.exit(tf.getBackend() === 'tensorflow' && s === 2 ? 0 : 3);`;
  const r = await run(opts.runtime.execPath, ['-e', script], {
    cwd: dir,
    env: { ...opts.runtime.env, TF_CPP_MIN_LOG_LEVEL: '2' },
    signal: opts.signal,
    onLine: (l) => opts.log(`check: ${l}`),
  });
  const line = r.tail.find((l) => l.startsWith('backend ')) ?? '';
  if (r.code !== 0) throw new NativeInstallError(`the addon does not load: ${failureText(r)}`);
  return line;
}

async function npmRoute(tmp: string, npm: string, opts: InstallOptions): Promise<void> {
  opts.progress(`npm install @tensorflow/tfjs-node@${TFJS_NODE_VERSION} (downloads TensorFlow from Google)…`);
  const r = await run(npm, ['install', '--no-audit', '--no-fund', `@tensorflow/tfjs-node@${TFJS_NODE_VERSION}`], {
    cwd: tmp,
    env: opts.env,
    signal: opts.signal,
    onLine: (l) => opts.log(`npm: ${l}`),
  });
  if (r.code !== 0) throw new NativeInstallError(failureText(r));
}

async function pypiRoute(tmp: string, opts: InstallOptions): Promise<void> {
  const platform = opts.platform ?? process.platform;
  const arch = opts.arch ?? process.arch;
  if (platform !== 'linux' || arch !== 'x64')
    throw new NativeInstallError(`it supports only Linux x86_64 (this is ${platform} ${arch})`);
  const bash = findOnPath('bash', opts.env, platform);
  if (!bash) throw new NativeInstallError('bash is not on PATH');
  if (!fs.existsSync(opts.setupScript)) throw new NativeInstallError(`${opts.setupScript} is missing`);
  opts.progress('building from the TensorFlow wheel on PyPI…');
  // Never apt-get from an editor: a missing compiler is reported, not installed.
  const r = await run(bash, [opts.setupScript], {
    cwd: tmp,
    env: { ...opts.env, TEXTVAE_NATIVE_NO_APT: '1' },
    signal: opts.signal,
    onLine: (l) => {
      opts.log(`setup-native: ${l}`);
      if (l.startsWith('==> ')) opts.progress(l.slice(4));
    },
  });
  if (r.code !== 0) throw new NativeInstallError(failureText(r));
}

/** Moves the finished temp folder to `final`; the old install, if any, goes only after the new one is in. */
function swapInto(tmp: string, final: string): void {
  const old = path.join(path.dirname(final), ownedName('old'));
  const hadOld = fs.existsSync(final);
  if (hadOld) fs.renameSync(final, old);
  try {
    fs.renameSync(tmp, final);
  } catch (err) {
    if (hadOld) fs.renameSync(old, final);
    throw err;
  }
  if (hadOld) fs.rmSync(old, { recursive: true, force: true, maxRetries: 3 });
}

/**
 * Installs tfjs-node into nativeDir(storageDir). Throws NativeInstallCancelled when the signal
 * aborts, NativeInstallError with a short user-facing reason otherwise; never leaves a partial install.
 */
export async function installNative(opts: InstallOptions): Promise<NativeInstallInfo> {
  const started = Date.now();
  const platform = opts.platform ?? process.platform;
  const npm = findOnPath('npm', opts.env, platform);
  const node = findOnPath('node', opts.env, platform);
  if (!npm || !node)
    throw new NativeInstallError(
      `${!npm && !node ? 'node and npm are' : !npm ? 'npm is' : 'node is'} not on PATH. The native backend is installed with npm: install Node.js 20 or later (it includes npm), then try again.`,
    );
  const root = nativeRoot(opts.storageDir);
  fs.mkdirSync(root, { recursive: true });
  for (const n of cleanLeftovers(opts.storageDir)) opts.log(`removed leftover ${n}`);
  const tmp = path.join(root, ownedName('tmp'));
  fs.mkdirSync(tmp);
  try {
    fs.writeFileSync(
      path.join(tmp, 'package.json'),
      JSON.stringify({ name: 'textvae-native', private: true, description: 'TextVAE native backend' }, null, 2) + '\n',
    );
    const failures: string[] = [];
    let route: InstallRoute | undefined;
    let check = '';
    for (const r of opts.routes ?? ['npm', 'pypi']) {
      try {
        if (r === 'npm') await npmRoute(tmp, npm, opts);
        else await pypiRoute(tmp, opts);
        opts.progress('checking that the addon loads…');
        check = await checkAddon(tmp, opts);
        route = r;
        break;
      } catch (err) {
        if (err instanceof NativeInstallCancelled) throw err;
        const why = err instanceof Error ? err.message : String(err);
        opts.log(`route ${r} failed: ${why}`);
        failures.push(`${r === 'npm' ? 'npm install' : 'PyPI wheel route'}: ${why}`);
      }
    }
    if (!route) throw new NativeInstallError(`Could not install the native backend. ${failures.join('. ')}.`);
    const info: NativeInstallInfo = {
      version: TFJS_NODE_VERSION,
      route,
      bytes: folderBytes(tmp),
      seconds: Math.round((Date.now() - started) / 100) / 10,
      installedAt: new Date().toISOString(),
      check,
    };
    fs.writeFileSync(path.join(tmp, MARKER), JSON.stringify(info, null, 2) + '\n');
    if (opts.signal.aborted) throw new NativeInstallCancelled();
    swapInto(tmp, nativeDir(opts.storageDir));
    return info;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true, maxRetries: 3 });
  }
}
