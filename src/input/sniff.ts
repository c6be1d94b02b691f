import { extname } from 'node:path';
import { UsageError } from '../errors.js';

export type Format = 'csv' | 'json' | 'jsonl';
export const FORMATS: readonly Format[] = ['csv', 'json', 'jsonl'];

export interface Dialect {
  delimiter: string;
  /** The input began with a UTF-8 byte-order mark; CSV outputs keep one so Excel reads them as UTF-8. */
  bom: boolean;
  eol: '\n' | '\r\n';
}

export interface Sniffed {
  format: Format;
  dialect: Dialect;
  /** Bytes to skip at the start (the BOM). */
  skip: number;
  /** CSV: where the header's newline is in the head, after `skip`; -1 when the head holds no whole record. */
  headerEnd: number;
}

const DELIMITERS = [',', ';', '\t', '|'];

export function formatFromName(name: string): Format | undefined {
  switch (extname(name).toLowerCase()) {
    case '.csv': case '.tsv': case '.txt': return 'csv';
    case '.json': return 'json';
    case '.jsonl': case '.ndjson': return 'jsonl';
    default: return undefined;
  }
}

function binaryKind(head: Buffer): string | undefined {
  if (head[0] === 0x1f && head[1] === 0x8b) return 'a gzip archive: decompress it first';
  if (head.subarray(0, 4).equals(Buffer.from('PK\x03\x04', 'latin1'))) {
    return 'a zip archive (an .xlsx workbook?): export it as CSV';
  }
  if ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff)) {
    return 'UTF-16 text: give --encoding utf-16le (or save it as UTF-8)';
  }
  const sample = head.subarray(0, 8192);
  let control = 0;
  for (const byte of sample) {
    if (byte === 0) return `binary data (a NUL byte at offset ${sample.indexOf(0)})`;
    if (byte < 0x09 || (byte > 0x0d && byte < 0x20)) control++;
  }
  if (control > sample.length / 100) return 'binary data (control characters)';
  return undefined;
}

/** Index of the newline that ends the first CSV record (outside double quotes), or -1. */
function firstRecordEnd(buf: Buffer): number {
  let quoted = false;
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i];
    if (c === 0x22) quoted = !quoted;
    else if (c === 0x0a && !quoted) return i;
  }
  return -1;
}

function countOutsideQuotes(line: string, char: string): number {
  let quoted = false;
  let count = 0;
  for (const c of line) {
    if (c === '"') quoted = !quoted;
    else if (c === char && !quoted) count++;
  }
  return count;
}

/**
 * Decides format and CSV dialect from the first bytes of the input: --format,
 * else the file extension, else the content.
 */
export function sniff(
  head: Buffer,
  source: string,
  options: { format?: Format; delimiter?: string; name?: string },
): Sniffed {
  const bom = head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf;
  const skip = bom ? 3 : 0;
  const binary = binaryKind(head.subarray(skip));
  if (binary) throw new UsageError(`${source}: not a CSV or JSON file; it looks like ${binary}`);
  const body = head.subarray(skip);
  const text = body.toString('utf8');
  const firstChar = text.trimStart()[0];
  if (firstChar === undefined) throw new UsageError(`${source}: the file is empty`);

  const format = options.format
    ?? (options.name ? formatFromName(options.name) : undefined)
    ?? (firstChar === '[' ? 'json' : firstChar === '{' ? 'jsonl' : 'csv');

  const headerEnd = firstRecordEnd(body);
  const header = (headerEnd < 0 ? body : body.subarray(0, headerEnd)).toString('utf8');
  const eol = header.endsWith('\r') ? '\r\n' : '\n';
  let delimiter = options.delimiter ?? ',';
  if (format === 'csv' && options.delimiter === undefined) {
    let best = 0;
    for (const candidate of DELIMITERS) {
      const count = countOutsideQuotes(header, candidate);
      if (count > best) {
        best = count;
        delimiter = candidate;
      }
    }
  }
  return { format, dialect: { delimiter, bom, eol }, skip, headerEnd };
}
