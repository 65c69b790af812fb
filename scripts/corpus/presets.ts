/** The corpora scripts/corpus/build.ts can make: which Debian packages, which of their files, and where. */

export interface Preset {
  name: string;
  description: string;
  /** Debian package names (section main: free software). */
  packages: string[];
  /** The output path of a file, relative to the corpus folder; null leaves the file out. */
  place(pkg: string, rel: string): string | null;
  /** Also drop paragraphs already seen in earlier files (boilerplate of generated pages). */
  dedupParagraphs: boolean;
  /** Plain-text files are copied byte for byte (no whitespace tidying). */
  verbatim: boolean;
}

/** A Sphinx-built package's reStructuredText sources, laid out as in the documentation tree. */
function sphinxSources(root: string): (pkg: string, rel: string) => string | null {
  return (_pkg, rel) => (rel.startsWith(root) && rel.endsWith('.rst.txt') ? rel.slice(root.length) : null);
}

const PYTHON_DOCS: Preset = {
  name: 'python-docs',
  description:
    'The reStructuredText sources of the Python 3.11 documentation (Debian python3.11-doc, _sources/**/*.rst.txt)',
  packages: ['python3.11-doc'],
  place: sphinxSources('usr/share/doc/python3.11/html/_sources/'),
  dedupParagraphs: false,
  verbatim: true,
};

/**
 * English technical documentation and prose from Debian's documentation packages: manuals,
 * references, guides and man pages. Git's documentation, fortune cookies and the Python standard
 * library are left out of every corpus (see text.ts), and the Python documentation is its own
 * preset, so that its held-out files stay held out.
 */
const DEBIAN_DOCS: Preset = {
  name: 'debian-docs',
  description: "English technical documentation from Debian's documentation packages (manuals, guides, man pages)",
  packages: [
    // Debian's own manuals and guides
    'debian-reference-en',
    'debian-handbook',
    'debian-policy',
    'developers-reference',
    'maint-guide',
    'debian-faq',
    'debmake-doc',
    'debian-history',
    'debian-kernel-handbook',
    'harden-doc',
    'apt-doc',
    // manuals of languages, databases and tools
    'linux-doc-6.1',
    'perl-doc',
    'nodejs-doc',
    'postgresql-doc-15',
    'sqlite3-doc',
    'python-django-doc',
    'sphinx-doc',
    'cmake-doc',
    'apache2-doc',
    'bash-doc',
    'vim-runtime',
    'tcl8.6-doc',
    'golang-1.19-doc',
    'r-doc-html',
    // man pages
    'manpages',
    'manpages-dev',
    'libssl-doc',
    'coreutils',
    'findutils',
    'grep',
    'sed',
    'tar',
    'rsync',
    'openssh-client',
    'curl',
    'systemd',
    'util-linux',
    'iproute2',
    'procps',
    'less',
    'make',
    'gnupg',
    'sudo',
    'tmux',
    'e2fsprogs',
    'dpkg',
    'dpkg-dev',
    'apt',
  ],
  place(pkg, rel) {
    const inside = rel.replace(/^usr\/share\/(doc\/)?/, '');
    return `${pkg}/${inside.startsWith(`${pkg}/`) ? inside.slice(pkg.length + 1) : inside}`;
  },
  dedupParagraphs: true,
  verbatim: false,
};

export const PRESETS: Record<string, Preset> = {
  [PYTHON_DOCS.name]: PYTHON_DOCS,
  [DEBIAN_DOCS.name]: DEBIAN_DOCS,
};
