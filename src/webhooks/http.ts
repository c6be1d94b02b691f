import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { UsageError } from '../errors.js';

const MAX_BODY_BYTES = 1 << 20;
/** After Ctrl-C or SIGTERM, how long listen waits for requests under way before it closes their connections. */
const SHUTDOWN_DRAIN_MS = 2000;
/** A request must send its headers within this long (Meta's bodies are small: a client slower than that is stalled or hostile). */
const HEADERS_TIMEOUT_MS = 10_000;
export const REQUEST_TIMEOUT_MS = 30_000;

export interface Endpoint {
  host: string;
  port: number;
  /** The app secret every POST must be signed with; '': none, unsigned POSTs are believed. */
  secret: string;
  /** The token Meta's GET verification handshake must give; none or '': every handshake is refused. */
  verifyToken: string | undefined;
  /** How long a request may take to arrive whole, headers and body (default REQUEST_TIMEOUT_MS). */
  requestTimeoutMs?: number;
}

/** GET /healthz and GET /metrics: what watches a listen that runs for days. */
export interface Monitor {
  /** ok: answered 200, else 503; `body` is sent as JSON either way. */
  health(): Promise<{ ok: boolean; body: object }>;
  /** The Prometheus text exposition. */
  metrics(): string;
}

/** What becomes of a POST's body once its signature is verified. */
export interface Receiver {
  /** Throws when the body is not a webhook payload (answered 400). */
  check(body: unknown): void;
  /** Makes the raw body durable, resolving with its key; rejects when it cannot now (answered 503: Meta retries). */
  keep(raw: Buffer): Promise<string>;
  /** The body kept as `key` was answered 200. */
  accepted(key: string): void;
}

/**
 * The HTTP side of Meta's webhook subscription: the GET verification
 * handshake, and POSTs checked (type, size, signature, shape) and kept before
 * their 200. Anything else is refused, counted by why.
 */
export class WebhookServer {
  readonly refused: Record<string, number> = {};
  /** Bodies verified, kept and answered 200. */
  accepted = 0;
  private readonly server: Server;
  /** Sockets closed for taking too long: what their request handler sees then is no fault of ours. */
  private readonly timedOut = new WeakSet<Socket>();

  constructor(private readonly endpoint: Endpoint, private readonly receiver: Receiver, private readonly log: (text: string) => void, private readonly monitor?: Monitor) {
    const requestTimeout = endpoint.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
    // Node looks for requests over their time every connectionsCheckingInterval (30 s by default, so a
    // 30 s limit closed them after 30-60 s): look every second, or more often for a shorter limit.
    this.server = createServer({ connectionsCheckingInterval: Math.min(1000, Math.max(50, requestTimeout / 4)) }, (req, res) => {
      this.handle(req, res).catch((err) => {
        log(`request failed: ${(err as Error).message}`);
        if (!res.headersSent) this.refuse(res, 500, 'internal error');
        else res.destroy();
      });
    });
    this.server.keepAliveTimeout = 30_000;
    this.server.headersTimeout = Math.min(HEADERS_TIMEOUT_MS, requestTimeout);
    this.server.requestTimeout = requestTimeout;
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => this.clientError(err, socket));
  }

  /** Starts listening; resolves with the URL it listens on. */
  async start(): Promise<string> {
    const { host, port } = this.endpoint;
    try {
      await new Promise<void>((done, fail) => {
        this.server.once('error', fail);
        this.server.listen(port, host, () => done());
      });
    } catch (err) {
      throw new UsageError(`cannot listen on ${host}:${port}: ${(err as Error).message}`);
    }
    const address = this.server.address() as AddressInfo;
    return `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  }

  /**
   * Stops accepting; requests under way get a moment to finish. A client still
   * sending after it is cut off: it has no 200, so Meta sends the event again.
   */
  async stop(): Promise<void> {
    const closed = new Promise<void>((done) => this.server.close(() => done()));
    const cutOff = setTimeout(() => this.server.closeAllConnections(), SHUTDOWN_DRAIN_MS);
    await closed;
    clearTimeout(cutOff);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Parsed for every request: a target that is no URL is answered 500 (request failed).
    const url = new URL(req.url ?? '/', 'http://listen');
    if (req.method === 'GET' && this.monitor && url.pathname === '/healthz') return this.health(this.monitor, res);
    if (req.method === 'GET' && this.monitor && url.pathname === '/metrics') return this.metrics(this.monitor, res);
    if (req.method === 'GET') return this.handshake(url, res);
    if (req.method !== 'POST') return this.refuse(res, 405, 'method not allowed');
    if (!String(req.headers['content-type'] ?? '').toLowerCase().startsWith('application/json')) return this.refuse(res, 415, 'content type must be application/json');
    const raw = await readBody(req, MAX_BODY_BYTES);
    if (raw === 'aborted') return this.clientGone(req.socket);
    if (raw === undefined) return this.refuse(res, 413, 'body too large');
    const secret = this.endpoint.secret;
    if (secret) {
      const header = String(req.headers['x-hub-signature-256'] ?? '');
      if (!header) return this.refuse(res, 401, 'missing signature');
      const expected = Buffer.from('sha256=' + createHmac('sha256', secret).update(raw).digest('hex'));
      const given = Buffer.from(header);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return this.refuse(res, 403, 'bad signature');
    }
    try {
      this.receiver.check(JSON.parse(raw.toString('utf8')));
    } catch {
      return this.refuse(res, 400, 'not a webhook payload');
    }
    let key: string;
    try {
      key = await this.receiver.keep(raw);
    } catch (err) {
      this.log(`cannot store an event: ${(err as Error).message}`);
      return this.refuse(res, 503, 'cannot store the event now'); // Meta retries non-2xx
    }
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok\n');
    this.accepted++;
    this.receiver.accepted(key);
  }

  /** Meta's subscription check: echo the challenge when the token is ours. */
  private handshake(url: URL, res: ServerResponse): void {
    const verifyToken = this.endpoint.verifyToken;
    const ok = url.searchParams.get('hub.mode') === 'subscribe' && verifyToken !== undefined && verifyToken !== ''
      && url.searchParams.get('hub.verify_token') === verifyToken;
    if (!ok) return this.refuse(res, 403, 'verification refused');
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(url.searchParams.get('hub.challenge') ?? '');
  }

  private async health(monitor: Monitor, res: ServerResponse): Promise<void> {
    const { ok, body } = await monitor.health();
    res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify(body) + '\n');
  }

  private metrics(monitor: Monitor, res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8', 'cache-control': 'no-store' });
    res.end(monitor.metrics());
  }

  /**
   * A client's fault, before any handler could answer: a request not whole in
   * time (408, logged once: a client that trickles its body), or one that is
   * not HTTP (400). Either way the connection is closed.
   */
  private clientError(err: NodeJS.ErrnoException, socket: Socket): void {
    if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      this.timedOut.add(socket);
      this.refused['request timeout'] = (this.refused['request timeout'] ?? 0) + 1;
      const limit = (this.endpoint.requestTimeoutMs ?? REQUEST_TIMEOUT_MS) / 1000;
      this.log(`a client (${socket.remoteAddress ?? 'unknown address'}) did not send its whole request within ${limit} s: answered 408 and closed (a client fault; Meta sends an event again when it has no 200)`);
      if (socket.writable) socket.end('HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    } else if (err.code !== 'ECONNRESET' && socket.writable) {
      this.refused['bad request'] = (this.refused['bad request'] ?? 0) + 1;
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    }
    socket.destroy();
  }

  /** The body never arrived whole: closed for its time (already counted), or the client went away. */
  private clientGone(socket: Socket): void {
    if (!this.timedOut.has(socket)) this.refused['client closed the connection'] = (this.refused['client closed the connection'] ?? 0) + 1;
  }

  private refuse(res: ServerResponse, status: number, why: string): void {
    this.refused[why] = (this.refused[why] ?? 0) + 1;
    res.writeHead(status, { 'content-type': 'text/plain' });
    res.end(why + '\n');
  }
}

/** The raw body; undefined when it is larger than `max` (reading stops there); 'aborted' when it never arrived whole. */
function readBody(req: IncomingMessage, max: number): Promise<Buffer | undefined | 'aborted'> {
  return new Promise((done) => {
    const parts: Buffer[] = [];
    let size = 0;
    req.on('data', (part: Buffer) => {
      size += part.length;
      if (size > max) {
        done(undefined);
        req.resume();
        return;
      }
      parts.push(part);
    });
    req.on('end', () => done(size > max ? undefined : Buffer.concat(parts)));
    // The client went away, or the server closed it for its time: not a failure of ours.
    req.on('error', () => done('aborted'));
    req.on('close', () => { if (!req.complete) done('aborted'); });
  });
}
