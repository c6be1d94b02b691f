import { createWriteStream, type WriteStream } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHmac, randomBytes } from 'node:crypto';
import { World, defaultWorld, metaWaId, seededRandom, toWaId, type WorldConfig } from './world.js';
import { codeTitle } from '../meta/codes.js';

export interface SimulatorStats {
  started_at: string;
  requests: Record<string, number>;
  responses: Record<string, number>;
  errors: Record<string, number>;
  faults: Record<string, number>;
  numbers_checked: number;
  messages_accepted: number;
  /** wa_id -> messages accepted for it. */
  sent_per_recipient: Record<string, number>;
  /** Most messages accepted for any one recipient. */
  max_per_recipient: number;
  /** Most requests received in any sliding one-second window, per endpoint. */
  peak_per_second: Record<string, number>;
}

export interface Simulator {
  url: string;
  world: World;
  stats(): SimulatorStats;
  reset(): void;
  close(): Promise<void>;
}

type Endpoint = 'contacts' | 'messages';
const MAX_BODY = 1 << 20;
const MAX_TIMESTAMPS = 2_000_000;

class ApiError extends Error {
  constructor(readonly status: number, readonly code: number, message: string, readonly details?: string, readonly headers: Record<string, string> = {}) {
    super(message);
  }
}

/** Starts the simulated Meta API on loopback; port 0 picks a free port. */
export async function startSimulator(
  overrides: Partial<WorldConfig> = {},
  listen: { host?: string; port?: number } = {},
  now: () => number = Date.now,
): Promise<Simulator> {
  const base = defaultWorld();
  const config: WorldConfig = { ...base, ...overrides, faults: { ...base.faults, ...overrides.faults } };
  let world = new World(config);
  let random = seededRandom(config.seed);
  let stats = emptyStats(now);
  let timestamps: Record<Endpoint, number[]> = { contacts: [], messages: [] };
  let sendsThisSecond = new Map<string, { second: number; count: number }>();
  let contactsThisSecond = { second: -1, count: 0 };
  const webhooks: WriteStream | undefined = config.webhooksOut ? createWriteStream(config.webhooksOut, { flags: 'a' }) : undefined;

  const count = (table: Record<string, number>, key: string | number): void => {
    table[key] = (table[key] ?? 0) + 1;
  };

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
    count(stats.responses, status);
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
    res.end(text);
  };

  const fail = (res: ServerResponse, err: ApiError): void => {
    count(stats.errors, err.code);
    send(res, err.status, {
      error: {
        message: `(#${err.code}) ${err.message}`,
        type: 'OAuthException',
        code: err.code,
        ...(err.details ? { error_data: { messaging_product: 'whatsapp', details: err.details } } : {}),
        fbtrace_id: randomBytes(8).toString('base64url'),
      },
    }, err.headers);
  };

  /** Posts in flight to --webhooks-url, awaited on close. */
  const posts = new Set<Promise<unknown>>();
  const webhook = (value: Record<string, unknown>, phoneNumberId: string): void => {
    if (!webhooks && !config.webhooksUrl) return;
    const text = JSON.stringify({
      object: 'whatsapp_business_account',
      entry: [{ id: 'simulated-waba', changes: [{ field: 'messages', value: { messaging_product: 'whatsapp', metadata: { display_phone_number: '15550000000', phone_number_id: phoneNumberId }, ...value } }] }],
    });
    webhooks?.write(text + '\n');
    if (config.webhooksUrl) {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (config.appSecret) headers['x-hub-signature-256'] = 'sha256=' + createHmac('sha256', config.appSecret).update(text).digest('hex');
      const post = fetch(config.webhooksUrl, { method: 'POST', headers, body: text }).then((r) => r.arrayBuffer()).catch(() => count(stats.faults, 'webhook_post_failed'));
      posts.add(post);
      void post.finally(() => posts.delete(post));
    }
  };

  const status = (id: string, waId: string, phoneNumberId: string, state: string, callback: string | undefined, error?: { code: number; title: string; details: string }): void => {
    webhook({
      statuses: [{
        id, status: state, timestamp: String(Math.floor(now() / 1000)), recipient_id: waId,
        ...(callback === undefined ? {} : { biz_opaque_callback_data: callback }),
        ...(error ? { errors: [{ code: error.code, title: error.title, message: error.title, error_data: { details: error.details } }] } : {}),
      }],
    }, phoneNumberId);
  };

  let token = config.token;
  const authorize = (req: IncomingMessage): void => {
    if (req.headers.authorization !== `Bearer ${token}`) {
      throw new ApiError(401, 190, 'Invalid OAuth access token', 'the access token is missing, expired or wrong');
    }
  };

  const contacts = (body: Record<string, unknown>): unknown => {
    const second = Math.floor(now() / 1000);
    if (contactsThisSecond.second !== second) contactsThisSecond = { second, count: 0 };
    if (config.contactsRps > 0 && ++contactsThisSecond.count > config.contactsRps) {
      throw new ApiError(429, 4, 'Too many calls', `more than ${config.contactsRps} requests per second`, { 'retry-after': '1' });
    }
    const list = body.contacts;
    if (!Array.isArray(list) || list.length === 0) throw new ApiError(400, 100, 'Invalid parameter', 'contacts must be a non-empty array');
    if (list.length > config.contactsMax) throw new ApiError(400, 100, 'Invalid parameter', `at most ${config.contactsMax} contacts per request`);
    const wait = (body.blocking ?? 'no_wait') === 'wait';
    const force = body.force_check === true;
    return {
      contacts: list.map((input: unknown) => {
        stats.numbers_checked++;
        const waId = typeof input === 'string' ? toWaId(input) : undefined;
        if (waId === undefined) return { input, status: 'failed' };
        if ((!wait || config.processingFirst) && (force || !world.checked.has(waId))) {
          world.checked.add(waId);
          return { input, status: 'processing' };
        }
        world.checked.add(waId);
        if (config.mode === 'always-valid' || world.isRegistered(waId)) return { input, status: 'valid', wa_id: metaWaId(waId) };
        return { input, status: 'invalid' };
      }),
      meta: { api_status: 'stable', version: config.mode === 'always-valid' ? '2.43.1' : '2.41.3' },
    };
  };

  const messages = (body: Record<string, unknown>, phoneNumberId: string): unknown => {
    if (!config.phoneNumberIds.includes(phoneNumberId)) {
      throw new ApiError(400, 100, 'Invalid parameter', `Unsupported post request: no phone number with id ${phoneNumberId}`);
    }
    if (body.messaging_product !== 'whatsapp') throw new ApiError(400, 100, 'Invalid parameter', 'messaging_product must be "whatsapp"');
    const second = Math.floor(now() / 1000);
    const window = sendsThisSecond.get(phoneNumberId);
    if (!window || window.second !== second) sendsThisSecond.set(phoneNumberId, { second, count: 1 });
    else if (++window.count > config.mps) {
      throw new ApiError(429, 130429, 'Rate limit hit', `more than ${config.mps} messages per second`, { 'retry-after': '1' });
    }
    const to = typeof body.to === 'string' ? body.to : '';
    const waId = toWaId(to);
    if (waId === undefined) throw new ApiError(400, 131009, 'Parameter value is not valid', `"to" is not a valid phone number: ${to}`);

    let marketing = false;
    if (body.type === 'template') {
      const template = body.template as { name?: string; language?: { code?: string }; components?: { type: string; parameters?: unknown[] }[] } | undefined;
      const spec = world.template(template?.name ?? '', template?.language?.code ?? '');
      if (!spec) throw new ApiError(404, 132001, 'Template name does not exist in the translation', `template ${template?.name} (${template?.language?.code}) is not approved in this account`);
      const given = (template?.components ?? []).filter((c) => c.type === 'body').flatMap((c) => c.parameters ?? []).length;
      if (given !== spec.params) throw new ApiError(400, 132000, 'Number of parameters does not match the expected number of params', `template ${spec.name} takes ${spec.params} body parameters, got ${given}`);
      marketing = spec.category === 'marketing';
    } else if (body.type === 'text') {
      const text = body.text as { body?: unknown } | undefined;
      if (typeof text?.body !== 'string' || text.body === '') throw new ApiError(400, 131008, 'Required parameter is missing', 'text.body is required');
      if (!world.inWindow(waId, now())) {
        throw new ApiError(400, 131047, 'Re-engagement message', 'more than 24 hours since the user last wrote; send a template');
      }
    } else {
      throw new ApiError(400, 131051, 'Unsupported message type', `type ${String(body.type)} is not simulated`);
    }

    const forced = world.errorFor(waId);
    if (forced !== undefined) {
      const http = forced === 131000 ? 500 : forced === 130429 ? 429 : forced === 190 || forced === 0 ? 401 : 400;
      throw new ApiError(http, forced, codeTitle(forced), 'forced for this recipient by the scenario');
    }
    const registered = world.isRegistered(waId);
    if (!registered && config.undeliverable === 'sync') {
      throw new ApiError(400, 131026, 'Message undeliverable', 'the recipient is not a WhatsApp user');
    }
    if (marketing && world.isOptedOut(waId)) {
      throw new ApiError(400, 131050, 'Unable to deliver the message: the user stopped marketing messages', 'the user opted out of marketing messages');
    }
    const last = world.lastSent.get(waId);
    if (last !== undefined && now() - last < config.pairIntervalMs) {
      throw new ApiError(400, 131056, '(Business Account, Consumer Account) pair rate limit hit', 'too many messages to this user in a short time');
    }
    const f = config.faults;
    if (random() < f.error131000) throw new ApiError(500, 131000, 'Something went wrong', 'an unknown error; the message may or may not have been sent');
    if (random() < f.error131016) throw new ApiError(503, 131016, 'Service unavailable', 'try again later');
    if (marketing && random() < f.error131049) {
      throw new ApiError(400, 131049, 'This message was not delivered to maintain healthy ecosystem engagement', 'per-user marketing limit');
    }

    world.lastSent.set(waId, now());
    world.sentCount.set(waId, (world.sentCount.get(waId) ?? 0) + 1);
    stats.messages_accepted++;
    const callback = typeof body.biz_opaque_callback_data === 'string' ? body.biz_opaque_callback_data.slice(0, 512) : undefined;
    const id = `wamid.${Buffer.from(`${phoneNumberId}:${waId}:${randomBytes(6).toString('hex')}`).toString('base64url')}`;
    const returned = metaWaId(waId);
    if (registered) {
      status(id, returned, phoneNumberId, 'sent', callback);
      status(id, returned, phoneNumberId, 'delivered', callback);
    } else {
      status(id, returned, phoneNumberId, 'failed', callback, { code: 131026, title: codeTitle(131026), details: 'the recipient is not a WhatsApp user' });
    }
    return { messaging_product: 'whatsapp', contacts: [{ input: to, wa_id: returned }], messages: [{ id, message_status: 'accepted' }] };
  };

  const control = (method: string, path: string, body: Record<string, unknown>): unknown => {
    if (method === 'GET' && path === '/_sim/stats') return stats_();
    if (method === 'POST' && path === '/_sim/token') {
      // Rehearse a token that expires or is revoked mid-campaign (190), and its fix.
      if (typeof body.token !== 'string' || body.token === '') throw new ApiError(400, 100, 'Invalid parameter', '"token" must be a string');
      token = body.token;
      return { ok: true };
    }
    if (method === 'POST' && path === '/_sim/reset') {
      reset();
      return { ok: true };
    }
    if (method === 'POST' && path === '/_sim/inbound') {
      const waId = toWaId(String(body.from ?? ''));
      if (!waId) throw new ApiError(400, 100, 'Invalid parameter', '"from" must be a phone number');
      const at = typeof body.at === 'string' ? Date.parse(body.at) : now();
      if (Number.isNaN(at)) throw new ApiError(400, 100, 'Invalid parameter', '"at" must be an ISO 8601 time');
      world.inbound.set(waId, at);
      webhook({
        contacts: [{ profile: { name: 'Simulated user' }, wa_id: waId }],
        messages: [{ from: waId, id: `wamid.in.${randomBytes(6).toString('hex')}`, timestamp: String(Math.floor(at / 1000)), type: 'text', text: { body: String(body.text ?? 'hi') } }],
      }, config.phoneNumberIds[0]!);
      return { ok: true, wa_id: waId, window_open_until: new Date(at + 24 * 3600 * 1000).toISOString() };
    }
    return undefined;
  };

  const reset = (): void => {
    world = new World(config);
    random = seededRandom(config.seed);
    stats = emptyStats(now);
    timestamps = { contacts: [], messages: [] };
    sendsThisSecond = new Map();
    contactsThisSecond = { second: -1, count: 0 };
  };

  const stats_ = (): SimulatorStats => ({
    ...stats,
    sent_per_recipient: Object.fromEntries(world.sentCount),
    max_per_recipient: Math.max(0, ...world.sentCount.values()),
    peak_per_second: { contacts: peak(timestamps.contacts), messages: peak(timestamps.messages) },
  });

  /** GET /{version}/{waba-id}/message_templates, paged by `limit` and an `after` cursor, as Meta does. */
  const messageTemplates = (url: URL, base: string): unknown => {
    const limit = Math.max(1, Math.min(100, Number(url.searchParams.get('limit')) || 25));
    const start = Number(url.searchParams.get('after') ?? 0) || 0;
    const data = config.templates.slice(start, start + limit).map((t) => ({
      name: t.name, language: t.language, status: 'APPROVED', category: t.category.toUpperCase(),
      components: [{ type: 'BODY', text: Array.from({ length: t.params }, (_, i) => `{{${i + 1}}}`).join(' ') || 'Hello' }],
    }));
    const next = start + limit < config.templates.length ? `${base}${url.pathname}?limit=${limit}&after=${start + limit}` : undefined;
    return { data, paging: { cursors: { after: String(start + limit) }, ...(next ? { next } : {}) } };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://simulator');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    if (method === 'GET' && path === '/healthz') return send(res, 200, { status: 'ok' });

    const messagesPath = /^\/(v\d+(?:\.\d+)?)\/([^/]+)\/messages$/.exec(path);
    if (method === 'GET' && /^\/v\d+(?:\.\d+)?\/[^/]+\/message_templates$/.test(path)) {
      count(stats.requests, 'templates');
      try {
        authorize(req);
      } catch (err) {
        return fail(res, err as ApiError);
      }
      return send(res, 200, messageTemplates(url, `http://${req.headers.host}`));
    }
    const endpoint: Endpoint | undefined = path === '/v1/contacts' ? 'contacts' : messagesPath ? 'messages' : undefined;
    count(stats.requests, endpoint ?? (path.startsWith('/_sim/') ? 'control' : 'other'));
    if (endpoint) {
      const list = timestamps[endpoint];
      if (list.length < MAX_TIMESTAMPS) list.push(now());
    }

    let body: Record<string, unknown> = {};
    try {
      const text = await readBody(req);
      if (text !== '') body = JSON.parse(text) as Record<string, unknown>;
    } catch (err) {
      if (err instanceof ApiError) return fail(res, err);
      return fail(res, new ApiError(400, 100, 'Invalid parameter', 'the request body is not valid JSON'));
    }

    try {
      if (!endpoint) {
        const answer = control(method, path, body);
        if (answer === undefined) return send(res, 404, { error: { message: `no route for ${method} ${path}`, code: 404 } });
        return send(res, 200, answer);
      }
      if (method !== 'POST') throw new ApiError(405, 100, 'Invalid parameter', 'use POST');
      // Faults come first: they stand for the network and Meta's front end, not the API's rules.
      const f = config.faults;
      if (random() < f.reset) {
        count(stats.faults, 'reset');
        req.socket.destroy();
        return;
      }
      if (random() < f.serverError) {
        count(stats.faults, 'server_error');
        count(stats.responses, 503);
        res.writeHead(503, { 'content-type': 'text/html' });
        res.end('<html><body>Service Unavailable</body></html>');
        return;
      }
      if (random() < f.slow) {
        count(stats.faults, 'slow');
        await new Promise((r) => setTimeout(r, f.slowMs));
      }
      authorize(req);
      const answer = endpoint === 'contacts' ? contacts(body) : messages(body, messagesPath![2]!);
      if (endpoint === 'messages' && random() < f.resetAfterAccept) {
        // Accepted and counted, but the answer is lost: the sender cannot know.
        count(stats.faults, 'reset_after_accept');
        req.socket.destroy();
        return;
      }
      send(res, 200, answer);
    } catch (err) {
      if (err instanceof ApiError) return fail(res, err);
      count(stats.responses, 500);
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: String((err as Error).message), code: 1 } }));
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port ?? 0, listen.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  return {
    url: `http://${host}:${address.port}`,
    get world() { return world; },
    stats: stats_,
    reset,
    close: async () => {
      await Promise.all(posts);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (webhooks) await new Promise<void>((resolve) => webhooks.end(() => resolve()));
    },
  };
}

function emptyStats(now: () => number): SimulatorStats {
  return {
    started_at: new Date(now()).toISOString(),
    requests: {}, responses: {}, errors: {}, faults: {},
    numbers_checked: 0, messages_accepted: 0, sent_per_recipient: {}, max_per_recipient: 0, peak_per_second: {},
  };
}

/** Most timestamps (ms, ascending) that fall within any one-second window. */
export function peak(times: readonly number[]): number {
  let best = 0;
  for (let start = 0, end = 0; end < times.length; end++) {
    while (times[end]! - times[start]! >= 1000) start++;
    best = Math.max(best, end - start + 1);
  }
  return best;
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
