/** The training rate on a fake clock: right from the first update, over a sliding window, blind to restarts. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RateMeter } from '../../src/report/rate-meter.js';

describe('RateMeter', () => {
  test('is the rate from the first update', () => {
    let ms = 0;
    const meter = new RateMeter({ count: 500, now: () => ms });
    ms = 100;
    assert.equal(meter.update(600), 1000, '100 items in 0.1 s');
  });

  test('leaves out the time between an update and restart() (validation, saving)', () => {
    let ms = 0;
    const meter = new RateMeter({ now: () => ms });
    for (let i = 1; i <= 30; i++) (ms += 100), meter.update(50 * i); // 500 items/s
    assert.equal(meter.value, 500);
    ms += 60_000; // a minute of validation
    meter.restart();
    ms += 100;
    assert.equal(meter.update(50 * 31), 500);
  });

  test('follows a change of speed over the window, not the whole run', () => {
    let ms = 0, count = 0;
    const meter = new RateMeter({ windowSeconds: 10, now: () => ms });
    for (let i = 0; i < 600; i++) (ms += 100), meter.update((count += 100)); // 1000 items/s for 60 s
    for (let i = 0; i < 120; i++) (ms += 100), meter.update((count += 10)); // then 100 items/s for 12 s
    assert.ok(Math.abs(meter.value - 100) < 1e-9, `${meter.value}`);
  });
});
