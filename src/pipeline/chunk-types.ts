import type { CountryCode } from 'libphonenumber-js';
import type { Format } from '../input/sniff.js';

// What the chunk processor (in worker threads) is given and gives back: the
// contract between it and the commands that read its results (clean, send, lists).

/** Per-row outcome of the stages that run in workers. Later stages add their own reasons. */
export const Outcome = { OK: 0, MISSING: 1, INVALID: 2, NO_COUNTRY: 3, MALFORMED: 4, NO_OPTIN: 5, NOT_MOBILE: 6 } as const;
export const OUTCOME_REASON = ['', 'missing_number', 'invalid_number', 'no_country_code', 'malformed_row', 'no_optin', 'not_mobile'] as const;

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
  /** --mobile-only: a row whose number is not a mobile (nor fixed_line_or_mobile) is NOT_MOBILE. */
  mobileOnly?: boolean;
  output: { format: Format; delimiter: string; eol: '\n' | '\r\n'; safe?: boolean };
  /** Append clean's columns (phone_e164, wa_id, wa_status, line_type) to kept rows; send has no use for them. */
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
  /** Index into config.phone of the column the number came from; NO_COLUMN for none. */
  phoneColumn: Uint8Array;
  /** The line type (an index into LINE_TYPES) of OK rows' numbers. */
  lineType: Uint8Array;
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

/** ChunkResult.phoneColumn of a row whose number came from no column. */
export const NO_COLUMN = 255;
