// Lint rules for the whole workspace. The module-boundary rule is the architecture, enforced:
// shared libs never reach into coordinator or node code, apps compose libs, libs never import apps.
import nx from '@nx/eslint-plugin';

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  { ignores: ['**/dist', '**/node_modules', '**/.nx', '**/coverage', '**/*.cjs'] },
  {
    files: ['**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          depConstraints: [
            { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
            { sourceTag: 'scope:coordinator', onlyDependOnLibsWithTags: ['scope:shared', 'scope:coordinator'] },
            { sourceTag: 'scope:node', onlyDependOnLibsWithTags: ['scope:shared', 'scope:node'] },
            { sourceTag: 'scope:cli', onlyDependOnLibsWithTags: ['scope:shared', 'scope:coordinator', 'scope:node', 'scope:cli'] },
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:feature', 'type:data-access', 'type:domain', 'type:util'] },
            { sourceTag: 'type:feature', onlyDependOnLibsWithTags: ['type:feature', 'type:data-access', 'type:domain', 'type:util'] },
            { sourceTag: 'type:data-access', onlyDependOnLibsWithTags: ['type:data-access', 'type:domain', 'type:util'] },
            { sourceTag: 'type:domain', onlyDependOnLibsWithTags: ['type:domain', 'type:util'] },
            { sourceTag: 'type:util', onlyDependOnLibsWithTags: ['type:util'] },
          ],
        },
      ],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-restricted-syntax': ['error', { selector: 'ExportDefaultDeclaration', message: 'No default exports.' }],
    },
  },
  {
    // Only the crypto lib touches cipher libraries.
    files: ['**/*.ts'],
    ignores: ['libs/crypto/**', 'bench/crypto.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: [{ name: 'tweetnacl', message: 'Only libs/crypto may import tweetnacl.' }] }],
    },
  },
  {
    // Shared libs stay framework-free: no NestJS, no Socket.IO (and, but for crypto, no cipher libraries).
    files: ['libs/{protocol,aggregation,models,data}/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'tweetnacl', message: 'Only libs/crypto may import tweetnacl.' }],
          patterns: [{ group: ['@nestjs/*', 'socket.io', 'socket.io-client'], message: 'Shared libs must not import NestJS or Socket.IO.' }],
        },
      ],
    },
  },
  {
    files: ['libs/crypto/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['@nestjs/*', 'socket.io', 'socket.io-client'], message: 'Shared libs must not import NestJS or Socket.IO.' }] },
      ],
    },
  },
];
