import { describe, expect, it } from 'vitest';
import { isoSeconds } from '../dist/webhooks/learn.js';

describe('isoSeconds', () => {
  it('writes an event time exactly as Date#toISOString does, across days, years and the largest times an event may carry', () => {
    const times = [1, 59, 60, 3599, 3600, 86_399, 86_400, 951_782_400 /* 2000-02-29 */, 1_795_600_000, 4_102_444_799, 253_402_300_799 /* 9999-12-31T23:59:59 */, 253_402_300_800, 999_999_999_999];
    for (let t = 1_700_000_000; t < 1_700_000_000 + 3 * 86_400; t += 7_777) times.push(t);
    for (let i = 0; i < 2_000; i++) times.push(1 + Math.floor(Math.random() * 999_999_999_999));
    // In order and shuffled: the cached day must never leak into another day's time.
    for (const t of [...times, ...times.sort(() => Math.random() - 0.5)]) expect(isoSeconds(t)).toBe(new Date(t * 1000).toISOString());
  });
});
