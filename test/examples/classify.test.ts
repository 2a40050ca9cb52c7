import assert from 'node:assert/strict';
import { test } from 'node:test';
import { trainClassifier } from '../../examples/classify.js';

test('the fit example learns which marker came first (seed 1, 400 updates): test accuracy > 0.95, chance 0.5',
  { timeout: 120_000 }, async () => {
    const untrained = await trainClassifier(1, 1);
    const { accuracy } = await trainClassifier(1, 400);
    assert.ok(untrained.accuracy < 0.8, `one update: accuracy ${untrained.accuracy}`);
    assert.ok(accuracy > 0.95, `test accuracy ${accuracy}`);
  });
