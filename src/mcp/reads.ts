import { recipientStates } from '../campaign/recipients.js';
import { LINE_TYPES, lineTypeOf } from '../line-type.js';
import { explain } from '../meta/guide.js';
import { countryFromText, normalizePhone } from '../phone.js';
import { readCampaign } from '../report/campaigns.js';
import { Figures, campaignReport } from '../report/figures.js';
import { LIFECYCLE, REACHED, parseLifecycle, parseReached } from '../report/lifecycle.js';
import { forEachMessage } from '../report/messages.js';
import { JOURNAL, WAMIDS, parseJournalEntry } from '../send/journal.js';
import { BLACKLIST, OPTOUT, STRIKES, parseBlacklistEntry, parseOptOut } from '../store/lists.js';
import { readCachedStatuses } from '../store/status-cache.js';
import type { Store } from '../store/store.js';
import { DAY_MS } from '../time.js';
import { MCP_CAMPAIGN } from './send-one.js';
import { McpToolError } from './errors.js';
import type { McpSettings } from './settings.js';
import { approvalFor } from './approvals.js';

/** A number as a tool gives it, normalized, or an error the agent can act on. */
export function waIdOf(phone: string, settings: McpSettings): { e164: string; waId: string } {
  const n = normalizePhone(phone, settings.country);
  if (!n.ok) throw new McpToolError(`${phone}: ${n.detail}; give it in international form, e.g. +6281234567890`);
  return n;
}

export async function checkNumber(store: Store, settings: McpSettings, phone: string, country?: string) {
  const code = country === undefined ? undefined : countryFromText(country);
  if (country !== undefined && !code) throw new McpToolError(`country: "${country}" is not a country: give an ISO 3166 code (ID, BR, US) or an English name (Indonesia)`);
  const n = normalizePhone(phone, code ?? settings.country);
  if (!n.ok) return { valid: false, reason: n.reason, detail: n.detail };
  const [[cached], [listed, optout]] = await Promise.all([
    readCachedStatuses(store, [n.e164]),
    Promise.all([store.get(BLACKLIST, [n.waId]), store.get(OPTOUT, [n.waId])]).then(([b, o]) => [b[0], o[0]]),
  ]);
  const b = listed === undefined ? undefined : parseBlacklistEntry(listed);
  const o = optout === undefined ? undefined : parseOptOut(optout);
  return {
    valid: true, e164: n.e164, wa_id: cached?.wa_id ?? n.waId, line_type: LINE_TYPES[lineTypeOf(n.e164)] ?? 'unknown',
    whatsapp: cached ? { status: cached.status, checked_at: cached.checked_at, age_days: Math.floor((Date.now() - Date.parse(cached.checked_at)) / DAY_MS), source: cached.source } : null,
    blacklist: b ? { reason: b.reason, strikes: b.strikes, since: b.first_seen, expires: b.expires ?? null } : null,
    opt_out: o ? { scope: o.scope, at: o.at, source: o.source } : null,
  };
}

/** A journal entry and its lifecycle, by the journal key. */
async function messageAt(store: Store, journalKey: string) {
  const [[entry], [life]] = await Promise.all([store.get(JOURNAL, [journalKey]), store.get(LIFECYCLE, [journalKey])]);
  if (entry === undefined) return undefined;
  const e = parseJournalEntry(entry);
  const l = parseLifecycle(life);
  const s = (t: number | undefined): string | null => (t === undefined ? null : new Date(t * 1000).toISOString());
  return {
    status: e.status === 'inflight' ? 'in_flight' : e.status, wamid: e.wamid ?? null, attempts: e.attempts, reason: e.reason ?? null,
    code: e.code ?? l?.code ?? null, title: e.title ?? l?.title ?? null, sent_at: e.sent_at ?? null,
    lifecycle: l ? { state: l.state, sent: s(l.sent), delivered: s(l.delivered), read: s(l.read), failed: s(l.failed) } : null,
  };
}

/** A held message's status as get_message_status says it (a taken one is being sent: the journal has it next). */
const HELD_STATUS = { pending: 'pending_approval', approved: 'approved', rejected: 'rejected', sent: 'sending' } as const;

export async function messageStatus(store: Store, by: { idempotency_key?: string; wamid?: string }) {
  if ((by.idempotency_key === undefined) === (by.wamid === undefined)) throw new McpToolError('give idempotency_key or wamid, one of them');
  let key = by.idempotency_key === undefined ? undefined : `${MCP_CAMPAIGN}:${by.idempotency_key}`;
  if (by.wamid !== undefined) [key] = await store.get(WAMIDS, [by.wamid]);
  const found = key === undefined ? undefined : await messageAt(store, key);
  if (found) return { found: true, journal_key: key!, ...found };
  const held = by.idempotency_key === undefined ? undefined : await approvalFor(store, by.idempotency_key);
  if (held) return { found: true, status: HELD_STATUS[held.status], approval_token: held.token };
  return { found: false, note: 'no message with this key or wamid in the journal (a gate refusal is not journaled; a rehearsal neither)' };
}

export async function getContact(store: Store, settings: McpSettings, phone: string) {
  const { waId, e164 } = waIdOf(phone, settings);
  const [[recipient], [strikes], [reached]] = await Promise.all([
    recipientStates(store, [waId], undefined), store.get(STRIKES, [waId]), store.get(REACHED, [waId]),
  ]);
  const r = recipient!;
  const now = Date.now();
  const last = parseReached(reached);
  const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());
  return {
    e164, wa_id: r.cachedWaId ?? waId,
    care_window_open_until: r.lastInboundAt !== undefined && now - r.lastInboundAt < DAY_MS ? iso(r.lastInboundAt + DAY_MS) : null,
    last_inbound_at: iso(r.lastInboundAt),
    opt_out: r.optedOut ? { scope: r.optedOut.scope, detail: r.optedOut.detail } : null,
    blacklisted: r.blacklisted ?? null,
    strikes: strikeCount(strikes),
    not_on_whatsapp: r.notOnWhatsApp ?? null,
    marketing_capped_at: iso(r.cappedAt),
    last_delivered: last ? { journal_key: last.key, delivered_at: iso(last.at * 1000), replied: last.replied !== undefined, message: (await messageAt(store, last.key)) ?? null } : null,
  };
}

/** The strikes below the blacklist threshold; a damaged entry reads as one. */
function strikeCount(value: string | undefined): number {
  if (value === undefined) return 0;
  try {
    const n = (JSON.parse(value) as { strikes?: unknown }).strikes;
    return Number.isInteger(n) ? (n as number) : 1;
  } catch {
    return 1;
  }
}

export function explainError(code: number) {
  const e = explain(code);
  if (!e) throw new McpToolError(`${code} is not a code wa-guard knows; Meta's list: https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes`);
  return e;
}

export function listTemplates(settings: McpSettings, status?: string, language?: string) {
  const templates = [];
  for (const byLanguage of settings.config.templates?.values() ?? []) {
    for (const t of byLanguage.values()) {
      if ((!status || t.status.toUpperCase() === status.toUpperCase()) && (!language || t.language === language)) templates.push({ ...t });
    }
  }
  return { known: settings.config.templates !== undefined, templates };
}

/** The report's summary of a campaign (`mcp` holds the messages sent through this server). */
export async function campaignSummary(store: Store, id: string) {
  if (!/^[\w.-]{1,64}$/.test(id)) throw new McpToolError('campaign: a campaign id (1 to 64 letters, digits, dots, dashes or underscores); "mcp" holds the messages sent here');
  const figures = new Figures(72 * 3600);
  await forEachMessage(store, id, (m) => figures.add(m));
  const record = await readCampaign(store, id);
  if (figures.messages === 0 && !record) throw new McpToolError(`no campaign ${id} in the store`);
  const r = campaignReport(id, record, figures, 0, 72);
  return { campaign: r.campaign, funnel: r.funnel, failures: r.failures.slice(0, 10).map(({ examples: _e, ...f }) => f), by_template: r.by_template };
}
