import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TimeBudget, decodeUntil, testedPart } from '../../src/training/index.js';

test('decodeUntil decodes part by part until the deadline, at least one part; testedPart says what was scored', () => {
  const clock = { t: 0 };
  const items = Array.from({ length: 10 }, (_, i) => i);
  const decode = (part: number[]): number[] => {
    clock.t += 10; // each part takes 10 ms
    return part.map((x) => 2 * x);
  };
  const all = decodeUntil(items, null, decode, 3, () => clock.t);
  assert.deepEqual(all, { results: items.map((x) => 2 * x), count: 10, complete: true });
  assert.equal(testedPart(all, 10, 'words'), '10 words');
  clock.t = 0;
  const cut = decodeUntil(items, 25, decode, 3, () => clock.t);
  assert.deepEqual([cut.count, cut.complete], [9, false]);
  assert.match(testedPart(cut, 10, 'words'), /^the first 9 of 10 words \(the time budget ran out/);
  clock.t = 100;
  assert.equal(decodeUntil(items, 25, decode, 3, () => clock.t).count, 3, 'one part even past the deadline');
});

test('TimeBudget keeps the final validation and the work after it, at most maxEndMs', () => {
  const now = (): number => 0;
  // 10 s left, 1 s kept for exiting, a validation of 1 s and a test of 3 validations' worth: 5 s of training
  assert.equal(new TimeBudget(10_000, now, 1000, 1000, 3).remainingTrainMs(), 5000);
  // capped: at most 2 s for the validation and the test together
  assert.equal(new TimeBudget(10_000, now, 1000, 1000, 3, 2000).remainingTrainMs(), 7000);
  // the final validation itself is always kept
  assert.equal(new TimeBudget(10_000, now, 1000, 3000, 3, 2000).remainingTrainMs(), 6000);
});
