import assert from 'node:assert/strict';
import { test } from 'node:test';
import { trainEcho } from '../../examples/echo.js';

test('the LSTM example learns the delayed echo (seed 1, 300 steps): held-out loss < 0.05 nats against ln 4 = 1.386', () => {
  const { heldOutLoss, baseline, losses } = trainEcho({ seed: 1, steps: 300 });
  assert.ok(losses[0]! > 1.2, `first loss ${losses[0]} should be near the baseline ${baseline}`);
  assert.ok(heldOutLoss < 0.05, `held-out loss ${heldOutLoss}`);
});
