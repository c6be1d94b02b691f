import type { Pool } from 'undici';
import { CliError } from '../errors.js';
import { plausibleWaId } from '../phone.js';

export type ContactStatus = 'valid' | 'invalid' | 'processing' | 'failed';
export interface ContactAnswer {
  input: string;
  status: ContactStatus;
  wa_id?: string;
}

/** A failure worth retrying (429, 5xx, reset, timeout, a malformed answer); `retryAfterMs` when the server said. */
export class RetryableError extends Error {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
    /** transient: try again later; unreachable: nothing answers there; malformed: an answer that cannot be trusted. */
    readonly kind: 'transient' | 'unreachable' | 'malformed' = 'transient',
  ) {
    super(message);
  }
}

/** The token was refused: nothing will work until it is fixed. */
export class AuthError extends CliError {}

/** Retry-After is honoured up to this long. */
export const MAX_RETRY_AFTER_MS = 60_000;
/** An answer for one batch larger than this is not a /contacts answer: cut off, and the request failed. */
const MAX_ANSWER_BYTES = 4 << 20;
/** Errors that mean the endpoint cannot be reached at all (nothing listens, no such host, TLS refused). */
const UNREACHABLE = /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|CERT|SSL|TLS|self[- ]signed|UND_ERR_CONNECT_TIMEOUT/i;
const STATUSES: readonly ContactStatus[] = ['valid', 'invalid', 'processing', 'failed'];

/** Talks to `{base}/v1/contacts` over one keep-alive pool. */
export class ContactsClient {
  private pool: Pool | undefined;
  readonly endpoint: string;

  constructor(private readonly base: URL, private readonly token: string, private readonly timeoutMs: number) {
    this.endpoint = `${base.origin}${base.pathname.replace(/\/$/, '')}/v1/contacts`;
  }

  private async connection(): Promise<Pool> {
    if (!this.pool) {
      const { Pool } = await import('undici'); // loaded only when verifying
      this.pool = new Pool(this.base.origin, { connections: 16, headersTimeout: this.timeoutMs, bodyTimeout: this.timeoutMs });
    }
    return this.pool;
  }

  /** Asks about `numbers` (E.164); every answer is checked against what was asked before anyone trusts it. */
  async check(numbers: readonly string[], signal?: AbortSignal): Promise<ContactAnswer[]> {
    const pool = await this.connection();
    const path = `${this.base.pathname.replace(/\/$/, '')}/v1/contacts`;
    let status: number;
    let headers: Record<string, string | string[] | undefined>;
    let text: string;
    // --timeout bounds the whole request, a body that trickles in included.
    const deadline = AbortSignal.timeout(this.timeoutMs);
    try {
      const res = await pool.request({
        path, method: 'POST', signal: signal ? AbortSignal.any([signal, deadline]) : deadline,
        headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ blocking: 'wait', contacts: numbers, force_check: false }),
      });
      status = res.statusCode;
      headers = res.headers;
      text = await readCapped(res.body);
    } catch (err) {
      if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : err;
      const e = err as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
      const why = deadline.aborted ? `no complete answer within ${this.timeoutMs / 1000}s` : `${e.code ?? e.cause?.code ?? ''} ${e.message}`.trim();
      const kind = err instanceof TooLarge ? 'malformed' : UNREACHABLE.test(`${e.code} ${e.cause?.code} ${e.message} ${e.cause?.message}`) ? 'unreachable' : 'transient';
      throw new RetryableError(`request failed: ${this.redact(why)}`, undefined, kind);
    }
    let body: any;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    const code = Number.isInteger(body?.error?.code) ? body.error.code as number : undefined;
    const said = code === undefined ? '' : `, code ${code}${typeof body.error.message === 'string' ? `: ${this.redact(body.error.message)}` : ''}`;
    if (status === 401 || code === 190) {
      throw new AuthError(`the /contacts endpoint at ${this.endpoint} refused the token (HTTP ${status}${said}): check WA_GUARD_TOKEN`);
    }
    if (status === 429 || status >= 500) {
      const retryAfter = Number(headers['retry-after']);
      throw new RetryableError(`HTTP ${status}${said}`, Number.isFinite(retryAfter) && retryAfter >= 0 ? Math.min(retryAfter * 1000, MAX_RETRY_AFTER_MS) : undefined);
    }
    if (status !== 200) {
      const hint = status === 400 || status === 413 ? '; if it is about the number of contacts, lower --batch-size' : '';
      throw new CliError(`the /contacts endpoint at ${this.endpoint} answered HTTP ${status}${said}${hint}`);
    }
    return this.validate(body, numbers);
  }

  /**
   * An answer is used only when every item names a number that was asked, no
   * number gets two different answers, statuses are known and every wa_id is
   * plausibly the asked number's. Anything else fails the whole request.
   */
  private validate(body: any, numbers: readonly string[]): ContactAnswer[] {
    if (!Array.isArray(body?.contacts)) throw new RetryableError('the answer has no "contacts" list', undefined, 'malformed');
    const asked = new Map(numbers.map((n) => [digits(n), n]));
    const seen = new Map<string, ContactAnswer>();
    for (const item of body.contacts as unknown[]) {
      const { input, status, wa_id: waId } = (item ?? {}) as Record<string, unknown>;
      const number = typeof input === 'string' ? asked.get(digits(input)) : undefined;
      if (number === undefined) throw new RetryableError('the answer names a number that was not asked', undefined, 'malformed');
      if (!STATUSES.includes(status as ContactStatus)) throw new RetryableError(`the answer has an unknown status for ${number}`, undefined, 'malformed');
      if (status === 'valid' && !plausibleWaId(waId, number)) throw new RetryableError(`the answer gives ${number} a wa_id that cannot be its own`, undefined, 'malformed');
      const answer: ContactAnswer = { input: number, status: status as ContactStatus, ...(status === 'valid' ? { wa_id: waId as string } : {}) };
      const before = seen.get(number);
      if (before && (before.status !== answer.status || before.wa_id !== answer.wa_id)) throw new RetryableError(`the answer gives ${number} two different answers`, undefined, 'malformed');
      seen.set(number, answer);
    }
    return [...seen.values()];
  }

  /** Text from the endpoint, safe to print: one line, bounded, and no credential in it. */
  private redact(text: string): string {
    return text.split(this.token).join('***').replace(/Bearer\s+[^\s;,]+/gi, 'Bearer ***').replace(/[\u0000-\u001f\u007f]+/g, ' ').slice(0, 200);
  }

  async close(): Promise<void> {
    await this.pool?.close().catch(() => undefined);
  }
}

class TooLarge extends Error {}

function digits(text: string): string {
  return text.replace(/\D/g, '');
}

async function readCapped(body: AsyncIterable<Buffer> & { destroy(): void }): Promise<string> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const part of body) {
    size += part.length;
    if (size > MAX_ANSWER_BYTES) {
      body.destroy();
      throw new TooLarge(`an answer larger than ${MAX_ANSWER_BYTES >> 20} MiB`);
    }
    parts.push(part);
  }
  return Buffer.concat(parts).toString('utf8');
}
