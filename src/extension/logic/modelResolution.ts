/** Which model bundle the workspace uses: setting > workspace's active (trained/selected) model > bundled default. */
import * as path from 'node:path';

export type ModelSource = 'setting' | 'workspace' | 'default';

export interface ModelChoice {
  dir: string;
  source: ModelSource;
  /** Short name for the status bar. */
  name: string;
}

export interface ModelResolutionInput {
  /** The textvae.modelPath setting ('' or undefined: not set). */
  setting: string | undefined;
  /** Fs paths of the workspace folders, first one first. */
  folders: readonly string[];
  /** The model stored in the workspace state (last trained or selected). */
  stateDir: string | undefined;
  /** The bundled default model. */
  defaultDir: string;
}

/** Expands `${workspaceFolder}` and `~`, and resolves a relative path against the first workspace folder. */
export function resolveSettingPath(setting: string, folders: readonly string[], home?: string): string {
  let p = setting.trim();
  if (folders.length) p = p.replace(/\$\{workspaceFolder\}/g, folders[0]);
  if (home && (p === '~' || p.startsWith('~/') || p.startsWith('~\\'))) p = path.join(home, p.slice(1));
  if (path.isAbsolute(p)) return path.normalize(p);
  return folders.length ? path.resolve(folders[0], p) : path.resolve(p);
}

export function modelDisplayName(dir: string, defaultDir: string): string {
  if (samePath(dir, defaultDir)) return 'default';
  return path.basename(path.normalize(dir)) || dir;
}

export function resolveModelChoice(input: ModelResolutionInput, home?: string): ModelChoice {
  const setting = input.setting?.trim();
  if (setting) {
    const dir = resolveSettingPath(setting, input.folders, home);
    return { dir, source: 'setting', name: modelDisplayName(dir, input.defaultDir) };
  }
  if (input.stateDir)
    return { dir: input.stateDir, source: 'workspace', name: modelDisplayName(input.stateDir, input.defaultDir) };
  return { dir: input.defaultDir, source: 'default', name: 'default' };
}

export function samePath(a: string, b: string): boolean {
  const norm = (p: string) => path.resolve(p).replace(/[\\/]+$/, '');
  return process.platform === 'win32' || process.platform === 'darwin'
    ? norm(a).toLowerCase() === norm(b).toLowerCase()
    : norm(a) === norm(b);
}

export function isInside(child: string, parent: string): boolean {
  const rel = path.relative(path.resolve(parent), path.resolve(child));
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/**
 * A model "comes from the workspace" when a workspace-level setting names it or it lies inside
 * a workspace folder: in an untrusted workspace that needs the user's consent before loading.
 */
export function needsTrustPrompt(
  choice: ModelChoice,
  opts: { trusted: boolean; settingFromWorkspace: boolean; folders: readonly string[] },
): boolean {
  if (opts.trusted || choice.source === 'default') return false;
  if (choice.source === 'setting' && opts.settingFromWorkspace) return true;
  return opts.folders.some((f) => isInside(choice.dir, f));
}
