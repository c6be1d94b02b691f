import type { Sample } from './column-values.js';
import { RecordReader, type RecordLayout } from './records.js';
import { RecordSplitter } from './split.js';

/** Rows read to judge columns by their values. */
const SAMPLE_ROWS = 100;

/**
 * The cells of the first records in the input's first bytes (`body`, from
 * `startLine`), by column. Records that cannot be read are left out, and so
 * is everything when the bytes cannot be read: reading them for real reports why.
 */
export function sampleRows(layout: RecordLayout, body: Buffer, ended: boolean, startLine: number): Sample {
  const rows: unknown[][] = [];
  try {
    const splitter = new RecordSplitter(layout.format, layout.source, startLine, 1);
    const chunks = splitter.push(body);
    const last = ended ? splitter.end() : undefined;
    if (last) chunks.push(last);
    const reader = new RecordReader(layout);
    for (const chunk of chunks) {
      for (const record of reader.read(chunk.bytes, chunk.startLine)) {
        if (record.error === undefined) rows.push(layout.columns.map((_, c) => reader.cell(record, c)));
        if (rows.length >= SAMPLE_ROWS) return rows;
      }
    }
  } catch {
    // Not readable: no sample.
  }
  return rows;
}
