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
  const o = { deadline: 10_000, now: (): number => 0, reserveMs: 1000, afterwards: 3 };
  // 10 s left, 1 s kept for exiting, a validation of 1 s and a test of 3 validations' worth: 5 s of training
  assert.equal(new TimeBudget({ ...o, guessMs: 1000 }).remainingTrainMs(), 5000);
  // capped: at most 2 s for the validation and the test together
  assert.equal(new TimeBudget({ ...o, guessMs: 1000, maxEndMs: 2000 }).remainingTrainMs(), 7000);
  // the final validation itself is always kept
  assert.equal(new TimeBudget({ ...o, guessMs: 3000, maxEndMs: 2000 }).remainingTrainMs(), 6000);
  // a guess from the training speed: 100 items a validation, 1 ms an item trained, half that to validate
  const t = new TimeBudget({ ...o, afterwards: 0, validationItems: 100 });
  for (let i = 0; i < 5; i++) t.trained(10, 10);
  assert.equal(t.remainingTrainMs(), 10_000 - 1000 - 50);
});
