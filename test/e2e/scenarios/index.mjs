// The scenarios, in the order they run (one server and one browser for all of them).
// Each opens its own files (made by its setup() before the server starts) and the runner
// resets the workbench between them. Training runs after the others: it makes the workspace
// switch to the newly trained model. The API suite opens a second window in its own folder.
import { TITLES } from '../messages.mjs';
import apiSuite from './apiSuite.mjs';
import badInput from './badInput.mjs';
import compress from './compress.mjs';
import generator from './generator.mjs';
import modelInfo from './modelInfo.mjs';
import training from './training.mjs';
import walkthrough from './walkthrough.mjs';
import nativeInstall from './nativeInstall.mjs';
import readme from './readme.mjs';

const palette = {
  name: 'palette',
  title: 'the palette lists the TextVAE commands',
  timeout: 90_000,
  async run({ wb }) {
    // The palette lists an extension's commands a few seconds after the workbench shows.
    await wb.runCommand(TITLES.showModelInfo, { dryRun: true });
    const titles = await wb.paletteTitles('TextVAE:', { screenshot: 'palette' });
    const missing = [
      TITLES.openGenerator,
      TITLES.train,
      TITLES.showModelInfo,
      TITLES.selectModel,
      TITLES.showTraining,
      TITLES.installNative,
    ].filter((t) => !titles.includes(t));
    if (missing.length)
      throw new Error(`the palette does not list ${JSON.stringify(missing)}; it lists ${JSON.stringify(titles)}`);
  },
};

// walkthrough also runs against the .vsix; readme and native-install only there (npm run test:e2e:vsix).
export const SCENARIOS = [
  palette,
  walkthrough,
  modelInfo,
  compress,
  badInput,
  generator,
  training,
  apiSuite,
  readme,
  nativeInstall,
];
