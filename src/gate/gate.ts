import type { Normalized } from '../phone.js';
import type { AnnouncedStatus } from '../store/template-status.js';

export type Category = 'marketing' | 'utility' | 'authentication';
export const CATEGORIES: readonly Category[] = ['marketing', 'utility', 'authentication'];
export type Verdict = 'send' | 'defer' | 'block';

export const BLOCK_REASONS = [
  'missing_number', 'invalid_number', 'no_country_code', 'missing_content',
  'unknown_template', 'template_not_approved', 'template_params_mismatch',
  'blacklisted', 'opted_out', 'not_on_whatsapp',
  'us_marketing_blocked', 'auth_template_india', 'outside_care_window', 'duplicate_message', 'duplicate_id',
  'malformed_row', 'no_optin', // decided before the gate: a row that could not be read, or without the opt-in its file was asked to show
] as const;
export const DEFER_REASONS = ['marketing_capped', 'tier_limit', 'pair_rate'] as const;
export type Reason = (typeof BLOCK_REASONS)[number] | (typeof DEFER_REASONS)[number] | 'ok';

export { DAY_MS } from '../time.js';
import { DAY_MS } from '../time.js';

/** One campaign row, as read. */
export interface Message {
  to: Normalized;
  /** The row's id, when the file has an id column: it keys the send journal, so one id is one recipient. */
  id?: string;
  template?: { name: string; language: string; params: string[] };
  text?: string;
  category?: Category;
  /** The user's last message (ms), from the row. */
  lastInboundAt?: number;
}

/** What the store knew about the recipient when the run started (plus --blacklist). */
export interface RecipientState {
  blacklisted?: string;
  optedOut?: { scope: 'all' | 'marketing'; detail: string };
  notOnWhatsApp?: string;
  lastInboundAt?: number;
  /** When Meta last answered 131049 (per-user marketing cap) for this user. */
  cappedAt?: number;
  /** A conversation opened outside a care window in the last 24h: it already counts toward the tier. */
  conversationAt?: number;
}

export interface TemplateInfo {
  name: string;
  language: string;
  category: Category;
  status: string;
  params: number;
}

export interface GateConfig {
  /** name -> language -> template; undefined when no --templates file was given. */
  templates?: Map<string, Map<string, TemplateInfo>>;
  defaultCategory?: Category;
  /** Unique users reached outside a care window in a moving 24h (Infinity: unlimited). */
  tier: number;
  pairIntervalMs: number;
  /** `name:language` -> the status Meta last announced by webhook (PAUSED, DISABLED, FLAGGED, APPROVED…), from the store. */
  templateStatus?: Map<string, AnnouncedStatus>;
}

/** What the campaign has planned so far; the gate only reads it. */
export interface PlanView {
  /** The wa_id an earlier row with this id was for, if any. */
  idOwner(id: string): string | undefined;
  /** Whether the same message (same content) to the same user is already planned. */
  isDuplicate(waId: string, message: Message): boolean;
  /** When the last message to this user is planned (ms), if any. */
  lastPlannedAt(waId: string): number | undefined;
  /** New conversations outside a window counted so far: in the store's last 24h plus planned. */
  conversations(): number;
  /** Whether this campaign already plans a conversation with this user. */
  hasConversation(waId: string): boolean;
}

export interface Decision {
  decision: Verdict;
  reason: Reason;
  detail: string;
  notBefore?: number;
  category?: Category;
  /** Sending it opens a conversation outside a care window (counts toward the tier). */
  opensConversation: boolean;
}

/** The identity of a message's content, for duplicate detection. */
export function contentKey(message: Message): string {
  if (message.template) return `t\u0000${message.template.name}\u0000${message.template.language}\u0000${message.template.params.join('\u0001')}`;
  return `x\u0000${message.text ?? ''}`;
}

const block = (reason: Reason, detail: string, category?: Category): Decision => ({ decision: 'block', reason, detail, category, opensConversation: false });
const iso = (ms: number): string => new Date(ms).toISOString();

/** Template statuses a template is sent in; FLAGGED (a quality warning) only until its disable date. */
const SENDABLE = new Set(['APPROVED', 'REINSTATED']);

/**
 * Whether Meta sends a template in this status at `now`: APPROVED, or FLAGGED
 * before the date Meta said it disables it. PAUSED, DISABLED, REJECTED,
 * PENDING, PENDING_DELETION and anything else: not.
 */
function templateSendable(status: string, disableAt: number | undefined, now: number): boolean {
  const s = status.toUpperCase();
  return SENDABLE.has(s) || (s === 'FLAGGED' && !(disableAt !== undefined && disableAt <= now));
}

/** Why a template cannot be sent as the row asks, if it cannot: unknown, not sendable (templates file or a status webhook), or the wrong parameters. */
function templateRefusal(template: NonNullable<Message['template']>, info: TemplateInfo | undefined, now: number, config: GateConfig): Decision | undefined {
  const { name, language } = template;
  if (config.templates) {
    if (!info) {
      const known = config.templates.get(name);
      return block('unknown_template', known
        ? `template ${name} has no ${language} version (it has ${[...known.keys()].join(', ')})`
        : `no template named ${name} in the templates file`);
    }
    if (!templateSendable(info.status, undefined, now)) {
      return block('template_not_approved', `template ${name} (${language}) is ${info.status.toLowerCase()}`);
    }
    if (template.params.length !== info.params) {
      return block('template_params_mismatch', `template ${name} takes ${info.params} parameter${info.params === 1 ? '' : 's'}, the message has ${template.params.length}`);
    }
  }
  // Meta answers an empty parameter with 131008, which stops every row of the template: refused here, for this row alone.
  const empty = template.params.findIndex((p) => p.trim() === '');
  if (empty >= 0) return block('template_params_mismatch', `parameter ${empty + 1} of template ${name} is empty: Meta refuses an empty parameter (131008)`);
  const announced = config.templateStatus?.get(`${name}:${language}`);
  if (announced !== undefined && !templateSendable(announced.event, announced.disableAt, now)) {
    const since = announced.event === 'FLAGGED' ? ` (disabled since ${iso(announced.disableAt!)})` : '';
    return block('template_not_approved', `template ${name} (${language}) is ${announced.event.toLowerCase()}${since}, as a template status webhook said`);
  }
  return undefined;
}

/**
 * The compliance gate: whether a message may be sent now, later, or never,
 * and why. A pure function of the message, what was known about the recipient,
 * the campaign planned so far, the clock and the settings, so a dry run and a
 * live send decide exactly alike. Checks run in a fixed order and the first
 * that fails decides: the number (and the row's id), the content, the recipient's own choices,
 * Meta's rules, then pacing.
 */
export function gate(message: Message, recipient: RecipientState, plan: PlanView, now: number, config: GateConfig): Decision {
  const { to } = message;
  if (!to.ok) return block(to.reason, to.detail);
  const waId = to.waId;
  const owner = message.id === undefined ? undefined : plan.idOwner(message.id);
  if (owner !== undefined && owner !== waId) {
    return block('duplicate_id', `this row's id is already used in this file for +${owner}: give every row its own id (it keys the send journal)`);
  }

  // Content.
  const { template } = message;
  if (!template && !message.text) return block('missing_content', 'neither a template nor a text');
  let category = message.category;
  if (template) {
    const info = config.templates?.get(template.name)?.get(template.language);
    const refused = templateRefusal(template, info, now, config);
    if (refused) return refused;
    // Meta's category for a known template wins: a row's (or an agent's) "utility" on a marketing
    // template would lift the marketing opt-outs and the +1 block, and Meta bills it as marketing anyway.
    category = info?.category ?? category ?? config.defaultCategory;
  }

  // The recipient's own choices and what is known about them.
  if (recipient.blacklisted) return block('blacklisted', recipient.blacklisted, category);
  if (recipient.optedOut && (recipient.optedOut.scope === 'all' || category === 'marketing')) {
    return block('opted_out', recipient.optedOut.detail, category);
  }
  if (recipient.notOnWhatsApp) return block('not_on_whatsapp', recipient.notOnWhatsApp, category);

  // Meta's rules.
  if (template && category === 'marketing' && waId.startsWith('1')) {
    return block('us_marketing_blocked', 'Meta does not deliver marketing templates to +1 (US) numbers', category);
  }
  if (template && category === 'authentication' && waId.startsWith('91')) {
    return block('auth_template_india', 'authentication templates to +91 (India) numbers are not delivered', category);
  }
  const lastInbound = Math.max(message.lastInboundAt ?? -Infinity, recipient.lastInboundAt ?? -Infinity);
  const inWindow = Number.isFinite(lastInbound) && now - lastInbound < DAY_MS && lastInbound <= now;
  if (!template && !inWindow) {
    return block('outside_care_window', Number.isFinite(lastInbound)
      ? `the user last wrote at ${iso(lastInbound)}, more than 24h ago: send an approved template instead`
      : 'no message from the user in the last 24h: send an approved template instead');
  }
  if (plan.isDuplicate(waId, message)) return block('duplicate_message', 'the same message to the same user is earlier in the file', category);

  // Pacing: allowed, but later.
  const counted = (recipient.conversationAt !== undefined && now - recipient.conversationAt < DAY_MS) || plan.hasConversation(waId);
  const opensConversation = !inWindow && !counted;
  if (template && category === 'marketing' && recipient.cappedAt !== undefined && now - recipient.cappedAt < DAY_MS) {
    const notBefore = recipient.cappedAt + DAY_MS;
    return { decision: 'defer', reason: 'marketing_capped', detail: `Meta capped marketing to this user at ${iso(recipient.cappedAt)} (131049)`, notBefore, category, opensConversation };
  }
  if (opensConversation && plan.conversations() >= config.tier) {
    return {
      decision: 'defer', reason: 'tier_limit', notBefore: now + DAY_MS, category, opensConversation,
      detail: `${plan.conversations()} users already reached outside a care window in 24h: the messaging limit is ${config.tier}`,
    };
  }
  const last = plan.lastPlannedAt(waId);
  if (last !== undefined && last + config.pairIntervalMs > now) {
    return {
      decision: 'defer', reason: 'pair_rate', notBefore: last + config.pairIntervalMs, category, opensConversation,
      detail: `another message to this user is planned at ${iso(last)}; spaced by ${config.pairIntervalMs / 1000}s`,
    };
  }
  return { decision: 'send', reason: 'ok', detail: '', category, opensConversation };
}
