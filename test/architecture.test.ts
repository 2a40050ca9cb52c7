/**
 * docs/architecture.md, enforced: the floors table is read from the page, the imports from the TypeScript
 * sources (test/architecture/scan.ts). Each rule is also run on a few made-up files with a planted violation,
 * so that a rule that can no longer fail is noticed.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import {
  importCycles, misplacedNodeOnly, nodeImportsReachable, readFloors, sidewaysUsers, unresolved, upwardImports,
} from './architecture/rules.js';
import { graphOf, readGraph, type Graph } from './architecture/scan.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url)); // from dist/test/
const USERS = ['web', 'examples', 'bench'];
const FLOORS = readFloors(readFileSync(`${ROOT}docs/architecture.md`, 'utf8'));
const GRAPH = readGraph(ROOT, ['src', ...USERS]);

/**
 * Node-only modules that other work is rewriting now (issue 17: the runner replaces the task trainers and
 * checkpoints; a trainer names its replica module by URL): each must move into a node/ folder, or stop being
 * Node-only, and leave this list. An entry that no longer applies fails the test.
 */
const NOT_YET_MOVED = new Set<string>([
]);

function assertNone(found: readonly string[], rule: string): void {
  assert.deepEqual(found, [], `${rule}:\n  ${found.join('\n  ')}`);
}

describe('architecture (docs/architecture.md)', () => {
  test('the floors table places the folders the page names', () => {
    assert.equal(FLOORS.get('tensor'), 1);
    assert.equal(FLOORS.get('decode'), 2);
    assert.equal(FLOORS.get('io'), 5);
    assert.equal(FLOORS.get('training'), 7);
    assert.equal(FLOORS.get('cli'), 9);
  });

  test('every relative import names a TypeScript file the scanner reads', () => {
    assertNone(unresolved(GRAPH), 'unresolved imports');
  });

  test('no Node built-in is reachable from src/index.ts', () => {
    assertNone(nodeImportsReachable(GRAPH, 'src/index.ts'), 'Node built-ins reachable from the browser-safe API');
  });

  test('no import runs up a floor, and every folder of src/ has a floor', () => {
    assertNone(upwardImports(GRAPH, FLOORS), 'imports up a floor');
  });

  test('no import cycle among src/ modules', () => {
    assertNone(importCycles(GRAPH), 'import cycles');
  });

  test('Node-only modules live in node/ folders or src/cli/', () => {
    const found = misplacedNodeOnly(GRAPH);
    assertNone(found.filter((line) => !NOT_YET_MOVED.has(line.split(':')[0]!)), 'Node-only modules outside node/');
    const stale = [...NOT_YET_MOVED].filter((file) => !found.some((line) => line.startsWith(`${file}:`)));
    assertNone(stale, 'NOT_YET_MOVED lists modules that are no longer Node-only (remove them from the list)');
  });

  test('web/, examples/ and bench/ import only from src/ and their own folder', () => {
    assertNone(sidewaysUsers(GRAPH, USERS), 'users importing each other');
  });
});

/** A made-up tree: the floors tensor 1, nn 4, bptt 5, data 6 and an API file that imports them. */
function planted(extra: Record<string, string>): Graph {
  return graphOf(new Map(Object.entries({
    'src/index.ts': "export * from './nn/index.js';\nexport * from './bptt/index.js';",
    'src/tensor/index.ts': 'export const one = 1;',
    'src/nn/index.ts': "import { one } from '../tensor/index.js';\nexport const two = one + 1;",
    'src/bptt/index.ts': "export * from './engine.js';",
    'src/bptt/engine.ts': "import { two } from '../nn/index.js';\n// import { x } from 'node:fs' (a comment)\n"
      + 'export const three = two + 1;',
    'src/data/index.ts': "import type { Worker } from 'node:worker_threads';\nexport type W = Worker;",
    'web/main.ts': "import { two } from '../src/nn/index.js';\nexport const four = two + 2;",
    'examples/echo.ts': "export const five = 5;",
    ...extra,
  })));
}
const PLANTED_FLOORS = new Map([['tensor', 1], ['nn', 4], ['bptt', 5], ['data', 6]]);

describe('each architecture rule fails on a planted violation', () => {
  test('the made-up tree itself breaks no rule but the Node-only placement of data/', () => {
    const g = planted({});
    assertNone(unresolved(g), 'unresolved');
    assertNone(nodeImportsReachable(g, 'src/index.ts'), 'reachable');
    assertNone(upwardImports(g, PLANTED_FLOORS), 'upward');
    assertNone(importCycles(g), 'cycles');
    assertNone(sidewaysUsers(g, USERS), 'sideways');
    assert.deepEqual(misplacedNodeOnly(g), [
      "src/data/index.ts:1 imports 'node:worker_threads' (type only), a Node built-in: "
        + 'so it is Node-only, and belongs in a node/ folder',
    ]);
  });

  test('a Node built-in reached through a re-export, with the chain of files', () => {
    const g = planted({ 'src/bptt/index.ts': "export * from './engine.js';\nexport * from './node/pool.js';",
      'src/bptt/node/pool.ts': "import { Worker } from 'worker_threads';\nexport const pool = [Worker];" });
    assert.deepEqual(nodeImportsReachable(g, 'src/index.ts'), [
      "src/index.ts → src/bptt/index.ts → src/bptt/node/pool.ts: src/bptt/node/pool.ts:1 imports 'worker_threads'",
    ]);
    // `import type` is erased: not followed, and not a built-in import at run time.
    const erased = planted({ 'src/nn/index.ts': "import type { Stats } from 'node:fs';\nexport type S = Stats;" });
    assertNone(nodeImportsReachable(erased, 'src/index.ts'), 'type-only');
  });

  test('an import up a floor, and a folder on no floor', () => {
    const g = planted({ 'src/nn/index.ts': "import type { three } from '../bptt/engine.js';\nexport type T = three;",
      'src/extra/x.ts': 'export const x = 1;' });
    assert.deepEqual(upwardImports(g, PLANTED_FLOORS), [
      'src/extra/x.ts: src/extra/ is on no floor of docs/architecture.md (place it there)',
      "src/nn/index.ts:1 imports '../bptt/engine.js' (type only): floor 4 → floor 5",
    ]);
  });

  test('an import cycle, type-only included, as its path', () => {
    const g = planted({ 'src/bptt/guard.ts': "import type { three } from './engine.js';\nexport type G = three;",
      'src/bptt/engine.ts': "import type { G } from './guard.js';\nexport const three = 3;\nexport type E = G;" });
    assert.deepEqual(importCycles(g), [
      "src/bptt/engine.ts:1 imports './guard.js' (type only), src/bptt/guard.ts:1 imports './engine.js' (type only)",
    ]);
  });

  test('a browser-safe module importing a node/ module', () => {
    const g = planted({ 'src/bptt/node/pool.ts': "import { cpus } from 'node:os';\nexport const n = cpus().length;",
      'src/bptt/engine.ts': "import { n } from './node/pool.js';\nexport const three = n;" });
    assert.deepEqual(misplacedNodeOnly(g).filter((line) => line.startsWith('src/bptt/')), [
      "src/bptt/engine.ts:1 imports './node/pool.js', a Node-only module: "
        + 'so it is Node-only, and belongs in a node/ folder',
    ]);
  });

  test('web/ importing examples/', () => {
    const g = planted({ 'web/main.ts': "import { five } from '../examples/echo.js';\nexport const six = five + 1;" });
    assert.deepEqual(sidewaysUsers(g, USERS), [
      "web/main.ts:1 imports '../examples/echo.js': web/ imports from src/ and web/ only",
    ]);
  });
});
