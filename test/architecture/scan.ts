/**
 * Reads the import graph of TypeScript sources with TypeScript's own parser (already a dev dependency), so
 * imports in comments and strings are never mistaken for real ones and `import type` is known. An import
 * of names used only as types is erased by tsc too, but only an explicit `type` counts here (conservative).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, posix } from 'node:path';
import ts from 'typescript';

/** One import or re-export: `file` (relative to the root, posix) imports `spec`. */
export interface Import {
  file: string;
  line: number;
  spec: string;
  /** The imported module's file when `spec` is relative, relative to the root. */
  target?: string;
  /** Erased by tsc: `import type`, `export type`, or every named binding marked `type`. */
  typeOnly: boolean;
}

/** The files of a source tree and their imports; files are posix paths relative to the root. */
export interface Graph {
  files: string[];
  imports: Map<string, Import[]>;
}

const BUILTINS = new Set(builtinModules);

/** A Node built-in: `node:x`, or a bare name Node resolves to one (`fs`, `worker_threads`, `fs/promises`). */
export function isNodeBuiltin(spec: string): boolean {
  return spec.startsWith('node:') || BUILTINS.has(spec);
}

/** Every .ts file under `dir` (not .d.ts), as posix paths relative to `root`. */
export function tsFiles(root: string, dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
    const rel = `${dir}/${entry.name}`;
    if (entry.isDirectory()) out.push(...tsFiles(root, rel));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(rel);
  }
  return out.sort();
}

function isTypeOnly(node: ts.ImportDeclaration | ts.ExportDeclaration): boolean {
  if (ts.isExportDeclaration(node)) {
    if (node.isTypeOnly) return true;
    const clause = node.exportClause;
    return !!clause && ts.isNamedExports(clause) && clause.elements.length > 0
      && clause.elements.every((e) => e.isTypeOnly);
  }
  const clause = node.importClause;
  if (!clause) return false; // `import 'x'` runs x
  if (clause.isTypeOnly) return true;
  const named = clause.namedBindings;
  return !clause.name && !!named && ts.isNamedImports(named) && named.elements.length > 0
    && named.elements.every((e) => e.isTypeOnly);
}

/** The imports of one file's text: declarations, re-exports, and `import('literal')` calls. */
export function importsIn(file: string, text: string): Omit<Import, 'target'>[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const out: Omit<Import, 'target'>[] = [];
  const add = (spec: ts.Expression, typeOnly: boolean) => {
    if (!ts.isStringLiteralLike(spec)) return;
    const line = source.getLineAndCharacterOfPosition(spec.getStart(source)).line + 1;
    out.push({ file, line, spec: spec.text, typeOnly });
  };
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier) {
      add(node.moduleSpecifier, isTypeOnly(node));
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [arg] = node.arguments;
      if (arg) add(arg, false);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      add(node.argument.literal as ts.Expression, true); // `import('x').T` in a type
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

/** `./x.js` from `dir/a.ts` → `dir/x.ts` (NodeNext: the .js names the compiled .ts). */
function resolveRelative(file: string, spec: string, files: Set<string>): string | undefined {
  const base = posix.normalize(posix.join(posix.dirname(file), spec));
  const candidates = [base.replace(/\.js$/, '.ts'), `${base}.ts`, `${base}/index.ts`];
  return candidates.find((c) => files.has(c));
}

/** The import graph of every .ts file under the folders `dirs` of `root`; paths are relative to `root`. */
export function readGraph(root: string, dirs: readonly string[]): Graph {
  const sources = new Map<string, string>();
  for (const dir of dirs) {
    for (const file of tsFiles(root, dir)) sources.set(file, readFileSync(join(root, file), 'utf8'));
  }
  return graphOf(sources);
}

/** The import graph of source texts by file name (how the tests plant violations without touching src/). */
export function graphOf(sources: ReadonlyMap<string, string>): Graph {
  const files = [...sources.keys()].sort();
  const known = new Set(files);
  const imports = new Map<string, Import[]>();
  for (const file of files) {
    imports.set(file, importsIn(file, sources.get(file)!).map((imp) =>
      imp.spec.startsWith('.') ? { ...imp, target: resolveRelative(file, imp.spec, known) } : imp));
  }
  return { files, imports };
}
