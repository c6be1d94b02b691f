import { describe, expect, it } from 'vitest';
import { parseReportFailOn } from '../src/report/fail-on.js';

describe('report --fail-on conditions', () => {
  it.each<[string, { metric: string; op: string; value: number } | RegExp]>([
    ['delivered<0.9', { metric: 'delivered', op: '<', value: 0.9 }],
    ['delivered<90%', { metric: 'delivered', op: '<', value: 0.9 }],
    ['read >= 0.25', { metric: 'read', op: '>=', value: 0.25 }],
    ['131026>50', { metric: '131026', op: '>', value: 50 }],
    ['awaiting>0', { metric: 'awaiting', op: '>', value: 0 }],
    ['delivered<1', { metric: 'delivered', op: '<', value: 1 }],
    ['delivered<1.5', /a rate runs from 0 to 1/], // it would always hold: a cron job failing every night
    ['delivered<90', /a rate runs from 0 to 1 \(delivered<0\.9, or delivered<90%\)/],
    ['failed>5%', /failed is a count, not a rate/],
    ['delivered<<1', /is not a condition/],
    ['bounced>1', /is not a condition/],
  ])('%s', (spec, expected) => {
    if (expected instanceof RegExp) expect(() => parseReportFailOn(spec)).toThrow(expected);
    else expect(parseReportFailOn(spec)).toEqual([{ text: spec, ...expected }]);
  });
});
