/**
 * Pure helpers of the corpus builder (scripts/corpus/build.ts): which packages and files are
 * reserved for evaluation, turning HTML, man pages and POD into plain text, de-duplication, and
 * the licence names of a Debian copyright file. No I/O here, so that the unit tests cover it.
 */
import { createHash } from 'node:crypto';

// ---- sources reserved for independent evaluation: never in any corpus

/** Why a package may never be used, or null. Git's documentation, fortune cookies, Python's stdlib. */
export function reservedPackage(name: string): string | null {
  if (/^git($|-)/.test(name) || name === 'gitk' || name === 'gitweb') return "git's documentation is reserved";
  if (/^fortunes?($|-)/.test(name) || /^fortune-/.test(name)) return 'fortune-cookie databases are reserved';
  if (/^(lib)?python3(\.\d+)?(-minimal|-stdlib)?$/.test(name) || /^libpython3(\.\d+)?-(stdlib|testsuite)$/.test(name))
    return "the Python standard library's source code is reserved";
  if (/^idle(-python)?3/.test(name)) return "the Python standard library's source code is reserved";
  return null;
}

/** Why a file (path inside a package) may never be used, or null; applies to every package. */
export function reservedPath(rel: string): string | null {
  const parts = rel.split('/');
  const base = parts[parts.length - 1].toLowerCase();
  if (/^git($|[-._])/.test(base) || (/(^|\/)share\/man\//.test(rel) && base.startsWith('git')))
    return "git's documentation is reserved";
  if (parts.slice(0, -1).some((p) => p === 'git' || p.startsWith('git-'))) return "git's documentation is reserved";
  if (parts.includes('fortunes') || parts.includes('fortune')) return 'fortune-cookie databases are reserved';
  if (/\.py[cwi]?(\.gz)?$/.test(base) || parts.some((p) => /^python3(\.\d+)?$/.test(p) && parts.includes('lib')))
    return "Python source code is reserved (the standard library's)";
  return null;
}

// ---- what to read, and how

export type Format = 'text' | 'html' | 'man' | 'pod';

/** Two-letter (and region) language folders of documentation translations: English only. */
const LANGUAGES = new Set(
  (
    'ar bg ca cs da de el eo es et eu fa fi fr gl he hi hr hu id it ja ka ko lt lv nb nl nn pl pt ro ru ' +
    'sk sl sq sr sv th tr uk vi zh'
  ).split(' '),
);

function isTranslationFolder(part: string): boolean {
  const m = /^([a-z]{2})(?:[-_@][A-Za-z]{2,8})?$/.exec(part);
  return !!m && LANGUAGES.has(m[1]);
}

/**
 * The format of a file inside an extracted package, or null to leave it out: documentation only
 * (not code, images, indexes, changelogs or copyright files), and English only.
 */
export function documentFormat(rel: string): Format | null {
  if (reservedPath(rel)) return null;
  const parts = rel.split('/');
  if (parts.some(isTranslationFolder)) return null;
  const name = parts[parts.length - 1].replace(/\.gz$/, '');
  const lower = name.toLowerCase();
  // Debian's per-package metadata files, not documentation.
  if (/^(changelog(\.debian)?|news\.debian|readme\.debian|copyright|changes)$/.test(lower)) return null;
  // Sphinx output: highlighted source code and generated indexes are not prose.
  if (parts.includes('_modules') || parts.includes('_static') || parts.includes('_images')) return null;
  if (/^(genindex|search|py-modindex|objects)\b/.test(lower)) return null;
  const manDir = rel.match(/(?:^|\/)share\/man\/(man[0-9n][a-z]*)\//);
  if (manDir) return /\.[0-9n][a-z0-9]*$/.test(lower) ? 'man' : null;
  if (!/(^|\/)share\/(doc|vim|perl|help|gtk-doc|info|debian-reference|developers-reference|R\/doc)\//.test(rel))
    return null;
  if (/\.(html?|xhtml)$/.test(lower)) return 'html';
  if (/\.pod$/.test(lower)) return 'pod';
  if (/\.(txt|rst|md|markdown|adoc|asciidoc|org|text)$/.test(lower)) return 'text';
  if (/^(readme|faq|todo|howto|authors|thanks)([._-].*)?$/.test(lower) && !/\.(sh|c|h|pl|js|json|css)$/.test(lower))
    return 'text';
  return null;
}

// ---- conversions

const ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: '\u00a0',
  copy: '©',
  reg: '®',
  trade: '™',
  hellip: '…',
  mdash: '—',
  ndash: '–',
  lsquo: '‘',
  rsquo: '’',
  ldquo: '“',
  rdquo: '”',
  laquo: '«',
  raquo: '»',
  bull: '•',
  middot: '·',
  times: '×',
  minus: '−',
  larr: '←',
  rarr: '→',
  para: '¶',
  sect: '§',
  deg: '°',
  pi: 'π',
};

export function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (m, e: string) => {
    if (e[0] === '#') {
      const cp = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return cp > 0 && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff) ? String.fromCodePoint(cp) : '';
    }
    return ENTITIES[e.toLowerCase()] ?? m;
  });
}

/** Collapses runs of blank lines and trailing spaces; ends with one newline (or is empty). */
export function tidy(s: string): string {
  const out = s
    .replace(/\r\n?/g, '\n')
    .replace(/[ \t\u00a0]+\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
  return out ? out + '\n' : '';
}

/** The readable text of an HTML page: no scripts, styles, navigation or markup; <pre> kept as is. */
export function htmlToText(html: string): string {
  let s = html
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/<(script|style|head|nav|noscript|svg)\b[\s\S]*?<\/\1\s*>/gi, '')
    // Sphinx and DocBook navigation bars and sidebars.
    .replace(
      /<div\b[^>]*class="[^"]*\b(related|sphinxsidebar|navheader|navfooter|footer|breadcrumbs)\b[^"]*"[^>]*>[\s\S]*?<\/div>/gi,
      '',
    );
  const pres: string[] = [];
  s = s.replace(/<pre\b[^>]*>([\s\S]*?)<\/pre>/gi, (_m, body: string) => {
    pres.push(decodeEntities(body.replace(/<[^>]+>/g, '')));
    return `\n\n\uE000${pres.length - 1}\uE000\n\n`;
  });
  // \uE001 (private use): a line break of the page (kept), unlike the source's own line wrapping (joined).
  s = s
    .replace(/<br\s*\/?>/gi, '\uE001')
    .replace(/<li\b[^>]*>/gi, '\uE001- ')
    .replace(
      /<\/?(p|div|h[1-6]|ul|ol|dl|dt|dd|table|tr|blockquote|section|article|header|footer|figure)\b[^>]*>/gi,
      '\n\n',
    )
    .replace(/<\/t[dh]>/gi, '\t')
    .replace(/<[^>]+>/g, '');
  s = decodeEntities(s)
    .replace(/[ \t\u00a0]*\n[ \t\u00a0]*/g, '\n')
    .replace(/[ \t]+/g, ' ')
    .replace(/([^\n])\n(?!\n)/g, '$1 ')
    .replace(/ ?\uE001 ?/g, '\n');
  s = s.replace(/\uE000(\d+)\uE000/g, (_m, i: string) => pres[Number(i)].replace(/^\n+|\s+$/g, ''));
  return tidy(s);
}

const ROFF_CHARS: Record<string, string> = {
  em: '—',
  en: '–',
  hy: '-',
  aq: "'",
  dq: '"',
  lq: '“',
  rq: '”',
  oq: '‘',
  cq: '’',
  bu: '•',
  co: '©',
  rg: '®',
  tm: '™',
  de: '°',
  mu: '×',
  '->': '→',
  '<-': '←',
  '>=': '≥',
  '<=': '≤',
  '!=': '≠',
  '+-': '±',
  ti: '~',
  ha: '^',
  rs: '\\',
  ga: '`',
  fm: '′',
  sq: '□',
  pl: '+',
  mi: '−',
  eq: '=',
  sl: '/',
  ba: '|',
  ul: '_',
};

/** Inline roff escapes: fonts and sizes dropped, special characters spelled out. */
function roffInline(s: string): string {
  return s
    .replace(/\\\*\[[^\]]*\]|\\\*\(..|\\\*./g, '')
    .replace(/\\f(\[[^\]]*\]|\(..|.)/g, '')
    .replace(/\\s[-+]?(\d|\(\d\d|\[\d+\])/g, '')
    .replace(/\\\(([^\s]{2})|\\\[([^\]\s]+)\]/g, (m, a?: string, b?: string) => ROFF_CHARS[a ?? b ?? ''] ?? '')
    .replace(/\\[&|^,/:%c)]/g, '')
    .replace(/\\[-e]/g, (m) => (m === '\\-' ? '-' : '\\'))
    .replace(/\\ /g, ' ')
    .replace(/\\(.)/g, '$1');
}

/** Splits a macro line's arguments, honouring double quotes. */
function roffArgs(s: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"]|"")*)"?|(\S+)/g;
  for (let m; (m = re.exec(s));) out.push(m[1] !== undefined ? m[1].replace(/""/g, '"') : m[2]);
  return out;
}

/** The text of a man page (man or mdoc macros): headings, paragraphs and words, no formatting. */
export function roffToText(src: string): string {
  const out: string[] = [];
  let table: 'spec' | 'data' | null = null;
  let skipping = 0; // inside .de … .. (macro definitions) or an ignore block
  const para = (): void => {
    out.push('');
  };
  for (const raw of src.replace(/\r\n?/g, '\n').split('\n')) {
    const line = raw.replace(/\\".*$/, '');
    if (skipping) {
      if (/^\.\.\s*$/.test(line)) skipping = 0;
      continue;
    }
    if (/^['.]\s*(de|ig|am)\b/.test(line)) {
      skipping = 1;
      continue;
    }
    if (table) {
      // tbl: options and column formats up to the line that ends with '.', then the rows.
      if (/^\.TE\b/.test(line)) {
        table = null;
        para();
      } else if (table === 'spec') {
        if (/\.\s*$/.test(line)) table = 'data';
      } else if (!/^[.']/.test(line)) {
        out.push(roffInline(line.replace(/T\{|T\}/g, '')));
      }
      continue;
    }
    const m = /^[.']\s*([A-Za-z][A-Za-z0-9]*)\s*(.*)$/.exec(line);
    if (!m) {
      if (/^[.']/.test(line)) continue;
      out.push(roffInline(line));
      continue;
    }
    const [, name, rest] = m;
    const args = roffArgs(rest);
    switch (name) {
      case 'TH':
      case 'Dt':
        out.push(args.slice(0, 2).join('(') + (args.length > 1 ? ')' : ''), '');
        break;
      case 'SH':
      case 'SS':
      case 'Sh':
      case 'Ss':
        para();
        out.push(roffInline(args.join(' ')), '');
        break;
      case 'PP':
      case 'LP':
      case 'P':
      case 'Pp':
      case 'sp':
      case 'HP':
        para();
        break;
      case 'TP':
      case 'IP':
      case 'It':
        para();
        if (name !== 'TP' && args.length) out.push(roffInline(args[0]));
        break;
      case 'br':
        out.push('\n');
        break;
      case 'nf':
      case 'EX':
      case 'Bd':
      case 'fi':
      case 'EE':
      case 'Ed':
        para();
        break;
      case 'TS':
        table = 'spec';
        para();
        break;
      case 'B':
      case 'I':
      case 'SM':
      case 'SB':
      case 'Nm':
      case 'Nd':
      case 'Ar':
      case 'Pa':
      case 'Va':
      case 'Ev':
      case 'Cm':
      case 'Em':
      case 'Sy':
      case 'Li':
      case 'Dv':
      case 'Er':
      case 'Xr':
      case 'Ql':
        out.push(roffInline(name === 'Nd' ? '- ' + args.join(' ') : args.join(' ')));
        break;
      case 'Fl':
        out.push(roffInline(args.map((a) => '-' + a).join(' ')));
        break;
      case 'BR':
      case 'BI':
      case 'IB':
      case 'IR':
      case 'RB':
      case 'RI':
        out.push(roffInline(args.join('')));
        break;
      default:
        // Layout requests (.RS, .RE, .in, .ft, .ne, .ad, .hy, .ll, .so …): no text of their own.
        break;
    }
  }
  // Lines stay as the source has them (man page sources are written a sentence or clause a line).
  return tidy(out.join('\n'));
}

/** The text of a POD document: headings and paragraphs, formatting codes unwrapped. */
export function podToText(src: string): string {
  const out: string[] = [];
  let inPod = true;
  for (const block of src.replace(/\r\n?/g, '\n').split(/\n\s*\n/)) {
    const cmd = /^=([a-z]+[0-9]?)\s*([\s\S]*)$/.exec(block);
    if (cmd) {
      const [, name, text] = cmd;
      if (name === 'cut') inPod = false;
      else inPod = true;
      if (/^(head[1-6]|item)$/.test(name) && text.trim()) out.push(unwrapPod(text.trim()));
      continue;
    }
    if (inPod) out.push(/^[ \t]/.test(block) ? block : unwrapPod(block));
  }
  return tidy(out.join('\n\n'));
}

function unwrapPod(s: string): string {
  let prev;
  do {
    prev = s;
    s = s
      .replace(/[A-Z]<<+\s+([\s\S]*?)\s+>>+/g, '$1')
      .replace(/L<(?:[^<>|]*\|)?([^<>]*)>/g, '$1')
      .replace(/E<([^<>]*)>/g, (_m, e: string) => decodeEntities(/^\d+$/.test(e) ? `&#${e};` : `&${e};`))
      .replace(/[XZ]<[^<>]*>/g, '')
      .replace(/[BICFS]<([^<>]*)>/g, '$1');
  } while (s !== prev);
  return s;
}

/** A document in `format` as plain text. */
export function toText(format: Format, src: string): string {
  switch (format) {
    case 'html':
      return htmlToText(src);
    case 'man':
      return roffToText(src);
    case 'pod':
      return podToText(src);
    default:
      return tidy(src);
  }
}

// ---- de-duplication

/** The key two texts share when they differ only in whitespace and case. */
export function dedupKey(s: string): string {
  return createHash('sha256').update(s.replace(/\s+/g, ' ').trim().toLowerCase()).digest('hex');
}

/**
 * Drops the paragraphs of `text` that `seen` already holds (boilerplate repeated from page to page,
 * such as navigation, licence notes and "see also" lists) and adds the new ones to `seen`.
 */
export function dropSeenParagraphs(text: string, seen: Set<string>): { text: string; dropped: number } {
  let dropped = 0;
  const kept = text.split(/\n{2,}/).filter((p) => {
    if (!p.trim()) return false;
    const key = dedupKey(p);
    if (seen.has(key)) {
      dropped++;
      return false;
    }
    seen.add(key);
    return true;
  });
  return { text: tidy(kept.join('\n\n')), dropped };
}

// ---- licences

const KNOWN_LICENCES: [RegExp, string][] = [
  [/GNU (Lesser|Library) General Public License/i, 'LGPL'],
  [/GNU Affero General Public License/i, 'AGPL'],
  [/GNU General Public License/i, 'GPL'],
  [/GNU Free Documentation License/i, 'GFDL'],
  [/Apache License/i, 'Apache'],
  [/Artistic License/i, 'Artistic'],
  [/Python Software Foundation|PSF LICENSE/i, 'PSF'],
  [/Creative Commons/i, 'CC'],
  [/Open Publication License/i, 'OPL'],
  [/PostgreSQL/i, 'PostgreSQL'],
  [/public domain/i, 'public-domain'],
  [/Permission is granted to make and distribute verbatim copies/i, 'verbatim-and-modified-copies permission'],
  [/Permission is hereby granted, free of charge/i, 'MIT/Expat'],
  [/Redistribution and use in source and binary forms/i, 'BSD'],
];

/**
 * The licence names of a Debian copyright file: the `License:` fields of a machine-readable file
 * (DEP-5), otherwise the well-known licences its text names.
 */
export function licenceNames(copyright: string): string[] {
  if (/^Format:\s*\S*copyright-format/m.test(copyright)) {
    const fields = new Set<string>();
    for (const m of copyright.matchAll(/^License:[ \t]*(\S[^\n]*)$/gm)) fields.add(m[1].trim());
    if (fields.size) return [...fields];
  }
  const found = KNOWN_LICENCES.filter(([re]) => re.test(copyright)).map(([, name]) => name);
  return found.length ? found : ['unknown: see the copyright file'];
}
