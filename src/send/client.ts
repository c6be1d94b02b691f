import type { Dispatcher, Pool } from 'undici';

/** What one POST /messages came to. */
export type SendAnswer =
  | { kind: 'accepted'; wamid: string; waId?: string }
  /** Meta answered with an error body: the message was not accepted. */
  | { kind: 'error'; code: number; subcode?: number; title: string; details: string; http: number; retryAfterMs?: number }
  /** No Meta error body: a 5xx page, a 429, a timeout, a reset. `written` is false only when the request surely never left. */
  | { kind: 'transport'; written: boolean; message: string; http?: number; retryAfterMs?: number };

/** Errors that happen before a request can have reached the server: safe to send again. */
const NOT_WRITTEN = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);
/** An answer bigger than this is not Meta's; it is cut off and treated as a transport failure. */
const MAX_ANSWER_BYTES = 1 << 20;
/** Retry-After is honoured up to this; a server asking for more is asked again sooner. */
export const MAX_RETRY_AFTER_MS = 60_000;

export interface MessagesEndpoint {
  apiUrl: URL;
  version: string;
  phoneNumberId: string;
  token: string;
  timeoutMs: number;
  connections: number;
}

/** POSTs messages to `{api}/{version}/{phone-number-id}/messages` over one keep-alive pool. */
export class MessagesClient {
  private pool: Pool | undefined;
  readonly path: string;

  constructor(private readonly endpoint: MessagesEndpoint) {
    this.path = `${endpoint.apiUrl.pathname.replace(/\/$/, '')}/${endpoint.version}/${encodeURIComponent(endpoint.phoneNumberId)}/messages`;
  }

  /** Where messages go, for messages (no token, no query). */
  get url(): string {
    return this.endpoint.apiUrl.origin + this.path;
  }

  private async connection(): Promise<Pool> {
    if (!this.pool) {
      const { Pool } = await import('undici');
      this.pool = new Pool(this.endpoint.apiUrl.origin, {
        connections: this.endpoint.connections,
        headersTimeout: this.endpoint.timeoutMs,
        bodyTimeout: this.endpoint.timeoutMs,
        keepAliveTimeout: 10_000,
      });
    }
    return this.pool;
  }

  async send(body: unknown, signal?: AbortSignal): Promise<SendAnswer> {
    const pool = await this.connection();
    let res: Dispatcher.ResponseData;
    let text: string;
    const deadline = AbortSignal.timeout(this.endpoint.timeoutMs);
    try {
      res = await pool.request({
        path: this.path,
        method: 'POST',
        headers: { authorization: `Bearer ${this.endpoint.token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: signal ? AbortSignal.any([signal, deadline]) : deadline,
      });
      text = await readCapped(res.body);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? (err as { cause?: NodeJS.ErrnoException }).cause?.code ?? '';
      return { kind: 'transport', written: !NOT_WRITTEN.has(code), message: describe(err) };
    }
    const retryAfterMs = retryAfter(res.headers['retry-after']);
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    const error = json?.error;
    // Meta's errors come with a 4xx or 5xx; a code on a success status is not its answer, and must not strike a number.
    if (res.statusCode >= 400 && error && typeof error === 'object' && Number.isInteger(error.code)) {
      return {
        kind: 'error', code: error.code, http: res.statusCode, ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
        ...(Number.isInteger(error.error_subcode) ? { subcode: error.error_subcode } : {}),
        title: oneLine(typeof error.message === 'string' ? error.message : ''),
        details: oneLine(typeof error.error_data?.details === 'string' ? error.error_data.details : ''),
      };
    }
    if (res.statusCode === 200) {
      const wamid = json?.messages?.[0]?.id;
      const waId = json?.contacts?.[0]?.wa_id;
      if (typeof wamid === 'string' && wamid.length > 0 && wamid.length <= 512) {
        return { kind: 'accepted', wamid, ...(typeof waId === 'string' && /^\d{1,15}$/.test(waId) ? { waId } : {}) };
      }
      // 200 without a message id: something answered, but not Meta's API.
      return { kind: 'transport', written: true, http: 200, message: 'HTTP 200 without a message id' };
    }
    return { kind: 'transport', written: true, http: res.statusCode, message: `HTTP ${res.statusCode} without a Meta error body`, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
  }

  async close(): Promise<void> {
    await this.pool?.close().catch(() => undefined);
  }
}

async function readCapped(body: Dispatcher.ResponseData['body']): Promise<string> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const part of body) {
    size += (part as Buffer).length;
    if (size > MAX_ANSWER_BYTES) {
      body.destroy();
      throw Object.assign(new Error(`answer larger than ${MAX_ANSWER_BYTES} bytes`), { code: 'TOO_LARGE' });
    }
    parts.push(part as Buffer);
  }
  return Buffer.concat(parts).toString('utf8');
}

function retryAfter(value: string | string[] | undefined): number | undefined {
  const seconds = Number(Array.isArray(value) ? value[0] : value);
  return Number.isFinite(seconds) && seconds >= 0 ? Math.min(seconds * 1000, MAX_RETRY_AFTER_MS) : undefined;
}

function describe(err: unknown): string {
  const e = err as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return 'no answer in time';
  return oneLine(`${e?.code ?? e?.cause?.code ?? ''} ${e?.message ?? String(err)}`.trim());
}

/** Text from outside, safe for a one-line message or a CSV cell: no line breaks, no control characters, bounded. */
export function oneLine(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim().slice(0, 300);
}
