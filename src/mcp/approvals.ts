import { randomBytes } from 'node:crypto';
import { UsageError } from '../errors.js';
import type { IO } from '../io.js';
import type { Store } from '../store/store.js';
import { DAY_MS } from '../time.js';
import { printable } from '../terminal-text.js';

/** approval token -> a message a send tool held for a person to approve (the server that holds it sends it once approved). */
export const MCP_APPROVALS = 'mcp-approvals';
const APPROVAL_TTL_MS = 7 * DAY_MS;

export interface PendingApproval {
  /** The idempotency_key of the send call. */
  key: string;
  to: string;
  /** What the message is, for the person deciding: template name (language) and params, or the text. */
  summary: string;
  /** The tool call's message, to send it as it was asked. */
  input: unknown;
  status: 'pending' | 'approved' | 'rejected' | 'sent';
  at: string;
  decided_at?: string;
}

function parse(value: string | undefined): PendingApproval | undefined {
  if (value === undefined) return undefined;
  try {
    const p = JSON.parse(value) as PendingApproval;
    return typeof p.key === 'string' && typeof p.status === 'string' ? p : undefined;
  } catch {
    return undefined;
  }
}

/** The approval a send call with this idempotency key is held in, if any. */
export async function approvalFor(store: Store, key: string): Promise<{ token: string; status: PendingApproval['status'] } | undefined> {
  for await (const [token, value] of store.scan(MCP_APPROVALS)) {
    const p = parse(value);
    if (p?.key === key) return { token, status: p.status };
  }
  return undefined;
}

/** Holds a message for approval: its token (or the token an earlier call with the same key got). */
export async function holdForApproval(store: Store, pending: Omit<PendingApproval, 'status' | 'at'>): Promise<{ token: string; status: PendingApproval['status'] }> {
  const held = await approvalFor(store, pending.key);
  if (held) return held;
  const token = randomBytes(12).toString('hex');
  const entry: PendingApproval = { ...pending, status: 'pending', at: new Date().toISOString() };
  await store.set(MCP_APPROVALS, [{ key: token, value: JSON.stringify(entry), ttlMs: APPROVAL_TTL_MS }]);
  return { token, status: 'pending' };
}

/** The approved messages, each taken (approved -> sent) atomically, so two servers on one store never both send one. */
export async function takeApproved(store: Store): Promise<PendingApproval[]> {
  const taken: PendingApproval[] = [];
  for await (const [token, value] of store.scan(MCP_APPROVALS)) {
    if (parse(value)?.status !== 'approved') continue;
    const mine = await store.transact([{ namespace: MCP_APPROVALS, key: token }], ([now]) => {
      const p = parse(now);
      if (p?.status !== 'approved') return { writes: [], result: undefined };
      const sent: PendingApproval = { ...p, status: 'sent' };
      return { writes: [{ namespace: MCP_APPROVALS, key: token, value: JSON.stringify(sent), ttlMs: APPROVAL_TTL_MS }], result: p };
    });
    if (mine) taken.push(mine);
  }
  return taken;
}

/** `wa-guard mcp approve|reject [TOKEN]`: decide one held message, or list those pending. */
export async function decideApproval(store: Store, verb: 'approve' | 'reject', token: string | undefined, json: boolean, io: IO): Promise<number> {
  if (token === undefined) {
    const pending: (PendingApproval & { token: string })[] = [];
    for await (const [t, value] of store.scan(MCP_APPROVALS)) {
      const p = parse(value);
      if (p?.status === 'pending') pending.push({ ...p, token: t });
    }
    if (json) io.stdout.write(JSON.stringify({ pending: pending.map(({ input: _i, ...p }) => p) }, null, 2) + '\n');
    else io.stdout.write(pending.length ? pending.map((p) => `${p.token}  ${p.at}  to +${printable(p.to)}: ${printable(p.summary)}`).join('\n') + '\n' : 'no message waits for approval\n');
    return 0;
  }
  if (!/^[0-9a-f]{24}$/.test(token)) throw new UsageError(`mcp ${verb}: "${token}" is not an approval token (24 hex digits, as the send tool returned)`);
  const decided = await store.transact([{ namespace: MCP_APPROVALS, key: token }], ([value]) => {
    const p = parse(value);
    if (!p || p.status !== 'pending') return { writes: [], result: { p, changed: false } };
    const next: PendingApproval = { ...p, status: verb === 'approve' ? 'approved' : 'rejected', decided_at: new Date().toISOString() };
    return { writes: [{ namespace: MCP_APPROVALS, key: token, value: JSON.stringify(next), ttlMs: APPROVAL_TTL_MS }], result: { p: next, changed: true } };
  });
  if (!decided.p) throw new UsageError(`mcp ${verb}: no held message with token ${token} in ${store.location} (expired after 7 days, or another store)`);
  if (!decided.changed) throw new UsageError(`mcp ${verb}: ${token} is already ${decided.p.status}`);
  const said = verb === 'approve'
    ? 'approved: a `wa-guard mcp --approve` server running on this store sends it within a second or two (if none runs, the next one started does)'
    : 'rejected: it will not be sent';
  io.stdout.write(json ? JSON.stringify({ token, status: decided.p.status, key: decided.p.key }) + '\n' : `${printable(token)} (to +${printable(decided.p.to)}: ${printable(decided.p.summary)}) ${said}\n`);
  return 0;
}
