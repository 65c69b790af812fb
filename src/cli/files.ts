/**
 * Files named on the command line: a missing one, a folder where a file belongs, or an --out whose
 * folder does not exist is one clear line, found before any work is done (never a raw ENOENT or
 * EISDIR naming a temporary file).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkBundleTarget } from '../core/bundle';

/** The stats of an input file; throws `no such file: F` or `not a file: F`. */
export function statInputFile(file: string): fs.Stats {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    throw new Error(`no such file: ${file}`);
  }
  if (!stat.isFile()) throw new Error(`not a file: ${file}`);
  return stat;
}

/** An input file's text (UTF-8). */
export function readInputText(file: string): string {
  statInputFile(file);
  return fs.readFileSync(file, 'utf8');
}

/** Refuses an --out FILE that could not be written: a folder, or a path in a folder that does not exist. */
export function checkOutputFile(file: string): void {
  if (fs.statSync(file, { throwIfNoEntry: false })?.isDirectory())
    throw new Error(`--out ${file} is a folder; give a file name`);
  const folder = path.dirname(file);
  if (!fs.statSync(folder, { throwIfNoEntry: false })?.isDirectory())
    throw new Error(`--out ${file}: no such folder ${folder}`);
}

/**
 * Before work that ends by saving a model to `--out DIR`: refuses what saving would destroy (a
 * file, a folder of other files), and a model already there unless `replace` (--overwrite, or a
 * run resumed in place). The old model stays whole until a complete new one is swapped in.
 */
export async function checkModelOut(out: string, replace: boolean): Promise<void> {
  if ((await checkBundleTarget(out)) && !replace)
    throw new Error(`--out ${out} already holds a model: choose a new folder, or add --overwrite to replace it`);
}
