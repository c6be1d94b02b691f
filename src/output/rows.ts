import { stringify } from 'csv-stringify/sync';
import type { Dialect, Format } from '../input/sniff.js';

export const ADDED_COLUMNS = ['phone_e164', 'wa_id', 'wa_status', 'line_type'] as const;
export const PURGE_COLUMNS = ['purge_reason', 'purge_detail'] as const;

/** The first characters csv-stringify's escape_formulas (--safe-csv) puts an apostrophe before, as a regexp class. */
export const FORMULA_CHARS = '[-=+@\\t\\r\\uff1d\\uff0b\\uff0d\\uff20]';
const FORMULA_START = new RegExp('^' + FORMULA_CHARS);

/**
 * Writes rows whose input columns were already serialized by a worker (the
 * "base"), appending the columns wa-guard adds. CSV keeps the input's dialect;
 * JSON bases are objects missing their closing brace.
 */
export class RowFormat {
  /** The input's own header line (CSV output), written before the added columns. */
  private inputHeader = '';
  /** --safe-csv: cells a spreadsheet would run as a formula (=, +, -, @, tab, CR first) get a leading apostrophe (OWASP). */
  safe = false;
  /** Fields csv-stringify quoted lately: the same detail ("…, the message has 1") comes back row after row. */
  private readonly quoted = new Map<string, string>();

  constructor(readonly format: Format, readonly dialect: Dialect) {}

  /**
   * Output in `format` for rows of `input`: CSV from CSV keeps the input's
   * dialect (delimiter, BOM, line ends) and its header line as written; CSV
   * from JSON keeps its BOM.
   */
  static forInput(input: { sniffed: { format: Format; dialect: Dialect }; columns: string[]; headerText?: string }, format: Format): RowFormat {
    const same = input.sniffed.format === 'csv' && format === 'csv';
    const rowFormat = new RowFormat(format, same ? input.sniffed.dialect : { delimiter: ',', bom: input.sniffed.dialect.bom, eol: '\n' });
    rowFormat.inputHeader = same
      ? input.headerText!
      : stringify([input.columns], { delimiter: rowFormat.dialect.delimiter, record_delimiter: '' });
    return rowFormat;
  }

  /** What a ChunkConfig needs to know of the output. */
  get output(): { format: Format; delimiter: string; eol: Dialect['eol']; safe: boolean } {
    return { format: this.format, delimiter: this.dialect.delimiter, eol: this.dialect.eol, safe: this.safe };
  }

  get extension(): string {
    return this.format;
  }

  /** File start: BOM and header for CSV, '[' for a JSON array. */
  start(added: readonly string[]): string {
    if (this.format === 'json') return '[';
    if (this.format === 'jsonl') return '';
    const { delimiter, eol, bom } = this.dialect;
    return (bom ? '\ufeff' : '') + this.inputHeader + delimiter + stringify([added], { delimiter, record_delimiter: eol });
  }

  end(rows: number): string {
    return this.format === 'json' ? (rows > 0 ? '\n]\n' : ']\n') : '';
  }

  /** What follows a kept row's base: the added columns and, but for JSON arrays, the line end. */
  cleanedSuffix(baseLength: number, e164Digits: string, waId: string, status: string, lineType: string): string {
    if (this.format === 'csv') {
      // These values are digits, '+' and lower-case words: they never need quoting.
      const d = this.dialect.delimiter;
      return d + '+' + e164Digits + d + waId + d + status + d + lineType + this.dialect.eol;
    }
    const sep = baseLength > 1 ? ',' : '';
    return `${sep}"phone_e164":"+${e164Digits}","wa_id":"${waId}","wa_status":"${status}","line_type":"${lineType}"}${this.format === 'jsonl' ? '\n' : ''}`;
  }

  /** Rows of a JSON array need a separator written before them; other formats end their own rows. */
  get needsLead(): boolean {
    return this.format === 'json';
  }

  lead(index: number): string {
    return index === 0 ? '\n' : ',\n';
  }

  purged(index: number, base: string, reason: string, detail: string): string {
    if (this.format === 'csv') {
      const { delimiter, eol } = this.dialect;
      return base + delimiter + this.field(reason) + delimiter + this.field(detail) + eol;
    }
    const sep = base.length > 1 ? ',' : '';
    return `${this.format === 'json' ? this.lead(index) : ''}${base}${sep}"purge_reason":"${reason}","purge_detail":${JSON.stringify(detail)}}${this.format === 'jsonl' ? '\n' : ''}`;
  }

  /**
   * One CSV field. Most need no quoting (no quote, delimiter or line break, and
   * for --safe-csv no formula start: csv-stringify's own tests) and are written
   * as they are; the rest go through csv-stringify. One library call per field
   * was the largest cost of writing rows.
   */
  field(value: string, escapeFormulas = this.safe): string {
    const { delimiter } = this.dialect;
    if (!value.includes('"') && !value.includes(delimiter) && !value.includes('\n') && !value.includes('\r')
      && !(escapeFormulas && FORMULA_START.test(value))) return value;
    const key = (escapeFormulas ? 's' : 'p') + value;
    let field = this.quoted.get(key);
    if (field === undefined) {
      if (this.quoted.size >= 1000) this.quoted.clear();
      field = stringify([[value]], { delimiter, record_delimiter: '', escape_formulas: escapeFormulas });
      this.quoted.set(key, field);
    }
    return field;
  }
}
