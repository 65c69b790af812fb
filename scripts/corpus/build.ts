/**
 * Makes a training and benchmark corpus from Debian packages, with a manifest of where each part
 * came from and under which licence.
 *
 *   node --import tsx scripts/corpus/build.ts python-docs      # .corpora/python-docs (497 files)
 *   node --import tsx scripts/corpus/build.ts debian-docs      # .corpora/debian-docs
 *   npm run corpus -- debian-docs --out /tmp/corpora
 *
 * For each package of the preset (scripts/corpus/presets.ts) it downloads the .deb with
 * `apt-get download` (no root needed; the files are kept in OUT/.debs and checked against the
 * archive's SHA-256), unpacks it with `dpkg-deb -x`, keeps the documentation files (English only),
 * turns HTML, man pages and POD into plain text, drops duplicates, and writes:
 *   OUT/<preset>/                   the text files (the folder `textvae train --data` reads)
 *   OUT/<preset>.manifest.json      each package's name, version, SHA-256 and licence; counts
 *   OUT/<preset>.licenses/<pkg>     each package's Debian copyright file
 * Git's documentation, fortune-cookie databases and the Python standard library's source code are
 * reserved for evaluation and never enter a corpus (scripts/corpus/text.ts).

 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import * as zlib from 'node:zlib';

import { looksBinary } from '../../src/core/corpus';
import { PRESETS, type Preset } from './presets';
import {
  dedupKey,
  documentFormat,
  dropSeenParagraphs,
  licenceNames,
  reservedPackage,
  reservedPath,
  toText,
} from './text';

const REPO = path.resolve(__dirname, '..', '..');
export const DEFAULT_OUT = path.join(REPO, '.corpora');

interface PackageInfo {
  name: string;
  version: string;
  architecture: string;
  section: string;
  sha256: string;
  filename: string;
}

interface PackageRecord {
  name: string;
  version: string;
  architecture?: string;
  section?: string;
  sha256?: string;
  source: 'debian';
  licence: string[];
  copyright: string;
  files: number;
  bytes: number;
}

function log(msg: string): void {
  process.stderr.write(`[corpus] ${msg}\n`);
}

function fail(msg: string): never {
  throw new Error(msg);
}

/** The archive's record of a package (the candidate version), or null when apt does not know it. */
function packageInfo(name: string): PackageInfo | null {
  const r = spawnSync('apt-cache', ['show', '--no-all-versions', name], { encoding: 'utf8' });
  if (r.status !== 0 || !r.stdout.trim()) return null;
  const field = (f: string): string => r.stdout.match(new RegExp(`^${f}: *(.*)$`, 'm'))?.[1].trim() ?? '';
  return {
    name,
    version: field('Version'),
    architecture: field('Architecture'),
    section: field('Section'),
    sha256: field('SHA256'),
    filename: path.basename(field('Filename')),
  };
}

function sha256File(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** Downloads the packages not yet in `debs` (one apt-get call) and checks every file's SHA-256. */
function download(infos: PackageInfo[], debs: string): void {
  fs.mkdirSync(debs, { recursive: true });
  const have = (i: PackageInfo): boolean => {
    const f = path.join(debs, i.filename);
    return fs.existsSync(f) && (!i.sha256 || sha256File(f) === i.sha256);
  };
  const missing = infos.filter((i) => !have(i));
  if (missing.length) {
    log(`downloading ${missing.length} package(s): ${missing.map((i) => i.name).join(' ')}`);
    const r = spawnSync('apt-get', ['download', ...missing.map((i) => `${i.name}=${i.version}`)], {
      cwd: debs,
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(`apt-get download failed: ${r.stderr.trim().split('\n').slice(-3).join(' ')}`);
    // apt names the file with the epoch escaped (1%3a2.0); the archive's name has none.
    for (const i of missing) {
      const saved = fs
        .readdirSync(debs)
        .find((f) => f.startsWith(`${i.name}_`) && f.endsWith(`_${i.architecture}.deb`));
      if (saved && saved !== i.filename) fs.renameSync(path.join(debs, saved), path.join(debs, i.filename));
    }
  }
  for (const i of infos)
    if (!have(i)) throw new Error(`${i.filename}: missing after download, or its SHA-256 differs from the archive's`);
}

function* walk(dir: string, base = dir): Generator<string> {
  const entries = fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const e of entries) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) yield* walk(full, base);
    else if (e.isFile()) yield path.relative(base, full).split(path.sep).join('/');
  }
}

/** The package's copyright file: its own, or (when its doc folder links to another package's) that one's. */
function copyrightOf(name: string, root: string, debs: string, work: string): string {
  const docDir = path.join(root, 'usr', 'share', 'doc', name);
  const own = path.join(docDir, 'copyright');
  if (fs.existsSync(own)) return fs.readFileSync(own, 'utf8');
  let target: string | null = null;
  try {
    target = path.basename(fs.readlinkSync(docDir));
  } catch {
    /* not a link */
  }
  const info = target ? packageInfo(target) : null;
  if (!info) throw new Error(`${name} has no copyright file (usr/share/doc/${name}/copyright)`);
  download([info], debs);
  const dir = path.join(work, `copyright-${target}`);
  fs.mkdirSync(dir, { recursive: true });
  execFileSync('dpkg-deb', ['-x', path.join(debs, info.filename), dir]);
  const file = path.join(dir, 'usr', 'share', 'doc', target!, 'copyright');
  if (!fs.existsSync(file)) throw new Error(`${name} has no copyright file, nor has ${target}`);
  return fs.readFileSync(file, 'utf8');
}

/** Folders that hold a Sphinx `_sources` tree: their HTML pages repeat those sources. */
function sphinxRoots(files: string[]): string[] {
  const roots = new Set<string>();
  for (const f of files) {
    const i = f.indexOf('/_sources/');
    if (i >= 0) roots.add(f.slice(0, i + 1));
  }
  return [...roots];
}

interface BuildState {
  preset: Preset;
  outDir: string;
  seenFiles: Set<string>;
  seenParagraphs: Set<string>;
  counts: Record<string, number>;
}

function count(state: BuildState, key: string, n = 1): void {
  state.counts[key] = (state.counts[key] ?? 0) + n;
}

/** Unpacks one package and writes its documents into the corpus; returns how many files and bytes. */
function addPackage(
  state: BuildState,
  info: PackageInfo,
  debs: string,
  work: string,
): PackageRecord & { text: string } {
  const root = path.join(work, info.name);
  fs.rmSync(root, { recursive: true, force: true });
  fs.mkdirSync(root, { recursive: true });
  execFileSync('dpkg-deb', ['-x', path.join(debs, info.filename), root]);
  const copyright = copyrightOf(info.name, root, debs, work);
  const files = [...walk(root)];
  const sphinx = sphinxRoots(files);
  let n = 0;
  let bytes = 0;
  for (const rel of files) {
    if (reservedPath(rel)) {
      count(state, 'reserved files left out');
      continue;
    }
    const format = documentFormat(rel);
    if (!format) continue;
    if (format === 'html' && sphinx.some((r) => rel.startsWith(r))) continue;
    let out = state.preset.place(info.name, rel);
    if (!out) continue;
    let buf: Buffer = fs.readFileSync(path.join(root, rel));
    if (rel.endsWith('.gz')) {
      try {
        buf = zlib.gunzipSync(buf);
      } catch {
        count(state, 'unreadable files');
        continue;
      }
      out = out.slice(0, -3);
    }
    if (looksBinary(buf)) {
      count(state, 'binary files');
      continue;
    }
    const raw = buf.toString('utf8');
    let text = format === 'text' && state.preset.verbatim ? raw : toText(format, raw);
    if (format !== 'text' && !out.endsWith('.txt')) out += '.txt';
    const key = dedupKey(text);
    if (!text.trim() || state.seenFiles.has(key)) {
      count(state, text.trim() ? 'duplicate files' : 'empty files');
      continue;
    }
    state.seenFiles.add(key);
    if (state.preset.dedupParagraphs) {
      const r = dropSeenParagraphs(text, state.seenParagraphs);
      count(state, 'duplicate paragraphs', r.dropped);
      text = r.text;
      if (!text) continue;
    }
    const dest = path.join(state.outDir, out);
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.writeFileSync(dest, text);
    n++;
    bytes += Buffer.byteLength(text);
  }
  fs.rmSync(root, { recursive: true, force: true });
  return {
    name: info.name,
    version: info.version,
    architecture: info.architecture,
    section: info.section,
    sha256: info.sha256,
    source: 'debian',
    licence: licenceNames(copyright),
    copyright: '',
    files: n,
    bytes,
    text: copyright,
  };
}

export interface BuildOptions {
  /** Where the corpus, its manifest and licences go (default: .corpora in the repository). */
  out?: string;
  /** Where downloaded packages are kept (default: OUT/.debs). */
  debs?: string;
}

/** Builds the corpus of a preset; returns its folder. */
export function buildCorpus(name: string, options: BuildOptions = {}): string {
  const preset = PRESETS[name];
  if (!preset) fail(`unknown preset '${name}' (known: ${Object.keys(PRESETS).join(', ')})`);
  for (const p of preset.packages) {
    const why = reservedPackage(p);
    if (why) fail(`preset ${preset.name} names ${p}: ${why}`);
  }
  const out = path.resolve(options.out ?? DEFAULT_OUT);
  const debs = path.resolve(options.debs ?? path.join(out, '.debs'));
  const work = path.join(out, `.work-${preset.name}`);
  const staging = path.join(out, `.${preset.name}.partial`);
  const stagingLicences = path.join(out, `.${preset.name}.licenses.partial`);
  for (const d of [work, staging, stagingLicences]) fs.rmSync(d, { recursive: true, force: true });
  fs.mkdirSync(staging, { recursive: true });
  fs.mkdirSync(stagingLicences, { recursive: true });
  const t0 = Date.now();

  const state: BuildState = { preset, outDir: staging, seenFiles: new Set(), seenParagraphs: new Set(), counts: {} };
  let records: PackageRecord[];
  const infos = preset.packages.map((name) => ({ name, info: packageInfo(name) }));
  const unknown = infos.filter((i) => !i.info).map((i) => i.name);
  const nonFree = infos.filter((i) => i.info && /^(non-free|contrib)/.test(i.info.section)).map((i) => i.name);
  if (nonFree.length) fail(`not in Debian main (not free software): ${nonFree.join(', ')}`);
  try {
    if (unknown.length) throw new Error(`apt does not know ${unknown.join(', ')} (as root: apt-get update)`);
    download(
      infos.map((i) => i.info!),
      debs,
    );
    records = infos.map(({ info }) => {
      const r = addPackage(state, info!, debs, work);
      const { text, ...record } = r;
      fs.writeFileSync(path.join(stagingLicences, info!.name), text);
      log(
        `${info!.name} ${info!.version}: ${r.files} files, ${(r.bytes / 1e6).toFixed(2)} MB (${r.licence.join('; ')})`,
      );
      return { ...record, copyright: `${preset.name}.licenses/${info!.name}` };
    });
  } catch (e) {
    fs.rmSync(staging, { recursive: true, force: true });
    fail(`${(e as Error).message}`);
  }

  // The reserved sources, checked once more on what was written.
  const written = [...walk(staging)];
  const leaked = written.filter((f) => reservedPath(f));
  if (leaked.length) fail(`reserved files in the corpus: ${leaked.slice(0, 5).join(', ')}`);
  const bytes = written.reduce((s, f) => s + fs.statSync(path.join(staging, f)).size, 0);

  const manifest = {
    preset: preset.name,
    description: preset.description,
    made_by: 'scripts/corpus/build.ts',
    debian: fs.existsSync('/etc/debian_version') ? fs.readFileSync('/etc/debian_version', 'utf8').trim() : null,
    files: written.length,
    bytes,
    reserved:
      "git's documentation, fortune-cookie databases and the Python standard library's source code are left out",
    counts: state.counts,
    packages: records,
  };

  // Swap the finished corpus into place (the old one stays until the new one is complete).
  const dest = path.join(out, preset.name);
  const destLicences = path.join(out, `${preset.name}.licenses`);
  for (const [from, to] of [
    [staging, dest],
    [stagingLicences, destLicences],
  ]) {
    fs.rmSync(to, { recursive: true, force: true });
    fs.renameSync(from, to);
  }
  const manifestFile = path.join(out, `${preset.name}.manifest.json`);
  fs.writeFileSync(`${manifestFile}.tmp`, JSON.stringify(manifest, null, 2) + '\n');
  fs.renameSync(`${manifestFile}.tmp`, manifestFile);
  fs.rmSync(work, { recursive: true, force: true });
  log(
    `${preset.name}: ${written.length} files, ${(bytes / 1e6).toFixed(1)} MB in ${dest} ` +
      `(${((Date.now() - t0) / 1000).toFixed(0)} s); manifest ${manifestFile}`,
  );
  return dest;
}

/** The corpus folder of a preset: built first when it is not there yet. */
export function ensureCorpus(name: string, options: BuildOptions = {}): string {
  const dir = path.join(path.resolve(options.out ?? DEFAULT_OUT), name);
  const manifest = `${dir}.manifest.json`;
  return fs.existsSync(dir) && fs.existsSync(manifest) ? dir : buildCorpus(name, options);
}

function main(): void {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      out: { type: 'string', default: DEFAULT_OUT },
      debs: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const usage = `usage: build.ts <${Object.keys(PRESETS).join('|')}> [--out DIR] [--debs DIR]`;
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return;
  }
  if (positionals.length !== 1) {
    process.stderr.write(`${usage}\n`);
    process.exit(2);
  }
  try {
    buildCorpus(positionals[0], { out: values.out, debs: values.debs });
  } catch (e) {
    process.stderr.write(`[corpus] error: ${(e as Error).message}\n`);
    process.exit(1);
  }
}

if (require.main === module) main();
