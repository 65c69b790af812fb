/** Exclude patterns for choosing workspace documents (files.exclude + textvae.training.exclude). */
import picomatch from 'picomatch';

/**
 * findFiles applies files.exclude only when it is given no exclude of its own, so the two sets are
 * merged here. Patterns are combined into one `{a,b,...}` glob for findFiles (fast: the search
 * skips those folders); patterns that cannot be nested in braces are left to the post filter,
 * which always checks every pattern.
 */
export function combineExcludes(
  filesExclude: Record<string, unknown> | undefined,
  extra: readonly string[],
): { findFilesExclude: string | undefined; patterns: string[] } {
  const patterns: string[] = [];
  for (const [glob, value] of Object.entries(filesExclude ?? {})) {
    // `true` excludes; objects are conditional ("when" a sibling exists): not applied here.
    if (value === true && glob.trim()) patterns.push(glob.trim());
  }
  for (const glob of extra) if (glob.trim()) patterns.push(glob.trim());
  const unique = [...new Set(patterns)];
  const nestable = unique.filter((p) => !/[{},]/.test(p));
  const findFilesExclude =
    nestable.length === 0 ? undefined : nestable.length === 1 ? nestable[0] : `{${nestable.join(',')}}`;
  return { findFilesExclude, patterns: unique };
}

/**
 * `(relativePath) => excluded?` for '/'-separated paths relative to a workspace folder.
 * A pattern that names a folder (e.g. `** /.git`) also excludes everything inside it.
 */
export function excludeMatcher(patterns: readonly string[]): (relativePath: string) => boolean {
  if (patterns.length === 0) return () => false;
  const expanded = patterns.flatMap((p) => {
    const base = p.replace(/^\.\//, '').replace(/\/+$/, '');
    return base.endsWith('/**') ? [base] : [base, `${base}/**`];
  });
  const match = picomatch(expanded, { dot: true });
  return (p) => match(p);
}
