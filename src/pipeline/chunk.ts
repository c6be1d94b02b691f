import { parse as parseCsv } from 'csv-parse/sync';
import { stringify as stringifyCsv } from 'csv-stringify/sync';
import type { CountryCode } from 'libphonenumber-js';
import { UsageError } from '../errors.js';
import { isOptOutFlag } from '../input/columns.js';
import type { Format } from '../input/sniff.js';
import { normalizePhone, type Normalized } from '../phone.js';

/** Per-row outcome of the stages that run in workers. Later stages add their own reasons. */
export const Outcome = { OK: 0, MISSING: 1, INVALID: 2, NO_COUNTRY: 3, MALFORMED: 4 } as const;
export const OUTCOME_REASON = ['', 'missing_number', 'invalid_number', 'no_country_code', 'malformed_row'] as const;

export interface ChunkConfig {
  source: string;
  format: Format;
  delimiter: string;
  /** CSV: header names; JSON: the first record's keys. These are the output's input columns. */
  columns: string[];
  /** Indexes into `columns` of the phone candidates, in order of preference. */
  phone: number[];
  optOut: number | undefined;
  country: CountryCode | undefined;
  output: { format: Format; delimiter: string };
}

export interface ChunkResult {
  rows: number;
  outcome: Uint8Array;
  /** wa_id as a number (at most 15 digits, exact in a double) for OK rows. */
  waIds: Float64Array;
  /** Line where each row starts; 0 for JSON arrays, where rows are counted instead. */
  lines: Uint32Array;
  optedOut: Uint8Array;
  /** Index into config.phone of the column the number came from; 255 for none. */
  phoneColumn: Uint8Array;
  /** Each row's input columns serialized in the output format, without the added columns. */
  bases: string[];
  /** Why a row was rejected; '' for OK rows. */
  details: string[];
  /** Rows with fewer fields than the header (padded with empty fields). */
  shortRows: number;
}

type Row = { fields: readonly unknown[] | null; object: Record<string, unknown> | null; raw: string; line: number; error?: string };

const NO_COLUMN = 255;
const CACHE_LIMIT = 100_000;

/** Processes whole records: parse, normalize, serialize. Runs in a worker thread, or inline for small inputs. */
export class ChunkProcessor {
  private readonly cache = new Map<string, Normalized>();
  private readonly passthrough: boolean;

  constructor(private readonly config: ChunkConfig) {
    this.passthrough = config.format === 'csv' && config.output.format === 'csv'
      && config.output.delimiter === config.delimiter;
  }

  private readRows(bytes: Uint8Array, startLine: number): Row[] {
    const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
    const rows: Row[] = [];
    if (this.config.format === 'csv') this.readCsv(text, startLine, rows);
    else if (this.config.format === 'jsonl') this.readJsonl(text, startLine, rows);
    else this.readJsonArray(text, startLine, rows);
    return rows;
  }

  /** The first record of a JSON chunk; a broken one is fatal, since it names the columns. */
  firstObject(bytes: Uint8Array, startLine: number): Record<string, unknown> | undefined {
    const [first] = this.readRows(bytes, startLine);
    if (first?.error !== undefined) throw new UsageError(`${this.config.source}: ${first.error}`);
    return first?.object ?? undefined;
  }

  process(bytes: Uint8Array, startLine: number): ChunkResult {
    const rows = this.readRows(bytes, startLine);
    const n = rows.length;
    const result: ChunkResult = {
      rows: n,
      outcome: new Uint8Array(n),
      waIds: new Float64Array(n),
      lines: new Uint32Array(n),
      optedOut: new Uint8Array(n),
      phoneColumn: new Uint8Array(n).fill(NO_COLUMN),
      bases: new Array<string>(n),
      details: new Array<string>(n),
      shortRows: 0,
    };
    const width = this.config.columns.length;
    for (let i = 0; i < n; i++) {
      const row = rows[i]!;
      result.lines[i] = row.line;
      result.details[i] = '';
      if (row.error !== undefined) {
        result.outcome[i] = Outcome.MALFORMED;
        result.details[i] = row.error;
        // Its columns are left empty; the detail carries the record as it was.
        result.bases[i] = this.base(this.config.format === 'csv'
          ? { fields: [''], object: null, raw: '', line: row.line }
          : { fields: null, object: {}, raw: '', line: row.line });
        continue;
      }
      if (row.fields && row.fields.length < width) result.shortRows++;
      result.bases[i] = this.base(row);
      if (this.config.optOut !== undefined && isOptOutFlag(this.cell(row, this.config.optOut))) result.optedOut[i] = 1;
      this.normalizeRow(row, result, i);
    }
    return result;
  }

  private cell(row: Row, column: number): unknown {
    if (row.fields) return row.fields[column];
    return row.object![this.config.columns[column]!];
  }

  private normalizeRow(row: Row, result: ChunkResult, i: number): void {
    let firstFailure: Normalized | undefined;
    for (let c = 0; c < this.config.phone.length; c++) {
      const value = this.cell(row, this.config.phone[c]!);
      const raw = typeof value === 'string' ? value : typeof value === 'number' ? String(value) : '';
      if (raw.trim() === '') continue;
      let normalized = this.cache.get(raw);
      if (normalized === undefined) {
        if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
        normalized = normalizePhone(raw, this.config.country);
        this.cache.set(raw, normalized);
      }
      if (normalized.ok) {
        result.waIds[i] = Number(normalized.waId);
        result.phoneColumn[i] = c;
        return;
      }
      firstFailure ??= normalized;
    }
    const failure = firstFailure ?? normalizePhone('', this.config.country);
    if (failure.ok) return; // unreachable: an empty number never normalizes
    result.outcome[i] = failure.reason === 'missing_number' ? Outcome.MISSING
      : failure.reason === 'no_country_code' ? Outcome.NO_COUNTRY : Outcome.INVALID;
    result.details[i] = failure.detail;
  }

  /** The row's own columns in the output format; the caller appends the added columns. */
  private base(row: Row): string {
    const { columns, output } = this.config;
    if (output.format === 'csv') {
      if (this.passthrough && row.fields && row.fields.length <= columns.length) {
        // The record exactly as it was written, padded to the header's width.
        return row.raw + output.delimiter.repeat(columns.length - row.fields.length);
      }
      const values = columns.map((_, c) => cellText(this.cell(row, c)));
      return stringifyCsv([values], { delimiter: output.delimiter, record_delimiter: '' });
    }
    // JSON objects are written without their closing brace.
    if (row.object) return JSON.stringify(row.object).slice(0, -1);
    const object: Record<string, unknown> = {};
    columns.forEach((name, c) => { object[name] = row.fields![c] ?? ''; });
    return JSON.stringify(object).slice(0, -1);
  }

  private readCsv(text: string, startLine: number, rows: Row[]): void {
    const { delimiter, columns } = this.config;
    let line = startLine;
    let at = 0;
    while (at < text.length) {
      let end = text.indexOf('\n', at);
      if (end < 0) end = text.length;
      let record = text.slice(at, end);
      if (!record.includes('"')) {
        // Without quotes a CSV record is exactly its line split at the delimiter.
        if (record.endsWith('\r')) record = record.slice(0, -1);
        if (record !== '') rows.push({ fields: record.split(delimiter), object: null, raw: record, line });
        line++;
        at = end + 1;
        continue;
      }
      // A quoted field may hold newlines: extend the record until its quotes balance.
      let quotes = countQuotes(record);
      while (quotes % 2 === 1 && end < text.length) {
        const next = text.indexOf('\n', end + 1);
        const stop = next < 0 ? text.length : next;
        quotes += countQuotes(text.slice(end, stop));
        end = stop;
      }
      record = text.slice(at, end);
      if (record.endsWith('\r')) record = record.slice(0, -1);
      let parsed: string[][];
      try {
        parsed = parseCsv(record, { delimiter, relax_column_count: true });
      } catch (err) {
        throw new UsageError(`${this.config.source}: line ${line}: not valid CSV: ${csvMessage(err)}`);
      }
      const fields = parsed[0] ?? [];
      if (fields.length > columns.length) {
        rows.push({
          fields: null, object: null, raw: record, line,
          error: `line ${line} has ${fields.length} fields but the header has ${columns.length}: ${record}`,
        });
      } else {
        rows.push({ fields, object: null, raw: record, line });
      }
      line += countNewlines(record) + 1;
      at = end + 1;
    }
    // Quote-free rows with too many fields are caught here, once, for both paths.
    for (const row of rows) {
      if (row.fields && row.fields.length > columns.length) {
        row.error = `line ${row.line} has ${row.fields.length} fields but the header has ${columns.length}: ${row.raw}`;
      }
    }
  }

  private readJsonl(text: string, startLine: number, rows: Row[]): void {
    let line = startLine;
    for (const rawLine of text.split('\n')) {
      const raw = rawLine.trim();
      if (raw !== '') {
        try {
          const value: unknown = JSON.parse(raw);
          if (isPlainObject(value)) rows.push({ fields: null, object: value, raw, line });
          else rows.push({ fields: null, object: null, raw, line, error: `line ${line}: not a JSON object: ${raw}` });
        } catch (err) {
          rows.push({ fields: null, object: null, raw, line, error: `line ${line}: broken JSON (${(err as Error).message}): ${raw}` });
        }
      }
      line++;
    }
  }

  private readJsonArray(text: string, startLine: number, rows: Row[]): void {
    let values: unknown[];
    try {
      values = JSON.parse('[' + text + ']') as unknown[];
    } catch {
      throw new UsageError(`${this.config.source}: ${locateJsonError(text, startLine)}`);
    }
    for (const value of values) {
      if (isPlainObject(value)) rows.push({ fields: null, object: value, raw: '', line: 0 });
      else rows.push({ fields: null, object: null, raw: '', line: 0, error: `not a JSON object: ${JSON.stringify(value)}` });
    }
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function cellText(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function countQuotes(text: string): number {
  let count = 0;
  for (let at = text.indexOf('"'); at >= 0; at = text.indexOf('"', at + 1)) count++;
  return count;
}

function countNewlines(text: string): number {
  let count = 0;
  for (let at = text.indexOf('\n'); at >= 0; at = text.indexOf('\n', at + 1)) count++;
  return count;
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
