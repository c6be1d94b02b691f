import { isOptedIn, isOptOutFlag } from '../input/columns.js';
import { RecordReader, cellText, recordKeys, valueAt, type InputRecord } from '../input/records.js';
import { LINE_TYPES } from '../line-type.js';
import { RowFormat } from '../output/rows.js';
import { NO_COLUMN, Outcome, type ChunkConfig, type ChunkResult } from './chunk-types.js';
import { NumberPicker } from './pick-number.js';
import { RowSerializer } from './serialize-row.js';

/**
 * Processes whole records: read, pick and normalize the number, apply the
 * row's own opt-out and opt-in columns, serialize. Runs in a worker thread, or
 * inline for small inputs.
 */
export class ChunkProcessor {
  private readonly records: RecordReader;
  private readonly picker: NumberPicker;
  private readonly serializer: RowSerializer;
  private readonly rowFormat: RowFormat;
  private columnSet: Set<string> | undefined;

  constructor(private readonly config: ChunkConfig) {
    const { format, delimiter, eol } = config.output;
    this.rowFormat = new RowFormat(format, { delimiter, eol, bom: false });
    this.records = new RecordReader(config);
    this.picker = new NumberPicker(config, this.records);
    this.serializer = new RowSerializer(config, this.records, this.rowFormat);
  }

  process(bytes: Uint8Array, startLine: number): ChunkResult {
    const rows: (InputRecord | undefined)[] = this.records.read(bytes, startLine);
    const n = rows.length;
    const result = emptyResult(n);
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
        text += this.serializer.emptyBase(row.line);
        result.ends[i] = result.baseEnds[i] = text.length;
        if (extract) for (let k = 0; k < extract.length; k++) result.extracted.push('');
        continue;
      }
      if (this.config.format === 'csv' && this.records.fieldCount(row) < width) result.shortRows++;
      else if (row.object && this.config.output.format === 'csv') this.noteLateKeys(row.object, result);
      const base = this.serializer.base(row);
      text += base;
      result.baseEnds[i] = text.length;
      const flagged = this.config.optOut.findIndex((c) => isOptOutFlag(this.records.cell(row, c)));
      if (flagged >= 0) result.optedOut[i] = flagged + 1;
      if (extract) {
        // Many columns are read from each row: split a record without quotes once rather than scan it for each.
        if (!row.fields && !row.object) row.fields = row.raw.split(this.config.delimiter);
        for (const { index, name } of extract) {
          result.extracted.push(cellText(row.object ? valueAt(row.object, name) : index < 0 ? '' : this.records.cell(row, index)));
        }
      }
      let waId = this.picker.pick(row, result, i);
      if (waId !== undefined && this.config.optIn !== undefined && !isOptedIn(this.records.cell(row, this.config.optIn))) {
        result.outcome[i] = Outcome.NO_OPTIN;
        result.details[i] = `column ${this.config.columns[this.config.optIn]} does not say the contact opted in: ${JSON.stringify(cellText(this.records.cell(row, this.config.optIn)))}`;
        waId = undefined;
      }
      if (waId !== undefined && this.config.cleanedColumns) {
        text += this.rowFormat.cleanedSuffix(base.length, waId, waId, 'unverified', LINE_TYPES[result.lineType[i]!]!);
      }
      result.ends[i] = text.length;
    }
    result.text = text;
    return result;
  }

  /** JSON records with keys that are not columns: counted, as CSV output has no place for them. */
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
}

function emptyResult(n: number): ChunkResult {
  return {
    rows: n,
    outcome: new Uint8Array(n),
    waIds: new Float64Array(n),
    lines: new Uint32Array(n),
    optedOut: new Uint8Array(n),
    phoneColumn: new Uint8Array(n).fill(NO_COLUMN),
    lineType: new Uint8Array(n),
    text: '',
    ends: new Uint32Array(n),
    baseEnds: new Uint32Array(n),
    details: {},
    shortRows: 0,
    extracted: [],
    lateKeyRows: 0,
    lateKeys: [],
  };
}
