// ESLint flat config: typescript-eslint recommended rules plus the two promise rules that need
// type information, and the Temporal workflow sandbox rules for src/workflows.
import { builtinModules } from 'node:module';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

const escapeRegex = (text) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

// Every Node built-in, bare (`fs`, `fs/promises`, `timers`, ...) or with the `node:` prefix.
const nodeBuiltins = [...new Set(builtinModules.map((name) => name.replace(/^node:/, '')))];
const nodeBuiltinRegex = `^(node:.*|(${nodeBuiltins.map(escapeRegex).join('|')})(/.*)?)$`;

export default defineConfig(
  {
    ignores: [
      'src/generated/**',
      // `npm run build`'s output: compiled JavaScript and the workflow bundle.
      'dist/**',
      'node_modules/**',
      '.data/**',
      '.tools/**',
      'deploy/**',
      'bench/results/**',
    ],
  },
  tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // node:test's describe/it return promises that the runner itself tracks.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] },
          ],
        },
      ],
      // Express 5 handles rejected promises from handlers, so passing async functions is fine.
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      // A leading underscore marks a parameter kept for its position (Express handlers, interfaces).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' },
      ],
    },
  },
  {
    // Plain JavaScript files (this config, tools/*.mjs) are not in a TypeScript project.
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      parserOptions: { projectService: false, program: null, project: false },
    },
  },
  {
    // Workflow code runs in Temporal's deterministic sandbox: no Node built-ins, no I/O,
    // no client/worker/activity runtime, and activities only as types (via proxyActivities).
    files: ['src/workflows/**/*.ts', 'bench/floor/workflows.ts'],
    rules: {
      'no-restricted-imports': 'off',
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: nodeBuiltinRegex,
              message: 'Workflow code must not use Node built-ins: it runs in the Temporal workflow sandbox.',
            },
            {
              group: ['@temporalio/client', '@temporalio/worker', '@temporalio/activity'],
              allowTypeImports: true,
              message:
                'Workflow code may only use @temporalio/workflow and @temporalio/common (type-only imports are fine).',
            },
            {
              regex: '^(\\.\\./)+activities(/.*)?$',
              allowTypeImports: true,
              message:
                'Workflows may import activities only as types (`import type`) and call them via proxyActivities.',
            },
          ],
        },
      ],
    },
  },
  {
    // The doors call the domain; the domain knows nothing of HTTP. Data flows one way:
    // api/bot -> domain -> workflow -> activities -> channel.
    files: ['src/bot/**/*.ts', 'src/domain/**/*.ts', 'src/store/**/*.ts', 'src/activities/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(\\.\\./)+api(/.*)?$',
              message: 'Only the HTTP door imports src/api: call the domain (src/domain) instead.',
            },
            { group: ['express'], message: 'HTTP belongs to src/api.' },
          ],
        },
      ],
    },
  },
);
