/**
 * A .gitignore matcher good enough for choosing training documents: comments, blank lines,
 * escapes, negation (last matching rule wins), directory-only rules (trailing '/'), anchored
 * rules (a '/' at the start or in the middle) and unanchored ones (match at any depth).
 * As in git, a file inside an ignored directory stays ignored even if a later rule negates it.
 */
import picomatch from 'picomatch';

export interface IgnoreRule {
  /** The line as written. */
  source: string;
  negate: boolean;
  dirOnly: boolean;
  matches: (relativePath: string) => boolean;
}

export function parseGitignore(content: string): IgnoreRule[] {
  const rules: IgnoreRule[] = [];
  for (const rawLine of content.split(/\r?\n/)) {
    let line = rawLine;
    if (line === '' || line.startsWith('#')) continue;
    // Trailing spaces are dropped unless escaped with a backslash.
    line = line.replace(/(?<!\\)\s+$/, '');
    if (line === '') continue;
    let negate = false;
    if (line.startsWith('!')) {
      negate = true;
      line = line.slice(1);
    } else if (line.startsWith('\\!') || line.startsWith('\\#')) {
      line = line.slice(1);
    }
    let dirOnly = false;
    if (line.endsWith('/')) {
      dirOnly = true;
      line = line.replace(/\/+$/, '');
    }
    if (line === '') continue;
    const anchored = line.includes('/');
    if (line.startsWith('/')) line = line.slice(1);
    const glob = anchored ? line : `**/${line}`;
    const matcher = picomatch(glob, { dot: true });
    rules.push({ source: rawLine, negate, dirOnly, matches: (p) => matcher(p) });
  }
  return rules;
}

/** Ignored state of one path by the rules alone: the last rule that matches decides. */
function decide(rules: readonly IgnoreRule[], relativePath: string, isDirectory: boolean): boolean {
  let ignored = false;
  for (const rule of rules) {
    if (rule.dirOnly && !isDirectory) continue;
    if (rule.matches(relativePath)) ignored = !rule.negate;
  }
  return ignored;
}

/** `relativePath` uses '/' separators and is relative to the folder holding the .gitignore. */
export function isIgnored(rules: readonly IgnoreRule[], relativePath: string): boolean {
  if (rules.length === 0) return false;
  const parts = relativePath.split('/').filter((p) => p !== '' && p !== '.');
  for (let i = 1; i < parts.length; i++) {
    if (decide(rules, parts.slice(0, i).join('/'), true)) return true;
  }
  return decide(rules, parts.join('/'), false);
}

/** A filter for many paths: `(relativePath) => keep?`. */
export function gitignoreFilter(content: string): (relativePath: string) => boolean {
  const rules = parseGitignore(content);
  return (p) => !isIgnored(rules, p);
}
