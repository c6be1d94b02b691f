import { UNDELIVERABLE_TTL_MS } from '../store/lists.js';
import { resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { Delivery } from '../campaign/deliver.js';
import type { ChunkGateContext } from '../campaign/gate-chunk.js';
import { countRecent } from '../campaign/recipients.js';
import { GATE_COLUMNS, RESULT_COLUMNS, ResultsFile, type AddedColumn } from '../campaign/results.js';
import { CampaignColumns } from '../campaign/row.js';
import { markSendStarted, unmarkSend } from '../campaign/earlier-run.js';
import { checkLiveStore, type StoreCheck } from '../campaign/preflight.js';
import { runCampaign } from '../campaign/run.js';
import { JournalPreview } from '../campaign/journal-preview.js';
import { FAIL_ON_REASONS, Tally, campaignSummary, campaignVerdict, humanSummary, type Summary, type Verdict } from '../campaign/summary.js';
import { parseFailOn, type FailOn } from '../fail-on.js';
import { count, duration, parseApiVersion, parseCountry, parseDelimiter, parseDuration, parseFormat, parseHttpUrl, parsePhoneNumberId, parseTier, parseWorkers, readToken, SEND_DEFAULTS, type DataFileFlags } from '../flags.js';
import { CATEGORIES, type Category, type GateConfig } from '../gate/gate.js';
import { Plan } from '../gate/plan.js';
import { loadTemplates } from '../gate/templates.js';
import type { IO } from '../io.js';
import { chooseInputColumns, headerKey, refuseAddedColumns, type ColumnChoice } from '../input/columns.js';
import { loadNumberList } from '../input/number-list.js';
import { openInput, type Input } from '../input/reader.js';
import type { AtomicFile } from '../output/atomic.js';
import { Outputs, refuseInputAsOutput, stdoutSink, type Sink } from '../output/outputs.js';
import { RowFormat } from '../output/rows.js';
import type { ChunkConfig } from '../pipeline/chunk-types.js';
import { defaultWorkers } from '../pipeline/pool.js';
import { Progress } from '../progress.js';
import { MessagesClient } from '../send/client.js';
import { CampaignJournal } from '../report/campaign-journal.js';
import { recordCampaign } from '../report/campaigns.js';
import { fileCampaignId, Journal } from '../send/journal.js';
import { Sender } from '../send/sender.js';
import { THROTTLE_TIMEOUT_MS } from '../send/watchdog.js';
import { fetchTemplates } from '../send/templates-api.js';
import { openStore } from '../store/open.js';
import type { Store } from '../store/store.js';
import { readTemplateStatus } from '../store/template-status.js';

export interface SendOptions extends DataFileFlags {
  dryRun?: boolean;
  country?: string;
  templates?: string;
  wabaId?: string;
  language?: string;
  category?: string;
  tier?: string;
  pairInterval?: string;
  mps?: string;
  now?: string;
  apiUrl?: string;
  apiVersion?: string;
  phoneNumberId?: string;
  campaignId?: string;
  concurrency?: string;
  maxAttempts?: string;
  strikes?: string;
  undeliverableTtl?: string;
  resendUnknown?: boolean;
  retryFailed?: boolean;
  throttleTimeout?: string;
  timeout?: string;
  /** The data rows (gate.* or results.*): a file, or - for stdout (default: in --out-dir). */
  output?: string;
  allowVolatileStore?: boolean;
}


/** Everything `send` needs, parsed from the flags and environment before any input is read. */
interface Settings {
  config: GateConfig;
  templateWarning: string | undefined;
  country: ReturnType<typeof parseCountry>;
  now: number;
  mps: number;
  failOn: FailOn;
  started: Date;
  live: LiveSettings | undefined;
}

interface LiveSettings {
  client: MessagesClient;
  phoneNumberId: string;
  campaignId: string | undefined;
  concurrency: number;
  maxAttempts: number;
  strikes: number;
  undeliverableTtlMs: number;
  resendUnknown: boolean;
  retryFailed: boolean;
  throttleTimeoutMs: number;
}

/** The flags, checked in a fixed order (the first wrong one is the error), and the templates loaded or fetched. */
async function settings(options: SendOptions, io: IO, started: Date): Promise<Settings> {
  const country = parseCountry(options.country, io.env);
  const tier = parseTier(options.tier);
  const category = options.category?.toLowerCase() as Category | undefined;
  if (category !== undefined && !CATEGORIES.includes(category)) throw new UsageError(`--category must be one of ${CATEGORIES.join(', ')}`);
  const mps = count(options.mps ?? SEND_DEFAULTS.mps, '--mps', 0, 1, 10_000);
  const pairIntervalMs = parseDuration(options.pairInterval ?? SEND_DEFAULTS.pairInterval, '--pair-interval');
  if (!options.dryRun && options.now !== undefined) throw new UsageError('--now is for rehearsals: use it with --dry-run');
  const now = options.now === undefined ? started.getTime() : Date.parse(options.now);
  if (Number.isNaN(now)) throw new UsageError(`--now: "${options.now}" is not an ISO 8601 time`);
  const failOn = parseFailOn(options.failOn, FAIL_ON_REASONS);
  const timeoutMs = duration(options.timeout, '--timeout', 30_000);

  let live: LiveSettings | undefined;
  let token = '';
  let apiUrl: URL | undefined;
  let apiVersion: string = SEND_DEFAULTS.apiVersion;
  if (!options.dryRun) {
    token = readToken(io.env, 'sending');
    const phoneNumberId = parsePhoneNumberId(options.phoneNumberId, io.env);
    if (!phoneNumberId) throw new UsageError('sending needs the sender: give --phone-number-id ID or set WA_GUARD_PHONE_NUMBER_ID');
    apiUrl = parseHttpUrl(options.apiUrl ?? io.env.WA_GUARD_API_URL ?? SEND_DEFAULTS.apiUrl, '--api-url');
    apiVersion = parseApiVersion(options.apiVersion);
    const concurrency = count(options.concurrency, '--concurrency', 32, 1, 256);
    live = {
      client: new MessagesClient({ apiUrl, version: apiVersion, phoneNumberId, token, timeoutMs, connections: concurrency }),
      phoneNumberId,
      campaignId: options.campaignId,
      concurrency,
      maxAttempts: count(options.maxAttempts, '--max-attempts', 5, 1, 100),
      strikes: count(options.strikes, '--strikes', 1, 1, 100),
      undeliverableTtlMs: duration(options.undeliverableTtl, '--undeliverable-ttl', UNDELIVERABLE_TTL_MS),
      resendUnknown: Boolean(options.resendUnknown),
      retryFailed: Boolean(options.retryFailed),
      throttleTimeoutMs: duration(options.throttleTimeout, '--throttle-timeout', THROTTLE_TIMEOUT_MS),
    };
  }
  if (options.campaignId !== undefined && !/^[\w.-]{1,64}$/.test(options.campaignId)) {
    throw new UsageError('--campaign-id: 1 to 64 letters, digits, dots, dashes or underscores');
  }
  if (options.output === '-' && options.json) throw new UsageError('--output - and --json both want stdout: drop one (the summary is in summary.json too)');
  if (options.templates && options.wabaId) throw new UsageError('give --templates FILE or --waba-id ID, not both');
  let templates: GateConfig['templates'];
  if (options.templates) templates = await loadTemplates(options.templates, io.cwd);
  else if (options.wabaId) {
    if (!live) throw new UsageError('--waba-id fetches templates for a live send; with --dry-run give --templates FILE');
    templates = await fetchTemplates(apiUrl!, apiVersion, options.wabaId, token, timeoutMs);
  }
  return {
    config: { templates, defaultCategory: category, tier, pairIntervalMs },
    templateWarning: templates ? undefined : 'template checks were skipped: give --templates FILE or --waba-id ID so unknown, unapproved or mismatched templates are caught before sending',
    country, now, mps, failOn, started, live,
  };
}

export async function send(inputSpec: string | undefined, options: SendOptions, io: IO): Promise<number> {
  const started = new Date();
  if (!inputSpec) throw new UsageError('missing input: give a campaign file, or - to read stdin');
  const run = await settings(options, io, started);
  try {
    await refuseInputAsOutput(inputSpec, io.cwd, { outDir: options.outDir, stems: ['gate', 'results'], files: ['summary.json'], output: options.output });
    const input = await openInput(inputSpec, io, { format: parseFormat(options.format, '--format'), delimiter: parseDelimiter(options.delimiter), encoding: options.encoding });
    try {
      // The dry run reads the journal of the campaign a live run would resume (none for stdin without --campaign-id).
      const campaignId = options.campaignId ?? (input.path ? await fileCampaignId(input.path) : undefined);
      if (run.live) {
        if (!campaignId) throw new UsageError('sending from stdin needs --campaign-id ID, so a re-run can resume it');
        run.live.campaignId = campaignId;
      }
      return await campaign(input, options, io, run, campaignId);
    } finally {
      input.close();
    }
  } finally {
    await run.live?.client.close();
  }
}

/** How the campaign's rows are read and written: the recipient and campaign columns, the output's row format. */
interface Layout {
  choice: ColumnChoice;
  columns: CampaignColumns;
  added: AddedColumn[];
  rowFormat: RowFormat;
  chunkConfig: ChunkConfig;
}

function layout(input: Input, options: SendOptions, run: Settings): Layout {
  const to = input.columns.map(headerKey).indexOf('to');
  const choice = chooseInputColumns(input, options, to >= 0 ? [input.columns[to]!] : undefined);
  const added = run.live ? RESULT_COLUMNS : GATE_COLUMNS;
  refuseAddedColumns(input.columns, added.map((c) => c.name), input.source, run.live ? 'send' : 'send --dry-run');
  const columns = new CampaignColumns(input.columns, options.language ?? SEND_DEFAULTS.language);
  const rowFormat = RowFormat.forInput(input, parseFormat(options.outputFormat, '--output-format') ?? input.sniffed.format);
  rowFormat.safe = Boolean(options.safeCsv);
  const chunkConfig: ChunkConfig = {
    source: input.source, format: input.sniffed.format, delimiter: input.sniffed.dialect.delimiter,
    columns: input.columns, phone: choice.phone, optOut: choice.optOut, optIn: choice.optIn, countryColumn: choice.country, country: run.country,
    output: rowFormat.output,
    cleanedColumns: false, extract: columns.extract,
  };
  return { choice, columns, added, rowFormat, chunkConfig };
}

async function campaign(input: Input, options: SendOptions, io: IO, run: Settings, campaignId: string | undefined): Promise<number> {
  const { config, now } = run;
  const { choice, columns, added, rowFormat, chunkConfig } = layout(input, options, run);
  const blacklistFile = options.blacklist ? { list: await loadNumberList(options.blacklist, io, run.country), name: options.blacklist } : undefined;
  const store = await openStore(options.store, io.env, io.cwd);
  const live = run.live && liveSend(store, run.live, run);
  let checked: StoreCheck | undefined;
  try {
    if (live) checked = await checkLiveStore(store, live.journal, { outDir: options.outDir ?? 'wa-guard-out', cwd: io.cwd, campaignId: live.campaignId, allowVolatile: Boolean(options.allowVolatileStore) });
  } catch (err) {
    await store.close();
    throw err;
  }
  const onSignal = (): void => { if (live) live.sender.interrupted = true; };
  io.signal?.addEventListener('abort', onSignal);
  let outputs: Outputs | undefined;
  let progress: Progress | undefined;
  try {
    outputs = await Outputs.create(options.outDir, io.cwd);
    if (live && checked) await markSendStarted(outputs.dir, live.campaignId, checked.identity);
    const results = new ResultsFile(await dataSink(outputs, options, io, `${live ? 'results' : 'gate'}.${rowFormat.extension}`), rowFormat, added);
    const summaryFile = await outputs.file('summary.json');
    await results.start();
    // Template status announced by webhooks (ingest, listen) overrides the templates file.
    const templateStatus = await readTemplateStatus(store);
    if (templateStatus.size) config.templateStatus = templateStatus;
    const recentConversations = await countRecent(store, now);
    const plan = new Plan(now, run.mps, recentConversations);
    progress = await Progress.start(live ? 'send' : 'send --dry-run', io, Boolean(options.quiet || options.json), input.size);
    const tally = new Tally();
    const optOutColumns = choice.optOut.map((c) => input.columns[c]!);
    const preview = !live && campaignId ? new JournalPreview(new Journal(store, campaignId, { resendUnknown: Boolean(options.resendUnknown), retryFailed: Boolean(options.retryFailed) }), columns, campaignId, now) : undefined;
    const gate: ChunkGateContext = { columns, store, plan, config, blacklistFile, optOutColumns, tally, now: live ? undefined : now, preview };
    const interrupted = await runCampaign({
      input, chunkConfig, workers: parseWorkers(options.workers, defaultWorkers()), signal: io.signal, gate, results, progress,
      delivery: live && new Delivery({ ...live, store, columns, tally, results, progress, input, earlier: checked?.earlier }),
    });

    const verdict = campaignVerdict(tally, live, interrupted, run.failOn);
    const summary = campaignSummary({
      tally, rows: results.written,
      input: { path: input.path ?? '-', format: input.sniffed.format, recipient_column: input.columns[choice.phone[0]!] },
      outputs: { data: results.path, summary: summaryFile.path },
      live: live && { campaignId: live.campaignId, endpoint: live.endpoint, sender: live.sender },
      interrupted: interrupted ? String(io.signal?.reason ?? 'SIGINT') : undefined,
      now, config, mps: run.mps, plan, recentConversations, templateWarning: run.templateWarning, store, storeCheck: checked, started: run.started,
      verdict, journal: preview?.figures ?? null,
    });
    if (live) await recordCampaign(store, summary, run.started);
    await publish(summary, summaryFile, outputs, store, options, io);
    if (live) await unmarkSend(outputs.dir); // summary.json now records the store identity
    return exit(verdict, io, Boolean(options.quiet));
  } finally {
    io.signal?.removeEventListener('abort', onSignal);
    progress?.stop();
    if (outputs && live && live.sender.stats.requests === 0) await unmarkSend(outputs.dir);
    await outputs?.abort();
    await store.close();
  }
}

/** summary.json, the store on disk (the journal before the results say so), the outputs in place; then the summary for the caller. */
async function publish(summary: Summary, file: AtomicFile, outputs: Outputs, store: Store, options: SendOptions, io: IO): Promise<void> {
  await file.write(JSON.stringify(summary, null, 2) + '\n');
  await store.sync();
  await outputs.commit();
  if (options.json) io.stdout.write(JSON.stringify(summary, null, 2) + '\n');
  else if (!options.quiet) io.stderr.write(humanSummary(summary));
}

/** Where the data rows go: --output FILE or - (stdout, as they come), else `name` in --out-dir. */
async function dataSink(outputs: Outputs, options: SendOptions, io: IO, name: string): Promise<Sink> {
  if (options.output === '-') return stdoutSink(io.stdout);
  return options.output ? outputs.at(resolve(io.cwd, options.output)) : outputs.file(name);
}

/** After the summary: Meta's stop or an interrupt is the error, else --fail-on says which reasons matched. */
function exit(verdict: Verdict, io: IO, quiet: boolean): number {
  if (verdict.error) throw verdict.error;
  if (verdict.message && !quiet) io.stderr.write(verdict.message);
  return verdict.exitCode;
}

/** A live send's journal and sender, for the campaign id resolved from the flags or the file. */
function liveSend(store: Store, live: LiveSettings, run: Settings): { campaignId: string; endpoint: string; journal: Journal; sender: Sender } {
  const campaignId = live.campaignId!;
  const journal = new CampaignJournal(store, campaignId, live);
  const sender = new Sender(live.client, store, journal, { ...live, mps: run.mps, pairIntervalMs: run.config.pairIntervalMs });
  return { campaignId, endpoint: live.client.url, journal, sender };
}
