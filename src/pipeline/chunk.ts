import { isUtf8 } from 'node:buffer';
import { parse as parseCsv } from 'csv-parse/sync';
import type { CountryCode } from 'libphonenumber-js';
import { UsageError } from '../errors.js';
import { isOptedIn, isOptOutFlag } from '../input/columns.js';
import type { Format } from '../input/sniff.js';
import { countryFromText, isFixedLine, normalizePhone, type Normalized } from '../phone.js';
import { FORMULA_CHARS, RowFormat } from '../output/rows.js';

/** Per-row outcome of the stages that run in workers. Later stages add their own reasons. */
export const Outcome = { OK: 0, MISSING: 1, INVALID: 2, NO_COUNTRY: 3, MALFORMED: 4, NO_OPTIN: 5 } as const;
export const OUTCOME_REASON = ['', 'missing_number', 'invalid_number', 'no_country_code', 'malformed_row', 'no_optin'] as const;

export interface ChunkConfig {
  source: string;
  format: Format;
  delimiter: string;
  /** CSV: header names; JSON: the first record's keys. These are the output's input columns. */
  columns: string[];
  /** Indexes into `columns` of the phone candidates, in order of preference. */
  phone: number[];
  /** Columns flagging an opt-out; any truthy one opts the row out. */
  optOut: number[];
  /** A column that must say the contact opted in (--optin-column). */
  optIn?: number;
  /** A column with each row's country, for its national numbers (--country-column); `country` is the fallback. */
  countryColumn?: number;
  country: CountryCode | undefined;
  output: { format: Format; delimiter: string; eol: '\n' | '\r\n'; safe?: boolean };
  /** Append clean's columns (phone_e164, wa_id, wa_status) to kept rows; send has no use for them. */
  cleanedColumns: boolean;
  /**
   * Columns whose values the caller needs as text (e.g. a campaign's template
   * and params): CSV rows by index (-1: not in the header), JSON records by
   * name, as their keys vary from record to record.
   */
  extract?: { index: number; name: string }[];
}

export interface ChunkResult {
  rows: number;
  outcome: Uint8Array;
  /** wa_id as a number (at most 15 digits, exact in a double) for OK rows. */
  waIds: Float64Array;
  /** Line where each row starts; 0 for JSON arrays, where rows are counted instead. */
  lines: Uint32Array;
  /** 1 + the index into config.optOut of the first column flagging the row; 0 when none does. */
  optedOut: Uint8Array;
  /** Index into config.phone of the column the number came from; 255 for none. */
  phoneColumn: Uint8Array;
  /**
   * Every row's input columns serialized in the output format, without the
   * added columns, joined; row i is text.slice(ends[i - 1] ?? 0, ends[i]). One
   * string per chunk is far cheaper to pass between threads than one per row.
   */
  text: string;
  ends: Uint32Array;
  /** Where each row's base ends; with cleanedColumns, a kept row's text goes on with them (wa_status unverified). */
  baseEnds: Uint32Array;
  /** Why a row was rejected, by row index; absent for OK rows. */
  details: Record<number, string>;
  /** Rows with fewer fields than the header (padded with empty fields). */
  shortRows: number;
  /** The `extract` columns' values, row after row. */
  extracted: string[];
  /** JSON records with keys that are not columns (first seen after the head): CSV output has no place for them. */
  lateKeyRows: number;
  lateKeys: string[];
}

/** A record as read. CSV records without quotes keep only their text: fields are found on demand. */
interface Row {
  raw: string;
  line: number;
  /** CSV: how many fields the record has, counted once. */
  width?: number;
  fields?: string[];
  object?: Record<string, unknown>;
  error?: string;
}

const NO_COLUMN = 255;

/** Processes whole records: parse, normalize, serialize. Runs in a worker thread, or inline for small inputs. */
export class ChunkProcessor {
  private readonly passthrough: boolean;
  /** --safe-csv: a raw record with a field that may start a formula is re-written, not copied. */
  private readonly formulaStart: RegExp | undefined;
  private readonly rowFormat: RowFormat;

  constructor(private readonly config: ChunkConfig) {
    const { format, delimiter, eol } = config.output;
    this.rowFormat = new RowFormat(format, { delimiter, eol, bom: false });
    this.passthrough = config.format === 'csv' && config.output.format === 'csv'
      && config.output.delimiter === config.delimiter;
    if (config.output.safe) this.formulaStart = new RegExp(`(?:^|${escapeRegExp(config.delimiter)})"?${FORMULA_CHARS}`);
  }

  private readRows(bytes: Uint8Array, startLine: number): Row[] {
    const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    // Nothing is silently replaced with U+FFFD: a file that is not UTF-8 needs --encoding.
    if (!isUtf8(buffer)) throw new UsageError(`${this.config.source}: ${notUtf8(buffer, startLine)}`);
    const text = buffer.toString('utf8');
    if (this.config.format === 'csv') return this.readCsv(text, startLine);
    if (this.config.format === 'jsonl') return this.readJsonl(text, startLine);
    return this.readJsonArray(text, startLine);
  }

  /** The records of a JSON chunk, read to name the columns; a broken first one is fatal. */
  headObjects(bytes: Uint8Array, startLine: number): Record<string, unknown>[] {
    const rows = this.readRows(bytes, startLine);
    if (rows[0]?.error !== undefined) throw new UsageError(`${this.config.source}: ${rows[0].error}`);
    return rows.flatMap((row) => (row.object ? [row.object] : []));
  }

  process(bytes: Uint8Array, startLine: number): ChunkResult {
    const rows: (Row | undefined)[] = this.readRows(bytes, startLine);
    const n = rows.length;
    const result: ChunkResult = {
      rows: n,
      outcome: new Uint8Array(n),
      waIds: new Float64Array(n),
      lines: new Uint32Array(n),
      optedOut: new Uint8Array(n),
      phoneColumn: new Uint8Array(n).fill(NO_COLUMN),
      text: '',
      ends: new Uint32Array(n),
      baseEnds: new Uint32Array(n),
      details: {},
      shortRows: 0,
      extracted: [],
      lateKeyRows: 0,
      lateKeys: [],
    };
    const extract = this.config.extract;
    const width = this.config.columns.length;
    let text = '';
    for (let i = 0; i < n; i++) {
      const row = rows[i]!;
      rows[i] = undefined; // done with after this turn: garbage for the next scavenge, not a survivor to copy
      result.lines[i] = row.line;
      if (row.error !== undefined) {
        result.outcome[i] = Outcome.MALFORMED;
        result.details[i] = row.error;
        // Its columns are left empty; the detail carries the record as it was.
        text += this.base(this.config.format === 'csv' ? { raw: '', line: row.line, fields: [''] } : { raw: '', line: row.line, object: {} });
        result.ends[i] = result.baseEnds[i] = text.length;
        if (extract) for (let k = 0; k < extract.length; k++) result.extracted.push('');
        continue;
      }
      if (this.config.format === 'csv' && this.fieldCount(row) < width) result.shortRows++;
      else if (row.object && this.config.output.format === 'csv') this.noteLateKeys(row.object, result);
      const base = this.base(row);
      text += base;
      result.baseEnds[i] = text.length;
      const flagged = this.config.optOut.findIndex((c) => isOptOutFlag(this.cell(row, c)));
      if (flagged >= 0) result.optedOut[i] = flagged + 1;
      if (extract) {
        // Many columns are read from each row: split a record without quotes once rather than scan it for each.
        if (!row.fields && !row.object) row.fields = row.raw.split(this.config.delimiter);
        for (const { index, name } of extract) {
          result.extracted.push(cellText(row.object ? valueAt(row.object, name) : index < 0 ? '' : this.cell(row, index)));
        }
      }
      let waId = this.normalizeRow(row, result, i);
      if (waId !== undefined && this.config.optIn !== undefined && !isOptedIn(this.cell(row, this.config.optIn))) {
        result.outcome[i] = Outcome.NO_OPTIN;
        result.details[i] = `column ${this.config.columns[this.config.optIn]} does not say the contact opted in: ${JSON.stringify(cellText(this.cell(row, this.config.optIn)))}`;
        waId = undefined;
      }
      if (waId !== undefined && this.config.cleanedColumns) text += this.rowFormat.cleanedSuffix(base.length, waId, waId, 'unverified');
      result.ends[i] = text.length;
    }
    result.text = text;
    return result;
  }

  private columnSet: Set<string> | undefined;

  private noteLateKeys(object: Record<string, unknown>, result: ChunkResult): void {
    const columns = (this.columnSet ??= new Set(this.config.columns));
    let late = false;
    for (const key of recordKeys(object)) {
      if (columns.has(key)) continue;
      late = true;
      if (result.lateKeys.length < 10 && !result.lateKeys.includes(key)) result.lateKeys.push(key);
    }
    if (late) result.lateKeyRows++;
  }

  private fieldCount(row: Row): number {
    if (row.fields) return row.fields.length;
    return (row.width ??= countOf(row.raw, this.config.delimiter) + 1);
  }

  private cell(row: Row, column: number): unknown {
    if (row.fields) return row.fields[column];
    if (row.object) return valueAt(row.object, this.config.columns[column]!);
    return nthField(row.raw, this.config.delimiter, column);
  }

  /** The country a row's national numbers are read in: its --country-column, else --country. */
  private rowCountry(row: Row): { country: CountryCode | undefined; problem?: string } {
    if (this.config.countryColumn === undefined) return { country: this.config.country };
    const text = cellText(this.cell(row, this.config.countryColumn)).trim();
    if (text === '') return { country: this.config.country };
    const country = countryFromText(text);
    return country ? { country } : { country: undefined, problem: `column ${this.config.columns[this.config.countryColumn]} has "${text}", not a country this tool knows` };
  }

  private hasLaterNumber(row: Row, c: number): boolean {
    for (let later = c + 1; later < this.config.phone.length; later++) {
      const value = this.cell(row, this.config.phone[later]!);
      if ((typeof value === 'string' && value.trim() !== '') || typeof value === 'number' || (typeof value === 'object' && value !== null && listedNumbers(value).length > 0)) return true;
    }
    return false;
  }

  /**
   * Normalizes the row's number; returns its wa_id, or records why there is
   * none. The first valid number in column preference wins, unless it is a
   * fixed line and a later column holds a mobile number.
   */
  private normalizeRow(row: Row, result: ChunkResult, i: number): string | undefined {
    const { country, problem } = this.rowCountry(row);
    let firstFailure: Normalized | undefined;
    let fixedLine: { waId: string; column: number } | undefined;
    for (let c = 0; c < this.config.phone.length; c++) {
      const value = this.cell(row, this.config.phone[c]!);
      // A JSON cell may hold a list of numbers (Pipedrive: [{label, value, primary}]): each is a candidate, in turn.
      const listed = typeof value === 'object' && value !== null ? listedNumbers(value) : undefined;
      for (let k = 0, count = listed ? listed.length : 1; k < count; k++) {
        const raw = listed ? listed[k]! : typeof value === 'string' ? value : typeof value === 'number' ? String(value) : '';
        if (raw === '') continue;
        const normalized = normalizePhone(raw, country);
        if (normalized.ok) {
          // Typing a number costs a second parse: only when another candidate could offer a mobile.
          if ((k < count - 1 || this.hasLaterNumber(row, c)) && isFixedLine(normalized.e164)) {
            fixedLine ??= { waId: normalized.waId, column: c };
            continue;
          }
          result.waIds[i] = Number(normalized.waId);
          result.phoneColumn[i] = c;
          return normalized.waId;
        }
        if (normalized.reason !== 'missing_number') firstFailure ??= normalized;
      }
    }
    if (fixedLine) {
      result.waIds[i] = Number(fixedLine.waId);
      result.phoneColumn[i] = fixedLine.column;
      return fixedLine.waId;
    }
    const failure = firstFailure ?? normalizePhone('', country);
    if (failure.ok) return undefined; // unreachable: an empty number never normalizes
    result.outcome[i] = failure.reason === 'missing_number' ? Outcome.MISSING
      : failure.reason === 'no_country_code' ? Outcome.NO_COUNTRY : Outcome.INVALID;
    result.details[i] = problem && failure.reason === 'no_country_code' ? `${failure.detail}; ${problem}` : failure.detail;
    return undefined;
  }

  /** The row's own columns in the output format; the caller appends the added columns. */
  private base(row: Row): string {
    const { columns, output } = this.config;
    if (output.format === 'csv') {
      if (this.passthrough && row.raw !== '' && !(output.safe && this.formulaStart!.test(row.raw))) {
        // The record exactly as it was written, padded to the header's width.
        return row.raw + output.delimiter.repeat(Math.max(0, columns.length - this.fieldCount(row)));
      }
      // With --safe-csv, phone columns are left as they are: there a leading + is the number.
      return columns.map((_, c) => this.rowFormat.field(cellText(this.cell(row, c)), output.safe && !this.config.phone.includes(c))).join(output.delimiter);
    }
    // JSON objects are written without their closing brace.
    if (row.object) return JSON.stringify(row.object).slice(0, -1);
    const object: Record<string, unknown> = {};
    columns.forEach((name, c) => { object[name] = this.cell(row, c) ?? ''; });
    return JSON.stringify(object).slice(0, -1);
  }

  private readCsv(text: string, startLine: number): Row[] {
    const { columns } = this.config;
    const rows: Row[] = [];
    const quoted: Row[] = [];
    let line = startLine;
    let at = 0;
    while (at < text.length) {
      let end = text.indexOf('\n', at);
      if (end < 0) end = text.length;
      let record = text.slice(at, end);
      let lines = 1;
      if (record.includes('"')) {
        // A quoted field may hold newlines: extend the record until its quotes balance.
        let quotes = countOf(record, '"');
        while (quotes % 2 === 1 && end < text.length) {
          const next = text.indexOf('\n', end + 1);
          const stop = next < 0 ? text.length : next;
          quotes += countOf(text.slice(end, stop), '"');
          end = stop;
          lines++;
        }
        record = text.slice(at, end);
      }
      if (record.endsWith('\r')) record = record.slice(0, -1);
      if (record !== '') {
        const row: Row = { raw: record, line };
        rows.push(row);
        if (lines > 1 || record.includes('"')) quoted.push(row);
      }
      line += lines;
      at = end + 1;
    }
    // Without quotes a record is exactly its text split at the delimiter; records
    // with quotes go to csv-parse, all of a chunk's in one call.
    if (quoted.length) this.parseQuoted(quoted);
    for (const row of rows) {
      const count = this.fieldCount(row);
      if (row.error === undefined && count > columns.length) {
        row.error = `line ${row.line} has ${count} fields but the header has ${columns.length}: ${row.raw}`;
      }
    }
    return rows;
  }

  private parseQuoted(quoted: Row[]): void {
    // Records are joined with \n here and had their own \r removed; a \r\n inside quotes stays data.
    const options = { delimiter: this.config.delimiter, relax_column_count: true, record_delimiter: '\n' };
    try {
      const records = parseCsv(quoted.map((row) => row.raw).join('\n'), options) as string[][];
      if (records.length === quoted.length) {
        quoted.forEach((row, i) => { row.fields = records[i]; });
        return;
      }
    } catch {
      // Find the culprit below, to report its own line.
    }
    for (const row of quoted) {
      try {
        row.fields = (parseCsv(row.raw, options) as string[][])[0] ?? [''];
      } catch (err) {
        throw new UsageError(`${this.config.source}: line ${row.line}: not valid CSV: ${csvMessage(err)}`);
      }
    }
  }

  private readJsonl(text: string, startLine: number): Row[] {
    const rows: Row[] = [];
    let line = startLine;
    for (const rawLine of text.split('\n')) {
      const raw = rawLine.trim();
      if (raw !== '') {
        try {
          const value: unknown = JSON.parse(raw);
          if (isPlainObject(value)) rows.push({ raw, line, object: value });
          else rows.push({ raw, line, error: `line ${line}: not a JSON object: ${raw}` });
        } catch (err) {
          rows.push({ raw, line, error: `line ${line}: broken JSON (${(err as Error).message}): ${raw}` });
        }
      }
      line++;
    }
    return rows;
  }

  private readJsonArray(text: string, startLine: number): Row[] {
    let values: unknown[];
    try {
      values = JSON.parse('[' + text + ']') as unknown[];
    } catch {
      throw new UsageError(`${this.config.source}: ${locateJsonError(text, startLine)}`);
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

function isPlainObject(value: unknown): value is Record<string, unknown> {
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

/**
 * The numbers in a structured JSON cell: a list of strings, or of objects
 * whose `value` (`number`, `phone`) is one, as CRM APIs write them; one
 * marked `primary` first. Anything else holds no number.
 */
function listedNumbers(value: object): string[] {
  const items = Array.isArray(value) ? value : [value];
  const numbers: string[] = [];
  for (const item of items) {
    const text = typeof item === 'string' || typeof item === 'number' ? String(item)
      : isPlainObject(item) ? [item.value, item.number, item.phone].find((v) => typeof v === 'string' || typeof v === 'number') : undefined;
    if (text === undefined || String(text).trim() === '') continue;
    if (isPlainObject(item) && item.primary === true) numbers.unshift(String(text));
    else numbers.push(String(text));
  }
  return numbers;
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

function cellText(value: unknown): string {
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

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
