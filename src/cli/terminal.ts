/**
 * Generated text on a terminal: a crafted model could emit escape sequences that move the cursor,
 * retitle the window or hide lines. On a TTY, C0/C1 control characters (except \n and \t) and DEL
 * are shown as visible escapes; piped output stays byte-exact.
 */

// Control characters are what this matches, on purpose.
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/** `text` with each control character other than \n and \t written as \xHH. */
export function visibleControls(text: string): string {
  return text.replace(CONTROLS, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** Writes text for people: escaped when the stream is a terminal, as-is when piped or redirected. */
export function writeText(stream: Pick<NodeJS.WriteStream, 'write' | 'isTTY'>, text: string): void {
  stream.write(stream.isTTY ? visibleControls(text) : text);
}
