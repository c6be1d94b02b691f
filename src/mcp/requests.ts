import { createHash } from 'node:crypto';
import type { Message } from '../gate/gate.js';
import { JOURNAL_TTL_MS } from '../send/journal.js';
import type { Store } from '../store/store.js';

/** idempotency_key -> what the first call with it asked (and, for a gate's block, what it was answered). */
export const MCP_REQUESTS = 'mcp-requests';

export interface RequestRecord {
  fingerprint: string;
  at: string;
  /** The first call's answer when the gate blocked it: final for the key. */
  outcome?: Record<string, unknown>;
}

/** What identifies a message's recipient and content: the same key must always mean this. */
export function fingerprint(message: Message, raw: string): string {
  const to = message.to.ok ? message.to.waId : `raw:${raw}`;
  return createHash('sha256').update(JSON.stringify([to, message.template ?? null, message.text ?? null])).digest('hex').slice(0, 32);
}

function parse(value: string | undefined): RequestRecord | undefined {
  if (value === undefined) return undefined;
  try {
    const r = JSON.parse(value) as RequestRecord;
    return typeof r.fingerprint === 'string' ? r : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The key's record: taken for this message by this call (atomically across
 * processes), or the one an earlier call made, which the caller compares.
 */
export async function takeKey(store: Store, key: string, print: string): Promise<RequestRecord | undefined> {
  const mine: RequestRecord = { fingerprint: print, at: new Date().toISOString() };
  const [took] = await store.claim(MCP_REQUESTS, [{ key, value: JSON.stringify(mine), ttlMs: JOURNAL_TTL_MS }]);
  if (took) return undefined;
  const [value] = await store.get(MCP_REQUESTS, [key]);
  return parse(value) ?? mine;
}

/** Only reads: a rehearsal journals nothing. */
export async function readKey(store: Store, key: string): Promise<RequestRecord | undefined> {
  const [value] = await store.get(MCP_REQUESTS, [key]);
  return parse(value);
}

/** The gate blocked the key's first call: its answer stands for every repeat. */
export async function recordBlock(store: Store, key: string, record: RequestRecord, outcome: Record<string, unknown>): Promise<void> {
  await store.set(MCP_REQUESTS, [{ key, value: JSON.stringify({ ...record, outcome }), ttlMs: JOURNAL_TTL_MS }]);
}
