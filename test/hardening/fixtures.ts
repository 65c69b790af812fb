/** What every group needs: a tiny model trained through the CLI in seconds, and temp folders. */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CLI, REPO, TINY_TRAIN_ARGS } from '../helpers/cli';
import { TINY_DOC } from '../helpers/engine';
import { makeTempDir, writeFiles } from '../helpers/tmp';
import { runCliBounded } from './harness';

export interface Fixture {
  root: string;
  /** A trained tiny bundle; never modified by a case (cases copy it). */
  model: string;
  /** A folder with one good text file. */
  data: string;
}

/** The tiny model's training options, without the output or a bound. */
export const TINY_ARGS = [...TINY_TRAIN_ARGS, '--log-every', '10'];

export async function makeFixture(): Promise<Fixture> {
  const root = makeTempDir('textvae-hardening-');
  const data = writeFiles(path.join(root, 'data'), { 'doc.txt': TINY_DOC });
  const model = path.join(root, 'model');
  const r = await runCliBounded(['train', '--data', data, '--out', model, '--steps', '40', ...TINY_ARGS], {
    limitMs: 600_000,
  });
  if (r.code !== 0) throw new Error(`could not train the fixture model: exit ${r.code}\n${r.stderr}`);
  return { root, model, data };
}

/** A copy of a bundle folder (files only). */
export function copyBundle(from: string, to: string): string {
  fs.mkdirSync(to, { recursive: true });
  for (const name of fs.readdirSync(from)) fs.copyFileSync(path.join(from, name), path.join(to, name));
  return to;
}

/** The CLI's commands, read from its own usage text: a command added later is swept too. */
export function cliCommands(): string[] {
  const r = spawnSync(process.execPath, [CLI, '--help'], { cwd: REPO, encoding: 'utf8' });
  const lines = r.stdout.split('\n');
  const start = lines.findIndex((l) => l.trim() === 'commands:');
  const out: string[] = [];
  for (const line of lines.slice(start + 1)) {
    const m = /^ {2}([a-z][a-z-]*)\s/.exec(line);
    if (!m) break;
    out.push(m[1]);
  }
  if (out.length === 0) throw new Error(`could not read the commands from textvae --help:\n${r.stdout}`);
  return out;
}
