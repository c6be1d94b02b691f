import { resolve } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import type { CountryCode } from 'libphonenumber-js';
import type { IO } from '../io.js';
import { chooseColumns, columnList, headerKey } from '../input/columns.js';
import { openInput } from '../input/reader.js';
import { RecordReader, cellText, type InputRecord } from '../input/records.js';
import { AtomicFile } from '../output/atomic.js';
import { normalizeListNumber } from '../phone.js';
import type { Store } from '../store/store.js';
import { entryWrites, readFields, type Fields, type ImportContext } from './fields.js';
import { NAMESPACE } from './rows.js';

export interface ImportOptions {
  list: 'blacklist' | 'optout';
  country: CountryCode | undefined;
  column?: string | string[];
  /** --reason: recorded on every entry, over a reason column. */
  reason?: string;
  /** --scope (opt-outs), when given: recorded on every entry, over a scope column. */
  scope?: 'all' | 'marketing';
  /** --rejects FILE: every skipped row, with why. */
  rejects?: string;
}

export interface ImportResult {
  rows: number;
  /** Entries written (a number repeated in a later part of a large file counts again). */
  added: number;
  skipped: number;
  /** The first skipped rows, for the summary. */
  firstRejects: { line: number; reason: string }[];
}

/** How many skipped rows the summary names. */
const SHOWN_REJECTS = 5;
/** Headers that hold a number as the tool and older versions wrote it, which are not phone columns by name. */
const NUMBER_KEYS = ['e164', 'phonee164', 'number'];

/**
 * Reads a file (CSV, JSON, JSONL; one of wa-guard's exports, or any list of
 * numbers) into a list. Each row keeps what its columns say (reason, source,
 * times, strikes, expiry, scope), so an export imported again is the same
 * list; a row whose number or fields cannot be read is skipped and named.
 */
export async function importList(o: ImportOptions, store: Store, spec: string, io: IO): Promise<ImportResult> {
  const input = await openInput(spec, io, {});
  let rejectsFile: AtomicFile | undefined;
  try {
    if (o.rejects !== undefined) rejectsFile = await AtomicFile.create(resolve(io.cwd, o.rejects));
    const { columns } = input;
    const phone = phoneColumns(columns, input.source, o.column);
    const reader = new RecordReader({ source: input.source, format: input.sniffed.format, delimiter: input.sniffed.dialect.delimiter, columns });
    const result: ImportResult = { rows: 0, added: 0, skipped: 0, firstRejects: [] };
    const reject = async (record: InputRecord, reason: string): Promise<void> => {
      result.skipped++;
      if (result.firstRejects.length < SHOWN_REJECTS) result.firstRejects.push({ line: record.line, reason });
      await rejectsFile?.write(stringify([[String(record.line), ...columns.map((_, c) => record.error === undefined ? cellText(reader.cell(record, c)) : ''), reason]]));
    };
    await rejectsFile?.write(stringify([['line', ...columns, 'reject_reason']]));
    const columnOf = columnFinder(columns);
    const context: ImportContext = { list: o.list, now: new Date(), source: `import:${input.path ? input.path.split('/').pop() : 'stdin'}`, reason: o.reason, scope: o.scope };
    for await (const chunk of input.chunks) {
      io.signal?.throwIfAborted();
      const entries = new Map<string, Fields>();
      for (const record of reader.read(chunk.bytes, chunk.startLine)) {
        result.rows++;
        const read = readRow(record, reader, phone, columns, columnOf, o, context.now);
        if (typeof read === 'string') await reject(record, read);
        else entries.set(read.waId, read.fields);
      }
      await writeEntries(store, [...entries], context);
      result.added += entries.size;
    }
    await rejectsFile?.commit();
    return result;
  } finally {
    await rejectsFile?.abort();
    input.close();
  }
}

/** A row's number and fields, or why it is skipped. */
function readRow(record: InputRecord, reader: RecordReader, phone: readonly number[], columns: readonly string[], columnOf: (name: string) => number, o: ImportOptions, now: Date): { waId: string; fields: Fields } | string {
  if (record.error !== undefined) return record.error;
  let failure: string | undefined;
  for (const c of phone) {
    const text = cellText(reader.cell(record, c)).trim();
    if (text === '') continue;
    const read = normalizeListNumber(text, o.country);
    if (!read.ok) {
      failure ??= `${columns[c]} "${text.length > 40 ? text.slice(0, 37) + '...' : text}": ${read.detail}`;
      continue;
    }
    const fields = readFields(o.list, (name) => {
      const at = columnOf(name);
      return at < 0 ? '' : cellText(reader.cell(record, at)).trim();
    }, now);
    return typeof fields === 'string' ? fields : { waId: read.waId, fields };
  }
  return failure ?? `no number in ${phone.map((c) => columns[c]).join(', ')}`;
}

/** A field's column by name (exact, else as headerKey reads it), found once per name for the whole file. */
function columnFinder(columns: readonly string[]): (name: string) => number {
  const found = new Map<string, number>();
  return (name) => {
    let at = found.get(name);
    if (at === undefined) found.set(name, at = columns.findIndex((h) => h === name || headerKey(h) === headerKey(name)));
    return at;
  };
}

/** The phone columns: --column, else those named like one (wa_id first), then e164-like ones. */
function phoneColumns(columns: readonly string[], source: string, column: string | string[] | undefined): number[] {
  const named = columnList(column);
  if (named) return chooseColumns(columns, source, { phone: named }).phone;
  const extra = columns.flatMap((h, i) => (NUMBER_KEYS.includes(headerKey(h)) ? [i] : []));
  let phone: number[] = [];
  try {
    phone = chooseColumns(columns, source).phone;
  } catch (err) {
    if (extra.length === 0) throw err;
  }
  // The tool's own column first: every list and export writes its numbers there.
  const waId = columns.findIndex((h) => headerKey(h) === 'waid');
  return [...new Set([...(waId >= 0 ? [waId] : []), ...phone, ...extra])];
}

async function writeEntries(store: Store, entries: readonly [string, Fields][], context: ImportContext): Promise<void> {
  if (entries.length === 0) return;
  const namespace = NAMESPACE[context.list];
  await store.transact(entries.map(([key]) => ({ namespace, key })), (before) => ({
    writes: entryWrites(entries, before, context),
    result: undefined,
  }));
}
