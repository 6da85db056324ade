// Type-aware lint for the whole repository (typescript-eslint strictTypeChecked), plus the
// layer rule: which folder of src/ may import which (scripts/layers.mjs).
import path from 'node:path';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { layerViolation } from './scripts/layers.mjs';

const srcDir = path.join(import.meta.dirname, 'src');

/** `cairn/layers`: every import of a src/ file, static, dynamic or type-only, checked. */
const layers = {
  meta: {
    type: 'problem',
    docs: { description: 'imports follow the layer table in scripts/layers.mjs' },
    schema: [],
  },
  create(context) {
    const from = path.relative(srcDir, context.filename).split(path.sep).join('/');
    if (from.startsWith('..')) return {};
    const check = (node, source) => {
      if (source?.type !== 'Literal' || typeof source.value !== 'string') return;
      const why = layerViolation(from, source.value);
      if (why !== undefined) context.report({ node: source, message: `${source.value}: ${why}` });
    };
    return {
      ImportDeclaration: (n) => check(n, n.source),
      ExportAllDeclaration: (n) => check(n, n.source),
      ExportNamedDeclaration: (n) => check(n, n.source),
      ImportExpression: (n) => check(n, n.source),
      TSImportType: (n) =>
        check(n, n.argument.type === 'TSLiteralType' ? n.argument.literal : n.argument),
    };
  },
};

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'bench/out/'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
    },
  },
  {
    // Unit tests beside the code may assemble scenarios across layers.
    files: ['src/**/*.ts'],
    ignores: ['src/**/*.test.ts'],
    plugins: { cairn: { rules: { layers } } },
    rules: { 'cairn/layers': 'error' },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
);
