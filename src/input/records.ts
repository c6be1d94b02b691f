import { isUtf8 } from 'node:buffer';
import { parse as parseCsv } from 'csv-parse/sync';
import { UsageError } from '../errors.js';
import type { Format } from './sniff.js';

/** A record as read. CSV records without quotes keep only their text: fields are found on demand. */
export interface InputRecord {
  raw: string;
  line: number;
  /** CSV: how many fields the record has, counted once. */
  width?: number;
  fields?: string[];
  object?: Record<string, unknown>;
  error?: string;
}

/** What reading records needs to know of the input (a ChunkConfig is one). */
export interface RecordLayout {
  /** The name used in messages. */
  source: string;
  format: Format;
  delimiter: string;
  /** CSV: header names; JSON: the first records' keys. */
  columns: string[];
}

/**
 * Reads whole-record chunks of CSV, JSONL or a JSON array's elements into
 * records, and the cells of those records. A record that cannot be read
 * carries its error; a chunk that cannot be read at all throws.
 */
export class RecordReader {
  constructor(private readonly layout: RecordLayout) {}

  read(bytes: Uint8Array, startLine: number): InputRecord[] {
    const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    // Nothing is silently replaced with U+FFFD: a file that is not UTF-8 needs --encoding.
    if (!isUtf8(buffer)) throw new UsageError(`${this.layout.source}: ${notUtf8(buffer, startLine)}`);
    const text = buffer.toString('utf8');
    if (this.layout.format === 'csv') return this.readCsv(text, startLine);
    if (this.layout.format === 'jsonl') return this.readJsonl(text, startLine);
    return this.readJsonArray(text, startLine);
  }

  /** The records of a JSON chunk, read to name the columns; a broken first one is fatal. */
  headObjects(bytes: Uint8Array, startLine: number): Record<string, unknown>[] {
    const records = this.read(bytes, startLine);
    if (records[0]?.error !== undefined) throw new UsageError(`${this.layout.source}: ${records[0].error}`);
    return records.flatMap((record) => (record.object ? [record.object] : []));
  }

  fieldCount(record: InputRecord): number {
    if (record.fields) return record.fields.length;
    return (record.width ??= countOf(record.raw, this.layout.delimiter) + 1);
  }

  /** The value of a column (an index into the layout's columns). */
  cell(record: InputRecord, column: number): unknown {
    if (record.fields) return record.fields[column];
    if (record.object) return valueAt(record.object, this.layout.columns[column]!);
    return nthField(record.raw, this.layout.delimiter, column);
  }

  private readCsv(text: string, startLine: number): InputRecord[] {
    const { columns } = this.layout;
    const records: InputRecord[] = [];
    const quoted: InputRecord[] = [];
    let line = startLine;
    let at = 0;
    while (at < text.length) {
      let end = text.indexOf('\n', at);
      if (end < 0) end = text.length;
      let raw = text.slice(at, end);
      let lines = 1;
      if (raw.includes('"')) {
        // A quoted field may hold newlines: extend the record until its quotes balance.
        let quotes = countOf(raw, '"');
        while (quotes % 2 === 1 && end < text.length) {
          const next = text.indexOf('\n', end + 1);
          const stop = next < 0 ? text.length : next;
          quotes += countOf(text.slice(end, stop), '"');
          end = stop;
          lines++;
        }
        raw = text.slice(at, end);
      }
      if (raw.endsWith('\r')) raw = raw.slice(0, -1);
      if (raw !== '') {
        const record: InputRecord = { raw, line };
        records.push(record);
        if (lines > 1 || raw.includes('"')) quoted.push(record);
      }
      line += lines;
      at = end + 1;
    }
    // Without quotes a record is exactly its text split at the delimiter; records
    // with quotes go to csv-parse, all of a chunk's in one call.
    if (quoted.length) this.parseQuoted(quoted);
    for (const record of records) {
      const count = this.fieldCount(record);
      if (record.error === undefined && count > columns.length) {
        record.error = `line ${record.line} has ${count} fields but the header has ${columns.length}: ${record.raw}`;
      }
    }
    return records;
  }

  private parseQuoted(quoted: InputRecord[]): void {
    // Records are joined with \n here and had their own \r removed; a \r\n inside quotes stays data.
    const options = { delimiter: this.layout.delimiter, relax_column_count: true, record_delimiter: '\n' };
    try {
      const parsed = parseCsv(quoted.map((record) => record.raw).join('\n'), options) as string[][];
      if (parsed.length === quoted.length) {
        quoted.forEach((record, i) => { record.fields = parsed[i]; });
        return;
      }
    } catch {
      // Find the culprit below, to report its own line.
    }
    for (const record of quoted) {
      try {
        record.fields = (parseCsv(record.raw, options) as string[][])[0] ?? [''];
      } catch (err) {
        throw new UsageError(`${this.layout.source}: line ${record.line}: not valid CSV: ${csvMessage(err)}`);
      }
    }
  }

  private readJsonl(text: string, startLine: number): InputRecord[] {
    const records: InputRecord[] = [];
    let line = startLine;
    for (const rawLine of text.split('\n')) {
      const raw = rawLine.trim();
      if (raw !== '') {
        try {
          const value: unknown = JSON.parse(raw);
          if (isPlainObject(value)) records.push({ raw, line, object: value });
          else records.push({ raw, line, error: `line ${line}: not a JSON object: ${raw}` });
        } catch (err) {
          records.push({ raw, line, error: `line ${line}: broken JSON (${(err as Error).message}): ${raw}` });
        }
      }
      line++;
    }
    return records;
  }

  private readJsonArray(text: string, startLine: number): InputRecord[] {
    let values: unknown[];
    try {
      values = JSON.parse('[' + text + ']') as unknown[];
    } catch {
      throw new UsageError(`${this.layout.source}: ${locateJsonError(text, startLine)}`);
    }
    return values.map((value) => isPlainObject(value)
      ? { raw: '', line: 0, object: value }
      : { raw: '', line: 0, error: `not a JSON object: ${JSON.stringify(value)}` });
  }
}

/** The n-th field of a CSV record that has no quotes. */
function nthField(record: string, delimiter: string, n: number): string | undefined {
  let start = 0;
  for (let i = 0; i < n; i++) {
    const next = record.indexOf(delimiter, start);
    if (next < 0) return undefined;
    start = next + 1;
  }
  const end = record.indexOf(delimiter, start);
  return end < 0 ? record.slice(start) : record.slice(start, end);
}

function countOf(text: string, char: string): number {
  let count = 0;
  for (let at = text.indexOf(char); at >= 0; at = text.indexOf(char, at + 1)) count++;
  return count;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A record's columns: its keys, and the keys of nested objects as dotted paths
 * (`properties.phone`), since API exports (HubSpot's among them) nest their
 * fields. Arrays and empty objects are one column each.
 */
export function recordKeys(object: Record<string, unknown>, prefix = '', keys: string[] = []): string[] {
  for (const key of Object.keys(object)) {
    const value = object[key];
    if (isPlainObject(value) && Object.keys(value).length > 0) recordKeys(value, `${prefix}${key}.`, keys);
    else keys.push(prefix + key);
  }
  return keys;
}

/** A record's value for a column of recordKeys: the key itself, else a dotted path into nested objects. */
export function valueAt(object: Record<string, unknown>, key: string): unknown {
  const direct = object[key];
  if (direct !== undefined) return direct;
  // A key may itself hold a dot: try each split.
  for (let dot = key.indexOf('.'); dot > 0; dot = key.indexOf('.', dot + 1)) {
    const inner = object[key.slice(0, dot)];
    if (isPlainObject(inner)) {
      const found = valueAt(inner, key.slice(dot + 1));
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/** A cell as text: empty when absent, JSON for a structured JSON value. */
export function cellText(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function countNewlines(text: string): number {
  return countOf(text, '\n');
}

function csvMessage(err: unknown): string {
  // csv-parse counts lines from the start of the record it was given; ours are absolute.
  return ((err as Error).message ?? String(err)).replace(/ at line \d+/g, '').replace(/^Invalid/, 'invalid');
}

/** Finds the first JSON element in `text` that does not parse, to name its line. */
function locateJsonError(text: string, startLine: number): string {
  let depth = 0;
  let inString = false;
  let escaped = false;
  let start = 0;
  const check = (end: number): string | undefined => {
    const element = text.slice(start, end);
    if (element.trim() === '') return `line ${startLine + countNewlines(text.slice(0, end))}: broken JSON: an empty element (a stray comma?)`;
    try {
      JSON.parse(element);
      return undefined;
    } catch (err) {
      const leading = element.length - element.trimStart().length;
      const line = startLine + countNewlines(text.slice(0, start + leading));
      return `line ${line}: broken JSON: ${(err as Error).message}`;
    }
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (escaped) escaped = false;
      else if (c === '\\') escaped = true;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
    else if (c === ',' && depth === 0) {
      const problem = check(i);
      if (problem) return problem;
      start = i + 1;
    }
  }
  return check(text.length) ?? `line ${startLine}: broken JSON`;
}

/** Where a chunk stops being UTF-8, said so that the user can find it and fix it. */
export function notUtf8(bytes: Buffer, startLine: number): string {
  let at = 0;
  while (at < bytes.length) {
    const b = bytes[at]!;
    const size = b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    if (size === 1 || (size > 1 && isUtf8(bytes.subarray(at, at + size)))) {
      at += size;
      continue;
    }
    const line = startLine + countOf(bytes.subarray(0, at).toString('latin1'), '\n');
    return `line ${line}: not valid UTF-8 (byte 0x${b.toString(16).toUpperCase().padStart(2, '0')}); ` +
      'if the file comes from Excel or an older system, give --encoding windows-1252 (or latin1, utf-16le, …)';
  }
  return `line ${startLine}: not valid UTF-8`;
}
