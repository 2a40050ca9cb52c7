/**
 * Shared pieces of the property tests: the "returns or throws a BpttError"
 * check and arbitraries that damage a valid file (truncate, flip, splice).
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BpttError } from '../../src/tensor/index.js';

// A failure report shows the exception itself, not only the counterexample.
// The seed is fixed so that every run (CI's too) tries the same cases and a red
// run reproduces; FC_SEED=<n> tries others, FC_SEED=random draws one (a failure
// report prints it). Sweeps over many seeds found the bugs these tests guard.
const seed = process.env.FC_SEED ?? '20261126';
fc.configureGlobal({ ...fc.readConfigureGlobal(), includeErrorInReport: true, ...(seed === 'random' ? {} : { seed: Number(seed) }) });

/** Modest run counts keep every property file well under a few seconds. */
export const RUNS = { numRuns: 150 };

/**
 * Calls `f`; a value passes `check` (when given), an exception must be a
 * BpttError (never a TypeError, RangeError, ...). Returns the value or null.
 */
export function valueOrBpttError<T>(f: () => T, check?: (value: T) => void): T | null {
  let value: T;
  try {
    value = f();
  } catch (e) {
    if (e instanceof BpttError) return null;
    throw new assert.AssertionError({ message: `expected a value or a BpttError, got ${e instanceof Error ? e.stack : String(e)}` });
  }
  check?.(value);
  return value;
}

export type Damage =
  | { kind: 'truncate'; at: number }
  | { kind: 'flip'; edits: Array<[number, number]> }
  | { kind: 'splice'; at: number; remove: number; insert: Uint8Array }
  | { kind: 'overwrite-u32'; at: number; value: number };

/** One way to damage a file: cut it, flip some bytes, splice in garbage, or overwrite a 32-bit field (lengths, sizes, offsets). */
export const damage: fc.Arbitrary<Damage> = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('flip' as const), edits: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }) }),
  fc.record({ kind: fc.constant('splice' as const), at: fc.nat(), remove: fc.nat({ max: 16 }), insert: fc.uint8Array({ maxLength: 16 }) }),
  fc.record({
    kind: fc.constant('overwrite-u32' as const),
    at: fc.nat(),
    value: fc.oneof(fc.constantFrom(0, 1, 2, 0x7fffffff, 0x80000000, 0xffffffff), fc.nat({ max: 0xffffffff })),
  }),
);

/** `bytes` with `d` applied (a fresh copy; positions wrap around the length). */
export function applyDamage(bytes: Uint8Array, d: Damage): Uint8Array {
  const n = bytes.length;
  switch (d.kind) {
    case 'truncate':
      return bytes.slice(0, n === 0 ? 0 : d.at % n);
    case 'flip': {
      const out = bytes.slice();
      if (n > 0) for (const [at, x] of d.edits) out[at % n] ^= x;
      return out;
    }
    case 'splice': {
      const at = n === 0 ? 0 : d.at % (n + 1);
      return Uint8Array.from([...bytes.subarray(0, at), ...d.insert, ...bytes.subarray(Math.min(n, at + d.remove))]);
    }
    case 'overwrite-u32': {
      const out = bytes.slice();
      if (n >= 4) new DataView(out.buffer).setUint32(d.at % (n - 3), d.value, true);
      return out;
    }
  }
}

/** Arbitrary bytes, sometimes starting with a given prefix (a magic number) so the parser gets past its first check. */
export function bytesWithPrefix(...prefixes: Uint8Array[]): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    fc.uint8Array({ maxLength: 256 }),
    fc.tuple(fc.constantFrom(...prefixes), fc.uint8Array({ maxLength: 256 })).map(([p, rest]) => Uint8Array.from([...p, ...rest])),
  );
}
