// Integration tests through the VS Code API (commands, documents, undo).
const assert = require('node:assert/strict');
const vscode = require('vscode');

const EXT_ID = 'textvae.textvae';
const CODE_RE = /tvae[12]:[0-9a-f]{8}:[A-Za-z0-9_-]+/g;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(predicate, what, timeout = 60_000) {
  const end = Date.now() + timeout;
  for (;;) {
    const v = predicate();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

async function configure() {
  const cfg = vscode.workspace.getConfiguration('textvae');
  await cfg.update('decoding.strategy', 'greedy', vscode.ConfigurationTarget.Global);
  if (process.env.TEXTVAE_E2E_MODEL_PATH)
    await cfg.update('modelPath', process.env.TEXTVAE_E2E_MODEL_PATH, vscode.ConfigurationTarget.Global);
}

exports.tests = {
  async 'the extension activates and registers its commands'() {
    const ext = vscode.extensions.getExtension(EXT_ID);
    assert.ok(ext, `extension ${EXT_ID} is not installed in the development host`);
    await configure();
    await ext.activate();
    assert.equal(ext.isActive, true);
    const commands = await vscode.commands.getCommands(true);
    for (const c of [
      'textvae.train',
      'textvae.compressSelection',
      'textvae.reconstructFromCode',
      'textvae.reconstructSelection',
      'textvae.openGenerator',
      'textvae.selectModel',
      'textvae.showModelInfo',
    ]) {
      assert.ok(commands.includes(c), `command ${c} is not registered`);
    }
  },

  async 'compress, reconstruct and undo on an untitled document'() {
    const original =
      'Assignment statements in Python do not copy objects.\nThey create bindings between a target and an object.\n';
    const doc = await vscode.workspace.openTextDocument({ content: original, language: 'plaintext' });
    const editor = await vscode.window.showTextDocument(doc);
    const first = doc.lineAt(0).range;
    editor.selection = new vscode.Selection(first.start, first.end);

    await vscode.commands.executeCommand('textvae.compressSelection');
    await waitFor(() => CODE_RE.test(doc.getText()) && ((CODE_RE.lastIndex = 0), true), 'latent codes in the document');
    const compressed = doc.getText();
    assert.ok(!compressed.includes('do not copy objects'), 'the selected sentence is still there');
    assert.ok(compressed.endsWith(original.slice(first.end.character)), 'text after the selection changed');
    const code = compressed.match(CODE_RE)[0];

    const at = doc.positionAt(compressed.indexOf(code) + 3);
    editor.selection = new vscode.Selection(at, at);
    await vscode.commands.executeCommand('textvae.reconstructFromCode');
    await waitFor(() => !/tvae[12]:/.test(doc.getText()), 'the codes replaced by text');
    const reconstructed = doc.getText();
    assert.ok(reconstructed.split('\n')[0].trim().length > 0, 'the reconstruction is empty');

    await vscode.commands.executeCommand('undo');
    await vscode.commands.executeCommand('undo');
    await waitFor(() => doc.getText() === original, 'the original text after two undos', 10_000);
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  },

  async 'compress with an empty selection leaves the document alone'() {
    const original = 'Nothing selected here.\n';
    const doc = await vscode.workspace.openTextDocument({ content: original, language: 'plaintext' });
    const editor = await vscode.window.showTextDocument(doc);
    editor.selection = new vscode.Selection(0, 0, 0, 0);
    await vscode.commands.executeCommand('textvae.compressSelection');
    await sleep(500);
    assert.equal(doc.getText(), original);
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  },
};
