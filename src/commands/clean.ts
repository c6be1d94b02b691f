import { resolve } from 'node:path';
import { EXIT, InterruptedError, UsageError } from '../errors.js';
import type { IO } from '../io.js';
import { chooseInputColumns, refuseAddedColumns, type ColumnChoice } from '../input/columns.js';
import { openInput, type Input } from '../input/reader.js';
import type { Format } from '../input/sniff.js';
import { loadNumberList } from '../input/number-list.js';
import { parseCountry, parseDelimiter, parseFormat, parseWorkers, type DataFileFlags } from '../flags.js';
import { ADDED_COLUMNS, PURGE_COLUMNS, RowFormat } from '../output/rows.js';
import type { ChunkConfig, ChunkResult } from '../pipeline/chunk-types.js';
import { defaultWorkers } from '../pipeline/pool.js';
import { processInOrder } from '../pipeline/ordered.js';
import { Progress } from '../progress.js';
import type { BlacklistFile } from '../recipients/policy.js';
import { openStore } from '../store/open.js';
import { Outputs, refuseInputAsOutput, stdoutSink, type Sink } from '../output/outputs.js';
import { checkFailOn, parseFailOn, type FailOn, type FailOnCheck } from '../fail-on.js';
import { newVerifier, verifySettings, type VerifyFlags, type VerifySettings } from '../verify/settings.js';
import { PURGE_REASONS, PurgeRules, type PurgeReason } from '../clean/purge-rules.js';
import { cleanSummary, humanSummary, type CleanSummary } from '../clean/summary.js';
import { Totals } from '../clean/totals.js';
import { ChunkVerification } from '../clean/verify.js';
import { CleanWriter } from '../clean/write.js';
import { writeList } from '../lists/rows.js';

export { PURGE_REASONS, type CleanSummary, type PurgeReason };

/** --fail-on takes the purge reasons, and `unverified` for numbers verification could not settle. */
const FAIL_ON_REASONS = [...PURGE_REASONS, 'unverified'];

export interface CleanOptions extends DataFileFlags, VerifyFlags {
  country?: string;
  /** Purge numbers that are not mobiles (not_mobile); fixed_line_or_mobile is kept. */
  mobileOnly?: boolean;
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

/**
 * Each chunk of rows: read and normalized (in workers), judged by the purge
 * rules, verified, written to cleaned or purged; then the blacklist and the
 * summary.
 */
async function cleanInput(input: Input, config: Settings, options: CleanOptions, io: IO, started: Date): Promise<number> {
  const choice = chooseInputColumns(input, options);
  refuseAddedColumns(input.columns, [...ADDED_COLUMNS, ...PURGE_COLUMNS], input.source, 'clean');
  const rowFormat = RowFormat.forInput(input, config.outputFormat ?? input.sniffed.format);
  rowFormat.safe = Boolean(options.safeCsv);
  const chunkConfig = { ...readingConfig(input, choice, config, rowFormat), mobileOnly: Boolean(options.mobileOnly) };
  const fileBlacklist: BlacklistFile | undefined = options.blacklist
    ? { list: await loadNumberList(options.blacklist, io, config.country), name: options.blacklist }
    : undefined;

  const store = await openStore(options.store, io.env, io.cwd);
  let outputs: Outputs | undefined;
  let progress: Progress | undefined;
  let verification: ChunkVerification | undefined;
  try {
    outputs = await Outputs.create(options.outDir, io.cwd);
    const files = await openFiles(outputs, options, io, rowFormat);
    const totals = new Totals();
    verification = config.verify ? new ChunkVerification(config.verify, newVerifier(config.verify, store, io.signal), store) : undefined;
    const writer = new CleanWriter(files, rowFormat, totals, verification, () => progress!.update(input.bytesRead(), totals.rows));
    await writer.start();
    progress = await Progress.start('clean', io, Boolean(options.quiet || options.json), input.size);
    const optOutColumns = choice.optOut.map((c) => input.columns[c]!);
    const rules = new PurgeRules(store, fileBlacklist, optOutColumns, input.sniffed.format === 'json' ? 'record' : 'line', input.size);

    await processInOrder(input.chunks, chunkConfig, config.workers, io.signal, async (result: ChunkResult) => {
      checkAbort(io.signal);
      const decided = await rules.apply(result, totals.rows);
      totals.rows += result.rows;
      await verification?.start(decided);
      await writer.add(decided);
    });
    await writer.drain();
    checkAbort(io.signal);
    if (totals.rows === 0) {
      throw new UsageError(`${input.source}: no data rows${input.sniffed.format === 'csv' ? ' (only a header)' : ''}`);
    }
    await writer.end();
    const blacklistSize = await writeList('blacklist', store, (text) => files.blacklist.write(text), false);
    progress.stop();

    const exit = verdict(config, options, totals, verification);
    const summary = cleanSummary({
      started, input, choice, totals, verification, exit,
      outputs: { cleaned: files.cleaned.path, purged: files.purged.path, blacklist: files.blacklist.path, summary: files.summary.path },
      store: { backend: store.backend, location: store.location, blacklist_size: blacklistSize },
      country: config.country,
      blacklistWarning: fileBlacklist?.list.warning,
    });
    await files.summary.write(JSON.stringify(summary, null, 2) + '\n');
    await outputs.commit();

    if (options.json) io.stdout.write(JSON.stringify(summary, null, 2) + '\n');
    else if (!options.quiet) io.stderr.write(humanSummary(summary, input.source, io.cwd));
    if (exit.message && (!options.quiet || exit.exitCode === EXIT.FAILURE)) io.stderr.write(exit.message); // --quiet keeps errors
    return exit.exitCode;
  } finally {
    progress?.stop();
    await verification?.close();
    await outputs?.abort();
    await store.close();
  }
}

function checkAbort(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new InterruptedError(String(signal.reason ?? 'SIGINT'));
}

/** How the workers read the input and what they write of each row. */
function readingConfig(input: Input, choice: ColumnChoice, config: Settings, rowFormat: RowFormat): ChunkConfig {
  return {
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
}

/** The cleaned rows (--output, else in --out-dir), the purged rows, the blacklist and the summary. */
async function openFiles(outputs: Outputs, options: CleanOptions, io: IO, rowFormat: RowFormat): Promise<Record<'cleaned' | 'purged' | 'blacklist' | 'summary', Sink>> {
  const cleaned: Sink = options.output === '-' ? stdoutSink(io.stdout)
    : options.output ? await outputs.at(resolve(io.cwd, options.output))
      : await outputs.file(`cleaned.${rowFormat.extension}`);
  const purged = await outputs.file(`purged.${rowFormat.extension}`);
  const blacklist = await outputs.file('blacklist.csv');
  const summary = await outputs.file('summary.json');
  return { cleaned, purged, blacklist, summary };
}

/**
 * The exit, decided before the summary is written (it reports it): 1 when
 * verification was required and could not settle some numbers, else 3 when
 * rows were purged (or left unverified) for the reasons --fail-on names, else 0.
 */
function verdict(config: Settings, options: CleanOptions, totals: Totals, verification: ChunkVerification | undefined): FailOnCheck {
  const unverified = verification ? totals.byStatus.unverified ?? 0 : 0;
  const check = checkFailOn(config.failOn, { ...totals.byReason, unverified }, FAIL_ON_REASONS, unverified ? 'purged or left unverified' : 'purged');
  if (options.verify === true && verification && verification.unresolved > 0) {
    // Asked to verify, and the endpoint could not answer for some: a cron job must notice.
    const message = `wa-guard: ${verification.unresolved} numbers could not be verified (the /contacts endpoint kept failing); they are in the cleaned file as unverified\n`;
    return { ...check, exitCode: EXIT.FAILURE, message };
  }
  return check;
}
