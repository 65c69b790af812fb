/**
 * Which workspace files git ignores, for choosing training documents: every `.gitignore` from the
 * folder's root down to the file's directory, parsed and matched by the `ignore` package.
 * As in git, a deeper file's rules win over a shallower one's, and a file inside an ignored
 * directory stays ignored whatever a later or deeper rule says (git never looks inside it).
 */
import ignore, { type Ignore } from 'ignore';

/** Reads the `.gitignore` in a directory ('' is the root; '/' separators); undefined when there is none. */
export type ReadGitignore = (dir: string) => Promise<string | undefined>;

export class GitignoreTree {
  private readonly files = new Map<string, Promise<Ignore | undefined>>();
  private readonly dirs = new Map<string, Promise<boolean>>();

  constructor(private readonly read: ReadGitignore) {}

  /** `relativePath` uses '/' separators and is relative to the root. */
  async ignores(relativePath: string): Promise<boolean> {
    const parts = relativePath.split('/').filter((p) => p !== '' && p !== '.');
    if (parts.length === 0) return false;
    for (let i = 1; i < parts.length; i++) {
      if (await this.dirIgnored(parts.slice(0, i).join('/'))) return true;
    }
    return this.decide(parts, false);
  }

  private dirIgnored(dir: string): Promise<boolean> {
    let known = this.dirs.get(dir);
    if (!known) {
      known = this.decide(dir.split('/'), true);
      this.dirs.set(dir, known);
    }
    return known;
  }

  /** The deepest `.gitignore` with a rule that matches the path decides (its parents were checked already). */
  private async decide(parts: string[], isDirectory: boolean): Promise<boolean> {
    for (let depth = parts.length - 1; depth >= 0; depth--) {
      const rules = await this.rules(parts.slice(0, depth).join('/'));
      if (!rules) continue;
      const rel = parts.slice(depth).join('/') + (isDirectory ? '/' : '');
      const r = rules.test(rel);
      if (r.ignored) return true;
      if (r.unignored) return false;
    }
    return false;
  }

  private rules(dir: string): Promise<Ignore | undefined> {
    let loaded = this.files.get(dir);
    if (!loaded) {
      loaded = this.read(dir).then(
        (content) => (content === undefined ? undefined : ignore().add(content)),
        () => undefined,
      );
      this.files.set(dir, loaded);
    }
    return loaded;
  }
}
