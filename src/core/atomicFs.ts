/**
 * Crash-safe file and folder replacement (fs/promises only).
 *
 * writeFileAtomic: write a temp file next to the target, fsync, rename over it.
 * replaceDirAtomic: fill a temp sibling folder, fsync it, then swap it in.
 * Readers therefore see either the complete old content or the complete new one.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';

function tempSuffix(): string {
  return `${process.pid}-${randomBytes(6).toString('hex')}`;
}

/** Temporary siblings this process is using right now: never treated as leftovers. */
const inUse = new Set<string>();

/** `.<name>.tmp-<pid>-<hex>` or `.<name>.old-<pid>-<hex>`, as replaceDirAtomic names them. */
const SIBLING = /^\.(.+)\.(tmp|old)-(\d+)-[0-9a-f]{12}$/;

function processAlive(pid: number): boolean {
  if (pid === process.pid) return false; // ours: in `inUse` if still needed
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** fsync a folder so that renames in it are durable. Not possible on every platform (Windows), hence best-effort. */
async function fsyncDirBestEffort(dir: string): Promise<void> {
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(dir, 'r');
    await handle.sync();
  } catch {
    // Directories cannot be opened/fsynced on some platforms; the data files themselves were fsynced.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

async function fsyncFile(file: string): Promise<void> {
  // 'r+' rather than 'r': Windows refuses to flush a handle opened read-only.
  const handle = await fs.open(file, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** fsync every regular file below `dir` (recursively), then the folders themselves (best-effort). */
async function fsyncTree(dir: string): Promise<void> {
  const entries = await fs.readdir(dir, { withFileTypes: true });
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) await fsyncTree(p);
    else if (e.isFile()) await fsyncFile(p);
  }
  await fsyncDirBestEffort(dir);
}

async function exists(p: string): Promise<boolean> {
  try {
    await fs.lstat(p);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/**
 * Cleans up after a replaceDirAtomic that crashed: if `finalDir` is missing but a previous copy
 * (`.<name>.old-*`) survived a crash between the two renames, that copy is put back; then every
 * leftover temp and old sibling is removed. Siblings of live processes are left alone, since
 * their replacement may still be running.
 */
export async function recoverDirAtomic(finalDir: string): Promise<void> {
  const target = path.resolve(finalDir);
  const parent = path.dirname(target);
  const name = path.basename(target);
  let entries: string[];
  try {
    entries = await fs.readdir(parent);
  } catch {
    return; // no parent folder: nothing to recover
  }
  const olds: string[] = [];
  const tmps: string[] = [];
  for (const entry of entries) {
    const m = SIBLING.exec(entry);
    if (!m || m[1] !== name) continue;
    const p = path.join(parent, entry);
    if (inUse.has(p) || processAlive(Number(m[3]))) continue;
    (m[2] === 'old' ? olds : tmps).push(p);
  }
  if (olds.length > 0 && !(await exists(target))) {
    const byAge = await Promise.all(olds.map(async (p) => ({ p, t: (await fs.lstat(p)).mtimeMs })));
    const newest = byAge.sort((a, b) => b.t - a.t)[0].p;
    await fs.rename(newest, target);
    olds.splice(olds.indexOf(newest), 1);
    await fsyncDirBestEffort(parent);
  }
  for (const p of [...tmps, ...olds]) await fs.rm(p, { recursive: true, force: true }).catch(() => undefined);
}

/**
 * Writes `data` to `filePath` atomically: temp file in the same folder, fsync, rename. A stream is
 * written as it comes; if it fails, the target is left as it was.
 */
export async function writeFileAtomic(
  filePath: string,
  data: string | Uint8Array | AsyncIterable<Uint8Array>,
): Promise<void> {
  const target = path.resolve(filePath);
  const dir = path.dirname(target);
  const tmp = path.join(dir, `.${path.basename(target)}.tmp-${tempSuffix()}`);
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(tmp, 'wx');
    if (typeof data === 'string' || data instanceof Uint8Array) await handle.writeFile(data);
    else for await (const chunk of data) await handle.write(chunk);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fs.rename(tmp, target);
  } catch (err) {
    await handle?.close().catch(() => undefined);
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
  await fsyncDirBestEffort(dir);
}

/**
 * Replaces the folder `finalDir` with a freshly filled one.
 *
 * 1. creates the sibling `.<name>.tmp-<pid>-<random>` and calls `fill(tmpDir)`;
 * 2. fsyncs everything in it;
 * 3. if `finalDir` exists, renames it to `.<name>.old-<pid>-<random>`, renames
 *    the temp folder to `finalDir`, then removes the old one.
 *
 * If `fill` or any step before the swap fails, the temp folder is removed and
 * `finalDir` is left untouched. If the second rename fails, the old folder is
 * renamed back. The parent folder is created if missing. Leftovers of an
 * earlier crash are recovered first (recoverDirAtomic).
 */
export async function replaceDirAtomic(finalDir: string, fill: (tmpDir: string) => Promise<void>): Promise<void> {
  const target = path.resolve(finalDir);
  const parent = path.dirname(target);
  const name = path.basename(target);
  await fs.mkdir(parent, { recursive: true });
  await recoverDirAtomic(target);
  const tmp = path.join(parent, `.${name}.tmp-${tempSuffix()}`);
  inUse.add(tmp);
  await fs.mkdir(tmp).catch((err) => {
    inUse.delete(tmp);
    throw err;
  });

  let old: string | undefined;
  try {
    await fill(tmp);
    await fsyncTree(tmp);
    if (await exists(target)) {
      old = path.join(parent, `.${name}.old-${tempSuffix()}`);
      inUse.add(old);
      await fs.rename(target, old);
    }
    try {
      await fs.rename(tmp, target);
    } catch (err) {
      if (old !== undefined) {
        const saved = old;
        try {
          await fs.rename(saved, target);
          inUse.delete(saved);
          old = undefined;
        } catch {
          throw new Error(
            `could not move the new folder into ${target} (${(err as Error).message}) nor restore the previous one, which is now at ${saved}`,
          );
        }
      }
      throw err;
    }
  } catch (err) {
    await fs.rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    throw err;
  } finally {
    inUse.delete(tmp);
  }
  await fsyncDirBestEffort(parent);
  if (old !== undefined) {
    // The new folder is already in place; failing to delete the old copy is not an error
    // (the next replacement or load removes it).
    await fs.rm(old, { recursive: true, force: true }).catch(() => undefined);
    inUse.delete(old);
  }
}
