import { describe, expect, it } from 'vitest';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { RowFormat } from '../src/output/rows.js';
import { WaIdSet } from '../src/pipeline/waid-set.js';

const VALUES = [
  '', 'plain', 'a,b', 'a;b', 'tab\there', 'a|b', 'say "hi"', '"', 'line\nbreak', 'cr\rhere', 'crlf\r\n', ' padded ',
  '=SUM(A1)', '+62 812', '-5', '@cmd', '\tlead', '\rlead', '\uff1dfull', '\uff0bplus', '\uff0dminus', '\uff20at', 'ünïcödé', 'emoji 📞',
  "'quoted", 'x=1', '1,5', '=a,"b"',
];

describe('RowFormat.field', () => {
  // It writes most fields itself and hands the rest to csv-stringify: the result must be csv-stringify's, always.
  for (const delimiter of [',', ';', '\t', '|']) {
    for (const safe of [false, true]) {
      it(`writes every field as csv-stringify does (delimiter ${JSON.stringify(delimiter)}, --safe-csv ${safe})`, () => {
        const format = new RowFormat('csv', { delimiter, bom: false, eol: '\n' });
        format.safe = safe;
        for (const value of VALUES) {
          expect(format.field(value), JSON.stringify(value)).toBe(stringify([[value]], { delimiter, record_delimiter: '', escape_formulas: safe }));
        }
      });
    }
  }

  it('writes purged rows that read back as written, line breaks in details included (CRLF files too)', () => {
    for (const eol of ['\n', '\r\n'] as const) {
      const format = new RowFormat('csv', { delimiter: ',', bom: false, eol });
      for (const detail of VALUES) {
        const line = format.purged(0, 'base', 'invalid_number', detail);
        expect(parse(line)).toEqual([['base', 'invalid_number', detail]]);
      }
    }
  });
});

describe('WaIdSet', () => {
  it('keeps several values per key through growth, each starting at 0', () => {
    const set = new WaIdSet(0, 3);
    const keys = Array.from({ length: 50_000 }, (_, i) => 6281200000000 + i * 7919);
    for (const [i, key] of keys.entries()) {
      const slot = set.insert(key);
      set.setValue(slot, 0, i);
      set.setValue(slot, 2, i * 2);
    }
    expect(set.size).toBe(keys.length);
    for (const [i, key] of keys.entries()) {
      const slot = set.find(key);
      expect([set.value(slot, 0), set.value(slot, 1), set.value(slot, 2)]).toEqual([i, 0, i * 2]);
    }
    expect(set.find(6281199999999)).toBe(-1);
    expect(set.insert(keys[7]!)).toBe(set.find(keys[7]!));
    expect(set.size).toBe(keys.length);
  });

  it('keeps any 32-bit values through growth, also pairs whose bits read as a NaN double', () => {
    const set = new WaIdSet(0, 2);
    const values = [0xffffffff, 0x7ff80001, 0xfff00001, 0x7ff00000, 1];
    for (let i = 0; i < 5000; i++) {
      const slot = set.insert(6280000000000 + i);
      set.setValue(slot, 0, values[i % 5]!);
      set.setValue(slot, 1, values[(i + 1) % 5]!);
    }
    for (let i = 0; i < 5000; i++) {
      const slot = set.find(6280000000000 + i);
      expect([set.value(slot, 0), set.value(slot, 1)]).toEqual([values[i % 5], values[(i + 1) % 5]]);
    }
  });

  it('adds and reads single values as before', () => {
    const set = new WaIdSet();
    expect(set.add(628123, 5)).toBe(true);
    expect(set.add(628123, 9)).toBe(false);
    expect(set.get(628123)).toBe(5);
    expect(set.get(1)).toBe(-1);
  });
});
