// ESLint (flat config): typescript-eslint's recommended rules, Prettier owns the layout
// (eslint-config-prettier turns off the rules it would fight), and the architecture's
// boundaries as import restrictions.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import { TFJS_CORE_MODULES } from './scripts/boundaries.mjs';

// Engine modules that load tfjs, as import patterns (any depth of '../'); type imports count too,
// since a type's module is where its readers look, and the host must not depend on it.
const tfjsModules = TFJS_CORE_MODULES.map((m) => `**/core/${m}`);

export default tseslint.config(
  { ignores: ['dist/', 'media/dist/', 'node_modules/', 'models/', '.bench/', '.e2e-artifacts/', 'scratch/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      // `_name` marks a value left unused on purpose (a destructured field dropped, a required parameter).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true },
      ],
    },
  },
  {
    // Browser code, and the preview script's page.evaluate callbacks, which run in the page.
    files: ['media/**/*.js', 'src/webview/**/*.ts', 'scripts/preview-webviews.mjs'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    // CommonJS files (the VS Code test runner's suite) load modules with require().
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { ...globals.commonjs } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // Tests feed hostile JSON to loaders and drive loose doubles of VS Code's API: `any` is the point there.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // The extension host and the webviews never load tfjs, not even through a type's module.
    files: ['src/extension/**/*.ts', 'src/webview/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@tensorflow/*', ...tfjsModules],
              message:
                'The extension host and webviews must not import modules that load tfjs: use core/types, core/choices or src/protocol.',
            },
            {
              group: ['**/worker/*', '**/cli/*'],
              message: 'The worker and the CLI are separate programs: share code through src/core or src/protocol.',
            },
          ],
        },
      ],
    },
  },
  {
    // The engine runs without VS Code (CLI, worker, scripts).
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'vscode', message: 'The engine never imports vscode.' }],
          patterns: [{ group: ['**/extension/*', '**/webview/*'], message: 'The engine never imports the UI.' }],
        },
      ],
    },
  },
);
