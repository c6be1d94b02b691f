import { isAbsolute, relative, resolve } from 'node:path';
import { EXIT, InterruptedError, UsageError } from '../errors.js';
import type { IO } from '../io.js';
import { chooseInputColumns, refuseAddedColumns } from '../input/columns.js';
import { openInput, type Input } from '../input/reader.js';
import type { Format } from '../input/sniff.js';
import { parseCountry, parseDelimiter, parseFormat, parseWorkers, type DataFileFlags } from '../flags.js';
import { ADDED_COLUMNS, PURGE_COLUMNS, RowFormat } from '../output/rows.js';
import { Outcome, OUTCOME_REASON, type ChunkConfig, type ChunkResult } from '../pipeline/chunk.js';
import { defaultWorkers } from '../pipeline/pool.js';
import { processInOrder } from '../pipeline/ordered.js';
import { WaIdSet } from '../pipeline/waid-set.js';
import { Progress } from '../progress.js';
import { openStore } from '../store/store.js';
import { loadNumberList } from '../input/number-list.js';
import { runFigures, type RunFigures } from '../versions.js';
import { Outputs, refuseInputAsOutput, stdoutSink, type Sink } from '../output/outputs.js';
import { failOnExit, parseFailOn, type FailOn } from '../fail-on.js';
import { newVerifier, verifySettings, type VerifyFlags, type VerifySettings } from '../verify/settings.js';
import type { Verifier } from '../verify/verifier.js';
import { readPolicy } from '../stages/policy.js';
import { PURGE_REASONS, Totals, awaitChecks, renderChunk, verifyChunk, type Decided, type PurgeReason } from '../stages/clean-chunk.js';

export { PURGE_REASONS, type PurgeReason };
import { writeList } from './lists.js';

/** --fail-on takes the purge reasons, and `unverified` for numbers verification could not settle. */
const FAIL_ON_REASONS = [...PURGE_REASONS, 'unverified'];

export interface CleanOptions extends DataFileFlags, VerifyFlags {
  country?: string;
  /** The cleaned rows: a file, or - for stdout (default: cleaned.* in --out-dir). */
  output?: string;
}

interface Settings {
  country: ReturnType<typeof parseCountry>;
  format: Format | undefined;
  delimiter: string | undefined;
  outputFormat: Format | undefined;
  failOn: FailOn;
  workers: number;
  verify: VerifySettings | undefined;
}

function settings(options: CleanOptions, env: NodeJS.ProcessEnv): Settings {
  return {
    country: parseCountry(options.country, env),
    format: parseFormat(options.format, '--format'),
    delimiter: parseDelimiter(options.delimiter),
    outputFormat: parseFormat(options.outputFormat, '--output-format'),
    failOn: parseFailOn(options.failOn, FAIL_ON_REASONS),
    workers: parseWorkers(options.workers, defaultWorkers()),
    verify: verifySettings(options, env),
  };
}

export interface CleanSummary extends RunFigures {
  command: 'clean';
  ok: boolean;
  input: { path: string; format: Format; delimiter?: string; phone_columns: string[]; optout_columns?: string[]; optin_column?: string; country_column?: string; bytes: number };
  outputs: { cleaned: string; purged: string; blacklist: string; summary: string };
  rows: { input: number; cleaned: number; purged: number };
  wa_status: Record<string, number>;
  purged_by_reason: Record<PurgeReason, number>;
  phone_column_used: Record<string, number>;
  verification: Record<string, unknown> & { mode: 'online' | 'offline' };
  store: { backend: string; location: string; blacklist_size: number };
  country: string | null;
  warnings: string[];
}

/** Decided chunks that may wait on verification before being written, in order. */
const MAX_WAITING_CHUNKS = 64;

export async function clean(inputSpec: string | undefined, options: CleanOptions, io: IO): Promise<number> {
  const started = new Date();
  if (!inputSpec) throw new UsageError('missing input: give a file path, or - to read stdin');
  const config = settings(options, io.env);
  if (options.output === '-' && options.json) throw new UsageError('--output - and --json both want stdout: drop one (the summary is in summary.json too)');
  await refuseInputAsOutput(inputSpec, io.cwd, { outDir: options.outDir, stems: ['cleaned', 'purged'], files: ['blacklist.csv', 'summary.json'], output: options.output });

  // Everything that can reject the input or the arguments happens before any output exists.
  const input = await openInput(inputSpec, io, { format: config.format, delimiter: config.delimiter, encoding: options.encoding });
  try {
    return await cleanInput(input, config, options, io, started);
  } finally {
    input.close();
  }
}

async function cleanInput(input: Input, config: Settings, options: CleanOptions, io: IO, started: Date): Promise<number> {
  const signal = io.signal;
  const checkAbort = (): void => {
    if (signal?.aborted) throw new InterruptedError(String(signal.reason ?? 'SIGINT'));
  };
  const choice = chooseInputColumns(input, options);
  refuseAddedColumns(input.columns, [...ADDED_COLUMNS, ...PURGE_COLUMNS], input.source, 'clean');
  const outputFormat = config.outputFormat ?? input.sniffed.format;
  const rowFormat = RowFormat.forInput(input, outputFormat);
  rowFormat.safe = Boolean(options.safeCsv);
  const chunkConfig: ChunkConfig = {
    source: input.source,
    format: input.sniffed.format,
    delimiter: input.sniffed.dialect.delimiter,
    columns: input.columns,
    phone: choice.phone,
    optOut: choice.optOut,
    optIn: choice.optIn,
    countryColumn: choice.country,
    country: config.country,
    output: rowFormat.output,
    cleanedColumns: true,
  };
  const fileBlacklist = options.blacklist
    ? { list: await loadNumberList(options.blacklist, io, config.country), name: options.blacklist }
    : undefined;

  const store = await openStore(options.store, io.env, io.cwd);
  let outputs: Outputs | undefined;
  let progress: Progress | undefined;
  let verifier: Verifier | undefined;
  try {
    outputs = await Outputs.create(options.outDir, io.cwd);
    const cleanedFile: Sink = options.output === '-' ? stdoutSink(io.stdout)
      : options.output ? await outputs.at(resolve(io.cwd, options.output))
        : await outputs.file(`cleaned.${rowFormat.extension}`);
    const purgedFile = await outputs.file(`purged.${rowFormat.extension}`);
    const blacklistFile = await outputs.file('blacklist.csv');
    const summaryFile = await outputs.file('summary.json');
    const paths = { cleaned: cleanedFile.path, purged: purgedFile.path, blacklist: blacklistFile.path, summary: summaryFile.path };

    await cleanedFile.write(rowFormat.start(ADDED_COLUMNS));
    await purgedFile.write(rowFormat.start(PURGE_COLUMNS));

    progress = await Progress.start('clean', io, Boolean(options.quiet || options.json), input.size);
    const totals = new Totals();
    // Sized for the input up front (about 80 bytes a row), so it rarely has to grow.
    const seen = new WaIdSet(Math.min(input.size ? input.size / 80 : 0, 1 << 23));
    const rowUnit = input.sniffed.format === 'json' ? 'record' : 'line';
    const optOutColumns = choice.optOut.map((c) => input.columns[c]!);

    verifier = config.verify ? newVerifier(config.verify, store, signal) : undefined;
    const verification = { cacheHits: 0 };

    const decide = async (result: ChunkResult): Promise<Decided> => {
      const n = result.rows;
      const reason: (PurgeReason | undefined)[] = new Array(n);
      const detail = result.details;
      const candidates: number[] = [];
      for (let i = 0; i < n; i++) {
        const outcome = result.outcome[i]!;
        if (outcome !== Outcome.OK) {
          reason[i] = OUTCOME_REASON[outcome] as PurgeReason;
          continue;
        }
        const position = result.lines[i] || totals.rows + i + 1;
        const waId = result.waIds[i]!;
        const first = seen.get(waId);
        if (first >= 0) {
          reason[i] = 'duplicate';
          detail[i] = `+${waId} already on ${rowUnit} ${first}`;
        } else {
          seen.add(waId, position);
          candidates.push(i);
        }
      }
      totals.rows += n;
      // Policy: the store's lists and the --blacklist file (one batched lookup per chunk), the row's own opt-out flag.
      const policy = await readPolicy(store, candidates.map((i) => String(result.waIds[i])), fileBlacklist);
      candidates.forEach((i, k) => {
        const { blacklisted, optedOut } = policy[k]!;
        if (blacklisted) {
          reason[i] = 'blacklisted';
          detail[i] = blacklisted;
        } else if (optedOut) {
          reason[i] = 'opted_out';
          detail[i] = optedOut.detail;
        } else if (result.optedOut[i]) {
          reason[i] = 'opted_out';
          detail[i] = `flagged in column ${optOutColumns[result.optedOut[i]! - 1]}`;
        }
      });
      const decided: Decided = { result, reason, detail, status: [], waId: [], checks: [], batch: 0 };
      if (verifier) verification.cacheHits += await verifyChunk(decided, candidates.filter((i) => reason[i] === undefined), store, verifier);
      return decided;
    };

    const emit = async (d: Decided): Promise<void> => {
      if (verifier) await awaitChecks(d, verifier);
      const { cleaned, purged } = renderChunk(d, rowFormat, totals);
      await Promise.all([cleanedFile.write(cleaned), purgedFile.write(purged)]);
      progress!.update(input.bytesRead(), totals.rows);
    };

    const waiting: Decided[] = [];
    const consume = async (result: ChunkResult): Promise<void> => {
      checkAbort();
      waiting.push(await decide(result));
      while (waiting.length > (verifier ? MAX_WAITING_CHUNKS : 0)) await emit(waiting.shift()!);
    };

    await processInOrder(input.chunks, chunkConfig, config.workers, signal, consume);
    while (waiting.length) await emit(waiting.shift()!);
    checkAbort();
    if (totals.rows === 0) {
      throw new UsageError(`${input.source}: no data rows${input.sniffed.format === 'csv' ? ' (only a header)' : ''}`);
    }

    await cleanedFile.write(rowFormat.end(totals.cleaned));
    await purgedFile.write(rowFormat.end(totals.purged));
    const blacklistSize = await writeList('blacklist', store, (text) => blacklistFile.write(text), false);
    progress.stop();

    const warnings: string[] = [];
    if (totals.lateKeyRows) {
      warnings.push(`${totals.lateKeyRows} record(s) had keys first seen after the first 64 KiB (${[...totals.lateKeys].join(', ')}): the CSV outputs have no column for them; use --output-format jsonl to keep them`);
    }
    if (totals.shortRows) warnings.push(`${totals.shortRows} row(s) had fewer fields than the header; the missing fields were left empty`);
    if (fileBlacklist?.list.warning) warnings.push(fileBlacklist.list.warning);
    const phoneColumns = choice.phone.map((c) => input.columns[c]!);
    const summary: CleanSummary = {
      command: 'clean',
      ok: true,
      input: {
        path: input.path ?? '-',
        format: input.sniffed.format,
        ...(input.sniffed.format === 'csv' ? { delimiter: input.sniffed.dialect.delimiter } : {}),
        phone_columns: phoneColumns,
        ...(optOutColumns.length ? { optout_columns: optOutColumns } : {}),
        ...(choice.optIn !== undefined ? { optin_column: input.columns[choice.optIn] } : {}),
        ...(choice.country !== undefined ? { country_column: input.columns[choice.country] } : {}),
        bytes: input.bytesRead(),
      },
      outputs: paths,
      rows: { input: totals.rows, cleaned: totals.cleaned, purged: totals.purged },
      wa_status: totals.byStatus,
      purged_by_reason: totals.byReason,
      phone_column_used: Object.fromEntries(phoneColumns.map((name, c) => [name, totals.byColumn[c] ?? 0])),
      verification: verifier
        ? {
          mode: 'online',
          endpoint: config.verify!.url.origin + config.verify!.url.pathname.replace(/\/$/, '') + '/v1/contacts',
          requests: verifier.stats.requests,
          numbers_checked: verifier.stats.numbers_checked,
          cache_hits: verification.cacheHits,
          retries: verifier.stats.retries,
          over_budget: verifier.stats.over_budget,
          unresolved: verifier.stats.unresolved,
          requests_per_second: Math.round(verifier.stats.requests_per_second * 10) / 10,
          rate: config.verify!.rate,
          burst: config.verify!.burst,
          batch_size: config.verify!.batchSize,
          concurrency: config.verify!.concurrency,
        }
        : { mode: 'offline', note: 'numbers were not checked against WhatsApp (no --contacts-url)' },
      store: { backend: store.backend, location: store.location, blacklist_size: blacklistSize },
      country: config.country ?? null,
      warnings,
      ...runFigures(started, totals.rows),
    };
    await summaryFile.write(JSON.stringify(summary, null, 2) + '\n');
    await outputs.commit();

    if (options.json) io.stdout.write(JSON.stringify(summary, null, 2) + '\n');
    else if (!options.quiet) io.stderr.write(humanSummary(summary, input.source, io.cwd));
    const unverified = verifier ? totals.byStatus.unverified ?? 0 : 0;
    if (options.verify === true && verifier && verifier.stats.unresolved > 0) {
      // Asked to verify, and the endpoint could not answer for some: a cron job must notice.
      io.stderr.write(`wa-guard: ${verifier.stats.unresolved} numbers could not be verified (the /contacts endpoint kept failing); they are in the cleaned file as unverified\n`);
      return EXIT.FAILURE;
    }
    return failOnExit(config.failOn, { ...totals.byReason, unverified }, FAIL_ON_REASONS, unverified ? 'purged or left unverified' : 'purged', io, Boolean(options.quiet));
  } finally {
    progress?.stop();
    await verifier?.close();
    await outputs?.abort();
    await store.close();
  }
}

function humanSummary(s: CleanSummary, source: string, cwd: string): string {
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
  const v = s.verification as Record<string, number> & { mode: string };
  if (v.mode === 'online') {
    lines.push(`  wa_status: ${Object.entries(s.wa_status).map(([k, c]) => `${k} ${n(c)}`).join(', ')}`);
    lines.push(`  /contacts: ${n(v.requests)} requests (${v.requests_per_second}/s), ${n(v.numbers_checked)} numbers checked, ${n(v.cache_hits)} cache hits, ${n(v.retries)} retries`);
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


