// Every user-visible text the end-to-end tests assert on, in one place, so that they are
// easy to align with the extension. Where each one comes from is noted beside it.

/** Command palette titles (package.json contributes.commands: "<category>: <title>"). */
export const TITLES = {
  train: 'TextVAE: Train on Workspace Documents',
  cancelTraining: 'TextVAE: Cancel Training',
  showTraining: 'TextVAE: Show Training Curves',
  compress: 'TextVAE: Compress Selection to Latent Code',
  reconstructFromCode: 'TextVAE: Reconstruct from Code',
  reconstructSelection: 'TextVAE: Reconstruct Selection',
  openGenerator: 'TextVAE: Open Generator',
  selectModel: 'TextVAE: Select Model',
  showModelInfo: 'TextVAE: Show Model Info',
  restartEngine: 'TextVAE: Restart Engine',
  installNative: 'TextVAE: Install Native Backend',
};

/** Notification texts (matched against the toast's text). */
export const MSG = {
  // src/extension/editorCommands.ts
  emptySelection: /Select some text to compress\./,
  noCode: /No code \(tvae2:… or tvz2:…\) under the cursor or in the selection\./,
  reconstructEmptySelection: /Select some text to reconstruct\./,
  // src/extension/logic/fidelity.ts fidelityNotice, after Compress Selection to Latent Code: "Replaced 1 selection
  // with a latent code. Latent codes are approximate: it reconstructs as “…” (36% of characters match)."
  fidelityNotice:
    /Replaced 1 selection with (a latent code|\d+ latent codes)\. (Latent codes are approximate: (it reconstructs|they reconstruct) as “[^”]*” \(\d+% of characters match\)|(It reconstructs|They reconstruct) exactly as written)\./,
  fidelityUnchecked: /could not check how (this one reconstructs|these reconstruct)/,
  // src/extension/editorCommands.ts CODES_MOVED, when Undo or Use Lossless Code finds the document changed
  codesMoved: /The latent codes are no longer where TextVAE wrote them/,
  // src/core/latentCode.ts, through the engine: "latent code is corrupt: checksum mismatch (…)"
  corruptCode: /corrupt.*checksum|checksum.*corrupt/i,
  // src/extension/models.ts + src/core/bundle.ts: "Could not load the model: <dir>: no manifest.json: not a TextVAE
  // model folder. The current model stays active." (from the textvae.modelPath setting, and from Select Model)
  badModel: /Could not load the model: .*not-a-model: no manifest\.json: not a TextVAE model folder/,
  selectModelBadFolder: /Could not load the model: .*not-a-model: no manifest\.json: not a TextVAE model folder/,
  // src/extension/logic/format.ts modelInfoSummary: "Model default (1a2b3c4d, vae) on tensorflow: 1,234 parameters, …"
  modelInfo: /Model \S+ \([0-9a-f]{8}, \w+\) on (tensorflow|wasm|cpu)\b/,
  modelInfoBackend: /\bon (tensorflow|wasm|cpu)\b/,
  // src/extension/training.ts: withProgress title "TextVAE: Training"
  trainingProgress: /TextVAE: Training/,
  // src/extension/logic/format.ts trainingProgressMessage: "12% · about 13 s left · loss 5.123 · step 20"
  trainingProgressMetrics: /TextVAE: Training.*\d+% · .*step \d+/,
  // src/extension/logic/format.ts trainingFinishedMessage
  trainingFinished: /Training finished: held-out .* bits\/byte, \d+ active units\. The new model is now active\./,
  trainingFailed: /Training failed|Training cancelled|No documents to train on/,
  // src/extension/editorCommands.ts: vscode.diff title "Selection ↔ Reconstruction (similarity 0.87)"
  diffTitle: /similarity/i,
  // src/webview/generator/main.ts onInterpolate
  interpolateEmptyFrom: /Enter text in both From and To/,
  // src/extension/extension.ts textvae.restartEngine
  engineRestarted: (backend) => new RegExp(`TextVAE engine restarted \\(backend ${backend}\\b`),
  // src/extension/nativeBackend.ts
  nativeOffer: /TextVAE is training on WebAssembly\. Native TensorFlow trains about/,
  nativeProgress: /TextVAE: Installing the native backend/,
  nativeCancelled: /Installing the native backend was cancelled; nothing was kept\./,
  nativeInstalled: /Native TensorFlow backend installed \((\d+) MB, (\d+) s\)\. It is used after the engine restarts\./,
  nativeFailed: /Could not install the native backend|not on PATH/,
};

/** The status bar item of the model (src/extension/logic/format.ts statusBarText: "TextVAE: <name> · <backend>"). */
export const STATUS_BAR = /TextVAE: (\S+) · (\S+)/;
/** A trained model's folder name (modelFolderName). */
export const TRAINED_MODEL_NAME = /^model-\d{8}-\d{6}(-\d+)?$/;

/** Output channel lines for documents training left out (src/extension/training.ts), by reason. */
export const SKIPPED_LINE = (fileName) => new RegExp(`skipped \\S*/${fileName.replace(/[.]/g, '\\.')}: (.+)`);
export const SKIP_REASON = { binary: /binary/i, big: /larger than|too large|maxFileSizeKB/i };

/** A latent code as written by src/core/latentCode.ts. */
export const CODE_RE = /tvae[12]:([0-9a-f]{8}):[A-Za-z0-9_-]+/g;
