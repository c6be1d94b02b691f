import { countRecent, recipientStates, type Recipient } from '../campaign/recipients.js';
import { gate, type Category, type Decision, type GateConfig, type Message } from '../gate/gate.js';
import { emptyPlan } from '../gate/plan.js';
import { normalizePhone } from '../phone.js';
import type { Store } from '../store/store.js';
import { readTemplateStatus } from '../store/template-status.js';
import type { McpSettings } from './settings.js';

/** One message as a tool gives it. */
export interface MessageInput {
  to: string;
  template?: { name: string; language: string; params?: string[] };
  text?: string;
  category?: Category;
}

/** The store-wide figures as last read. */
interface Snapshot {
  at: number;
  /** How long they are used before they are read again. */
  reuseMs: number;
  conversations: number;
  config: GateConfig;
}

/** The gate's answer for one message, as the tools return it. */
export interface Checked {
  message: Message;
  recipient: Recipient;
  decision: Decision;
}

/**
 * How long the store-wide figures (conversations in 24h, template status
 * webhooks) are reused before they are read again: a second, or ten times as
 * long as the last reading took (100,000 conversations take ~0.15 s to count),
 * so the count never takes more than a tenth of the server's time.
 */
const SNAPSHOT_MS = 1000;
const SNAPSHOT_COST_SHARE = 10;

/**
 * The gate for one message at a time, on the store's live state: what the
 * store knows of the recipient (read for each message), the conversations
 * opened in the last 24h and the template status webhooks (read at most once
 * a second, less often when counting them is slow), and an empty plan, as
 * `send --dry-run` decides a one-row file.
 */
export class LiveGate {
  private snapshot: Snapshot | undefined;
  /** The reading under way, if any: calls meanwhile share it, or answer from the last one. */
  private reading: Promise<Snapshot> | undefined;
  /** This server's conversations opened while a reading was under way: added to it (at worst counted twice: the safe side). */
  private openedDuringReading = 0;

  constructor(private readonly store: Store, private readonly settings: McpSettings) {}

  /** A send from this server opened a conversation: counted at once (other processes' at the next reading). */
  countConversation(): void {
    if (this.snapshot) this.snapshot.conversations++;
    if (this.reading) this.openedDuringReading++;
  }

  private figures(now: number): Promise<Snapshot> | Snapshot {
    const last = this.snapshot;
    if (last && now >= last.at && now - last.at <= last.reuseMs) return last;
    const reading = this.reading ??= this.read(now).finally(() => { this.reading = undefined; });
    if (!last) return reading;
    // Counting 100,000 conversations takes ~0.15 s: meanwhile the last figures answer (a failed reading is tried again next call).
    reading.catch(() => undefined);
    return last;
  }

  private async read(now: number): Promise<Snapshot> {
    this.openedDuringReading = 0;
    const started = Date.now();
    const [conversations, templateStatus] = await Promise.all([countRecent(this.store, now), readTemplateStatus(this.store)]);
    const config: GateConfig = { ...this.settings.config, ...(templateStatus.size ? { templateStatus } : {}) };
    const reuseMs = Math.max(SNAPSHOT_MS, (Date.now() - started) * SNAPSHOT_COST_SHARE);
    this.snapshot = { at: now, reuseMs, conversations: conversations + this.openedDuringReading, config };
    return this.snapshot;
  }

  message(input: MessageInput): Message {
    const message: Message = { to: normalizePhone(input.to, this.settings.country) };
    if (input.template) message.template = { name: input.template.name, language: input.template.language, params: input.template.params ?? [] };
    if (input.text !== undefined && input.text !== '') message.text = input.text;
    if (input.category) message.category = input.category;
    return message;
  }

  /** The gate's decision for a message (as `message` builds it from a tool's input). */
  async check(message: Message, now = Date.now()): Promise<Checked> {
    const [recipient] = message.to.ok ? await recipientStates(this.store, [message.to.waId], undefined) : [{}];
    const { conversations, config } = await this.figures(now);
    const decision = gate(message, recipient!, emptyPlan(conversations), now, config);
    return { message, recipient: recipient!, decision };
  }

  /** What an agent can do about a refusal: for a text outside the window or a bad template, the approved templates of that language. */
  suggestion(checked: Checked): string | undefined {
    const { decision, message } = checked;
    const language = message.template?.language;
    const approved = (lang: string | undefined): string[] => {
      const names: string[] = [];
      for (const [name, byLanguage] of this.settings.config.templates ?? []) {
        for (const [l, info] of byLanguage) {
          if ((lang === undefined || l === lang) && ['APPROVED', 'REINSTATED'].includes(info.status.toUpperCase())) names.push(`${name} (${l}, ${info.category}, ${info.params} params)`);
        }
      }
      return names.slice(0, 20);
    };
    const listed = (lang: string | undefined): string => {
      if (!this.settings.config.templates) return 'start the server with --templates FILE or --waba-id ID to list them';
      const names = approved(lang);
      return names.length ? `approved: ${names.join('; ')}` : `no approved template${lang ? ` in ${lang}` : ''} is known`;
    };
    switch (decision.reason) {
      case 'ok': return undefined;
      case 'outside_care_window': return `outside the 24h care window: send an approved template instead (${listed(undefined)})`;
      case 'unknown_template': case 'template_not_approved': return `use an approved template (${listed(language)})`;
      case 'template_params_mismatch': return 'give the template exactly the parameters it takes (list_templates shows them)';
      case 'missing_content': return 'give a template {name, language, params} or a text';
      case 'invalid_number': case 'no_country_code': case 'missing_number': return 'give the number in international form, e.g. +6281234567890, or start the server with -c CC';
      default: return decision.decision === 'defer' ? `try again after ${new Date(decision.notBefore ?? Date.now()).toISOString()}` : 'do not send this message';
    }
  }
}
