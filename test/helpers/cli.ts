/** Running the built `textvae` CLI (dist/cli.js) from tests, and a tiny model trained through it. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TINY_DOC } from './engine';
import { makeTempDir, writeFiles } from './tmp';

export const REPO = path.resolve(__dirname, '..', '..');
export const CLI = path.join(REPO, 'dist', 'cli.js');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else if (e.isFile() && p.endsWith('.ts')) newest = Math.max(newest, fs.statSync(p).mtimeMs);
  }
  return newest;
}

/** Builds dist/cli.js with scripts/build.mjs when it is missing or older than the sources. */
export function ensureCliBuilt(): void {
  const built = fs.existsSync(CLI) ? fs.statSync(CLI).mtimeMs : 0;
  const sources = Math.max(newestMtime(path.join(REPO, 'src', 'core')), newestMtime(path.join(REPO, 'src', 'cli')));
  if (built >= sources) return;
  const r = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: REPO, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`node scripts/build.mjs failed (${r.status}): ${r.stderr}`);
}

export interface CliResult {
  /** Exit status; null when killed by a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Written to standard input, which is then closed (default: empty input). */
  input?: string;
  /** Added to (or, with undefined values, removed from) the inherited environment. */
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Which script to run instead of dist/cli.js (a relocated copy, say). */
  cli?: string;
  timeoutMs?: number;
}

function childEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' };
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/** Starts the CLI without waiting (for signals); stdin is closed unless `input` is given later. */
export function spawnCli(args: string[], options: CliOptions = {}): ChildProcess {
  const child = spawn(process.execPath, [options.cli ?? CLI, ...args], {
    cwd: options.cwd ?? REPO,
    env: childEnv(options.env),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stdin!.end(options.input ?? '');
  return child;
}

/** Runs the CLI to completion and collects its output. */
export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawnCli(args, options);
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`textvae ${args.join(' ')} did not finish in ${options.timeoutMs ?? 120_000} ms\n${stderr}`));
    }, options.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Formats a result for assertion messages. */
export function describeRun(r: CliResult): string {
  return `exit ${r.code}${r.signal ? ` (${r.signal})` : ''}\n--- stdout\n${r.stdout.slice(-2000)}\n--- stderr\n${r.stderr.slice(-2000)}`;
}

/** The lines of standard error that are not blank. */
export function stderrLines(r: CliResult): string[] {
  return r.stderr.split('\n').filter((l) => l.trim() !== '');
}

/**
 * Arguments for a tiny model that learns TINY_DOC in seconds (default 5-layer decoder, narrow).
 * --val-fraction 0: every sentence is trained on (the CLI would otherwise hold some out).
 */
export const TINY_TRAIN_ARGS = [
  '--val-fraction',
  '0',
  '--model-dim',
  '48',
  '--vocab-size',
  '300',
  '--max-tokens',
  '32',
  '--latent-dim',
  '16',
  '--batch-size',
  '6',
  '--lr',
  '0.003',
  '--seed',
  '3',
];

export interface CliModel {
  /** The bundle folder. */
  dir: string;
  /** The data folder it was trained on (TINY_DOC plus files the corpus reader must skip). */
  data: string;
  train: CliResult;
}

/**
 * Trains a tiny 'ae' model on TINY_DOC through the CLI. The data folder also holds a binary file
 * and a file over the 4 MB default size limit, which training must skip with a reason.
 */
export async function trainCliModel(extraArgs: string[] = []): Promise<CliModel> {
  ensureCliBuilt();
  const root = makeTempDir('textvae-cli-');
  const data = writeFiles(path.join(root, 'data'), {
    'sentences.txt': TINY_DOC,
    'blob.bin': Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0x0d, 1, 2, 3, 0, 255, 254]),
    'huge.txt': 'lorem ipsum '.repeat(Math.ceil((4 * 1024 * 1024 + 10) / 12)),
  });
  const dir = path.join(root, 'model');
  const train = await runCli([
    'train',
    '--data',
    data,
    '--out',
    dir,
    '--steps',
    '160',
    '--variant',
    'ae',
    '--log-every',
    '40',
    ...TINY_TRAIN_ARGS,
    ...extraArgs,
  ]);
  if (train.code !== 0) throw new Error(`training the CLI fixture failed: ${describeRun(train)}`);
  return { dir, data, train };
}
