import { recordConversations } from '../campaign/recipients.js';
import { CampaignJournal } from '../report/campaign-journal.js';
import type { Message } from '../gate/gate.js';
import type { RowResult } from '../send/journal.js';
import { messageBody } from '../send/message-body.js';
import { Sender } from '../send/sender.js';
import { describeStop } from '../send/watchdog.js';
import type { Store } from '../store/store.js';
import type { LiveGate, MessageInput } from './decide.js';
import { holdForApproval, takeApproved } from './approvals.js';
import { McpToolError } from './errors.js';
import { fingerprint, readKey, recordBlock, takeKey } from './requests.js';
import { senderSettings, type McpSettings } from './settings.js';

/** The journal's campaign for messages sent through MCP: their journal keys are `mcp:<idempotency_key>`. */
export const MCP_CAMPAIGN = 'mcp';

export type SendResult = Record<string, unknown> & { allowed: boolean; status: string; idempotency_key: string };

/**
 * The send tools: the gate first, then the same journal, shared pacing and
 * code table as `send`, exactly once per idempotency_key across calls,
 * retries and processes. A repeat returns the first call's outcome.
 */
export class McpSends {
  private readonly journal: CampaignJournal;
  private readonly sender: Sender | undefined;
  private sends = 0;

  constructor(private readonly store: Store, private readonly gate: LiveGate, private readonly settings: McpSettings) {
    this.journal = new CampaignJournal(store, MCP_CAMPAIGN, { resendUnknown: false });
    const live = settings.sending;
    this.sender = live.kind === 'live' ? new Sender(live.client, store, this.journal, senderSettings(settings, live)) : undefined;
  }

  async send(input: MessageInput, key: string, approved = false): Promise<SendResult> {
    if (!/^[\x21-\x7e]{1,128}$/.test(key)) throw new McpToolError('idempotency_key: 1 to 128 printable ASCII characters without spaces; give each message its own and reuse it only to retry that message');
    const stop = this.sender?.stopped;
    // Not "Meta answered": a stop can be an endpoint nobody answers at.
    if (stop) throw new McpToolError(`sending is stopped (${describeStop(stop)}): fix it and restart wa-guard mcp`);
    const message = this.gate.message(input);
    const print = fingerprint(message, input.to);
    const rehearsal = !this.sender;
    const earlier = rehearsal ? await readKey(this.store, key) : await takeKey(this.store, key, print);
    if (earlier && earlier.fingerprint !== print) {
      throw new McpToolError(`idempotency_key "${key}" was first used at ${earlier.at} for a different message (recipient or content): use a new key for a new message`);
    }
    if (earlier?.outcome) return { ...earlier.outcome, repeated: true } as unknown as SendResult;
    const journalKey = this.journal.key(key);
    const [seen] = await this.journal.read([journalKey]);
    const waId = message.to.ok ? message.to.waId : undefined;
    const standing = this.journal.standing(seen, waId, Date.now());
    if (standing.kind === 'settled') return this.result(key, standing.outcome, true);
    if (standing.kind === 'answered' && standing.outcome.busy) return this.result(key, await this.journal.awaitOther(journalKey, standing.outcome), true);

    const checked = await this.gate.check(message);
    const { decision } = checked;
    const decided = { decision: decision.decision, reason: decision.reason, detail: decision.detail, ...(decision.notBefore ? { not_before: new Date(decision.notBefore).toISOString() } : {}) };
    if (decision.decision === 'block' || (decision.decision === 'defer' && decision.reason !== 'pair_rate')) {
      const suggested = this.gate.suggestion(checked);
      const refused = { allowed: false, status: decision.decision === 'block' ? 'blocked' : 'deferred', idempotency_key: key, ...decided, ...(suggested ? { suggested_action: suggested } : {}) };
      if (!rehearsal && decision.decision === 'block') await recordBlock(this.store, key, earlier ?? { fingerprint: print, at: new Date().toISOString() }, refused);
      return refused;
    }
    if (rehearsal) return { allowed: true, status: 'rehearsed', idempotency_key: key, ...decided, note: `not sent: ${this.settings.sending.kind === 'off' ? this.settings.sending.why : ''}` };
    if (this.settings.approve && !approved) return this.hold(input, key, checked.message);
    if (this.sends >= this.settings.maxSends) throw new McpToolError(`--max-sends ${this.settings.maxSends} reached: this server sends no more messages; a person must restart it to send more`);
    this.sends++;
    const job = {
      key: journalKey, waId: waId!, seen,
      body: messageBody(checked.message, checked.recipient.cachedWaId),
      ...(checked.message.template ? { template: `${checked.message.template.name} (${checked.message.template.language})` } : {}),
    };
    let outcome: RowResult = await this.sender!.deliver(job);
    if (outcome.status === 'unknown' && 'busy' in outcome && outcome.busy) outcome = await this.journal.awaitOther(journalKey, outcome);
    if (outcome.status === 'sent' && decision.opensConversation) {
      await recordConversations(this.store, [waId!]);
      this.gate.countConversation();
    }
    await this.store.sync();
    return this.result(key, outcome, false);
  }

  /** --approve: the message waits for `wa-guard mcp approve TOKEN`; a repeat call gets the same token (or what was decided). */
  private async hold(input: MessageInput, key: string, message: Message): Promise<SendResult> {
    const summary = message.template ? `template ${message.template.name} (${message.template.language}) [${message.template.params.join(', ')}]` : `text: ${(message.text ?? '').slice(0, 200)}`;
    const held = await holdForApproval(this.store, { key, to: message.to.ok ? message.to.waId : input.to, summary, input });
    if (held.status === 'rejected') return { allowed: false, status: 'rejected', idempotency_key: key, reason: 'a person rejected it (wa-guard mcp reject)' };
    return {
      allowed: true, status: held.status === 'pending' ? 'pending_approval' : held.status, idempotency_key: key, approval_token: held.token,
      note: `held for a person: it is sent only after \`wa-guard mcp approve ${held.token}\` on this store; get_message_status with this idempotency_key says when it went`,
    };
  }

  /** Sends the messages a person approved since the last look (the server polls). */
  async sendApproved(log: (line: string) => void): Promise<void> {
    for (const p of await takeApproved(this.store)) {
      const r = await this.send(p.input as MessageInput, p.key, true).catch((err: Error) => ({ status: 'error', reason: err.message }));
      log(`approved ${p.key}: ${String(r.status)}${r.reason ? ` (${String(r.reason)})` : ''}`);
    }
  }

  private result(key: string, outcome: RowResult, repeated: boolean): SendResult {
    const { busy: _busy, ...rest } = outcome as RowResult & { busy?: boolean };
    return { allowed: rest.status !== 'blocked', idempotency_key: key, ...rest, ...(repeated ? { repeated: true } : {}) };
  }

  async close(): Promise<void> {
    if (this.settings.sending.kind === 'live') await this.settings.sending.client.close();
  }
}

