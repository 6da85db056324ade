/**
 * The layer table (scripts/layers.mjs) holds for every import in src/ — static, dynamic
 * `import()` and `import('…')` types — so a new upward or sideways import fails CI even where
 * lint does not run.
 */
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs shared with eslint.config.js, without type declarations
import * as table from '../../scripts/layers.mjs';

const layerViolation = (
  table as { layerViolation: (from: string, spec: string) => string | undefined }
).layerViolation;
const src = path.join(import.meta.dirname, '..', '..', 'src');

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const abs = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(abs);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [abs] : [];
  });
}

/** Every module specifier of a file, with the kind of import that names it. */
function specifiers(file: string): { spec: string; line: number }[] {
  const text = fs.readFileSync(file, 'utf8');
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: { spec: string; line: number }[] = [];
  const add = (node: ts.Node | undefined) => {
    if (node !== undefined && ts.isStringLiteralLike(node))
      found.push({ spec: node.text, line: sf.getLineAndCharacterOfPosition(node.pos).line + 1 });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) add(node.moduleSpecifier);
    else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword)
      add(node.arguments[0]);
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument))
      add(node.argument.literal);
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

describe('layers', () => {
  it('every import in src/ follows the layer table', () => {
    const violations: string[] = [];
    for (const file of sourceFiles(src)) {
      const rel = path.relative(src, file).split(path.sep).join('/');
      for (const { spec, line } of specifiers(file)) {
        const why = layerViolation(rel, spec);
        if (why !== undefined) violations.push(`src/${rel}:${line}: ${spec}: ${why}`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('the table refuses upward, unlisted sideways and sibling imports, and allows the rest', () => {
    expect(layerViolation('data/add.ts', '../pipeline/declared-outputs.js')).toMatch(
      /data may not import pipeline/,
    );
    expect(layerViolation('oci/registry/manifests.ts', '../../modelkit/read.js')).toMatch(
      /oci may not import modelkit/,
    );
    expect(layerViolation('commands/remote.ts', './kit.js')).toMatch(/siblings/);
    expect(layerViolation('commands/login.ts', 'commander')).toMatch(/only in src\/cli/);
    expect(layerViolation('serve/app.ts', '../deploy/plan.js')).toMatch(/same rank/);
    expect(layerViolation('modelkit/pack.ts', '../oci/layout.js')).toBeUndefined();
    expect(layerViolation('commands/kit.ts', './context.js')).toBeUndefined();
    expect(layerViolation('cli/main.ts', '../commands/kit.js')).toBeUndefined();
    expect(layerViolation('deploy/rollout.ts', '../serve/types.js')).toMatch(/same rank/);
    expect(layerViolation('pipeline/executor.ts', '../data/cache.js')).toBeUndefined();
  });
});
