// The webhooks the simulated Meta sends: appended to --webhooks-out as JSON
// lines and/or POSTed to --webhooks-url, signed as Meta signs them.
import { createWriteStream, type WriteStream } from 'node:fs';
import { createHmac, randomBytes } from 'node:crypto';
import type { WorldConfig } from './world.js';

export type WebhookTargets = Pick<WorldConfig, 'webhooksOut' | 'webhooksUrl' | 'appSecret'>;

/** One status change of a sent message (sent, delivered, read, failed). */
export interface StatusEvent {
  /** The message's wamid. */
  id: string;
  /** The wa_id as Meta writes it (`recipient_id`). */
  recipient: string;
  state: 'sent' | 'delivered' | 'read' | 'failed';
  /** Meta's time of the change (ms); default: now. */
  at?: number;
  /** The sender's biz_opaque_callback_data, echoed back. */
  callback: string | undefined;
  error?: { code: number; title: string; details: string };
}

export class WebhooksOut {
  private readonly file: WriteStream | undefined;
  /** POSTs in flight, awaited on close. */
  private readonly posts = new Set<Promise<unknown>>();

  /** `onPostFailed` is told of each POST that did not reach --webhooks-url (the simulator counts it as a fault). */
  constructor(private readonly targets: WebhookTargets, private readonly now: () => number, private readonly onPostFailed: () => void) {
    this.file = targets.webhooksOut ? createWriteStream(targets.webhooksOut, { flags: 'a' }) : undefined;
  }

  /** False when webhooks go nowhere: callers skip building them. */
  get enabled(): boolean {
    return this.file !== undefined || Boolean(this.targets.webhooksUrl);
  }

  status(event: StatusEvent, phoneNumberId: string): void {
    if (!this.enabled) return;
    const { id, recipient, state, callback, error } = event;
    this.send({
      statuses: [{
        id, status: state, timestamp: String(Math.floor((event.at ?? this.now()) / 1000)), recipient_id: recipient,
        ...(callback === undefined ? {} : { biz_opaque_callback_data: callback }),
        ...(error ? { errors: [{ code: error.code, title: error.title, message: error.title, error_data: { details: error.details } }] } : {}),
      }],
    }, phoneNumberId);
  }

  /** A text message from a user, written at `at` (ms). */
  inbound(waId: string, at: number, text: string, phoneNumberId: string): void {
    if (!this.enabled) return;
    this.send({
      contacts: [{ profile: { name: 'Simulated user' }, wa_id: waId }],
      messages: [{ from: waId, id: `wamid.in.${randomBytes(6).toString('hex')}`, timestamp: String(Math.floor(at / 1000)), type: 'text', text: { body: text } }],
    }, phoneNumberId);
  }

  /** Waits for the POSTs in flight. */
  async settled(): Promise<void> {
    await Promise.all(this.posts);
  }

  /** Ends the file; call once no more webhooks can come. */
  async close(): Promise<void> {
    const file = this.file;
    if (file) await new Promise<void>((resolve) => file.end(() => resolve()));
  }

  private send(value: Record<string, unknown>, phoneNumberId: string): void {
    const text = JSON.stringify({
      object: 'whatsapp_business_account',
      entry: [{ id: 'simulated-waba', changes: [{ field: 'messages', value: { messaging_product: 'whatsapp', metadata: { display_phone_number: '15550000000', phone_number_id: phoneNumberId }, ...value } }] }],
    });
    this.file?.write(text + '\n');
    if (this.targets.webhooksUrl) this.post(this.targets.webhooksUrl, text);
  }

  private post(url: string, text: string): void {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    const secret = this.targets.appSecret;
    if (secret) headers['x-hub-signature-256'] = 'sha256=' + createHmac('sha256', secret).update(text).digest('hex');
    const post = fetch(url, { method: 'POST', headers, body: text }).then((r) => r.arrayBuffer()).catch(() => this.onPostFailed());
    this.posts.add(post);
    void post.finally(() => this.posts.delete(post));
  }
}
