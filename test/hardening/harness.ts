/**
 * The hardening suite's machinery: cases with a verdict, a generous time limit that only detects
 * hangs (never a performance assertion), the seeded generator, and the summary table.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Random } from '../../src/core/random';
import { CLI, REPO } from '../helpers/cli';

/** handled: a clear outcome (a result, or a short error); data-lost: something the user had is gone. */
export type Verdict = 'handled' | 'unhandled' | 'data-lost' | 'hang';

export interface Outcome {
  verdict: Verdict;
  detail?: string;
}

export interface Case {
  group: string;
  name: string;
  /** Generous: only a run that exceeds it by far counts as a hang. */
  limitMs: number;
  run(): Promise<Outcome>;
}

export const handled = (detail?: string): Outcome => ({ verdict: 'handled', detail });
export const unhandled = (detail: string): Outcome => ({ verdict: 'unhandled', detail });
export const dataLost = (detail: string): Outcome => ({ verdict: 'data-lost', detail });

export interface CaseResult extends Outcome {
  group: string;
  name: string;
  ms: number;
}

/** Runs one case; a case that throws is unhandled, one that outlives its limit is a hang. */
export async function runCase(c: Case): Promise<CaseResult> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<Outcome>((resolve) => {
    timer = setTimeout(() => resolve({ verdict: 'hang', detail: `no outcome after ${c.limitMs / 1000} s` }), c.limitMs);
  });
  let outcome: Outcome;
  try {
    outcome = await Promise.race([c.run(), limit]);
  } catch (err) {
    outcome = unhandled(`the case itself threw: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  } finally {
    clearTimeout(timer);
  }
  return { group: c.group, name: c.name, ms: Date.now() - started, ...outcome };
}

/** Runs cases `parallel` at a time (the CLI cases are separate processes). */
export async function runAll(cases: Case[], parallel: number, onDone: (r: CaseResult) => void): Promise<CaseResult[]> {
  const results: CaseResult[] = new Array(cases.length);
  let next = 0;
  const lane = async () => {
    while (next < cases.length) {
      const i = next++;
      results[i] = await runCase(cases[i]);
      onDone(results[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, parallel) }, lane));
  return results;
}

// ---------------------------------------------------------------- seeded inputs

/** The seed of this run: TEXTVAE_HARDENING_SEED replays one. */
export function suiteSeed(): number {
  const env = process.env.TEXTVAE_HARDENING_SEED;
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (!Number.isInteger(n) || n < 0)
      throw new Error(`TEXTVAE_HARDENING_SEED must be a non-negative integer (got '${env}')`);
    return n;
  }
  return Math.floor(Math.random() * 1_000_000);
}

export class Inputs {
  readonly rng: Random;
  constructor(seed: number) {
    this.rng = new Random(seed);
  }
  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.rng.int(256);
    return b;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.rng.int(items.length)];
  }
  /** Readable words, with sentence ends and paragraphs: `bytes` long. */
  prose(bytes: number): string {
    const words = ['latent', 'code', 'the', 'model', 'river', 'stars', 'a', 'of', 'über', '变分', 'naïve', 'x=1;'];
    const parts: string[] = [];
    let n = 0;
    while (n < bytes) {
      const w = this.pick(words) + (this.rng.int(12) === 0 ? '.\n\n' : ' ');
      parts.push(w);
      n += Buffer.byteLength(w);
    }
    return parts.join('');
  }
  /** Text with bytes that are not UTF-8: lone continuation bytes, overlong forms, 0xFF. */
  invalidUtf8(n: number): Buffer {
    const text = Buffer.from(this.prose(n));
    const bad = [0xff, 0xfe, 0x80, 0xc0, 0xed, 0xa0];
    for (let i = 0; i < n / 20; i++) text[this.rng.int(text.length)] = this.pick(bad);
    return text;
  }
  /** One long token: no whitespace anywhere. */
  noWhitespace(n: number): string {
    const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789.,;-_/';
    let s = '';
    for (let i = 0; i < n; i++) s += alphabet[this.rng.int(alphabet.length)];
    return s;
  }
}

// ---------------------------------------------------------------- the CLI as a bounded child process

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export function runCliBounded(
  args: string[],
  options: { input?: string | Buffer; cwd?: string; limitMs: number },
): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: options.cwd ?? REPO,
      env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    child.stdin.on('error', () => undefined); // the CLI may exit before reading its input
    child.stdin.end(options.input ?? '');
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout = (stdout + s).slice(-100_000)));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr = (stderr + s).slice(-100_000)));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.limitMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
}

/** What a CLI case expects beyond a clear outcome. */
export interface CliExpect {
  /** The error message must contain this. */
  mustName?: string;
  /** Success must print something (not only whitespace) on standard output. */
  output?: boolean;
}

/** A line that is not the CLI's own message: a stack frame or an uncaught error's dump. */
const DUMP_LINE = /^(\s+at |\w*Error\b|Uncaught|node:internal|Node\.js v\d|\s*\^+\s*$|\s*[{}]\s*$)/;

/**
 * A CLI outcome is handled when the process ends by itself with 0 (success), 1 (failure) or 2
 * (usage); on success a command that must produce output printed some; on failure its standard
 * error ends with one "textvae: ..." line and shows no stack trace or error dump.
 */
export function judgeCli(r: Run, expect: CliExpect = {}): Outcome {
  if (r.timedOut) return { verdict: 'hang', detail: 'killed at the time limit' };
  if (r.signal) return unhandled(`ended by ${r.signal}`);
  const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
  const dump = lines.find((l) => DUMP_LINE.test(l));
  if (dump !== undefined)
    return unhandled(`exit ${r.code} with an error dump on stderr (${dump.trim()}): ${r.stderr.slice(-600)}`);
  if (r.code === 0) {
    if (expect.output && r.stdout.trim() === '') return unhandled('exit 0 with nothing on standard output');
    return handled('exit 0');
  }
  if (r.code !== 1 && r.code !== 2) return unhandled(`exit ${r.code}: ${r.stderr.slice(-600)}`);
  const last = lines.at(-1) ?? '';
  if (!last.startsWith('textvae: '))
    return unhandled(`exit ${r.code} without a "textvae:" message: ${r.stderr.slice(-600)}`);
  if (last.length > 600) return unhandled(`a ${last.length}-character error line`);
  if (expect.mustName !== undefined && !last.includes(expect.mustName))
    return unhandled(`the message does not name ${expect.mustName}: ${last}`);
  return handled(`exit ${r.code}: ${last.slice(9, 130)}`);
}

// ---------------------------------------------------------------- files

/** Every file below `dir` with its content: to prove that nothing the user had was touched. */
export function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.set(path.relative(dir, p), fs.readFileSync(p).toString('base64'));
    }
  };
  walk(dir);
  return out;
}

/** The first difference between two snapshots, or undefined. */
export function lostFrom(before: Map<string, string>, after: Map<string, string>): string | undefined {
  for (const [name, content] of before) {
    if (!after.has(name)) return `${name} is gone`;
    if (after.get(name) !== content) return `${name} changed`;
  }
  return undefined;
}

// ---------------------------------------------------------------- the table

export function table(results: CaseResult[]): string {
  const groups = [...new Set(results.map((r) => r.group))];
  const rows = groups.map((g) => {
    const rs = results.filter((r) => r.group === g);
    const count = (v: Verdict) => rs.filter((r) => r.verdict === v).length;
    return [g, rs.length, count('handled'), count('unhandled'), count('data-lost'), count('hang')];
  });
  const total = ['total', ...[1, 2, 3, 4, 5].map((i) => rows.reduce((s, r) => s + (r[i] as number), 0))];
  const head = ['entry point', 'tried', 'handled', 'not handled', 'data lost', 'hangs'];
  const all = [head, ...rows, total].map((r) => r.map(String));
  const widths = head.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [
    line(all[0]),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...all.slice(1, -1).map(line),
    widths.map((w) => '-'.repeat(w)).join('  '),
    line(all.at(-1)!),
  ].join('\n');
}
