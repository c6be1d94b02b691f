import { stringify } from 'csv-stringify/sync';
import { UsageError } from '../errors.js';
import { BLOCK_REASONS, CATEGORIES, DAY_MS, DEFER_REASONS, gate, type Category, type Decision, type GateConfig, type Message, type RecipientState } from '../gate/gate.js';
import { Plan } from '../gate/plan.js';
import { loadTemplates } from '../gate/templates.js';
import type { IO } from '../io.js';
import { chooseColumns, headerKey, refuseAddedColumns } from '../input/columns.js';
import { loadNumberList } from '../input/number-list.js';
import { openInput, type Input } from '../input/reader.js';
import { RowFormat } from '../output/rows.js';
import { checkCountry } from '../phone.js';
import { Outcome, OUTCOME_REASON, type ChunkConfig, type ChunkResult } from '../pipeline/chunk.js';
import { processInOrder } from '../pipeline/ordered.js';
import { workerCount } from '../pipeline/pool.js';
import { Progress } from '../progress.js';
import { BLACKLIST, CAPPED, CONVERSATIONS, INBOUND, OPTOUT, describeBlacklisted, parseOptOut } from '../store/lists.js';
import { openStore } from '../store/store.js';
import { runFigures } from '../versions.js';
import { Outputs } from '../output/outputs.js';
import { failOnExit, parseFailOn, type FailOn } from '../fail-on.js';
import { STATUS, parseCachedStatus } from '../verify/verifier.js';
import { parseDelimiter, parseFormat, type DataFileFlags } from './options.js';
import { parseDuration } from '../verify/settings.js';

export interface SendOptions extends DataFileFlags {
  dryRun?: boolean;
  country?: string;
  column?: string;
  templates?: string;
  language?: string;
  category?: string;
  tier?: string;
  pairInterval?: string;
  mps?: string;
  now?: string;
}

const GATE_COLUMNS = ['wa_id', 'decision', 'reason', 'detail', 'not_before'];
const TIERS: Record<string, number> = { '250': 250, '1000': 1000, '2000': 2000, '10000': 10_000, '100000': 100_000, unlimited: Infinity };
/** Campaign columns besides the recipient, found by name (case and separators ignored). */
const FIELDS = ['template', 'language', 'params', 'text', 'category', 'last_inbound_at', 'id'] as const;

type Counts = Record<string, number>;

export async function send(inputSpec: string | undefined, options: SendOptions, io: IO): Promise<number> {
  const started = new Date();
  if (!options.dryRun) {
    throw new UsageError('live sending is not available yet: run with --dry-run to see what would be sent, deferred or blocked');
  }
  if (!inputSpec) throw new UsageError('missing input: give a campaign file, or - to read stdin');
  const countryText = options.country ?? io.env.WA_GUARD_COUNTRY;
  const country = checkCountry(countryText);
  if (countryText && !country) throw new UsageError(`--country: "${countryText}" is not a known ISO 3166 country code`);
  const tier = TIERS[options.tier ?? '250'];
  if (tier === undefined) throw new UsageError(`--tier must be one of ${Object.keys(TIERS).join(', ')}; got "${options.tier}"`);
  const category = options.category?.toLowerCase() as Category | undefined;
  if (category !== undefined && !CATEGORIES.includes(category)) throw new UsageError(`--category must be one of ${CATEGORIES.join(', ')}`);
  const mps = Number(options.mps ?? 80);
  if (!Number.isFinite(mps) || mps <= 0 || mps > 10_000) throw new UsageError(`--mps must be a number from 1 to 10000; got "${options.mps}"`);
  const pairIntervalMs = options.pairInterval === undefined ? 6000 : parseDuration(options.pairInterval, '--pair-interval');
  const now = options.now === undefined ? started.getTime() : Date.parse(options.now);
  if (Number.isNaN(now)) throw new UsageError(`--now: "${options.now}" is not an ISO 8601 time`);
  const failOn = parseFailOn(options.failOn, BLOCK_REASONS);
  const config: GateConfig = {
    templates: options.templates ? await loadTemplates(options.templates, io.cwd) : undefined,
    defaultCategory: category,
    tier,
    pairIntervalMs,
  };
  const input = await openInput(inputSpec, io, { format: parseFormat(options.format, '--format'), delimiter: parseDelimiter(options.delimiter) });
  try {
    return await dryRun(input, options, io, { config, country, now, mps, failOn, started });
  } finally {
    input.close();
  }
}


interface Run {
  config: GateConfig;
  country: ReturnType<typeof checkCountry>;
  now: number;
  mps: number;
  failOn: FailOn;
  started: Date;
}

async function dryRun(input: Input, options: SendOptions, io: IO, run: Run): Promise<number> {
  const { config, now } = run;
  const keys = input.columns.map(headerKey);
  const to = keys.indexOf('to');
  const choice = chooseColumns(input.columns, input.source, options.column ?? (to >= 0 ? input.columns[to] : undefined));
  refuseAddedColumns(input.columns, GATE_COLUMNS, input.source, 'send --dry-run');
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
  const chunkConfig: ChunkConfig = {
    source: input.source, format: input.sniffed.format, delimiter: input.sniffed.dialect.delimiter,
    columns: input.columns, phone: choice.phone, optOut: undefined, country: run.country,
    output: rowFormat.output,
    cleanedColumns: false, extract,
  };
  const fileBlacklist = options.blacklist ? await loadNumberList(options.blacklist, io, run.country) : undefined;
  const store = await openStore(options.store, io.env, io.cwd);
  let outputs: Outputs | undefined;
  let progress: Progress | undefined;
  try {
    outputs = await Outputs.create(options.outDir, io.cwd);
    const gateFile = await outputs.file(`gate.${rowFormat.extension}`);
    const summaryFile = await outputs.file('summary.json');
    const paths = { gate: gateFile.path, summary: summaryFile.path };
    await gateFile.write(rowFormat.start(GATE_COLUMNS));

    // The store is only read: a dry run changes nothing.
    const byDecision: Counts = { send: 0, defer: 0, block: 0 };
    const byReason: Counts = Object.fromEntries([...BLOCK_REASONS, ...DEFER_REASONS].map((r) => [r, 0]));
    const byTemplate = new Map<string, { rows: number; blocked: Counts }>();
    let rows = 0;
    const recentConversations = await countRecent(store, now);
    const plan = new Plan(now, run.mps, recentConversations, input.size ? input.size / 60 : 0);
    progress = await Progress.start('send --dry-run', io, Boolean(options.quiet || options.json), input.size);
    const width = extract.length;

    const consume = async (result: ChunkResult): Promise<void> => {
      const n = result.rows;
      const messages: Message[] = [];
      const okKeys: string[] = [];
      for (let i = 0; i < n; i++) {
        const cell = (k: number): string => result.extracted[i * width + k] ?? '';
        const outcome = result.outcome[i]!;
        const waId = outcome === Outcome.OK ? String(result.waIds[i]) : '';
        if (waId) okKeys.push(waId);
        messages.push(toMessage(cell, paramColumns.length, waId, outcome, result.details[i] ?? '', options.language ?? 'en_US'));
      }
      const recipients = await recipientStates(store, okKeys, fileBlacklist?.has.bind(fileBlacklist), options.blacklist);
      const suffixes: string[][] = [];
      let k = 0;
      for (let i = 0; i < n; i++) {
        const message = messages[i]!;
        const recipient = message.to.ok ? recipients[k++]! : {};
        const decision: Decision = result.outcome[i] === Outcome.MALFORMED
          ? { decision: 'block', reason: 'malformed_row', detail: result.details[i] ?? '', opensConversation: false }
          : gate(message, recipient, plan, now, config);
        const at = plan.record(message, decision);
        byDecision[decision.decision]!++;
        if (decision.reason !== 'ok') byReason[decision.reason]!++;
        if (message.template) {
          const key = `${message.template.name} (${message.template.language})`;
          const t = byTemplate.get(key) ?? { rows: 0, blocked: {} };
          t.rows++;
          if (decision.decision === 'block') t.blocked[decision.reason] = (t.blocked[decision.reason] ?? 0) + 1;
          byTemplate.set(key, t);
        }
        const notBefore = decision.notBefore ?? (decision.decision === 'defer' ? at : undefined);
        suffixes.push([message.to.ok ? message.to.waId : '', decision.decision, decision.reason, oneLine(decision.detail), notBefore === undefined ? '' : new Date(notBefore).toISOString()]);
      }
      rows += n;
      await gateFile.write(render(result, suffixes, rowFormat, rows - n));
      progress!.update(input.bytesRead(), rows);
    };

    await processInOrder(input.chunks, chunkConfig, workerCount(options.workers), io.signal, consume);
    if (rows === 0) throw new UsageError(`${input.source}: no data rows`);
    await gateFile.write(rowFormat.end(rows));
    progress.stop();

    const problems: string[] = [];
    for (const [template, t] of byTemplate) {
      const reasons = Object.entries(t.blocked);
      if (reasons.length === 1 && reasons[0]![1] === t.rows) problems.push(`template ${template} blocks every row (${t.rows}): ${reasons[0]![0]}`);
    }
    if (byReason.tier_limit) problems.push(`${byReason.tier_limit} new conversations are over the messaging limit (${config.tier} in 24h) and wait a day`);
    if (byReason.outside_care_window) problems.push(`${byReason.outside_care_window} free-form messages are outside the 24h care window: use an approved template`);
    const summary = {
      command: 'send --dry-run',
      ok: true,
      input: { path: input.path ?? '-', format: input.sniffed.format, recipient_column: input.columns[choice.phone[0]!] },
      outputs: paths,
      now: new Date(now).toISOString(),
      rows,
      decisions: byDecision,
      reasons: byReason,
      conversations: {
        new_outside_window: plan.conversations() - recentConversations,
        already_in_last_24h: recentConversations,
        tier: Number.isFinite(config.tier) ? config.tier : 'unlimited',
      },
      planned: { mps: run.mps, pair_interval_s: config.pairIntervalMs / 1000, duration_s: Math.round((plan.latest - now) / 100) / 10 },
      problems,
      store: { backend: store.backend, location: store.location },
      ...runFigures(run.started, rows),
    };
    await summaryFile.write(JSON.stringify(summary, null, 2) + '\n');
    await outputs.commit();
    if (options.json) io.stdout.write(JSON.stringify(summary, null, 2) + '\n');
    else if (!options.quiet) io.stderr.write(human(summary));
    return failOnExit(run.failOn, byReason, BLOCK_REASONS, 'blocked', io, Boolean(options.quiet));
  } finally {
    progress?.stop();
    await outputs?.abort();
    await store.close();
  }
}


/** Conversations the store saw opened outside a window in the last 24h. */
async function countRecent(store: { scan(ns: string): AsyncIterable<[string, string]> }, now: number): Promise<number> {
  let count = 0;
  for await (const [, at] of store.scan(CONVERSATIONS)) if (now - Date.parse(at) < DAY_MS) count++;
  return count;
}

function toMessage(cell: (k: number) => string, paramCount: number, waId: string, outcome: number, detail: string, defaultLanguage: string): Message {
  const [template, language, paramsJson, text, category, lastInbound] = [0, 1, 2, 3, 4, 5].map(cell) as string[];
  let params: string[] = [];
  for (let k = 0; k < paramCount; k++) params.push(cell(FIELDS.length + k));
  if (paramsJson) {
    try {
      const parsed: unknown = JSON.parse(paramsJson!);
      if (Array.isArray(parsed)) params = parsed.map(String);
    } catch {
      params = [paramsJson!];
    }
  }
  while (params.length && params[params.length - 1] === '' && paramCount) params.pop(); // trailing empty param_n columns
  const to = outcome === Outcome.OK
    ? { ok: true as const, e164: '+' + waId, waId }
    : { ok: false as const, reason: OUTCOME_REASON[outcome] as 'missing_number' | 'invalid_number' | 'no_country_code', detail };
  const inbound = lastInbound ? Date.parse(lastInbound) : NaN;
  return {
    to,
    ...(template ? { template: { name: template, language: language || defaultLanguage, params } } : {}),
    ...(text ? { text } : {}),
    ...(CATEGORIES.includes(category!.toLowerCase() as Category) ? { category: category!.toLowerCase() as Category } : {}),
    ...(Number.isNaN(inbound) ? {} : { lastInboundAt: inbound }),
  };
}

/** One batched read per list for a chunk's recipients. */
async function recipientStates(
  store: { get(ns: string, keys: readonly string[]): Promise<(string | undefined)[]> },
  waIds: string[],
  inBlacklistFile: ((waId: number) => boolean) | undefined,
  blacklistFile: string | undefined,
): Promise<RecipientState[]> {
  const e164 = waIds.map((w) => '+' + w);
  const [listed, optedOut, status, inbound, capped, conversation] = await Promise.all([
    store.get(BLACKLIST, waIds), store.get(OPTOUT, waIds), store.get(STATUS, e164),
    store.get(INBOUND, waIds), store.get(CAPPED, waIds), store.get(CONVERSATIONS, waIds),
  ]);
  return waIds.map((waId, i) => {
    const state: RecipientState = {};
    if (listed[i] !== undefined) {
      state.blacklisted = describeBlacklisted(listed[i]!);
    } else if (inBlacklistFile?.(Number(waId))) {
      state.blacklisted = `listed in ${blacklistFile}`;
    }
    if (optedOut[i] !== undefined) state.optedOut = parseOptOut(optedOut[i]!);
    const s = status[i] === undefined ? undefined : parseCachedStatus(status[i]!);
    if (s) {
      if (s.status === 'invalid') state.notOnWhatsApp = `not on WhatsApp (checked ${s.checked_at.slice(0, 10)}, ${s.source})`;
    }
    if (inbound[i] !== undefined) state.lastInboundAt = Date.parse(inbound[i]!);
    if (capped[i] !== undefined) state.cappedAt = Date.parse(capped[i]!);
    if (conversation[i] !== undefined) state.conversationAt = Date.parse(conversation[i]!);
    return state;
  });
}

function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ');
}

/** The chunk's rows with the gate's columns added, in the output format. */
function render(result: ChunkResult, suffixes: string[][], rowFormat: RowFormat, firstIndex: number): string {
  const { text, ends, baseEnds } = result;
  let out = '';
  if (rowFormat.format === 'csv') {
    const { delimiter, eol } = rowFormat.dialect;
    // One csv-stringify call per chunk; the added values never hold line breaks, so lines split cleanly.
    const lines = stringify(suffixes, { delimiter, record_delimiter: '\n' }).split('\n');
    for (let i = 0; i < result.rows; i++) {
      out += text.slice(i === 0 ? 0 : ends[i - 1], baseEnds[i]) + delimiter + lines[i] + eol;
    }
    return out;
  }
  for (let i = 0; i < result.rows; i++) {
    const base = text.slice(i === 0 ? 0 : ends[i - 1], baseEnds[i]);
    const [waId, decision, reason, detail, notBefore] = suffixes[i]!;
    const fields = `"wa_id":${JSON.stringify(waId)},"decision":"${decision}","reason":"${reason}","detail":${JSON.stringify(detail)},"not_before":${notBefore ? JSON.stringify(notBefore) : 'null'}}`;
    const lead = rowFormat.format === 'json' ? rowFormat.lead(firstIndex + i) : '';
    out += lead + base + (base.length > 1 ? ',' : '') + fields + (rowFormat.format === 'jsonl' ? '\n' : '');
  }
  return out;
}

function human(s: { rows: number; decisions: Counts; reasons: Counts; conversations: { new_outside_window: number; already_in_last_24h: number; tier: number | string }; planned: { duration_s: number; mps: number }; problems: string[]; outputs: { gate: string }; duration_ms: number }): string {
  const n = (v: number): string => v.toLocaleString('en-US');
  const lines = [
    `wa-guard send --dry-run: ${n(s.rows)} messages in ${(s.duration_ms / 1000).toFixed(2)} s`,
    `  send     ${n(s.decisions.send!).padStart(10)}`,
    `  defer    ${n(s.decisions.defer!).padStart(10)}`,
    `  block    ${n(s.decisions.block!).padStart(10)}`,
  ];
  for (const [reason, count] of Object.entries(s.reasons)) if (count) lines.push(`    ${reason.padEnd(26)}${n(count).padStart(8)}`);
  lines.push(`  new conversations outside a care window: ${n(s.conversations.new_outside_window)} (+${n(s.conversations.already_in_last_24h)} in the last 24h; tier ${s.conversations.tier})`);
  lines.push(`  planned duration at ${s.planned.mps} msg/s: ${s.planned.duration_s} s`);
  for (const problem of s.problems) lines.push(`  problem: ${problem}`);
  lines.push(`  decisions -> ${s.outputs.gate}`);
  return lines.join('\n') + '\n';
}
