// ESLint: TypeScript rules plus the import boundaries of DESIGN.md, enforced here, not in review.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import reactHooks from 'eslint-plugin-react-hooks';

const nodeBuiltins = ['fs', 'net', 'tls', 'dns', 'child_process', 'http', 'https', 'os', 'path', 'crypto', 'stream', 'worker_threads'];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'renderer/dist/**', 'bench/results/**', 'test-results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['bin/**/*.js', '.ci/**/*.js', '**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // The engine runs headless: server/ never reaches into the desktop shell or the UI.
    files: ['server/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [{ name: 'electron', message: 'server/ runs headless and must not import electron.' }],
        patterns: [{ group: ['**/electron/**', '**/renderer/**', 'react', 'react-dom'], message: 'server/ must not import the desktop shell or the UI.' }],
      }],
    },
  },
  {
    // The UI talks only to the AdminApi: types and schemas from server/contract, nothing else of server/.
    files: ['renderer/**/*.ts', 'renderer/**/*.tsx'],
    languageOptions: { globals: { ...globals.browser } },
    plugins: { 'react-hooks': reactHooks },
    rules: {
      'react-hooks/rules-of-hooks': 'error',
      'react-hooks/exhaustive-deps': 'warn',
      'no-restricted-imports': ['error', {
        paths: [{ name: 'electron', message: 'the renderer is sandboxed; use the AdminApi client.' }],
        patterns: [{ regex: '(^|/)server/(?!contract/)', message: 'the renderer imports only server/contract (types and schemas).' }, { group: ['node:*'], message: 'no Node in the renderer.' }],
      }],
    },
  },
  {
    // Policy is pure: decisions from (settings, facts) only, so the simulator and the engine agree.
    files: ['server/policy/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [
          { name: 'electron', message: 'policy is pure.' },
          { name: 'better-sqlite3', message: 'policy is pure: the store belongs to server/store.' },
          { name: 'smtp-server', message: 'policy is pure: only server/engine knows the wire.' },
          ...nodeBuiltins.flatMap((name) => [
            { name, message: 'policy is pure: no I/O.' },
            { name: `node:${name}`, message: 'policy is pure: no I/O.' },
          ]),
        ],
        patterns: [{ group: ['../store/**', '../engine/**', '../spool/**', '../dns/**'], message: 'policy is pure.' }],
      }],
      'no-restricted-properties': ['error', { object: 'Date', property: 'now', message: 'policy takes the time as an argument.' }],
    },
  },
);
