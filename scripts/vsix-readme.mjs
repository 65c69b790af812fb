// Writes dist/README.vsix.md: README.md with its relative images inlined as data: URIs, for the
// .vsix (`npm run package` passes it to vsce with --readme-path).
//
// Why: VS Code's extension details page only loads https: and data: images (its CSP is
// "img-src https: data:"), so relative links to files inside the .vsix show as broken images,
// and vsce can rewrite them to https only with a public repository URL, which this project
// does not have. Inlined, the screenshots show offline, from the package itself.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const TYPES = { '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.gif': 'image/gif' };

/** `markdown` with every relative image `![alt](file)` (resolved against `baseDir`) as a data: URI. */
export function inlineImages(markdown, baseDir) {
  return markdown.replace(/!\[([^\]]*)\]\(([^)\s]+)\)/g, (whole, alt, src) => {
    if (/^[a-z][a-z0-9+.-]*:/i.test(src)) return whole;
    const type = TYPES[path.extname(src).toLowerCase()];
    if (!type) throw new Error(`README image ${src}: only ${Object.keys(TYPES).join(', ')} can be inlined`);
    const data = fs.readFileSync(path.join(baseDir, src));
    return `![${alt}](data:${type};base64,${data.toString('base64')})`;
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const out = path.join(repo, 'dist', 'README.vsix.md');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, inlineImages(fs.readFileSync(path.join(repo, 'README.md'), 'utf8'), repo));
  console.log(`wrote ${path.relative(repo, out)} (${Math.round(fs.statSync(out).size / 1024)} KB)`);
}
