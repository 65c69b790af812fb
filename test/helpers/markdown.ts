/** Renders Markdown the way VS Code's preview does (markdown-it, HTML and linkify on) and finds what must never appear. */
import { createRequire } from 'node:module';
import type { ModelInfoLike } from '../../src/extension/logic/format';

interface MarkdownIt {
  render(src: string): string;
}
// markdown-it comes with @vscode/vsce (a dev dependency); it has no bundled types.
const MarkdownItCtor = createRequire(__filename)('markdown-it') as new (options: object) => MarkdownIt;
const md = new MarkdownItCtor({ html: true, linkify: true });

export function renderMarkdown(source: string): string {
  return md.render(source);
}

/** The dangerous things in rendered HTML: tags other than the harmless ones, links, images, headings. */
export function injected(html: string, allowedHeadings: number): string[] {
  const found: string[] = [];
  const tags = html.match(/<\/?([a-zA-Z][a-zA-Z0-9-]*)/g) ?? [];
  const harmless = new Set([
    'p',
    'table',
    'thead',
    'tbody',
    'tr',
    'th',
    'td',
    'pre',
    'code',
    'h1',
    'h2',
    'em',
    'strong',
    'br',
  ]);
  for (const t of tags) {
    const name = t.replace(/^<\/?/, '').toLowerCase();
    if (!harmless.has(name)) found.push(`tag <${name}>`);
  }
  const headings = (html.match(/<h[1-6]/g) ?? []).length;
  if (headings > allowedHeadings) found.push(`${headings - allowedHeadings} extra heading(s)`);
  if (/<(em|strong)>/.test(html)) found.push('emphasis from data');
  return found;
}

/** Model facts where every string a bundle or the system could supply is `evil`. */
export function hostileModelInfo(evil: string): ModelInfoLike {
  return {
    dir: `/models/${evil}`,
    fingerprint: 'abcdef0123',
    variant: evil,
    backend: 'wasm',
    parameters: 1,
    sizeBytes: 1,
    vocabSize: 300,
    config: { latentDim: 4, modelDim: 8, maxTokens: 16, vocabSize: 300, decoderDilations: [1], encoderLayers: 1 },
    metrics: { bits_per_byte: evil },
    training: { command: evil, backend: evil, seed: { nested: evil } },
  };
}
