import type { Pool } from 'undici';
import { CliError } from '../errors.js';

export type ContactStatus = 'valid' | 'invalid' | 'processing' | 'failed';
export interface ContactAnswer {
  input: string;
  status: ContactStatus;
  wa_id?: string;
}

/** A failure worth retrying (429, 5xx, reset, timeout); `retryAfterMs` when the server said. */
export class RetryableError extends Error {
  constructor(message: string, readonly retryAfterMs?: number) {
    super(message);
  }
}

/** The token was refused: nothing will work until it is fixed. */
export class AuthError extends CliError {}

/** Talks to `{base}/v1/contacts` over one keep-alive pool. */
export class ContactsClient {
  private pool: Pool | undefined;

  constructor(private readonly base: URL, private readonly token: string, private readonly timeoutMs: number) {}

  private async connection(): Promise<Pool> {
    if (!this.pool) {
      const { Pool } = await import('undici'); // loaded only when verifying
      this.pool = new Pool(this.base.origin, { connections: 16, headersTimeout: this.timeoutMs, bodyTimeout: this.timeoutMs });
    }
    return this.pool;
  }

  async check(numbers: readonly string[], signal?: AbortSignal): Promise<ContactAnswer[]> {
    const pool = await this.connection();
    const path = `${this.base.pathname.replace(/\/$/, '')}/v1/contacts`;
    let status: number;
    let headers: Record<string, string | string[] | undefined>;
    let text: string;
    try {
      const res = await pool.request({
        path, method: 'POST', signal,
        headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ blocking: 'wait', contacts: numbers, force_check: false }),
      });
      status = res.statusCode;
      headers = res.headers;
      text = await res.body.text();
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err;
      throw new RetryableError(`request failed: ${(err as Error).message}`);
    }
    let body: any;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    const code = body?.error?.code;
    if (status === 401 || code === 190) {
      throw new AuthError(`the /contacts endpoint refused the token (HTTP ${status}${code ? `, code ${code}` : ''}): check WA_GUARD_TOKEN`);
    }
    if (status === 429 || status >= 500) {
      const retryAfter = Number(headers['retry-after']);
      throw new RetryableError(`HTTP ${status}${code ? ` (code ${code})` : ''}`, Number.isFinite(retryAfter) ? retryAfter * 1000 : undefined);
    }
    if (status !== 200 || !Array.isArray(body?.contacts)) {
      throw new CliError(`the /contacts endpoint answered HTTP ${status}: ${body?.error?.message ?? text.slice(0, 200)}`);
    }
    return body.contacts as ContactAnswer[];
  }

  async close(): Promise<void> {
    await this.pool?.close();
  }
}
