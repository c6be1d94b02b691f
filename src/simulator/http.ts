// HTTP plumbing: the server, routing, request bodies, the token check, answers
// in Meta's error shape, and the faults that stand for the network.
import { createServer, type IncomingMessage, type ServerResponse, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { tally, type SimulatorStats } from './stats.js';
import type { Session } from './state.js';
import type { WorldConfig } from './world.js';

const MAX_BODY = 1 << 20;

/** An answer in Meta's error shape: `(#code) message`, with `details` as error_data. */
export class ApiError extends Error {
  constructor(readonly status: number, readonly code: number, message: string, readonly details?: string, readonly headers: Record<string, string> = {}) {
    super(message);
  }
}

export type Route =
  | { name: 'healthz' | 'templates' | 'contacts' | 'control' | 'other' }
  | { name: 'messages'; phoneNumberId: string };

const HEALTHZ: Route = { name: 'healthz' };
const TEMPLATES: Route = { name: 'templates' };
const CONTACTS: Route = { name: 'contacts' };
const CONTROL: Route = { name: 'control' };
const OTHER: Route = { name: 'other' };
const MESSAGES_PATH = /^\/(v\d+(?:\.\d+)?)\/([^/]+)\/messages$/;
const TEMPLATES_PATH = /^\/v\d+(?:\.\d+)?\/[^/]+\/message_templates$/;

/** The route of a request; its name is also the key it is counted under in `requests` (healthz is not counted). */
export function routeOf(method: string, path: string): Route {
  if (method === 'GET' && path === '/healthz') return HEALTHZ;
  if (method === 'GET' && TEMPLATES_PATH.test(path)) return TEMPLATES;
  if (path === '/v1/contacts') return CONTACTS;
  const messages = MESSAGES_PATH.exec(path);
  if (messages) return { name: 'messages', phoneNumberId: messages[2]! };
  return path.startsWith('/_sim/') ? CONTROL : OTHER;
}

export function authorize(req: IncomingMessage, token: string): void {
  if (req.headers.authorization !== `Bearer ${token}`) {
    throw new ApiError(401, 190, 'Invalid OAuth access token', 'the access token is missing, expired or wrong');
  }
}

/** The JSON body ({} when empty); an ApiError when too large or not JSON. */
export async function readJsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readBody(req);
    return text === '' ? {} : JSON.parse(text) as Record<string, unknown>;
  } catch (err) {
    if (err instanceof ApiError) throw err;
    throw new ApiError(400, 100, 'Invalid parameter', 'the request body is not valid JSON');
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    req.on('data', (part: Buffer) => {
      size += part.length;
      if (size > MAX_BODY) reject(new ApiError(413, 100, 'Invalid parameter', 'the request body is larger than 1 MiB'));
      else parts.push(part);
    });
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

/** Answers JSON, counted in `stats.responses` (before the body is written: a stats answer includes itself). */
export function sendJson(res: ServerResponse, stats: SimulatorStats, status: number, body: unknown, headers: Record<string, string> = {}): void {
  tally(stats.responses, status);
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** Answers an error: Meta's shape for an ApiError, a bare 500 for anything else (a bug in the simulator). */
export function sendError(res: ServerResponse, stats: SimulatorStats, err: unknown): void {
  if (!(err instanceof ApiError)) {
    tally(stats.responses, 500);
    res.writeHead(500, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { message: String((err as Error).message), code: 1 } }));
    return;
  }
  tally(stats.errors, err.code);
  sendJson(res, stats, err.status, {
    error: {
      message: `(#${err.code}) ${err.message}`,
      type: 'OAuthException',
      code: err.code,
      ...(err.details ? { error_data: { messaging_product: 'whatsapp', details: err.details } } : {}),
      fbtrace_id: randomBytes(8).toString('base64url'),
    },
  }, err.headers);
}

/**
 * The faults met before the API's rules (they stand for the network and Meta's
 * front end): a reset connection or an HTML 503, each then answered here
 * (true), or a slow answer. Draws from the session's sequence in a fixed order.
 */
export async function injectFaults(req: IncomingMessage, res: ServerResponse, session: Session, faults: WorldConfig['faults']): Promise<boolean> {
  if (session.random() < faults.reset) {
    tally(session.stats.faults, 'reset');
    req.socket.destroy();
    return true;
  }
  if (session.random() < faults.serverError) {
    tally(session.stats.faults, 'server_error');
    tally(session.stats.responses, 503);
    res.writeHead(503, { 'content-type': 'text/html' });
    res.end('<html><body>Service Unavailable</body></html>');
    return true;
  }
  if (session.random() < faults.slow) {
    tally(session.stats.faults, 'slow');
    await new Promise((r) => setTimeout(r, faults.slowMs));
  }
  return false;
}

/** A send accepted and counted whose answer is lost to a reset connection (true): the sender cannot know. */
export function loseAnswer(req: IncomingMessage, session: Session, faults: WorldConfig['faults']): boolean {
  if (!(session.random() < faults.resetAfterAccept)) return false;
  tally(session.stats.faults, 'reset_after_accept');
  req.socket.destroy();
  return true;
}

/** Serves `handle` on host:port (port 0 picks a free one). */
export async function listen(
  handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
  at: { host?: string; port?: number },
): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(at.port ?? 0, at.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return { server, url: `http://${host}:${address.port}` };
}

/** Stops the server, dropping keep-alive connections. */
export async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}
