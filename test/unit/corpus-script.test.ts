/** scripts/corpus: reserved sources stay out, documents become plain text, duplicates go, licences are named. */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';

import { PRESETS } from '../../scripts/corpus/presets';
import {
  documentFormat,
  dropSeenParagraphs,
  htmlToText,
  licenceNames,
  podToText,
  reservedPackage,
  reservedPath,
  roffToText,
} from '../../scripts/corpus/text';

describe('reserved sources', () => {
  test("git's documentation, fortune cookies and Python's standard library are refused by package name", () => {
    for (const p of ['git', 'git-doc', 'git-man', 'gitk', 'fortunes', 'fortunes-min', 'fortune-mod', 'fortunes-off'])
      assert.ok(reservedPackage(p), p);
    for (const p of [
      'python3.11',
      'python3.11-minimal',
      'libpython3.11-stdlib',
      'libpython3.11-testsuite',
      'idle-python3.11',
    ])
      assert.ok(reservedPackage(p), p);
    for (const p of ['python3.11-doc', 'perl-doc', 'digital-doc', 'manpages', 'linux-doc-6.1', 'legit'])
      assert.equal(reservedPackage(p), null, p);
  });

  test('and by path, whatever the package', () => {
    for (const f of [
      'usr/share/man/man1/git-commit.1.gz',
      'usr/share/man/man7/gitglossary.7.gz',
      'usr/share/doc/git/RelNotes/2.39.txt',
      'usr/share/games/fortunes/linux',
      'usr/lib/python3.11/difflib.py',
      'usr/share/doc/python3.11/html/_downloads/x/tzinfo_examples.py',
    ])
      assert.ok(reservedPath(f), f);
    for (const f of [
      'usr/share/man/man1/digest.1.gz',
      'usr/share/perl/5.36.0/pod/perlgit.pod',
      'usr/share/doc/x/legit.txt',
    ])
      assert.equal(reservedPath(f), null, f);
  });

  test('no preset names a reserved package', () => {
    for (const preset of Object.values(PRESETS))
      for (const p of preset.packages) assert.equal(reservedPackage(p), null, `${preset.name}: ${p}`);
  });
});

test('documentFormat keeps English documentation and leaves out code, images, metadata and translations', () => {
  const cases: [string, string | null][] = [
    ['usr/share/doc/python3.11/html/_sources/library/copy.rst.txt', 'text'],
    ['usr/share/doc/python3.11/html/whatsnew/changelog.html', 'html'],
    ['usr/share/doc/debian-handbook/html/en-US/sect.apt.html', 'html'],
    ['usr/share/doc/debian-handbook/html/de-DE/sect.apt.html', null],
    ['usr/share/doc/linux-doc-6.1/Documentation/PCI/sysfs-pci.rst.gz', 'text'],
    ['usr/share/man/man1/ls.1.gz', 'man'],
    ['usr/share/man/de/man1/ls.1.gz', null],
    ['usr/share/perl/5.36.0/pod/perlfunc.pod', 'pod'],
    ['usr/share/vim/vim90/doc/usr_01.txt', 'text'],
    ['usr/share/doc/nodejs/api/fs.md', 'text'],
    ['usr/share/doc/foo/changelog.Debian.gz', null],
    ['usr/share/doc/foo/copyright', null],
    ['usr/share/doc/foo/html/_static/basic.css', null],
    ['usr/share/doc/foo/html/_modules/django/db.html', null],
    ['usr/share/doc/foo/examples/x.c', null],
    ['usr/share/doc/foo/logo.png', null],
    ['usr/bin/ls', null],
  ];
  for (const [rel, want] of cases) assert.equal(documentFormat(rel), want, rel);
});

test('htmlToText keeps prose and code blocks, drops scripts, navigation and markup, decodes entities', () => {
  const html =
    '<html><head><title>T</title><style>p{}</style></head><body>' +
    '<div class="related"><a href="x">Next</a></div>' +
    '<h1>Copy &amp; paste</h1><p>Assignment <em>never</em>\ncopies&nbsp;objects &#8212; it binds&#x2e;</p>' +
    '<pre>x = [1, 2]\n    y = x</pre><ul><li>one</li><li>two</li></ul><script>alert(1)</script></body></html>';
  const text = htmlToText(html);
  assert.equal(
    text,
    'Copy & paste\n\nAssignment never copies\u00a0objects — it binds.\n\nx = [1, 2]\n    y = x\n\n- one\n- two\n',
  );
});

test('roffToText gives headings and words of a man page, without requests or font escapes', () => {
  const man = [
    '.\\" a comment',
    '.TH LS 1 "2023" "GNU" "User Commands"',
    '.SH NAME',
    'ls \\- list directory contents',
    '.SH DESCRIPTION',
    'List information about the \\fIFILE\\fRs (the current directory by default).',
    '.TP',
    '\\fB\\-a\\fR, \\fB\\-\\-all\\fR',
    'do not ignore entries starting with .',
    '.BR dir (1)',
    '.PP',
    'Exit status is 0 if OK \\(em 2 if serious trouble.',
  ].join('\n');
  assert.equal(
    roffToText(man),
    'LS(1)\n\nNAME\n\nls - list directory contents\n\nDESCRIPTION\n\nList information about the FILEs (the current directory by default).\n\n' +
      '-a, --all\ndo not ignore entries starting with .\ndir(1)\n\nExit status is 0 if OK — 2 if serious trouble.\n',
  );
});

test('podToText unwraps formatting codes and keeps verbatim blocks', () => {
  const pod =
    '=head1 NAME\n\nperlfunc - Perl builtin functions\n\n=head2 B<print> LIST\n\nPrints C<LIST> to L<perlvar/$,>.\n\n    print "hi\\n";\n\n=cut\n\nsub x {}\n';
  assert.equal(
    podToText(pod),
    'NAME\n\nperlfunc - Perl builtin functions\n\nprint LIST\n\nPrints LIST to perlvar/$,.\n\n    print "hi\\n";\n',
  );
});

test('dropSeenParagraphs removes boilerplate already seen, whatever its spacing or case', () => {
  const seen = new Set<string>();
  assert.deepEqual(dropSeenParagraphs('Intro one.\n\nReport bugs to the list.\n', seen), {
    text: 'Intro one.\n\nReport bugs to the list.\n',
    dropped: 0,
  });
  assert.deepEqual(dropSeenParagraphs('Intro two.\n\nreport  bugs to\nthe list.\n', seen), {
    text: 'Intro two.\n',
    dropped: 1,
  });
});

test('licenceNames reads DEP-5 License fields, else names the licences the text mentions', () => {
  const dep5 =
    'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nLicense: GPL-2+\n\nFiles: doc/*\nLicense: GFDL-NIV-1.3\n\nLicense: GPL-2+\n This program is free software';
  assert.deepEqual(licenceNames(dep5), ['GPL-2+', 'GFDL-NIV-1.3']);
  const free = 'License:\n\n Redistribution and use in source and binary forms, with or without modification...';
  assert.deepEqual(licenceNames(free), ['BSD']);
  assert.deepEqual(licenceNames('All rights reserved.'), ['unknown: see the copyright file']);
});
