import { CliError, EXIT, type InterruptedError } from '../errors.js';
import { checkFailOn, type FailOn, type FailOnCheck } from '../fail-on.js';
import { BLOCK_REASONS, DEFER_REASONS, type Decision, type GateConfig, type Message } from '../gate/gate.js';
import type { Plan } from '../gate/plan.js';
import type { RowResult } from '../send/journal.js';
import type { Sender } from '../send/sender.js';
import { describeStop } from '../send/watchdog.js';
import type { Store } from '../store/store.js';
import type { StoreCheck } from './preflight.js';
import { runFigures } from '../versions.js';
import type { JournalFigures } from './journal-preview.js';

/** What the results file can say of a row. */
export const RESULT_STATUSES = ['sent', 'failed', 'blocked', 'deferred', 'unknown'] as const;
/** What --fail-on may name for a send: the gate's blocks, and deliveries that failed or have no clear answer. */
export const FAIL_ON_REASONS = [...BLOCK_REASONS, 'failed', 'unknown'];

type Counts = Record<string, number>;

/** The campaign's counts, row by row: the gate's decisions, and (live) what became of each row. */
export class Tally {
  readonly decisions: Counts = { send: 0, defer: 0, block: 0 };
  readonly reasons: Counts = Object.fromEntries([...BLOCK_REASONS, ...DEFER_REASONS].map((r) => [r, 0]));
  readonly statuses: Counts = Object.fromEntries(RESULT_STATUSES.map((s) => [s, 0]));
  readonly errorCodes: Counts = {};
  /** Rows and blocks per template name, then language. */
  readonly templates = new Map<string, Map<string, { rows: number; blocked: Counts }>>();
  /** Rows the journal (not the gate) found with an id an earlier run used for another number. */
  journalDuplicateIds = 0;

  decided(message: Message, decision: Decision): void {
    this.decisions[decision.decision]!++;
    if (decision.reason !== 'ok') this.reasons[decision.reason]!++;
    if (!message.template) return;
    const { name, language } = message.template;
    let languages = this.templates.get(name);
    if (!languages) this.templates.set(name, languages = new Map());
    let t = languages.get(language);
    if (!t) languages.set(language, t = { rows: 0, blocked: {} });
    t.rows++;
    if (decision.decision === 'block') t.blocked[decision.reason] = (t.blocked[decision.reason] ?? 0) + 1;
  }

  delivered(outcome: RowResult, decision: Decision): void {
    this.statuses[outcome.status]!++;
    if (outcome.status === 'blocked' && decision.reason !== 'duplicate_id' && outcome.reason?.startsWith('duplicate_id')) this.journalDuplicateIds++;
    if (outcome.code !== undefined) this.errorCodes[outcome.code] = (this.errorCodes[outcome.code] ?? 0) + 1;
  }
}

/** Everything the summary reports, gathered when the run ends. */
export interface CampaignFacts {
  tally: Tally;
  /** Rows written. */
  rows: number;
  input: { path: string; format: string; recipient_column: string | undefined };
  outputs: { data: string; summary: string };
  live: { campaignId: string; endpoint: string; sender: Sender } | undefined;
  /** The signal that interrupted a live send, if one did. */
  interrupted: string | undefined;
  now: number;
  config: GateConfig;
  mps: number;
  plan: Plan;
  recentConversations: number;
  templateWarning: string | undefined;
  store: Pick<Store, 'backend' | 'location'>;
  /** A live send's store checks: its identity (a resume compares it) and how it keeps the journal. */
  storeCheck?: StoreCheck;
  started: Date;
  /** The exit the run ends with: the summary says it. */
  verdict: Verdict;
  /** A dry run's reading of the journal (null: stdin without --campaign-id). */
  journal: JournalFigures | null;
}

export type Summary = ReturnType<typeof campaignSummary>;

/** summary.json (and --json): the counts, what went wrong, and the run's figures. */
export function campaignSummary(f: CampaignFacts) {
  const { tally, live, config, plan } = f;
  const sender = live?.sender;
  return {
    command: live ? 'send' : 'send --dry-run',
    ok: f.verdict.exitCode === 0,
    exit_code: f.verdict.exitCode,
    fail_on: f.verdict.report,
    input: f.input,
    outputs: { [live ? 'results' : 'gate']: f.outputs.data, summary: f.outputs.summary },
    ...(live ? { campaign_id: live.campaignId, endpoint: live.endpoint } : { now: new Date(f.now).toISOString(), journal: f.journal }),
    rows: f.rows,
    decisions: tally.decisions,
    reasons: tally.reasons,
    ...(sender ? {
      statuses: tally.statuses,
      error_codes: tally.errorCodes,
      sending: {
        requests: sender.stats.requests,
        achieved_mps: Math.round(sender.achievedMps * 10) / 10,
        retries: sender.stats.retries,
        slow_downs: sender.slowDowns,
        late_slots_given_up: sender.stats.late_slots,
        strikes: sender.stats.strikes,
        blacklisted: sender.stats.blacklisted,
        opted_out: sender.stats.opted_out,
        capped: sender.stats.capped,
      },
      ...(sender.stopped ? { stopped: sender.stopped } : {}),
      ...(f.interrupted !== undefined ? { interrupted: f.interrupted } : {}),
    } : {}),
    conversations: {
      new_outside_window: plan.conversations() - f.recentConversations,
      already_in_last_24h: f.recentConversations,
      tier: Number.isFinite(config.tier) ? config.tier : 'unlimited',
    },
    planned: { mps: f.mps, pair_interval_s: config.pairIntervalMs / 1000, duration_s: Math.round((plan.latest - f.now) / 100) / 10 },
    problems: problems(f),
    store: {
      backend: f.store.backend, location: f.store.location,
      ...(f.storeCheck ? { identity: f.storeCheck.identity, durability: f.storeCheck.durability.kind === 'durable' ? f.storeCheck.durability.how : `volatile, accepted with --allow-volatile-store: ${f.storeCheck.durability.why}` } : {}),
    },
    ...runFigures(f.started, f.rows),
  };
}

/** What the person running the campaign should fix or know. */
function problems({ tally, config, templateWarning, live, storeCheck }: CampaignFacts): string[] {
  const sender = live?.sender;
  const problems: string[] = [];
  for (const [name, languages] of tally.templates) {
    for (const [language, t] of languages) {
      const reasons = Object.entries(t.blocked);
      if (reasons.length === 1 && reasons[0]![1] === t.rows) problems.push(`template ${name} (${language}) blocks every row (${t.rows}): ${reasons[0]![0]}`);
    }
  }
  const { reasons } = tally;
  if (reasons.tier_limit) problems.push(`${reasons.tier_limit} new conversations are over the messaging limit (${config.tier} in 24h) and wait a day`);
  if (reasons.outside_care_window) problems.push(`${reasons.outside_care_window} free-form messages are outside the 24h care window: use an approved template`);
  if (templateWarning) problems.push(templateWarning);
  if (storeCheck?.durability.kind === 'volatile') problems.push(`the store may lose the send journal in a crash (accepted with --allow-volatile-store): ${storeCheck.durability.why}`);
  for (const [template, stop] of sender?.stoppedTemplates ?? []) problems.push(`Meta refused template ${template}: ${stop.code} ${stop.title}${stop.hint ? `: ${stop.hint}` : ''}`);
  const sharedIds = reasons.duplicate_id! + tally.journalDuplicateIds;
  if (sharedIds) problems.push(`${sharedIds} rows ${sender ? 'were not sent' : 'would not be sent'}: their id is already used in this campaign for another number; give every row its own id`);
  if (sender && tally.statuses.unknown) problems.push(`${tally.statuses.unknown} messages have no clear answer (they may have been sent); they are not re-sent unless you run again with --resend-unknown`);
  return problems;
}

/** How the run ends: an error to throw after the outputs are written, or the --fail-on check. */
export interface Verdict extends FailOnCheck {
  error: CliError | undefined;
}

/**
 * The exit, decided before the summary is written (it reports it): Meta
 * stopping the campaign, an interrupt, or refused templates are errors (the
 * results are written: a re-run resumes); else --fail-on decides.
 */
export function campaignVerdict(tally: Tally, live: { campaignId: string; sender: Sender } | undefined, interrupted: InterruptedError | undefined, failOn: FailOn): Verdict {
  const counts = { ...tally.reasons, failed: tally.statuses.failed ?? 0, unknown: tally.statuses.unknown ?? 0 };
  const check = checkFailOn(failOn, counts, FAIL_ON_REASONS, live ? 'blocked, failed or unknown' : 'blocked');
  const error = stopError(tally, live, interrupted);
  return error ? { ...check, exitCode: error.exitCode, message: undefined, error } : { ...check, error: undefined };
}

function stopError(tally: Tally, live: { campaignId: string; sender: Sender } | undefined, interrupted: InterruptedError | undefined): CliError | undefined {
  const sender = live?.sender;
  const resume = `run the same command again to resume (campaign id ${live?.campaignId})`;
  if (sender?.stopped) {
    const s = sender.stopped;
    const left = `${tally.statuses.sent} sent, the rest not sent (left for the next run); ${resume}`;
    if (s.unreachable) return new CliError(`${s.title}: ${s.hint}; ${left}`, EXIT.FAILURE);
    return new CliError(`Meta stopped the campaign: ${describeStop(s)}${s.hint ? `: ${s.hint}` : ''}; ${left}`, EXIT.STOPPED);
  }
  if (interrupted) return new CliError(`${interrupted.message}: in-flight messages finished and the results were written; ${resume}`, interrupted.exitCode);
  if (sender?.stoppedTemplates.size) {
    return new CliError(`Meta refused ${sender.stoppedTemplates.size} template(s): their rows were not sent (see problems in the summary); fix them and run again to resume`, EXIT.STOPPED);
  }
  return undefined;
}

/** The summary for a person, on stderr. */
export function humanSummary(s: Summary): string {
  const n = (v: number): string => v.toLocaleString('en-US');
  const lines = [`wa-guard ${s.command}: ${n(s.rows)} messages in ${(s.duration_ms / 1000).toFixed(2)} s`];
  if (s.statuses) {
    for (const status of RESULT_STATUSES) lines.push(`  ${status.padEnd(9)}${n(s.statuses[status] ?? 0).padStart(10)}`);
    const codes = Object.entries(s.error_codes ?? {});
    if (codes.length) lines.push(`  error codes: ${codes.map(([code, count]) => `${code} ×${n(count)}`).join(', ')}`);
    const x = s.sending!;
    lines.push(`  ${n(x.requests)} requests, ${x.achieved_mps} msg/s, ${n(x.retries)} retries, ${n(x.slow_downs)} slow-downs; ${n(x.strikes)} strikes, ${n(x.blacklisted)} blacklisted, ${n(x.opted_out)} opted out`);
  }
  // Each decision with its own reasons under it: pair_rate is a defer, not a block.
  const reasons = (list: readonly string[]): string[] => list.filter((r) => s.reasons[r]).map((r) => `    ${r.padEnd(26)}${n(s.reasons[r]!).padStart(8)}`);
  const gate = s.statuses ? 'gate: ' : '';
  const journal = 'journal' in s ? s.journal : null;
  const skipped = (decision: Decision['decision']): string => {
    const count = journal?.not_sent_again[decision] ?? 0;
    return count ? `  (${n(count)} already resolved in the journal: a live run does not send them again)` : '';
  };
  lines.push(`  ${gate}send     ${n(s.decisions.send!).padStart(10)}${skipped('send')}`);
  lines.push(`  ${gate}defer    ${n(s.decisions.defer!).padStart(10)}${skipped('defer')}`, ...reasons(DEFER_REASONS));
  lines.push(`  ${gate}block    ${n(s.decisions.block!).padStart(10)}${skipped('block')}`, ...reasons(BLOCK_REASONS));
  if (journal) {
    const { sent, failed, unknown } = journal.resolved;
    if (sent + failed + unknown) lines.push(`  journal of campaign ${journal.campaign_id}: an earlier run resolved ${n(sent + failed + unknown)} rows (sent ${n(sent)}, failed ${n(failed)}, unknown ${n(unknown)})`);
  }
  lines.push(`  new conversations outside a care window: ${n(s.conversations.new_outside_window)} (+${n(s.conversations.already_in_last_24h)} in the last 24h; tier ${s.conversations.tier})`);
  if (!s.statuses) lines.push(`  planned duration at ${s.planned.mps} msg/s: ${s.planned.duration_s} s`);
  for (const problem of s.problems) lines.push(`  problem: ${problem}`);
  const data = s.outputs.results ?? s.outputs.gate;
  lines.push(`  ${s.statuses ? 'results' : 'decisions'} -> ${data === '-' ? 'stdout' : data}`);
  return lines.join('\n') + '\n';
}
