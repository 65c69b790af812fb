import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { GitignoreTree } from '../../src/extension/logic/gitignore';
import { combineExcludes, excludeMatcher } from '../../src/extension/logic/globs';
import { makeTempDir } from '../helpers/tmp';

/** A tree of .gitignore files in memory: directory ('' = root) -> content. */
function tree(files: Record<string, string>): GitignoreTree {
  return new GitignoreTree(async (dir) => files[dir]);
}

describe('gitignore', () => {
  const root = tree({
    '': [
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
  });
  const ignored = (t: GitignoreTree, p: string) => t.ignores(p);

  test('a pattern without a slash matches at any depth', async () => {
    assert.equal(await ignored(root, 'app.log'), true);
    assert.equal(await ignored(root, 'a/b/c/app.log'), true);
    assert.equal(await ignored(root, 'a/b/app.md'), false);
  });

  test('a trailing slash matches only directories (and so everything inside)', async () => {
    assert.equal(await ignored(root, 'dist/readme.md'), true);
    assert.equal(await ignored(root, 'pkg/dist/x/readme.md'), true);
    // A file called "dist" is not a directory.
    assert.equal(await ignored(root, 'dist'), false);
  });

  test('a leading slash anchors to the folder of the .gitignore', async () => {
    assert.equal(await ignored(root, 'secret.md'), true);
    assert.equal(await ignored(root, 'sub/secret.md'), false);
  });

  test('negation re-includes; the last matching rule wins', async () => {
    assert.equal(await ignored(root, 'docs/private/a.md'), true);
    assert.equal(await ignored(root, 'docs/private/keep.md'), false);
  });

  test('a file inside an ignored directory cannot be re-included (as in git)', async () => {
    assert.equal(await ignored(root, 'cache/important.md'), true);
  });

  test('trailing spaces are trimmed and escaped # is literal', async () => {
    assert.equal(await ignored(root, 'notes'), true);
    assert.equal(await ignored(root, 'x/notes/a.md'), true);
    assert.equal(await ignored(root, '#literal.md'), true);
  });

  test('no .gitignore ignores nothing; dot files are matched like others', async () => {
    assert.equal(await ignored(tree({}), 'anything.md'), false);
    assert.equal(await ignored(tree({ '': '.env*' }), 'config/.env.local'), true);
  });

  test('nested .gitignore files apply below their own folder, relative to it', async () => {
    const t = tree({
      '': '*.tmp\n',
      docs: 'drafts/\n/local.md\n',
      'docs/api': '*.md\n!index.md\n',
    });
    assert.equal(await ignored(t, 'docs/drafts/a.md'), true);
    assert.equal(await ignored(t, 'drafts/a.md'), false, 'the docs rule stays inside docs/');
    assert.equal(await ignored(t, 'docs/local.md'), true, 'anchored to docs/, not to the root');
    assert.equal(await ignored(t, 'local.md'), false);
    assert.equal(await ignored(t, 'docs/sub/local.md'), false);
    assert.equal(await ignored(t, 'docs/api/ref.md'), true);
    assert.equal(await ignored(t, 'docs/api/index.md'), false);
    assert.equal(await ignored(t, 'docs/readme.md'), false);
    assert.equal(await ignored(t, 'docs/api/x.tmp'), true, 'root rules reach every depth');
  });

  test('a deeper negation overrides a shallower rule, but not an ignored parent directory', async () => {
    const t = tree({
      '': '*.md\nbuild/\n',
      keep: '!*.md\n',
      build: '!*.md\n',
    });
    assert.equal(await ignored(t, 'a.md'), true);
    assert.equal(await ignored(t, 'keep/a.md'), false);
    assert.equal(await ignored(t, 'keep/deeper/a.md'), false);
    assert.equal(await ignored(t, 'build/a.md'), true, 'git never reads build/.gitignore');
  });

  test('each .gitignore is read once, and unreadable ones count as absent', async () => {
    const reads: string[] = [];
    const t = new GitignoreTree(async (dir) => {
      reads.push(dir);
      if (dir === 'bad') throw new Error('EACCES');
      return dir === '' ? '*.log\n' : undefined;
    });
    for (const p of ['a/b/one.md', 'a/b/two.md', 'a/c.log', 'bad/x.md']) await t.ignores(p);
    assert.deepEqual([...reads].sort(), ['', 'a', 'a/b', 'bad']);
    assert.equal(await t.ignores('bad/x.log'), true);
  });

  test('agrees with git check-ignore on a nested tree', async (t) => {
    try {
      execFileSync('git', ['--version'], { stdio: 'ignore' });
    } catch {
      t.skip('git is not installed');
      return;
    }
    const dir = makeTempDir('gitignore-');
    const ignores: Record<string, string> = {
      '': 'out/\n*.log\n!important.log\n/top.md\nsecret*\n',
      a: '*.md\n!keep.md\nsub/\n',
      'a/b': '!*.md\nonly-here.txt\n',
      c: '!secret-ok.md\n/deep/\n',
    };
    for (const [d, content] of Object.entries(ignores)) {
      fs.mkdirSync(path.join(dir, d), { recursive: true });
      fs.writeFileSync(path.join(dir, d, '.gitignore'), content);
    }
    const files = [
      'top.md',
      'x/top.md',
      'out/a.md',
      'x/out/a.md',
      'err.log',
      'important.log',
      'a/important.log',
      'secret.md',
      'c/secret-ok.md',
      'c/secret-no.md',
      'a/x.md',
      'a/keep.md',
      'a/sub/keep.md',
      'a/b/x.md',
      'a/b/only-here.txt',
      'only-here.txt',
      'a/b/c/x.md',
      'c/deep/x.md',
      'c/e/deep/x.md',
      'plain.txt',
    ];
    for (const f of files) {
      fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
      fs.writeFileSync(path.join(dir, f), 'x');
    }
    execFileSync('git', ['init', '-q'], { cwd: dir });
    let out: string;
    try {
      out = execFileSync('git', ['check-ignore', '--no-index', ...files], { cwd: dir, encoding: 'utf8' });
    } catch (err) {
      // Exit status 1: none of them is ignored.
      out = (err as { stdout?: string }).stdout ?? '';
    }
    const byGit = new Set(out.split('\n').filter(Boolean));
    const ours = tree(ignores);
    for (const f of files) assert.equal(await ours.ignores(f), byGit.has(f), f);
    assert.ok(byGit.size >= 8 && byGit.size < files.length, 'the tree exercises both outcomes');
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
