import { CliError, EXIT, InterruptedError, UsageError } from '../errors.js';
import { BLOCK_REASONS, CATEGORIES, DEFER_REASONS, gate, type Category, type Decision, type GateConfig, type Message, type RecipientState } from '../gate/gate.js';
import { Plan } from '../gate/plan.js';
import { loadTemplates } from '../gate/templates.js';
import type { IO } from '../io.js';
import { chooseInputColumns, headerKey, refuseAddedColumns } from '../input/columns.js';
import { loadNumberList } from '../input/number-list.js';
import { openInput, type Input } from '../input/reader.js';
import { RowFormat } from '../output/rows.js';
import { Outcome, OUTCOME_REASON, type ChunkConfig, type ChunkResult } from '../pipeline/chunk.js';
import { processInOrder } from '../pipeline/ordered.js';
import { defaultWorkers } from '../pipeline/pool.js';
import { Progress } from '../progress.js';
import { CAPPED, CONVERSATIONS, INBOUND } from '../store/lists.js';
import { openStore, type Store } from '../store/store.js';
import { runFigures } from '../versions.js';
import { Outputs, refuseInputAsOutput } from '../output/outputs.js';
import { failOnExit, parseFailOn, type FailOn } from '../fail-on.js';
import { readPolicy, readStatuses, type BlacklistFile } from '../stages/policy.js';
import { count, DAY_MS, duration, parseCountry, parseDelimiter, parseFormat, parseHttpUrl, parseWorkers, readToken, type DataFileFlags } from '../flags.js';
import { MessagesClient } from '../send/client.js';
import { fileCampaignId, journalKey, JOURNAL, parseJournalEntry } from '../send/journal.js';
import { Sender, journalOutcome, keyTakenByAnother, type Job, type RowOutcome, type RowResult } from '../send/sender.js';
import { fetchTemplates } from '../send/templates-api.js';
import { TEMPLATE_STATUS } from '../webhooks/learn.js';

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
  timeout?: string;
}

/** A column wa-guard adds to each row; JSON writes empty `nullable` values as null and `number` values as numbers. */
interface Added { name: string; kind: 'text' | 'nullable' | 'number' }
const GATE_COLUMNS: Added[] = [
  { name: 'wa_id', kind: 'text' }, { name: 'decision', kind: 'text' }, { name: 'reason', kind: 'text' },
  { name: 'detail', kind: 'text' }, { name: 'not_before', kind: 'nullable' },
];
const RESULT_COLUMNS: Added[] = [
  { name: 'status', kind: 'text' }, { name: 'wamid', kind: 'nullable' }, { name: 'error_code', kind: 'number' },
  { name: 'error_title', kind: 'nullable' }, { name: 'attempts', kind: 'number' }, { name: 'sent_at', kind: 'nullable' },
  { name: 'not_before', kind: 'nullable' }, { name: 'reason', kind: 'text' },
];
const STATUSES = ['sent', 'failed', 'blocked', 'deferred', 'unknown'] as const;
const TIERS: Record<string, number> = { '250': 250, '1000': 1000, '2000': 2000, '10000': 10_000, '100000': 100_000, unlimited: Infinity };
/** Campaign columns besides the recipient, found by name (case and separators ignored). */
const FIELDS = ['template', 'language', 'params', 'text', 'category', 'last_inbound_at', 'id'] as const;
const ID_FIELD = FIELDS.indexOf('id');
/** Decided chunks whose messages may still be in flight, before they are written in order. */
const MAX_WAITING_CHUNKS = 16;
/** How long to wait for a row another process is sending before reporting it as unknown. */
const BUSY_WAIT_MS = 40_000;

type Counts = Record<string, number>;

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
}


async function settings(options: SendOptions, io: IO, started: Date): Promise<Settings> {
  const country = parseCountry(options.country, io.env);
  const tier = TIERS[options.tier ?? '250'];
  if (tier === undefined) throw new UsageError(`--tier must be one of ${Object.keys(TIERS).join(', ')}; got "${options.tier}"`);
  const category = options.category?.toLowerCase() as Category | undefined;
  if (category !== undefined && !CATEGORIES.includes(category)) throw new UsageError(`--category must be one of ${CATEGORIES.join(', ')}`);
  const mps = count(options.mps, '--mps', 80, 1, 10_000);
  const pairIntervalMs = duration(options.pairInterval, '--pair-interval', 6000);
  if (!options.dryRun && options.now !== undefined) throw new UsageError('--now is for rehearsals: use it with --dry-run');
  const now = options.now === undefined ? started.getTime() : Date.parse(options.now);
  if (Number.isNaN(now)) throw new UsageError(`--now: "${options.now}" is not an ISO 8601 time`);
  const failOn = parseFailOn(options.failOn, [...BLOCK_REASONS, 'failed', 'unknown']);
  const timeoutMs = duration(options.timeout, '--timeout', 30_000);

  let live: LiveSettings | undefined;
  let token = '';
  let apiUrl: URL | undefined;
  const apiVersion = options.apiVersion ?? 'v21.0';
  if (!options.dryRun) {
    token = readToken(io.env, 'sending');
    const phoneNumberId = (options.phoneNumberId ?? io.env.WA_GUARD_PHONE_NUMBER_ID ?? '').trim();
    if (!/^\d{1,30}$/.test(phoneNumberId)) {
      throw new UsageError(phoneNumberId ? `--phone-number-id must be digits; got "${phoneNumberId}"` : 'sending needs the sender: give --phone-number-id ID or set WA_GUARD_PHONE_NUMBER_ID');
    }
    apiUrl = parseHttpUrl(options.apiUrl ?? io.env.WA_GUARD_API_URL ?? 'https://graph.facebook.com', '--api-url');
    if (!/^v\d+(\.\d+)?$/.test(apiVersion)) throw new UsageError(`--api-version must look like v21.0; got "${apiVersion}"`);
    const concurrency = count(options.concurrency, '--concurrency', 32, 1, 256);
    live = {
      client: new MessagesClient({ apiUrl, version: apiVersion, phoneNumberId, token, timeoutMs, connections: concurrency }),
      phoneNumberId,
      campaignId: options.campaignId,
      concurrency,
      maxAttempts: count(options.maxAttempts, '--max-attempts', 5, 1, 100),
      strikes: count(options.strikes, '--strikes', 1, 1, 100),
      undeliverableTtlMs: duration(options.undeliverableTtl, '--undeliverable-ttl', 90 * DAY_MS),
      resendUnknown: Boolean(options.resendUnknown),
    };
    if (options.campaignId !== undefined && !/^[\w.-]{1,64}$/.test(options.campaignId)) {
      throw new UsageError('--campaign-id: 1 to 64 letters, digits, dots, dashes or underscores');
    }
  }
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
    await refuseInputAsOutput(inputSpec, io.cwd, { outDir: options.outDir, stems: ['gate', 'results'], files: ['summary.json'] });
    const input = await openInput(inputSpec, io, { format: parseFormat(options.format, '--format'), delimiter: parseDelimiter(options.delimiter), encoding: options.encoding });
    try {
      if (run.live && !run.live.campaignId) {
        if (!input.path) throw new UsageError('sending from stdin needs --campaign-id ID, so a re-run can resume it');
        run.live.campaignId = await fileCampaignId(input.path);
      }
      return await campaign(input, options, io, run);
    } finally {
      input.close();
    }
  } finally {
    await run.live?.client.close();
  }
}

/** The gate's decision for each row of a chunk, and the message it is about. */
interface Gated {
  result: ChunkResult;
  messages: Message[];
  decisions: Decision[];
  /** When the plan puts each row (ms), for defers. */
  at: (number | undefined)[];
  /** The wa_id the status cache learned for each row's number, where it did (Meta's own form, e.g. Mexico's 521…). */
  recipientWaId: (string | undefined)[];
}

/** A row of the results file: a delivery's outcome, or the gate's block. */
type ResultRow = Omit<RowOutcome, 'status'> & { status: (typeof STATUSES)[number] };

async function campaign(input: Input, options: SendOptions, io: IO, run: Settings): Promise<number> {
  const { config, now, live } = run;
  const keys = input.columns.map(headerKey);
  const to = keys.indexOf('to');
  const choice = chooseInputColumns(input, options, to >= 0 ? [input.columns[to]!] : undefined);
  const optOutColumns = choice.optOut.map((c) => input.columns[c]!);
  const added = live ? RESULT_COLUMNS : GATE_COLUMNS;
  refuseAddedColumns(input.columns, added.map((c) => c.name), input.source, live ? 'send' : 'send --dry-run');
  const index = (name: string): number => keys.indexOf(headerKey(name));
  const column = (name: string): { index: number; name: string } => {
    const c = index(name);
    return { index: c, name: c >= 0 ? input.columns[c]! : name };
  };
  const paramColumns: string[] = [];
  for (let n = 1; index(`param_${n}`) >= 0; n++) paramColumns.push(`param_${n}`);
  const extract = [...FIELDS, ...paramColumns].map(column);
  const outputFormat = parseFormat(options.outputFormat, '--output-format') ?? input.sniffed.format;
  const rowFormat = RowFormat.forInput(input, outputFormat);
  rowFormat.safe = Boolean(options.safeCsv);
  const chunkConfig: ChunkConfig = {
    source: input.source, format: input.sniffed.format, delimiter: input.sniffed.dialect.delimiter,
    columns: input.columns, phone: choice.phone, optOut: choice.optOut, optIn: choice.optIn, countryColumn: choice.country, country: run.country,
    output: rowFormat.output,
    cleanedColumns: false, extract,
  };
  const fileBlacklist = options.blacklist ? { list: await loadNumberList(options.blacklist, io, run.country), name: options.blacklist } : undefined;
  const store = await openStore(options.store, io.env, io.cwd);
  let outputs: Outputs | undefined;
  let progress: Progress | undefined;
  const sender = live ? new Sender(live.client, store, { ...live, mps: run.mps, pairIntervalMs: config.pairIntervalMs }) : undefined;
  const onSignal = (): void => { if (sender) sender.interrupted = true; };
  io.signal?.addEventListener('abort', onSignal);
  try {
    outputs = await Outputs.create(options.outDir, io.cwd);
    const dataFile = await outputs.file(`${live ? 'results' : 'gate'}.${rowFormat.extension}`);
    const summaryFile = await outputs.file('summary.json');
    await dataFile.write(rowFormat.start(added.map((c) => c.name)));

    const byDecision: Counts = { send: 0, defer: 0, block: 0 };
    const byReason: Counts = Object.fromEntries([...BLOCK_REASONS, ...DEFER_REASONS].map((r) => [r, 0]));
    const byStatus: Counts = Object.fromEntries(STATUSES.map((s) => [s, 0]));
    const byCode: Counts = {};
    /** Rows and blocks per template name, then language. */
    const byTemplate = new Map<string, Map<string, { rows: number; blocked: Counts }>>();
    let rows = 0;
    let written = 0;
    // Template status announced by webhooks (ingest, listen) overrides the templates file.
    const templateStatus = new Map<string, string>();
    for await (const [key, value] of store.scan(TEMPLATE_STATUS)) {
      try { templateStatus.set(key, String(JSON.parse(value).event)); } catch { /* damaged: ignored */ }
    }
    if (templateStatus.size) config.templateStatus = templateStatus;
    const recentConversations = await countRecent(store, now);
    const plan = new Plan(now, run.mps, recentConversations);
    progress = await Progress.start(live ? 'send' : 'send --dry-run', io, Boolean(options.quiet || options.json), input.size);
    const width = extract.length;

    /** The gate, row by row, exactly as a dry run decides. */
    const decide = async (result: ChunkResult): Promise<Gated> => {
      const n = result.rows;
      const messages: Message[] = [];
      const okKeys: string[] = [];
      for (let i = 0; i < n; i++) {
        const outcome = result.outcome[i]!;
        const waId = outcome === Outcome.OK ? String(result.waIds[i]) : '';
        if (waId) okKeys.push(waId);
        messages.push(toMessage(result.extracted, i * width, paramColumns.length, waId, outcome, result.details[i] ?? '', options.language ?? 'en_US'));
      }
      const recipients = await recipientStates(store, okKeys, fileBlacklist);
      const decisions: Decision[] = [];
      const at: (number | undefined)[] = [];
      const recipientWaId: (string | undefined)[] = [];
      let k = 0;
      for (let i = 0; i < n; i++) {
        const message = messages[i]!;
        let recipient = message.to.ok ? recipients[k++]! : {};
        if (result.optedOut[i] && !recipient.optedOut) recipient = { ...recipient, optedOut: { scope: 'all', detail: `flagged in column ${optOutColumns[result.optedOut[i]! - 1]}` } };
        if ('cachedWaId' in recipient) recipientWaId[i] = recipient.cachedWaId;
        const decision: Decision = result.outcome[i] === Outcome.MALFORMED || result.outcome[i] === Outcome.NO_OPTIN
          ? { decision: 'block', reason: OUTCOME_REASON[result.outcome[i]!] as 'malformed_row' | 'no_optin', detail: result.details[i] ?? '', opensConversation: false }
          : gate(message, recipient, plan, live ? Date.now() : now, config);
        at.push(plan.record(message, decision));
        decisions.push(decision);
        byDecision[decision.decision]!++;
        if (decision.reason !== 'ok') byReason[decision.reason]!++;
        if (message.template) {
          const { name, language } = message.template;
          let languages = byTemplate.get(name);
          if (!languages) byTemplate.set(name, languages = new Map());
          let t = languages.get(language);
          if (!t) languages.set(language, t = { rows: 0, blocked: {} });
          t.rows++;
          if (decision.decision === 'block') t.blocked[decision.reason] = (t.blocked[decision.reason] ?? 0) + 1;
        }
      }
      return { result, messages, decisions, at, recipientWaId };
    };

    const write = async (g: Gated, suffixes: string[][]): Promise<void> => {
      await dataFile.write(render(g.result, suffixes, added, rowFormat, written));
      written += g.result.rows;
      if (!sender) progress!.update(input.bytesRead(), written);
    };

    /** Dry run: the decision is the output. */
    const dryRows = (g: Gated): string[][] => g.decisions.map((d, i) => {
      const message = g.messages[i]!;
      const notBefore = d.notBefore ?? (d.decision === 'defer' ? g.at[i] : undefined);
      return [message.to.ok ? message.to.waId : '', d.decision, d.reason, joinLines(d.detail), notBefore === undefined ? '' : new Date(notBefore).toISOString()];
    });

    /** Live: what the gate lets through is delivered; the rest is reported as blocked or deferred. */
    const liveRows = async (g: Gated, firstRow: number): Promise<string[][]> => {
      const keys = g.decisions.map((_, i) => journalKey(live!.campaignId!, g.result.extracted[i * width + ID_FIELD] || String(firstRow + i + 1)));
      // What earlier runs resolved stands, whatever the gate says now (it learned from those runs).
      const journal = await store.get(JOURNAL, keys);
      const outcomes: Promise<ResultRow>[] = g.decisions.map((d, i) => {
        const message = g.messages[i]!;
        const earlier = journal[i] === undefined ? undefined : parseJournalEntry(journal[i]!);
        const taken = earlier && message.to.ok && keyTakenByAnother(earlier, message.to.waId);
        if (taken) {
          blockedOrDone++;
          return Promise.resolve(taken);
        }
        if (earlier && (earlier.status === 'sent' || earlier.status === 'failed' || (earlier.status === 'unknown' && !live!.resendUnknown))) {
          blockedOrDone++;
          return Promise.resolve(journalOutcome(earlier, Date.now()));
        }
        if (d.decision === 'block') {
          blockedOrDone++;
          return Promise.resolve({ status: 'blocked', attempts: 0, reason: `${d.reason}: ${joinLines(d.detail)}` });
        }
        // Spacing to one user (pair_rate) is kept while sending; other defers wait for their time.
        if (d.decision === 'defer' && d.reason !== 'pair_rate') {
          blockedOrDone++;
          return Promise.resolve({ status: 'deferred', attempts: 0, not_before: new Date(d.notBefore ?? Date.now()).toISOString(), reason: `${d.reason}: ${joinLines(d.detail)}` });
        }
        const job: Job = {
          key: keys[i]!,
          waId: message.to.ok ? message.to.waId : '',
          body: messageBody(message, g.recipientWaId[i]),
          ...(message.template ? { template: `${message.template.name} (${message.template.language})` } : {}),
        };
        return sender!.deliver(job).then(async (o) => (o.busy ? waitForOther(store, job.key, o) : o)).then((o) => {
          delivered[o.status === 'sent' ? 'sent' : o.status === 'failed' ? 'failed' : 'other']++;
          showProgress();
          return o;
        });
      });
      const settled = await Promise.all(outcomes);
      const opened: string[] = [];
      const suffixes = settled.map((o, i) => {
        const status = o.status;
        byStatus[status]!++;
        if (status === 'blocked' && g.decisions[i]!.reason !== 'duplicate_id' && o.reason?.startsWith('duplicate_id')) duplicateIds++; // found in the journal
        if (o.code !== undefined) byCode[o.code] = (byCode[o.code] ?? 0) + 1;
        if (status === 'sent' && g.decisions[i]!.opensConversation && g.messages[i]!.to.ok) opened.push((g.messages[i]!.to as { waId: string }).waId);
        return [status, o.wamid ?? '', o.code === undefined ? '' : String(o.code), o.title ?? '', String(o.attempts), o.sent_at ?? '', o.not_before ?? '', o.reason ?? ''];
      });
      // Conversations opened outside a care window count toward the messaging limit for 24h.
      if (opened.length) await store.set(CONVERSATIONS, opened.map((waId) => ({ key: waId, value: new Date().toISOString(), ttlMs: DAY_MS })));
      return suffixes;
    };

    /** Rows settled so far, as they settle, for the progress bar (rows read are ahead of them). */
    const delivered = { sent: 0, failed: 0, other: 0 };
    let blockedOrDone = 0;
    let duplicateIds = 0;
    const showProgress = (): void => {
      const done = delivered.sent + delivered.failed + delivered.other + blockedOrDone;
      progress!.update(Math.round(input.bytesRead() * (done / Math.max(1, rows))), done,
        `sent ${delivered.sent} failed ${delivered.failed} | ${Math.round(sender!.achievedMps)} msg/s`);
    };

    const waiting: Promise<void>[] = [];
    const consume = async (result: ChunkResult): Promise<void> => {
      const g = await decide(result);
      if (!live) return write(g, dryRows(g));
      const firstRow = rows;
      rows += result.rows;
      const suffixes = liveRows(g, firstRow);
      suffixes.catch(() => undefined); // awaited below, in order; a failure must not count as unhandled first
      const previous = waiting.length ? waiting[waiting.length - 1]! : Promise.resolve();
      // Sends of later chunks start while earlier ones finish; rows are written strictly in order.
      const done = previous.then(async () => write(g, await suffixes));
      done.catch(() => undefined);
      waiting.push(done);
      while (waiting.length > MAX_WAITING_CHUNKS) await waiting.shift();
    };

    let interrupted: InterruptedError | undefined;
    try {
      await processInOrder(input.chunks, chunkConfig, parseWorkers(options.workers, defaultWorkers()), io.signal, consume);
    } catch (err) {
      // A live send that is interrupted still finishes what is in flight and writes what it has.
      if (!(live && err instanceof InterruptedError)) throw err;
      interrupted = err;
    }
    if (live) {
      sender!.interrupted ||= Boolean(interrupted);
      for (const done of waiting) await done;
      // A signal after the last row was read still stopped what had not been sent.
      if (!interrupted && io.signal?.aborted) interrupted = new InterruptedError(String(io.signal.reason ?? 'SIGINT'));
    } else {
      rows = written;
    }
    if (rows === 0 && !interrupted) throw new UsageError(`${input.source}: no data rows`);
    await dataFile.write(rowFormat.end(written));
    progress.stop();

    const problems: string[] = [];
    for (const [name, languages] of byTemplate) {
      for (const [language, t] of languages) {
        const reasons = Object.entries(t.blocked);
        if (reasons.length === 1 && reasons[0]![1] === t.rows) problems.push(`template ${name} (${language}) blocks every row (${t.rows}): ${reasons[0]![0]}`);
      }
    }
    if (byReason.tier_limit) problems.push(`${byReason.tier_limit} new conversations are over the messaging limit (${config.tier} in 24h) and wait a day`);
    if (byReason.outside_care_window) problems.push(`${byReason.outside_care_window} free-form messages are outside the 24h care window: use an approved template`);
    if (run.templateWarning) problems.push(run.templateWarning);
    for (const [template, stop] of sender?.stoppedTemplates ?? []) problems.push(`Meta refused template ${template}: ${stop.code} ${stop.title}${stop.hint ? `: ${stop.hint}` : ''}`);
    const sharedIds = byReason.duplicate_id! + duplicateIds;
    if (sharedIds) problems.push(`${sharedIds} rows ${sender ? 'were not sent' : 'would not be sent'}: their id is already used in this campaign for another number; give every row its own id`);
    if (sender && byStatus.unknown) problems.push(`${byStatus.unknown} messages have no clear answer (they may have been sent); they are not re-sent unless you run again with --resend-unknown`);

    const summary = {
      command: live ? 'send' : 'send --dry-run',
      ok: !sender?.stopped && !interrupted,
      input: { path: input.path ?? '-', format: input.sniffed.format, recipient_column: input.columns[choice.phone[0]!] },
      outputs: { [live ? 'results' : 'gate']: dataFile.path, summary: summaryFile.path },
      ...(live ? { campaign_id: live.campaignId, endpoint: live.client.url } : { now: new Date(now).toISOString() }),
      rows: written,
      decisions: byDecision,
      reasons: byReason,
      ...(sender ? {
        statuses: byStatus,
        error_codes: byCode,
        sending: {
          requests: sender.stats.requests,
          achieved_mps: Math.round(sender.achievedMps * 10) / 10,
          retries: sender.stats.retries,
          slow_downs: sender.stats.slow_downs,
          late_slots_given_up: sender.stats.late_slots,
          strikes: sender.stats.strikes,
          blacklisted: sender.stats.blacklisted,
          opted_out: sender.stats.opted_out,
          capped: sender.stats.capped,
        },
        ...(sender.stopped ? { stopped: sender.stopped } : {}),
        ...(interrupted ? { interrupted: String(io.signal?.reason ?? 'SIGINT') } : {}),
      } : {}),
      conversations: {
        new_outside_window: plan.conversations() - recentConversations,
        already_in_last_24h: recentConversations,
        tier: Number.isFinite(config.tier) ? config.tier : 'unlimited',
      },
      planned: { mps: run.mps, pair_interval_s: config.pairIntervalMs / 1000, duration_s: Math.round((plan.latest - now) / 100) / 10 },
      problems,
      store: { backend: store.backend, location: store.location },
      ...runFigures(run.started, written),
    };
    await summaryFile.write(JSON.stringify(summary, null, 2) + '\n');
    await store.sync(); // the journal on disk before the results say so
    await outputs.commit();
    if (options.json) io.stdout.write(JSON.stringify(summary, null, 2) + '\n');
    else if (!options.quiet) io.stderr.write(human(summary));
    const resume = `run the same command again to resume (campaign id ${live?.campaignId})`;
    if (sender?.stopped) {
      const s = sender.stopped;
      throw new CliError(`Meta stopped the campaign: ${s.code} ${s.title}${s.hint ? `: ${s.hint}` : ''}; ${byStatus.sent} sent, the rest not attempted; ${resume}`, EXIT.STOPPED);
    }
    if (interrupted) throw new CliError(`${interrupted.message}: in-flight messages finished and the results were written; ${resume}`, interrupted.exitCode);
    if (sender?.stoppedTemplates.size) {
      throw new CliError(`Meta refused ${sender.stoppedTemplates.size} template(s): their rows were not sent (see problems in the summary); fix them and run again to resume`, EXIT.STOPPED);
    }
    return failOnExit(run.failOn, { ...byReason, failed: byStatus.failed ?? 0, unknown: byStatus.unknown ?? 0 }, [...BLOCK_REASONS, 'failed', 'unknown'], live ? 'blocked, failed or unknown' : 'blocked', io, Boolean(options.quiet));
  } finally {
    io.signal?.removeEventListener('abort', onSignal);
    progress?.stop();
    await outputs?.abort();
    await store.close();
  }
}

/** A row another process is sending: ask the journal again until it says how it ended. */
async function waitForOther(store: Store, key: string, outcome: RowResult): Promise<RowResult> {
  const until = Date.now() + BUSY_WAIT_MS;
  while (Date.now() < until) {
    await new Promise((r) => setTimeout(r, 250));
    const [value] = await store.get(JOURNAL, [key]);
    if (value === undefined) return { status: 'deferred', attempts: 0, reason: 'not sent: another process released it; run again' };
    const entry = parseJournalEntry(value);
    if (entry.status !== 'inflight') return journalOutcome(entry, Date.now());
  }
  return { ...outcome, busy: false };
}

/** The Cloud API body for a row: `to` always with its `+`, so Meta never guesses a country. */
function messageBody(message: Message, cachedWaId: string | undefined): Record<string, unknown> {
  const to = '+' + (cachedWaId ?? (message.to as { waId: string }).waId);
  if (message.template) {
    const { name, language, params } = message.template;
    return {
      messaging_product: 'whatsapp', recipient_type: 'individual', to, type: 'template',
      template: {
        name, language: { code: language },
        ...(params.length ? { components: [{ type: 'body', parameters: params.map((text) => ({ type: 'text', text })) }] } : {}),
      },
    };
  }
  return { messaging_product: 'whatsapp', recipient_type: 'individual', to, type: 'text', text: { preview_url: false, body: message.text } };
}

/** Conversations the store saw opened outside a window in the last 24h. */
async function countRecent(store: { scan(ns: string): AsyncIterable<[string, string]> }, now: number): Promise<number> {
  let count = 0;
  for await (const [, at] of store.scan(CONVERSATIONS)) if (now - Date.parse(at) < DAY_MS) count++;
  return count;
}

/** The message of one row, from its extracted campaign columns (FIELDS, then param_1…) starting at `at`. */
function toMessage(extracted: readonly string[], at: number, paramCount: number, waId: string, outcome: number, detail: string, defaultLanguage: string): Message {
  const cell = (k: number): string => extracted[at + k] ?? '';
  const template = cell(0);
  const paramsJson = cell(2);
  const message: Message = {
    to: outcome === Outcome.OK
      ? { ok: true, e164: '+' + waId, waId }
      : { ok: false, reason: OUTCOME_REASON[outcome] as 'missing_number' | 'invalid_number' | 'no_country_code', detail },
  };
  if (template) {
    let params: string[] = [];
    for (let k = 0; k < paramCount; k++) params.push(cell(FIELDS.length + k));
    if (paramsJson) {
      try {
        const parsed: unknown = JSON.parse(paramsJson);
        if (Array.isArray(parsed)) params = parsed.map(String);
      } catch {
        params = [paramsJson];
      }
    }
    while (params.length && params[params.length - 1] === '' && paramCount) params.pop(); // trailing empty param_n columns
    message.template = { name: template, language: cell(1) || defaultLanguage, params };
  }
  const id = cell(ID_FIELD);
  if (id) message.id = id;
  const text = cell(3);
  if (text) message.text = text;
  const category = cell(4).toLowerCase() as Category;
  if (CATEGORIES.includes(category)) message.category = category;
  const lastInbound = cell(5);
  if (lastInbound) {
    const inbound = Date.parse(lastInbound);
    if (!Number.isNaN(inbound)) message.lastInboundAt = inbound;
  }
  return message;
}

/** What the store knows of a chunk's recipients: the shared policy stage, the status cache, and what the gate reads besides. */
async function recipientStates(store: Store, waIds: string[], file: BlacklistFile | undefined): Promise<(RecipientState & { cachedWaId?: string })[]> {
  const [policy, statuses, inbound, capped, conversation] = await Promise.all([
    readPolicy(store, waIds, file), readStatuses(store, waIds.map((w) => '+' + w)),
    store.get(INBOUND, waIds), store.get(CAPPED, waIds), store.get(CONVERSATIONS, waIds),
  ]);
  return waIds.map((_, i) => {
    const state: RecipientState & { cachedWaId?: string } = policy[i]!; // a fresh object for each number
    const s = statuses[i];
    if (s?.status === 'valid') state.cachedWaId = s.wa_id;
    if (s?.status === 'invalid') state.notOnWhatsApp = `not on WhatsApp (checked ${s.checked_at.slice(0, 10)}, ${s.source})`;
    if (inbound[i] !== undefined) state.lastInboundAt = Date.parse(inbound[i]!);
    if (capped[i] !== undefined) state.cappedAt = Date.parse(capped[i]!);
    if (conversation[i] !== undefined) state.conversationAt = Date.parse(conversation[i]!);
    return state;
  });
}

/** A gate detail on one line (it may quote a cell that holds line breaks); send/client.ts oneLine cleans text from outside. */
function joinLines(text: string): string {
  return text.includes('\n') || text.includes('\r') ? text.replace(/[\r\n]+/g, ' ') : text;
}

/** The chunk's rows with the added columns, in the output format. */
function render(result: ChunkResult, suffixes: string[][], added: Added[], rowFormat: RowFormat, firstIndex: number): string {
  const { text, ends, baseEnds } = result;
  let out = '';
  if (rowFormat.format === 'csv') {
    const { delimiter, eol } = rowFormat.dialect;
    for (let i = 0; i < result.rows; i++) {
      out += text.slice(i === 0 ? 0 : ends[i - 1], baseEnds[i]);
      for (const value of suffixes[i]!) out += delimiter + rowFormat.field(value);
      out += eol;
    }
    return out;
  }
  for (let i = 0; i < result.rows; i++) {
    const base = text.slice(i === 0 ? 0 : ends[i - 1], baseEnds[i]);
    const values = suffixes[i]!;
    const fields = added.map((c, k) => {
      const v = values[k]!;
      const json = c.kind === 'text' ? JSON.stringify(v) : v === '' ? 'null' : c.kind === 'number' ? String(Number(v)) : JSON.stringify(v);
      return `${JSON.stringify(c.name)}:${json}`;
    }).join(',');
    const lead = rowFormat.format === 'json' ? rowFormat.lead(firstIndex + i) : '';
    out += lead + base + (base.length > 1 ? ',' : '') + fields + '}' + (rowFormat.format === 'jsonl' ? '\n' : '');
  }
  return out;
}

function human(s: {
  command: string; rows: number; decisions: Counts; reasons: Counts; statuses?: Counts; error_codes?: Counts;
  sending?: Record<string, number>; conversations: { new_outside_window: number; already_in_last_24h: number; tier: number | string };
  planned: { duration_s: number; mps: number }; problems: string[]; outputs: Record<string, string>; duration_ms: number;
}): string {
  const n = (v: number): string => v.toLocaleString('en-US');
  const lines = [`wa-guard ${s.command}: ${n(s.rows)} messages in ${(s.duration_ms / 1000).toFixed(2)} s`];
  if (s.statuses) {
    for (const status of STATUSES) lines.push(`  ${status.padEnd(9)}${n(s.statuses[status] ?? 0).padStart(10)}`);
    const codes = Object.entries(s.error_codes ?? {});
    if (codes.length) lines.push(`  error codes: ${codes.map(([code, count]) => `${code} ×${n(count)}`).join(', ')}`);
    const x = s.sending!;
    lines.push(`  ${n(x.requests!)} requests, ${x.achieved_mps} msg/s, ${n(x.retries!)} retries, ${n(x.slow_downs!)} slow-downs; ${n(x.strikes!)} strikes, ${n(x.blacklisted!)} blacklisted, ${n(x.opted_out!)} opted out`);
  }
  // Each decision with its own reasons under it: pair_rate is a defer, not a block.
  const reasons = (list: readonly string[]): string[] => list.filter((r) => s.reasons[r]).map((r) => `    ${r.padEnd(26)}${n(s.reasons[r]!).padStart(8)}`);
  lines.push(`  ${s.statuses ? 'gate: ' : ''}send     ${n(s.decisions.send!).padStart(10)}`);
  lines.push(`  ${s.statuses ? 'gate: ' : ''}defer    ${n(s.decisions.defer!).padStart(10)}`, ...reasons(DEFER_REASONS));
  lines.push(`  ${s.statuses ? 'gate: ' : ''}block    ${n(s.decisions.block!).padStart(10)}`, ...reasons(BLOCK_REASONS));
  lines.push(`  new conversations outside a care window: ${n(s.conversations.new_outside_window)} (+${n(s.conversations.already_in_last_24h)} in the last 24h; tier ${s.conversations.tier})`);
  if (!s.statuses) lines.push(`  planned duration at ${s.planned.mps} msg/s: ${s.planned.duration_s} s`);
  for (const problem of s.problems) lines.push(`  problem: ${problem}`);
  lines.push(`  ${s.statuses ? 'results' : 'decisions'} -> ${s.outputs.results ?? s.outputs.gate}`);
  return lines.join('\n') + '\n';
}
