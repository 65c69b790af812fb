import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isIgnored, parseGitignore } from '../../src/extension/logic/gitignore';
import { combineExcludes, excludeMatcher } from '../../src/extension/logic/globs';

describe('gitignore', () => {
  const rules = parseGitignore(
    [
      '# build output',
      '',
      'dist/',
      '*.log',
      '/secret.md',
      'docs/private/*.md',
      '!docs/private/keep.md',
      'notes   ',
      '\\#literal.md',
      'cache/',
      '!cache/important.md',
    ].join('\n'),
  );

  test('comments and blank lines are not rules', () => {
    assert.equal(rules.length, 9);
  });

  test('a pattern without a slash matches at any depth', () => {
    assert.equal(isIgnored(rules, 'app.log'), true);
    assert.equal(isIgnored(rules, 'a/b/c/app.log'), true);
    assert.equal(isIgnored(rules, 'a/b/app.md'), false);
  });

  test('a trailing slash matches only directories (and so everything inside)', () => {
    assert.equal(isIgnored(rules, 'dist/readme.md'), true);
    assert.equal(isIgnored(rules, 'pkg/dist/x/readme.md'), true);
    // A file called "dist" is not a directory.
    assert.equal(isIgnored(rules, 'dist'), false);
  });

  test('a leading slash anchors to the folder of the .gitignore', () => {
    assert.equal(isIgnored(rules, 'secret.md'), true);
    assert.equal(isIgnored(rules, 'sub/secret.md'), false);
  });

  test('negation re-includes; the last matching rule wins', () => {
    assert.equal(isIgnored(rules, 'docs/private/a.md'), true);
    assert.equal(isIgnored(rules, 'docs/private/keep.md'), false);
  });

  test('a file inside an ignored directory cannot be re-included (as in git)', () => {
    assert.equal(isIgnored(rules, 'cache/important.md'), true);
  });

  test('trailing spaces are trimmed and escaped # is literal', () => {
    assert.equal(isIgnored(rules, 'notes'), true);
    assert.equal(isIgnored(rules, 'x/notes/a.md'), true);
    assert.equal(isIgnored(rules, '#literal.md'), true);
  });

  test('no rules ignore nothing; dot files are matched like others', () => {
    assert.equal(isIgnored([], 'anything.md'), false);
    assert.equal(isIgnored(parseGitignore('.env*'), 'config/.env.local'), true);
  });
});

describe('exclude globs', () => {
  test('files.exclude entries that are true join the training excludes; conditional ones do not', () => {
    const r = combineExcludes({ '**/.git': true, '**/*.js': { when: '$(basename).ts' }, '**/off': false }, [
      '**/node_modules/**',
    ]);
    assert.deepEqual(r.patterns, ['**/.git', '**/node_modules/**']);
    assert.equal(r.findFilesExclude, '{**/.git,**/node_modules/**}');
  });

  test('patterns with braces stay out of the combined glob but are still matched', () => {
    const r = combineExcludes({}, ['**/*.{tmp,bak}', 'out/**']);
    assert.equal(r.findFilesExclude, 'out/**');
    const excluded = excludeMatcher(r.patterns);
    assert.equal(excluded('a/b.tmp'), true);
    assert.equal(excluded('out/x.md'), true);
    assert.equal(excluded('src/x.md'), false);
  });

  test('a folder pattern excludes what is inside it', () => {
    const excluded = excludeMatcher(['**/.git', 'build']);
    assert.equal(excluded('.git/HEAD'), true);
    assert.equal(excluded('sub/.git/config'), true);
    assert.equal(excluded('build/a.md'), true);
    assert.equal(excluded('src/build.md'), false);
  });

  test('nothing to exclude', () => {
    assert.equal(combineExcludes(undefined, []).findFilesExclude, undefined);
    assert.equal(excludeMatcher([])('x'), false);
  });
});
