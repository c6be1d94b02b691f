import { describe, expect, it } from 'vitest';
import { isOptedIn, isOptOutFlag } from '../src/input/columns.js';
import { holdsYesNo } from '../src/input/column-values.js';

// Cells of opt-out and opt-in columns as CRM exports write them, and what
// clean and send read them as. One list of words behind all three.

describe('an opt-out column cell', () => {
  it.each<[unknown, boolean]>([
    ['yes', true], ['YES', true], ['Y', true], ['true', true], ['1', true], ['x', true], ['on', true], ['checked', true],
    ['iya', true], ['Iya', true], ['ya', true], // Indonesian
    ['sí', true], ['Sí', true], ['si', true], ['sim', true], // Spanish, Portuguese
    ['ja', true], ['oui', true],
    ['opted out', true], ['Opted-Out', true], ['opt_out', true], ['unsubscribed', true],
    [true, true], [1, true],
    // anything else recorded there says so too: an opted-out contact messaged is the harm to avoid
    ['✓', true], ['✔', true], ['1.0', true], ['STOP', true], ['Yes - opted out', true], ['Ya, berhenti', true], ['verdadero', true],
    ['2026-01-05', true], ['moved away', true], [2, true], [{ at: '2026-01-05' }, true],
    ['no', false], ['tidak', false], ['não', false], ['false', false], ['0', false], ['0.0', false], ['', false], ['  ', false],
    ['-', false], ['N/A', false], ['#N/A', false], ['none', false], ['NULL', false], ['NaN', false],
    ['opted in', false], ['subscribed', false],
    [false, false], [0, false], [null, false], [undefined, false],
  ])('%j opted out: %s', (cell, expected) => {
    expect(isOptOutFlag(cell)).toBe(expected);
  });
});

describe('an opt-in column cell', () => {
  it.each<[unknown, boolean]>([
    ['yes', true], ['iya', true], ['Sí', true], ['opted in', true], ['Opt-In', true], ['subscribed', true],
    ['granted', true], ['double_opt_in', true], ['2026-03-01T10:00:00Z', true], ['2026-03-01', true], [true, true], [1, true],
    ['opted out', false], ['unsubscribed', false], ['optout', false], // consent withdrawn is not consent
    ['01/03/2026', true], ['3/1/2026', true], ['13/01/2026', true], ['1 March 2026', true], ['March 1, 2026', true], ['2026-03-01 10:00:00', true],
    ['0000-00-00', false], ['0000-00-00 00:00:00', false], ['1900-01-01', false], ['2026-02-30', false], ['2026-13-45', false], ['2099-01-01', false],
    ['31/31/2026', false], ['March', false], ['1 March', false],
    ['no', false], ['tidak', false], ['', false], ['20260301', false], ['12345678', false], [0, false], [false, false], [null, false],
  ])('%j agreed: %s', (cell, expected) => {
    expect(isOptedIn(cell)).toBe(expected);
  });
});

describe('a column of yes/no answers (never a phone column)', () => {
  it.each<[string[], boolean]>([
    [['iya', 'tidak', ''], true],
    [['Sí', 'No'], true],
    [['opted out', 'subscribed'], true],
    [['yes', '+62 812 3456 7890'], false], // a digit among them: maybe numbers
    [['hello', 'world'], false],
    [[], false],
  ])('%j: %s', (cells, expected) => {
    expect(holdsYesNo(cells.map((c) => [c]), 0)).toBe(expected);
  });
});
