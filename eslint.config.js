import js from '@eslint/js'
import tseslint from 'typescript-eslint'
import globals from 'globals'

/** analytics-next is a peer dependency: only its types may be imported by shipped code. */
const ANALYTICS_NEXT_TYPES_ONLY = {
  name: '@segment/analytics-next',
  message: 'Peer dependency: use `import type` only.',
  allowTypeImports: true,
}
/** The folders of src/, each owning one kind of knowledge. */
const ROOMS = ['smc', 'log', 'transport', 'plugin', 'dropIn', 'relay']

export default tseslint.config(
  { ignores: ['dist', 'node_modules', 'test-output'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.browser, ...globals.node } },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [ANALYTICS_NEXT_TYPES_ONLY] }] },
  },
  // The rooms of src/ and the one direction of their imports (docs/design.md#rooms): a file of a
  // room may import only from the rooms listed for it. A back-import fails `npm run lint`.
  ...Object.entries({
    smc: [],
    log: [],
    transport: ['smc', 'log'],
    plugin: ['transport', 'smc', 'log'],
    dropIn: ['plugin', 'log'],
    relay: ['smc'],
  }).map(([room, allowed]) => ({
    files: [`src/${room}/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [ANALYTICS_NEXT_TYPES_ONLY],
          patterns: ROOMS.filter((other) => other !== room && !allowed.includes(other)).map(
            (other) => ({
              group: [`../${other}/*`, `../../${other}/*`],
              message: `src/${room} may import only from ${[room, ...allowed].join(', ')} (docs/design.md#rooms).`,
            }),
          ),
        },
      ],
    },
  })),
)
