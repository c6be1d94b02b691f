import { isAbsolute, relative } from 'node:path';
import type { CountryCode } from 'libphonenumber-js';
import type { ColumnChoice } from '../input/columns.js';
import type { Input } from '../input/reader.js';
import type { Format } from '../input/sniff.js';
import type { FailOnCheck, FailOnReport } from '../fail-on.js';
import { LINE_TYPES, type LineType } from '../line-type.js';
import { runFigures, type RunFigures } from '../versions.js';
import { PURGE_REASONS, type PurgeReason } from './purge-rules.js';
import type { Totals } from './totals.js';
import type { ChunkVerification } from './verify.js';

export interface CleanSummary extends RunFigures {
  command: 'clean';
  /** The exit is 0. */
  ok: boolean;
  exit_code: number;
  fail_on: FailOnReport;
  input: { path: string; format: Format; delimiter?: string; phone_columns: string[]; optout_columns?: string[]; optin_column?: string; country_column?: string; country_column_detected?: boolean; bytes: number };
  outputs: { cleaned: string; purged: string; blacklist: string; summary: string };
  rows: { input: number; cleaned: number; purged: number };
  wa_status: Record<string, number>;
  /** Cleaned rows by line type; the types none had are left out. */
  line_types: Partial<Record<LineType, number>>;
  purged_by_reason: Record<PurgeReason, number>;
  phone_column_used: Record<string, number>;
  verification: Record<string, unknown> & { mode: 'online' | 'offline' };
  store: { backend: string; location: string; blacklist_size: number };
  country: string | null;
  warnings: string[];
}

/** What a finished run's summary is made of. */
export interface RunRecord {
  started: Date;
  input: Input;
  choice: ColumnChoice;
  outputs: CleanSummary['outputs'];
  totals: Totals;
  verification: ChunkVerification | undefined;
  store: CleanSummary['store'];
  country: CountryCode | undefined;
  /** What loading the --blacklist file warned of. */
  blacklistWarning: string | undefined;
  /** The exit the run ends with, and what --fail-on matched. */
  exit: FailOnCheck;
}

/** summary.json: what was read, what was written and why rows were purged. */
export function cleanSummary(run: RunRecord): CleanSummary {
  const { input, choice, totals } = run;
  const phoneColumns = choice.phone.map((c) => input.columns[c]!);
  const optOutColumns = choice.optOut.map((c) => input.columns[c]!);
  return {
    command: 'clean',
    ok: run.exit.exitCode === 0,
    exit_code: run.exit.exitCode,
    fail_on: run.exit.report,
    input: {
      path: input.path ?? '-',
      format: input.sniffed.format,
      ...(input.sniffed.format === 'csv' ? { delimiter: input.sniffed.dialect.delimiter } : {}),
      phone_columns: phoneColumns,
      ...(optOutColumns.length ? { optout_columns: optOutColumns } : {}),
      ...(choice.optIn !== undefined ? { optin_column: input.columns[choice.optIn] } : {}),
      ...(choice.country !== undefined ? { country_column: input.columns[choice.country] } : {}),
      ...(choice.countryDetected ? { country_column_detected: true } : {}),
      bytes: input.bytesRead(),
    },
    outputs: run.outputs,
    rows: { input: totals.rows, cleaned: totals.cleaned, purged: totals.purged },
    wa_status: totals.byStatus,
    line_types: Object.fromEntries(LINE_TYPES.flatMap((type, code) => (totals.byLineType[code] ? [[type, totals.byLineType[code]]] : []))),
    purged_by_reason: totals.byReason,
    phone_column_used: Object.fromEntries(phoneColumns.map((name, c) => [name, totals.byColumn[c] ?? 0])),
    verification: run.verification
      ? run.verification.summary()
      : { mode: 'offline', note: 'numbers were not checked against WhatsApp (no --contacts-url)' },
    store: run.store,
    country: run.country ?? null,
    warnings: warnings(totals, run.blacklistWarning),
    ...runFigures(run.started, totals.rows),
  };
}

function warnings(totals: Totals, blacklistWarning: string | undefined): string[] {
  const warnings: string[] = [];
  if (totals.lateKeyRows) {
    warnings.push(`${totals.lateKeyRows} record(s) had keys first seen after the first 64 KiB (${[...totals.lateKeys].join(', ')}): the CSV outputs have no column for them; use --output-format jsonl to keep them`);
  }
  if (totals.shortRows) warnings.push(`${totals.shortRows} row(s) had fewer fields than the header; the missing fields were left empty`);
  if (blacklistWarning) warnings.push(blacklistWarning);
  return warnings;
}

/** The summary for a person, on stderr. */
export function humanSummary(s: CleanSummary, source: string, cwd: string): string {
  const n = (value: number): string => value.toLocaleString('en-US');
  const show = (path: string): string => {
    if (path === '-') return 'stdout';
    const near = relative(cwd, path);
    return near.startsWith('..') || isAbsolute(near) ? path : near;
  };
  const lines = [
    `wa-guard clean: ${n(s.rows.input)} rows from ${source} (${s.input.format}) in ${(s.duration_ms / 1000).toFixed(2)} s, ${n(s.rows_per_second)} rows/s`,
    `  cleaned  ${n(s.rows.cleaned).padStart(10)}  -> ${show(s.outputs.cleaned)}`,
    `  purged   ${n(s.rows.purged).padStart(10)}  -> ${show(s.outputs.purged)}`,
  ];
  for (const reason of PURGE_REASONS) {
    if (s.purged_by_reason[reason]) lines.push(`    ${reason.padEnd(16)}${n(s.purged_by_reason[reason]).padStart(10)}`);
  }
  const used = Object.entries(s.phone_column_used);
  if (used.length > 1) lines.push(`  phone column used: ${used.map(([name, count]) => `${name} ${n(count)}`).join(', ')}`);
  else lines.push(`  phone column: ${s.input.phone_columns[0]}`);
  if (s.input.country_column !== undefined) {
    const how = s.input.country_column_detected ? 'detected; --country-column to name another' : '--country-column';
    lines.push(`  country column: ${s.input.country_column} (${how}): national numbers read in each row's country${s.country ? `, else ${s.country}` : ''}`);
  }
  const types = Object.entries(s.line_types);
  if (types.length) lines.push(`  line types: ${types.map(([type, count]) => `${type} ${n(count!)}`).join(', ')}`);
  const v = s.verification as Record<string, number> & { mode: string };
  if (v.mode === 'online') {
    lines.push(`  wa_status: ${Object.entries(s.wa_status).map(([k, c]) => `${k} ${n(c)}`).join(', ')}`);
    const pace = v.requests <= v.burst ? `within the burst of ${v.burst}` : `paced at ${v.requests_per_second}/s${v.burst > 1 ? ` beyond a burst of ${v.burst}` : ''}`;
    lines.push(`  /contacts: ${n(v.requests)} requests (${pace}), ${n(v.numbers_checked)} numbers checked, ${n(v.cache_hits)} cache hits, ${n(v.retries)} retries`);
    if (v.over_budget) lines.push(`  ${n(v.over_budget)} numbers left unverified: over the --max-checks budget`);
    if (v.unresolved) lines.push(`  ${n(v.unresolved)} numbers left unverified: the endpoint could not answer for them`);
  } else {
    lines.push('  numbers not verified with WhatsApp (offline: no --contacts-url)');
  }
  lines.push(`  blacklist: ${n(s.store.blacklist_size)} numbers in the ${s.store.backend} store`);
  if (s.purged_by_reason.no_country_code) lines.push('  numbers without a country code were purged as no_country_code: give --country to read them as national');
  for (const warning of s.warnings) lines.push(`  warning: ${warning}`);
  lines.push(`  summary  -> ${show(s.outputs.summary)}`);
  return lines.join('\n') + '\n';
}


