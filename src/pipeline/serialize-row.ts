import { cellText, type InputRecord, type RecordReader } from '../input/records.js';
import { FORMULA_CHARS, type RowFormat } from '../output/rows.js';
import type { ChunkConfig } from './chunk-types.js';

/**
 * Writes a row's own columns (its base) in the output format: a CSV record
 * copied as written when the dialects match, else each cell re-serialized.
 */
export class RowSerializer {
  private readonly passthrough: boolean;
  /** --safe-csv: a raw record with a field that may start a formula is re-written, not copied. */
  private readonly formulaStart: RegExp | undefined;

  constructor(
    private readonly config: ChunkConfig,
    private readonly records: RecordReader,
    private readonly rowFormat: RowFormat,
  ) {
    this.passthrough = config.format === 'csv' && config.output.format === 'csv'
      && config.output.delimiter === config.delimiter;
    if (config.output.safe) this.formulaStart = new RegExp(`(?:^|${escapeRegExp(config.delimiter)})"?${FORMULA_CHARS}`);
  }

  /** The row's own columns in the output format; the caller appends the added columns. */
  base(row: InputRecord): string {
    const { columns, output } = this.config;
    if (output.format === 'csv') {
      if (this.passthrough && row.raw !== '' && !(output.safe && this.formulaStart!.test(row.raw))) {
        // The record exactly as it was written, padded to the header's width.
        return row.raw + output.delimiter.repeat(Math.max(0, columns.length - this.records.fieldCount(row)));
      }
      // With --safe-csv, phone columns are left as they are: there a leading + is the number.
      return columns.map((_, c) => this.rowFormat.field(cellText(this.records.cell(row, c)), output.safe && !this.config.phone.includes(c))).join(output.delimiter);
    }
    // JSON objects are written without their closing brace.
    if (row.object) return JSON.stringify(row.object).slice(0, -1);
    const object: Record<string, unknown> = {};
    columns.forEach((name, c) => { object[name] = this.records.cell(row, c) ?? ''; });
    return JSON.stringify(object).slice(0, -1);
  }

  /** The base of a record that could not be read: its columns left empty (the detail carries the record as it was). */
  emptyBase(line: number): string {
    return this.base(this.config.format === 'csv' ? { raw: '', line, fields: [''] } : { raw: '', line, object: {} });
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
