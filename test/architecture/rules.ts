/**
 * The rules of docs/architecture.md as functions of an import graph (paths relative to the repository), so
 * that each is checked on the real sources and, with a planted violation, on a few made-up files. Each
 * returns its violations as lines saying which file imports what.
 */
import { isNodeBuiltin, type Graph, type Import } from './scan.js';

/** `src/bptt/engine.ts:12 imports './guard.js'`. */
export function describe(imp: Import): string {
  return `${imp.file}:${imp.line} imports '${imp.spec}'${imp.typeOnly ? ' (type only)' : ''}`;
}

/** Folder → floor, from the rows `| 4 | \`src/nn/\`, \`src/losses/\` | ... |` of the floors table. */
export function readFloors(markdown: string): Map<string, number> {
  const floors = new Map<string, number>();
  for (const row of markdown.matchAll(/^\|\s*(\d+)\s*\|([^|]*)\|/gm)) {
    for (const [, folder] of row[2]!.matchAll(/`src\/([\w-]+)\/`/g)) {
      if (floors.has(folder!)) throw new Error(`docs/architecture.md: src/${folder}/ is on two floors`);
      floors.set(folder!, Number(row[1]));
    }
  }
  return floors;
}

/** The floor of a file under src/ from its top folder; src/index.ts and src/node.ts are the API, above all. */
export function floorOf(floors: ReadonlyMap<string, number>, file: string): number | undefined {
  const parts = file.split('/');
  return parts.length === 2 ? Infinity : floors.get(parts[1]!);
}

const inSrc = (file: string) => file.startsWith('src/');

/**
 * Node built-ins reachable from `entry` through relative imports that survive compilation: `import type`
 * is erased by tsc, so it neither carries reachability nor counts. Each violation shows the chain of files.
 */
export function nodeImportsReachable(graph: Graph, entry: string): string[] {
  const via = new Map<string, string | undefined>([[entry, undefined]]);
  const chain = (file: string): string[] => {
    const from = via.get(file);
    return from === undefined ? [file] : [...chain(from), file];
  };
  const queue = [entry];
  const found: string[] = [];
  while (queue.length > 0) {
    const file = queue.shift()!;
    for (const imp of graph.imports.get(file) ?? []) {
      if (imp.typeOnly) continue;
      if (isNodeBuiltin(imp.spec)) found.push(`${chain(file).join(' → ')}: ${describe(imp)}`);
      else if (imp.target !== undefined && !via.has(imp.target)) {
        via.set(imp.target, file);
        queue.push(imp.target);
      }
    }
  }
  return found;
}

/** Files under src/ whose folder is on no floor, and imports (type-only too) from a floor to a higher one. */
export function upwardImports(graph: Graph, floors: ReadonlyMap<string, number>): string[] {
  const found: string[] = [];
  for (const file of graph.files.filter(inSrc)) {
    const floor = floorOf(floors, file);
    if (floor === undefined) {
      found.push(`${file}: src/${file.split('/')[1]}/ is on no floor of docs/architecture.md (place it there)`);
      continue;
    }
    for (const imp of graph.imports.get(file) ?? []) {
      const above = imp.target === undefined ? undefined : floorOf(floors, imp.target);
      if (above !== undefined && above > floor) {
        found.push(`${describe(imp)}: floor ${floor} → floor ${above === Infinity ? 'of the API' : above}`);
      }
    }
  }
  return found;
}

/**
 * Import cycles among src/ modules, type-only imports included (a circle is one to a reader even when tsc
 * erases it): one per strongly connected component, as the imports that lead from its first file back to it.
 */
export function importCycles(graph: Graph): string[] {
  const edges = new Map<string, Import[]>();
  for (const file of graph.files.filter(inSrc)) {
    edges.set(file, (graph.imports.get(file) ?? []).filter((imp) => imp.target !== undefined && inSrc(imp.target)));
  }
  return components(edges)
    .filter((c) => c.length > 1 || edges.get(c[0]!)!.some((imp) => imp.target === c[0]))
    .map((component) => cyclePath(component, edges));
}

/** Tarjan's strongly connected components of the files in `edges`. */
function components(edges: ReadonlyMap<string, Import[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const { target } of edges.get(v)!) {
      const w = target!;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    for (let w = ''; w !== v;) {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    }
    out.push(component.sort());
  };
  for (const file of edges.keys()) if (!index.has(file)) visit(file);
  return out;
}

/** The shortest path of imports from the component's first file back to itself. */
function cyclePath(component: string[], edges: ReadonlyMap<string, Import[]>): string {
  const inside = new Set(component);
  const start = component[0]!;
  const reachedBy = new Map<string, Import>();
  const queue = [start];
  while (queue.length > 0 && !reachedBy.has(start)) {
    for (const imp of edges.get(queue.shift()!)!) {
      const next = imp.target!;
      if (!inside.has(next) || reachedBy.has(next)) continue;
      reachedBy.set(next, imp);
      queue.push(next);
    }
  }
  const steps: Import[] = [reachedBy.get(start)!];
  while (steps[0]!.file !== start) steps.unshift(reachedBy.get(steps[0]!.file)!);
  const more = component.length > steps.length ? ` (the circle holds ${component.length} files)` : '';
  return `${steps.map(describe).join(', ')}${more}`;
}

/** Where Node-only modules may live: a node/ folder, src/cli/, or src/node.ts (the Node-only API). */
export function inNodeOnlyPlace(file: string): boolean {
  return file.startsWith('src/cli/') || file.includes('/node/') || file === 'src/node.ts';
}

/**
 * Modules under src/ outside a Node-only place that import a Node built-in or a module of a node/ folder:
 * either makes them Node-only. Type-only imports count too (their declarations would need @types/node).
 */
export function misplacedNodeOnly(graph: Graph): string[] {
  const found: string[] = [];
  for (const file of graph.files.filter((f) => inSrc(f) && !inNodeOnlyPlace(f))) {
    for (const imp of graph.imports.get(file) ?? []) {
      const what = isNodeBuiltin(imp.spec) ? 'a Node built-in'
        : imp.target?.includes('/node/') ? 'a Node-only module' : null;
      if (what) found.push(`${describe(imp)}, ${what}: so it is Node-only, and belongs in a node/ folder`);
    }
  }
  return found;
}

/** Imports from a folder of library users (web/, examples/, bench/) into anything but src/ and itself. */
export function sidewaysUsers(graph: Graph, users: readonly string[]): string[] {
  const found: string[] = [];
  for (const file of graph.files) {
    const own = users.find((u) => file.startsWith(`${u}/`));
    if (own === undefined) continue;
    for (const imp of graph.imports.get(file) ?? []) {
      const to = imp.target;
      if (to !== undefined && !inSrc(to) && !to.startsWith(`${own}/`)) {
        found.push(`${describe(imp)}: ${own}/ imports from src/ and ${own}/ only`);
      }
    }
  }
  return found;
}

/** Relative imports that name no .ts file: the scanner would not see past them. */
export function unresolved(graph: Graph): string[] {
  return [...graph.imports.values()].flat()
    .filter((imp) => imp.spec.startsWith('.') && imp.target === undefined).map(describe);
}
