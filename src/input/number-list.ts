import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parse } from 'csv-parse';
import type { CountryCode } from 'libphonenumber-js';
import { UsageError, describeFsError } from '../errors.js';
import type { IO } from '../io.js';
import { PHONE_NAMES, headerKey } from './columns.js';
import { normalizeListNumber } from '../phone.js';
import { WaIdSet } from '../pipeline/waid-set.js';

/** Phone header names, and a few more that a list of numbers uses. */
const NUMBER_NAMES = [...PHONE_NAMES, 'number', 'e164', 'phonee164'];

export interface NumberList {
  has(waId: number): boolean;
  size: number;
  warning?: string;
}

/**
 * Reads a CSV list of numbers (a --blacklist file): the column named like a
 * number, else the first; numbers in any format, read as the list commands
 * read them (a wa_id, as wa-guard's own blacklist.csv holds, needs no country).
 * A first row that is not a number is taken as the header.
 */
export async function loadNumberList(file: string, io: IO, country: CountryCode | undefined): Promise<NumberList> {
  const path = resolve(io.cwd, file);
  try {
    if ((await stat(path)).isDirectory()) throw Object.assign(new Error(), { code: 'EISDIR' });
  } catch (err) {
    throw new UsageError(describeFsError(err, 'cannot read --blacklist', file));
  }
  const set = new WaIdSet();
  let column = 0;
  let invalid = 0;
  let first = true;
  const parser = createReadStream(path).pipe(parse({
    bom: true, relax_column_count: true, skip_empty_lines: true, delimiter: [',', ';', '\t', '|'],
  }));
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      if (first) {
        first = false;
        const named = record.findIndex((h) => NUMBER_NAMES.includes(headerKey(h)));
        if (named >= 0) { column = named; continue; }
        if (!normalizeListNumber(record[0] ?? '', country).ok) continue; // a header with another name
      }
      const result = normalizeListNumber(record[column] ?? '', country);
      if (result.ok) set.add(Number(result.waId));
      else invalid++;
    }
  } catch (err) {
    throw new UsageError(`--blacklist ${file}: ${(err as Error).message}`);
  }
  return {
    has: (waId) => set.has(waId),
    size: set.size,
    ...(invalid ? { warning: `${file}: ignored ${invalid} entr${invalid === 1 ? 'y' : 'ies'} that could not be read as a phone number` } : {}),
  };
}
