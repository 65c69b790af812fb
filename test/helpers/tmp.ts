/** Temporary folders for tests, removed when the test process exits. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const created: string[] = [];
let hooked = false;

/** A fresh empty folder under the OS temp dir; removed at process exit unless TEXTVAE_KEEP_TMP=1. */
export function makeTempDir(prefix = 'textvae-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  created.push(dir);
  if (!hooked) {
    hooked = true;
    process.on('exit', () => {
      if (process.env.TEXTVAE_KEEP_TMP === '1') return;
      for (const d of created) fs.rmSync(d, { recursive: true, force: true });
    });
  }
  return dir;
}

/** Writes `files` (relative name -> content) below `dir`, creating folders; returns `dir`. */
export function writeFiles(dir: string, files: Record<string, string | Uint8Array>): string {
  for (const [name, content] of Object.entries(files)) {
    const p = path.join(dir, name);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, content);
  }
  return dir;
}
