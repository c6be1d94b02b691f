/**
 * What became of each message: the one module that builds the entries of the
 * `lifecycle`, `reached` and `replies` namespaces (store/schema.ts). The send
 * records a message's template when Meta accepts it; status webhooks move it
 * along (sent, delivered, read, failed) with Meta's timestamps; replies and
 * opt-outs are pinned on the message that last reached the user.
 *
 * Every change is a merge that does not depend on the order events arrive in:
 * each time is the earliest seen, and the state is the furthest reached
 * (failed is final), so a late `delivered` after `read` changes nothing.
 */
import { JOURNAL_TTL_MS } from '../send/journal.js';
import type { StoreWrite } from '../store/store.js';
import type { Namespace } from '../store/schema.js';

/** journal key (`<campaign id>:<row key>`) -> JSON Lifecycle. */
export const LIFECYCLE = 'lifecycle' satisfies Namespace;
/** wa_id -> JSON Reached: the message that last reached the user, and whether they answered it. */
export const REACHED = 'reached' satisfies Namespace;
/** journal key -> JSON Replies: the user's reply or opt-out after that message was delivered. */
export const REPLIES = 'replies' satisfies Namespace;
/** As long as the journal it sits beside. */
export const LIFECYCLE_TTL_MS = JOURNAL_TTL_MS;

/** accepted: Meta took it, no webhook yet. Ordered: a state never goes back to an earlier one. */
export const STATES = ['accepted', 'sent', 'delivered', 'read', 'failed'] as const;
export type State = typeof STATES[number];

/** Times are Meta's (seconds since the epoch). */
export interface Lifecycle {
  state: State;
  template?: string;
  language?: string;
  sent?: number;
  delivered?: number;
  read?: number;
  failed?: number;
  code?: number;
  title?: string;
}

export interface Reached {
  /** The journal key of the message. */
  key: string;
  /** When it was delivered (s). */
  at: number;
  replied?: number;
  opted_out?: number;
  opt_out_by?: string;
}

/** What the report reads: a reply or opt-out, and the delivery it followed (s). */
export interface Replies {
  delivered: number;
  replied?: number;
  opted_out?: number;
  /** stop-word, user_preferences or 131050. */
  opt_out_by?: string;
}

const rank = (s: State): number => STATES.indexOf(s);
const time = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : undefined);
const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

function object(value: string | undefined): Record<string, unknown> | undefined {
  if (value === undefined) return undefined;
  try {
    const v: unknown = JSON.parse(value);
    return v && typeof v === 'object' ? v as Record<string, unknown> : undefined;
  } catch {
    return undefined;
  }
}

/** A stored entry, checked (a damaged one reads as accepted with nothing known). */
export function parseLifecycle(value: string | undefined): Lifecycle | undefined {
  if (value === undefined) return undefined;
  const o = object(value);
  if (!o) return { state: 'accepted' };
  const e: Lifecycle = { state: STATES.includes(o.state as State) ? o.state as State : 'accepted' };
  if (text(o.template)) e.template = o.template as string;
  if (text(o.language)) e.language = o.language as string;
  if (time(o.sent)) e.sent = o.sent as number;
  if (time(o.delivered)) e.delivered = o.delivered as number;
  if (time(o.read)) e.read = o.read as number;
  if (time(o.failed)) e.failed = o.failed as number;
  if (Number.isInteger(o.code)) e.code = o.code as number;
  if (text(o.title)) e.title = o.title as string;
  return e;
}

const earliest = (a: number | undefined, b: number): number => (a === undefined || b < a ? b : a);

/** The fields a status can change (the rest of an entry is copied as it was). */
const CHANGEABLE = ['state', 'sent', 'delivered', 'read', 'failed', 'code', 'title'] as const;

/**
 * The entry after a status webhook (`played`: a voice message heard, read and
 * delivered), or undefined when it changes nothing.
 */
export function lifecycleAfterStatus(value: string | undefined, status: string, at: number, failure?: { code?: number; title: string }): Lifecycle | undefined {
  const before = parseLifecycle(value) ?? { state: 'accepted' };
  const after: Lifecycle = { ...before };
  const state: State = status === 'played' ? 'read' : status as State;
  if (!STATES.includes(state) || state === 'accepted') return undefined;
  after[state] = earliest(before[state], at);
  // A read proves the delivery, at that time at the latest.
  if (state === 'read') after.delivered = earliest(before.delivered, at);
  if (state === 'failed' && failure && after.failed === at) {
    if (failure.code !== undefined) after.code = failure.code;
    after.title = failure.title;
  }
  if (rank(state) > rank(before.state)) after.state = state;
  return CHANGEABLE.every((field) => after[field] === before[field]) ? undefined : after;
}

/** What the send records when Meta accepts a message: its template and language, beside what webhooks may have written already. */
export function lifecycleAccepted(value: string | undefined, template: { name: string; language: string } | undefined): Lifecycle {
  const before = parseLifecycle(value) ?? { state: 'accepted' };
  return template ? { ...before, template: template.name, language: template.language } : before;
}

export function parseReached(value: string | undefined): Reached | undefined {
  const o = object(value);
  if (!o || !text(o.key) || !time(o.at)) return undefined;
  return { key: o.key as string, at: o.at as number, ...answers(o) };
}

/** The user's last message reached after a delivery of message `key` at `at`, or undefined when it stays. */
export function reachedAfterDelivery(value: string | undefined, key: string, at: number): Reached | undefined {
  const before = parseReached(value);
  if (!before || (before.key !== key && before.at < at)) return { key, at };
  if (before.key === key && at < before.at) return { ...before, at };
  return undefined;
}

/**
 * A reply or an opt-out at `at` from the user: pinned on the message that last
 * reached them, if it came after its delivery and is the first of its kind.
 * The new Reached entry and the Replies write, or undefined.
 */
export function reachedAfterAnswer(value: string | undefined, kind: 'replied' | 'opted_out', at: number, by?: string): { reached: Reached; write: StoreWrite } | undefined {
  const before = parseReached(value);
  if (!before || at < before.at || before[kind] !== undefined) return undefined;
  const reached: Reached = { ...before, [kind]: at, ...(kind === 'opted_out' && by ? { opt_out_by: by } : {}) };
  const { key: _key, at: delivered, ...answered } = reached;
  const replies: Replies = { delivered, ...answered };
  return { reached, write: { namespace: REPLIES, key: reached.key, value: JSON.stringify(replies), ttlMs: LIFECYCLE_TTL_MS } };
}

export function parseReplies(value: string | undefined): Replies | undefined {
  const o = object(value);
  if (!o || !time(o.delivered)) return undefined;
  return { delivered: o.delivered as number, ...answers(o) };
}

/** The reply and opt-out of a stored Reached or Replies, checked. */
function answers(o: Record<string, unknown>): Pick<Replies, 'replied' | 'opted_out' | 'opt_out_by'> {
  return {
    ...(time(o.replied) ? { replied: o.replied as number } : {}),
    ...(time(o.opted_out) ? { opted_out: o.opted_out as number } : {}),
    ...(text(o.opt_out_by) ? { opt_out_by: o.opt_out_by as string } : {}),
  };
}
