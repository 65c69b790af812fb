/**
 * `kill -9` of `textvae train` at random moments, inside the save too: afterwards a good bundle is
 * always at DIR (once one was saved), and the next load cleans up what the crash left.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadBundle, readManifest } from '../../src/core/bundle';
import { CLI, REPO } from '../helpers/cli';
import { makeTempDir } from '../helpers/tmp';
import { TINY_ARGS, copyBundle, type Fixture } from './fixtures';
import { dataLost, handled, unhandled, type Case, type Inputs } from './harness';

const LIMIT_MS = 240_000;

/** Hidden siblings of DIR that replaceDirAtomic makes: `.DIR.tmp-*`, `.DIR.old-*`. */
function siblings(dir: string): string[] {
  const name = path.basename(dir);
  return fs
    .readdirSync(path.dirname(dir))
    .filter((e) => e.startsWith(`.${name}.tmp-`) || e.startsWith(`.${name}.old-`));
}

/**
 * Starts a training run into `dir` and kills it with SIGKILL: after `delayMs`, or (`inSave`) that
 * long after the first temporary sibling of DIR appears, i.e. inside the save. Resolves how it ended.
 */
function trainAndKill(args: string[], dir: string, delayMs: number, inSave: boolean): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: REPO,
      env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' },
      stdio: ['ignore', 'ignore', 'ignore'],
    });
    let poll: NodeJS.Timeout | undefined;
    let why: string | undefined;
    const kill = (reason: string) => {
      clearInterval(poll);
      why = reason;
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    };
    if (inSave) {
      // Poll the parent folder often: the save of a tiny model lasts a few milliseconds.
      poll = setInterval(() => {
        if (siblings(dir).length > 0) {
          clearInterval(poll);
          setTimeout(() => kill(`killed ${delayMs} ms into the save`), delayMs);
        }
      }, 1);
    } else setTimeout(() => kill(`killed after ${delayMs} ms`), delayMs);
    // Resolve only once the process is gone: its pid must be dead before the clean-up is judged.
    child.on('exit', (code, signal) => {
      clearInterval(poll);
      resolve(signal === 'SIGKILL' && why ? why : `finished by itself (exit ${code}) before the kill`);
    });
  });
}

export function killCases(f: Fixture, inputs: Inputs): Case[] {
  const cases: Case[] = [];
  const root = makeTempDir('textvae-hardening-kill-');
  // One bundle that successive resumed runs replace: each run's save swaps it.
  const dir = copyBundle(f.model, path.join(root, 'resumed'));
  for (let k = 0; k < 8; k++) {
    const inSave = k % 2 === 1;
    const delayMs = inSave ? inputs.rng.int(15) : 200 + inputs.rng.int(1800);
    cases.push({
      group: 'kill -9 during train',
      name: `resumed run, ${inSave ? `${delayMs} ms into the save` : `at ${delayMs} ms`}`,
      limitMs: LIMIT_MS,
      async run() {
        const step = ((await readManifest(dir)).training as { step: number }).step;
        const args = [
          'train',
          '--data',
          f.data,
          '--out',
          dir,
          '--resume',
          dir,
          '--steps',
          String(step + 10),
          ...TINY_ARGS,
        ];
        const how = await trainAndKill(args, dir, delayMs, inSave);
        try {
          await loadBundle(dir);
        } catch (err) {
          return dataLost(`${how}; then no good bundle at DIR: ${(err as Error).message}`);
        }
        const left = siblings(dir);
        if (left.length > 0) return unhandled(`${how}; leftovers after the next load: ${left.join(', ')}`);
        return handled(how);
      },
    });
  }
  for (let k = 0; k < 2; k++) {
    const delayMs = 200 + inputs.rng.int(2500);
    cases.push({
      group: 'kill -9 during train',
      name: `first run into a new folder, at ${delayMs} ms`,
      limitMs: LIMIT_MS,
      async run() {
        const fresh = path.join(makeTempDir('textvae-hardening-kill-new-'), 'model');
        const how = await trainAndKill(
          ['train', '--data', f.data, '--out', fresh, '--steps', '30', ...TINY_ARGS],
          fresh,
          delayMs,
          false,
        );
        // Nothing was saved yet, or a whole bundle was: never a broken one.
        if (fs.existsSync(fresh)) {
          try {
            await loadBundle(fresh);
          } catch (err) {
            return unhandled(`${how}; a broken bundle at DIR: ${(err as Error).message}`);
          }
        } else {
          await loadBundle(fresh).catch(() => undefined); // the load that cleans up
        }
        const left = siblings(fresh);
        if (left.length > 0) return unhandled(`${how}; leftovers after the next load: ${left.join(', ')}`);
        return handled(how);
      },
    });
  }
  return cases;
}
