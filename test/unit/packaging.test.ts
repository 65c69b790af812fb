/**
 * What the .vsix ships (`vsce ls`, the list `vsce package` uses): what the installed extension
 * needs, and none of the sources, tests, maps, docs or scratch.
 */
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { REPO } from '../helpers/cli';

const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8'));
let files: string[] = [];

/** Relative image links of a markdown file, as paths from the repository root. */
function imagesOf(mdFile: string): string[] {
  const text = fs.readFileSync(path.join(REPO, mdFile), 'utf8');
  return [...text.matchAll(/!\[[^\]]*\]\(([^)\s]+)\)/g)]
    .map((m) => m[1])
    .filter((u) => !/^[a-z]+:/i.test(u))
    .map((u) => path.posix.normalize(path.posix.join(path.posix.dirname(mdFile), u)));
}

before(async () => {
  const vsce = path.join(REPO, 'node_modules', '@vscode', 'vsce', 'vsce');
  const { stdout } = await promisify(execFile)(process.execPath, [vsce, 'ls', '--no-dependencies'], {
    cwd: REPO,
    maxBuffer: 16 << 20,
  });
  files = stdout.split('\n').filter(Boolean).sort();
});

describe('the packaged file list (vsce ls)', () => {
  test('no sources, tests, maps, scratch, corpora or tooling', () => {
    const bad = files.filter(
      (f) =>
        /^(src|test|scratch|scripts\/gpu|\.ci|\.bench|\.e2e-artifacts|node_modules|corpora)\//.test(f) ||
        /(^|\/)\.[^/]+$/.test(f) || // dotfiles
        /\.(ts|map|vsix|py|mjs)$/.test(f) ||
        /^(tsconfig|package-lock)\.json$/.test(f),
    );
    assert.deepEqual(bad, [], `should not ship: ${bad.join(', ')}`);
    // docs ship only as the images README.md and the walkthrough show.
    const docs = files.filter((f) => f.startsWith('docs/'));
    assert.ok(
      docs.every((f) => /\.png$/.test(f)),
      `docs other than images: ${docs.join(', ')}`,
    );
  });

  test('everything the installed extension needs is there', () => {
    const need = [
      pkg.main.replace(/^\.\//, ''),
      'dist/worker.js',
      'dist/tfjs-backend-wasm-simd.wasm',
      pkg.icon,
      'README.md',
      'CHANGELOG.md',
      'LICENSE',
      'scripts/setup-native.sh',
      'models/default/manifest.json',
      'models/default/weights.bin',
      'models/default/tokenizer.json',
      'media/dist/generator.js',
      'media/dist/training.js',
    ];
    for (const w of pkg.contributes.walkthroughs)
      for (const s of w.steps) for (const m of Object.values(s.media) as string[]) if (/\.\w+$/.test(m)) need.push(m);
    const missing = need.filter((f) => !files.includes(f));
    assert.deepEqual(missing, [], `missing from the .vsix: ${missing.join(', ')}`);
  });

  test('every image the walkthrough shows is in the package', () => {
    const mds = files.filter((f) => f.startsWith('media/walkthrough/') && f.endsWith('.md'));
    const images = mds.flatMap(imagesOf);
    assert.ok(images.length >= 4, `images found: ${images.join(', ')}`);
    const missing = images.filter((i) => !files.includes(i));
    assert.deepEqual(missing, [], `images not packaged: ${missing.join(', ')}`);
  });

  test("the packaged README carries README.md's screenshots inline (the details page loads only https: and data:)", async () => {
    const { inlineImages } = (await import(path.join(REPO, 'scripts', 'vsix-readme.mjs'))) as {
      inlineImages(md: string, base: string): string;
    };
    const source = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');
    const images = imagesOf('README.md');
    assert.ok(images.length >= 4, `README.md shows ${images.length} images`);
    const out = inlineImages(source, REPO);
    const inlined = [...out.matchAll(/!\[[^\]]*\]\(data:image\/png;base64,([A-Za-z0-9+/=]+)\)/g)].map((m) =>
      Buffer.from(m[1], 'base64'),
    );
    assert.equal(inlined.length, images.length);
    inlined.forEach((buf, i) => assert.ok(buf.equals(fs.readFileSync(path.join(REPO, images[i]))), images[i]));
    // Nothing else changed.
    assert.equal(out.replace(/\(data:[^)]+\)/g, '()'), source.replace(/!\[([^\]]*)\]\([^)\s]+\)/g, '![$1]()'));
    assert.throws(() => inlineImages('![x](nothing.svg)', REPO), /only .*can be inlined/);
  });

  test('marketplace metadata: icon 128×128 PNG, categories, keywords, banner', () => {
    const png = fs.readFileSync(path.join(REPO, pkg.icon));
    assert.equal(png.subarray(1, 4).toString('latin1'), 'PNG');
    assert.equal(png.readUInt32BE(16), 128);
    assert.equal(png.readUInt32BE(20), 128);
    assert.ok(pkg.categories.includes('Machine Learning'));
    assert.ok(pkg.keywords.length > 0 && pkg.keywords.length <= 30);
    assert.match(pkg.galleryBanner.color, /^#[0-9a-f]{6}$/i);
    // No invented URLs: repository, homepage and bugs only where they are real.
    for (const k of ['repository', 'homepage', 'bugs'])
      assert.ok(!(k in pkg) || !/example\.|TODO/i.test(JSON.stringify(pkg[k])));
  });
});
