/** The test fixtures under test/fixtures/: small documents written for the tests, kept in the repository. */
import * as fs from 'node:fs';
import * as path from 'node:path';

export const FIXTURES = path.resolve(__dirname, '..', 'fixtures');

/** The path of a fixture file or folder, e.g. fixturePath('multilingual'). */
export function fixturePath(...parts: string[]): string {
  return path.join(FIXTURES, ...parts);
}

/** The files of a fixture folder (not recursive), sorted by name. */
export function fixtureFiles(folder: string): string[] {
  const dir = fixturePath(folder);
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(dir, e.name))
    .sort();
}

/**
 * The texts of a fixture folder's files, sorted by name. 'multilingual' holds Chinese, Arabic and
 * Hebrew (right to left), emoji, combining marks, CRLF line endings, tabs and code.
 */
export function fixtureTexts(folder: string): string[] {
  return fixtureFiles(folder).map((f) => fs.readFileSync(f, 'utf8'));
}
