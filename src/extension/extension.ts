/**
 * TextVAE's extension entry point. Activation stays light: nothing here loads the model engine;
 * the engine runs in its own process (dist/worker.js), started on the first command that needs it.
 */
import * as vscode from 'vscode';
import * as path from 'node:path';
import { EngineClient } from './engineClient';
import { ModelManager } from './models';
import { TrainingController } from './training';
import { EditorCommands, LatentCodeHoverProvider } from './editorCommands';
import { ReadOnlyDocuments } from './readOnlyDocuments';
import { createGeneratorHost } from './generatorHost';
import { Log, reportError } from './services';
import { onDidChangeSettings, setByUser, setting } from './config';
import { STRATEGY_SETTING_KEYS, ignoredDecodingSettings } from '../protocol/settings';
import { GeneratorPanel } from './panels/generatorPanel';
import { TrainingPanel } from './panels/trainingPanel';
import { NativeBackend } from './nativeBackend';

/** For the walkthrough: prose of the kind the bundled model was trained on (technical documentation). */
const SAMPLE_TEXT = [
  'A function returns a new list that holds the items of the sequence in sorted order.',
  'The original sequence is not changed, so it can still be used after the call.',
  '',
  'When the key argument is given, it names a function of one argument that is called on each item before the comparison.',
  '',
].join('\n');

let engineForDeactivate: EngineClient | undefined;

export function activate(context: vscode.ExtensionContext): void {
  const started = performance.now();
  const log = new Log();
  const docs = new ReadOnlyDocuments();
  const models = new ModelManager(context, log, docs);
  const native = new NativeBackend(context, log, async () => {
    if (training.running) {
      void vscode.window.showInformationMessage(
        'The engine restarts after the training run: run "TextVAE: Restart Engine" then.',
      );
      return false;
    }
    await vscode.commands.executeCommand('textvae.restartEngine');
    return true;
  });
  // Beam settings under greedy decoding would be dropped without a word.
  const warnIgnoredDecoding = () => {
    const line = ignoredDecodingSettings(setting('decoding.strategy'), setByUser(STRATEGY_SETTING_KEYS));
    if (line) log.line(line);
  };
  const engine = new EngineClient({
    workerPath: path.join(context.extensionPath, 'dist', 'worker.js'),
    log: (line) => log.line(line),
    getBackend: () => setting('backend'),
    getEnv: (): Record<string, string> => {
      const dir = native.dir;
      return dir ? { TEXTVAE_NATIVE_DIR: dir } : {};
    },
    getStartupModel: () => models.startupModel(),
    onStartupModelError: (_dir, err) => models.reportLoadError(err, 'Run "TextVAE: Select Model" to choose another.'),
  });
  engineForDeactivate = engine;
  models.attach(engine);
  const training = new TrainingController(context, engine, models, log, (backend) =>
    native.offerOnTraining(backend, setting('backend')),
  );
  const editor = new EditorCommands(engine, log, docs);
  const hover = new LatentCodeHoverProvider(engine, log);
  const generatorHost = createGeneratorHost(engine, models, log);
  context.subscriptions.push(
    log,
    docs,
    models,
    engine,
    training,
    editor,
    models.onDidChangeModel(() => hover.clearCache()),
  );

  const command = (id: string, what: string, run: () => unknown) =>
    context.subscriptions.push(
      vscode.commands.registerCommand(id, async () => {
        try {
          await run();
        } catch (err) {
          reportError(log, what, err);
        }
      }),
    );

  /** Starts the engine in the background (panels show the model once it is loaded). */
  const warmUp = () => {
    engine.start().catch((err) => reportError(log, 'starting the engine', err));
  };

  command('textvae.train', 'training', () => training.train());
  command('textvae.cancelTraining', 'cancelling training', () => training.cancel());
  command('textvae.showTraining', 'showing the training curves', () => training.showPanel());
  command('textvae.compressSelection', 'compressing the selection', () => editor.compressSelection());
  command('textvae.compressSelectionLossless', 'compressing the selection losslessly', () =>
    editor.compressSelectionLossless(),
  );
  command('textvae.reconstructFromCode', 'reconstructing from the code', () => editor.reconstructFromCode());
  command('textvae.reconstructSelection', 'reconstructing the selection', () => editor.reconstructSelection());
  command('textvae.openGenerator', 'opening the generator', () => {
    GeneratorPanel.createOrShow(context.extensionUri, generatorHost);
    warmUp();
  });
  command('textvae.installNativeBackend', 'installing the native backend', () => native.install());
  command('textvae.openSampleText', 'opening a sample text', async () => {
    const doc = await vscode.workspace.openTextDocument({ language: 'markdown', content: SAMPLE_TEXT });
    // Beside: the walkthrough that asked for it stays in view.
    const editor = await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.Beside, preview: false });
    // The first sentence, selected: ready for Compress Selection.
    const end = doc.positionAt(SAMPLE_TEXT.indexOf('.') + 1);
    editor.selection = new vscode.Selection(new vscode.Position(0, 0), end);
  });
  command('textvae.selectModel', 'selecting a model', () => models.selectModel());
  command('textvae.showModelInfo', 'showing model info', () => models.showModelInfo());
  command('textvae.restartEngine', 'restarting the engine', async () => {
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'TextVAE: Restarting the engine…' },
      () => engine.restart(),
    );
    const backend = engine.backend?.name ?? 'unknown';
    void vscode.window.showInformationMessage(
      engine.model
        ? `TextVAE engine restarted (backend ${backend}, model ${models.displayName()}).`
        : `TextVAE engine restarted (backend ${backend}); no model is loaded.`,
    );
  });

  context.subscriptions.push(
    vscode.languages.registerHoverProvider([{ scheme: 'file' }, { scheme: 'untitled' }], hover),
    vscode.window.registerWebviewPanelSerializer(GeneratorPanel.viewType, {
      deserializeWebviewPanel: async (panel, state) => {
        GeneratorPanel.revive(panel, state, context.extensionUri, generatorHost);
        warmUp();
      },
    }),
    vscode.window.registerWebviewPanelSerializer(TrainingPanel.viewType, {
      deserializeWebviewPanel: async (panel, state) => training.revivePanel(panel, state),
    }),
    engine.onDidCrash((message) => {
      void vscode.window.showErrorMessage(message, 'Show Output').then((a) => {
        if (a === 'Show Output') log.channel.show(true);
      });
    }),
    onDidChangeSettings((changed) => {
      if (changed('modelPath')) void models.settingChanged();
      if (changed('decoding.strategy') || STRATEGY_SETTING_KEYS.some(changed)) warnIgnoredDecoding();
      if (changed('backend') && engine.running) {
        void vscode.window
          .showInformationMessage('The new TextVAE backend takes effect when the engine restarts.', 'Restart Engine')
          .then((a) => {
            if (a === 'Restart Engine') void vscode.commands.executeCommand('textvae.restartEngine');
          });
      }
      models.updateStatusBar();
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => models.updateStatusBar()),
  );
  void vscode.commands.executeCommand('setContext', 'textvae.training', false);
  warnIgnoredDecoding();

  log.line(`activated in ${(performance.now() - started).toFixed(1)} ms`);
}

export function deactivate(): void {
  engineForDeactivate?.dispose();
  engineForDeactivate = undefined;
}
