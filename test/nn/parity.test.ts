import { describe, test } from 'node:test';
import { loadCases, parityFiles, runCase } from './parity-cases.js';

for (const file of parityFiles) {
  const cases = loadCases(file);
  describe(`PyTorch parity: ${file}`, () => {
    for (const c of cases) {
      test(`${c.name} float64`, () => runCase(c, 'float64'));
      test(`${c.name} float32`, () => runCase(c, 'float32'));
    }
  });
}
