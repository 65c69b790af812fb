/**
 * HTML, Markdown and control characters in generated text and model facts, in every place they
 * are shown: Model Info (Markdown preview), the hover (Markdown), error notifications, and the
 * webviews (DOM built with text nodes only).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { escapeMarkdown, markdownCodeBlock, modelInfoMarkdown, oneLine } from '../../src/extension/logic/format';
import { REPO } from '../helpers/cli';
import { hostileModelInfo, injected, renderMarkdown } from '../helpers/markdown';
import { handled, unhandled, type Case, type Inputs } from './harness';

const PIECES = [
  '<img src="https://evil.example/t.png">',
  '<script>alert(1)</script>',
  '<a href="command:workbench.action.terminal.new">x</a>',
  '[run](command:workbench.action.terminal.new)',
  '![i](https://evil.example/i.png)',
  '# heading',
  '\n\n## heading\n',
  '| a | b |',
  '```',
  '~~~',
  '`',
  '*',
  '__',
  'https://evil.example/',
  'www.evil.example',
  '&lt;b&gt;',
  '&#60;img src=x&#62;',
  '\u001b[31m',
  '\u0000',
  '\u0007',
  '\u202e',
  '\u2028',
  '\r',
  '$(alert)',
  'plain words',
];

function hostile(inputs: Inputs): string {
  let s = '';
  for (let k = 0; k < 1 + inputs.rng.int(6); k++) s += inputs.pick(PIECES);
  return s;
}

/** Files of the webviews: none may hand text to an HTML parser. */
function webviewSources(): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) {
        if (e.name !== 'dist') walk(p); // built bundles: checked as their sources
      } else if (/\.(ts|js|mjs)$/.test(e.name)) out.push(p);
    }
  };
  walk(path.join(REPO, 'src', 'webview'));
  if (fs.existsSync(path.join(REPO, 'media'))) walk(path.join(REPO, 'media'));
  return out;
}

export function displayCases(inputs: Inputs): Case[] {
  const cases: Case[] = [];
  for (let k = 0; k < 12; k++) {
    const evil = hostile(inputs);
    cases.push({
      group: 'text shown to the user',
      name: `Model Info with ${JSON.stringify(evil).slice(0, 60)}`,
      limitMs: 30_000,
      async run() {
        const md = modelInfoMarkdown(hostileModelInfo(evil), evil, evil);
        const found = injected(renderMarkdown(md), 3);
        return found.length ? unhandled(found.join('; ')) : handled();
      },
    });
    cases.push({
      group: 'text shown to the user',
      name: `hover of decoded text ${JSON.stringify(evil).slice(0, 60)}`,
      limitMs: 30_000,
      async run() {
        const html = renderMarkdown(`decoded\n\n${markdownCodeBlock(evil)}`);
        const blocks = (html.match(/<pre>/g) ?? []).length;
        if (blocks !== 1) return unhandled(`${blocks} code blocks`);
        const outside = injected(html.replace(/<pre>[\s\S]*<\/pre>/, ''), 0);
        if (outside.length) return unhandled(outside.join('; '));
        if (['\u0000', '\u0007', '\u001b'].some((c) => html.includes(c)))
          return unhandled('a control character reached the page');
        return handled();
      },
    });
    cases.push({
      group: 'text shown to the user',
      name: `hover error message ${JSON.stringify(evil).slice(0, 60)}`,
      limitMs: 30_000,
      async run() {
        const html = renderMarkdown(`**TextVAE:** ${escapeMarkdown(oneLine(`bad code: ${evil}`))}`);
        const found = injected(html.replace('<strong>TextVAE:</strong>', ''), 0);
        return found.length ? unhandled(found.join('; ')) : handled();
      },
    });
  }
  cases.push({
    group: 'text shown to the user',
    name: 'webviews: no code hands text to an HTML parser',
    limitMs: 30_000,
    async run() {
      const sinks =
        /\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write|srcdoc|createContextualFragment|DOMParser/;
      const bad = webviewSources().filter((f) => sinks.test(fs.readFileSync(f, 'utf8')));
      return bad.length ? unhandled(`HTML sinks in ${bad.map((f) => path.relative(REPO, f)).join(', ')}`) : handled();
    },
  });
  return cases;
}
