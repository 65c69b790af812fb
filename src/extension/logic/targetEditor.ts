/**
 * Which editor an editor command works on. A walkthrough button or a webview takes the focus, so
 * there is no active text editor then: the command falls back to the one visible text editor, or
 * to the most recently active one still visible. Generic so that it is tested without vscode.
 */
export function targetEditor<E>(
  active: E | undefined,
  visible: readonly E[],
  recentFirst: readonly E[],
): E | undefined {
  if (active !== undefined) return active;
  if (visible.length === 1) return visible[0];
  return recentFirst.find((e) => visible.includes(e));
}

/** The recently active editors, most recent first, without repeats and at most `max` long. */
export function rememberActive<E>(recentFirst: readonly E[], editor: E | undefined, max = 16): E[] {
  if (editor === undefined) return [...recentFirst];
  return [editor, ...recentFirst.filter((e) => e !== editor)].slice(0, max);
}
