import { UsageError } from '../errors.js';
import { FORMATS, type Format } from '../input/sniff.js';

/** Flags of every command that reads a data file and writes to --out-dir (see dataFileOptions in cli.ts). */
export interface DataFileFlags {
  format?: string;
  delimiter?: string;
  encoding?: string;
  /** The phone column(s) (repeated, or a comma list) and the other columns clean and send read. */
  column?: string | string[];
  optoutColumn?: string;
  optinColumn?: string;
  countryColumn?: string;
  outputFormat?: string;
  outDir: string;
  safeCsv?: boolean;
  blacklist?: string;
  store?: string;
  failOn?: string;
  json?: boolean;
  quiet?: boolean;
  workers?: string;
}

export function parseFormat(value: string | undefined, flag: string): Format | undefined {
  if (value === undefined) return undefined;
  const format = value.toLowerCase() === 'ndjson' ? 'jsonl' : value.toLowerCase();
  if (!FORMATS.includes(format as Format)) throw new UsageError(`${flag} must be one of ${FORMATS.join(', ')}; got "${value}"`);
  return format as Format;
}

export function parseDelimiter(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const named: Record<string, string> = { '\\t': '\t', tab: '\t', comma: ',', semicolon: ';', pipe: '|' };
  const delimiter = named[value.toLowerCase()] ?? value;
  if (delimiter.length !== 1 || delimiter === '"' || delimiter === '\n' || delimiter === '\r') {
    throw new UsageError(`--delimiter must be one character (or "tab"); got "${value}"`);
  }
  return delimiter;
}
