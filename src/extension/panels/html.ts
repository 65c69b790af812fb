/**
 * The HTML shell of both webviews (DOM-free: the extension host renders it). Everything else
 * is built by the webview script with DOM APIs. No inline styles, no inline scripts without
 * the nonce, nothing remote.
 */

export interface WebviewHtmlOptions {
  /** `webview.cspSource`. */
  cspSource: string;
  /** A fresh random nonce for this render. */
  nonce: string;
  title: string;
  /** Webview URIs (asWebviewUri) of the style sheets, in order. */
  styles: string[];
  /** Webview URI of the script bundle. */
  script: string;
  /** Class of the <body>: selects the app's layout. */
  bodyClass: string;
}

export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    `default-src 'none'`,
    `img-src ${cspSource} data:`,
    `style-src ${cspSource}`,
    `script-src 'nonce-${nonce}'`,
    `font-src ${cspSource}`,
  ].join('; ');
}

export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );
}

/** For double-quoted attribute values (single quotes stay readable, e.g. in the CSP). */
function escapeAttr(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] as string);
}

export function renderWebviewHtml(o: WebviewHtmlOptions): string {
  if (!/^[A-Za-z0-9+/=_-]{16,}$/.test(o.nonce)) throw new Error('the nonce must be at least 16 base64 characters');
  const links = o.styles.map((href) => `  <link rel="stylesheet" href="${escapeAttr(href)}">`).join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <meta http-equiv="Content-Security-Policy" content="${escapeAttr(contentSecurityPolicy(o.cspSource, o.nonce))}">
  <meta name="viewport" content="width=device-width, initial-scale=1.0">
${links}
  <title>${escapeHtml(o.title)}</title>
</head>
<body class="${escapeAttr(o.bodyClass)}">
  <div id="app" class="app"></div>
  <noscript>This view needs scripts enabled.</noscript>
  <script nonce="${escapeAttr(o.nonce)}" src="${escapeAttr(o.script)}"></script>
</body>
</html>`;
}
