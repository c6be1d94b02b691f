import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InterruptedError, UsageError } from '../errors.js';
import type { IO } from '../io.js';
import { openStore } from '../store/store.js';
import { count, DAY_MS, duration } from '../flags.js';
import { learn, type LearnSettings } from '../webhooks/learn.js';
import { emptyLearned, type Learned } from '../webhooks/learned.js';
import { DEFAULT_START_WORDS, DEFAULT_STOP_WORDS, readPayload, type Event } from '../webhooks/payload.js';
import { readEvents } from '../webhooks/reader.js';
import { readEventsInWorker } from '../webhooks/reader-thread.js';
import { listSources } from '../webhooks/sources.js';

export interface WebhookFlags {
  store?: string;
  stopWords?: string;
  strikes?: string;
  undeliverableTtl?: string;
  json?: boolean;
  quiet?: boolean;
  port?: string;
  host?: string;
  insecureNoSignature?: boolean;
}

/** Verified bodies not yet applied: made durable before the 200, so a crash after it loses nothing. */
const INBOX = 'webhook-inbox';
const MAX_BODY_BYTES = 1 << 20;
/** After Ctrl-C or SIGTERM, how long listen waits for requests under way before it closes their connections. */
const SHUTDOWN_DRAIN_MS = 2000;
/** Bad lines reported one by one, up to this many; the rest are counted. */
const MAX_REPORTED = 20;

function learnSettings(flags: WebhookFlags): LearnSettings {
  const words = (text: string): Set<string> => new Set(text.split(',').map((w) => w.trim().toUpperCase()).filter(Boolean));
  return {
    // --stop-words replaces the list; "+WORD,…" adds to it (e.g. local-language words).
    stopWords: flags.stopWords === undefined ? new Set(DEFAULT_STOP_WORDS)
      : flags.stopWords.startsWith('+') ? new Set([...DEFAULT_STOP_WORDS, ...words(flags.stopWords.slice(1))]) : words(flags.stopWords),
    startWords: new Set(DEFAULT_START_WORDS),
    strikes: count(flags.strikes, '--strikes', 1, 1, 100),
    undeliverableTtlMs: duration(flags.undeliverableTtl, '--undeliverable-ttl', 90 * DAY_MS),
  };
}

function summaryText(command: string, learned: Learned, extra: string[] = []): string {
  const lines = [`wa-guard ${command}: ${Object.values(learned.events).reduce((a, b) => a + b, 0)} events` +
    (learned.unchanged ? ` (${learned.unchanged} taught nothing new: seen before or older than what is known)` : '')];
  for (const [kind, count] of Object.entries(learned.events)) lines.push(`  ${kind.padEnd(22)}${String(count).padStart(8)}`);
  if (Object.keys(learned.changes).length) lines.push(`  changes: ${Object.entries(learned.changes).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  if (learned.ignored) lines.push(`  ${learned.ignored} items could not be read (no number, no timestamp, or one more than a day ahead of this machine's clock) and were ignored`);
  return [...lines, ...extra].join('\n') + '\n';
}

/** `wa-guard ingest FILE|DIR|-`: recorded webhook bodies, one per line (JSONL), JSON arrays of them, or a directory of such files. */
export async function ingest(spec: string | undefined, flags: WebhookFlags, io: IO): Promise<number> {
  if (!spec) throw new UsageError('missing input: give a file, a directory, or - for stdin');
  const settings = learnSettings(flags);
  const sources = await listSources(spec, io.cwd);
  const store = await openStore(flags.store, io.env, io.cwd);
  const learned = emptyLearned();
  const bad: string[] = [];
  let badCount = 0;
  let bodies = 0;
  // Files are parsed on a worker thread while this one applies the batch before; stdin is read here.
  const files = sources.filter((s): s is string => s !== undefined);
  const batches = files.length === sources.length ? readEventsInWorker(files, settings) : readEvents(sources, settings, io.stdin);
  // One batch is applied while the next is read: reading overlaps the commit.
  let applying: Promise<void> = Promise.resolve();
  try {
    for await (const batch of batches) {
      if (io.signal?.aborted) throw new InterruptedError(String(io.signal.reason ?? 'SIGINT'));
      bodies += batch.bodies;
      learned.ignored += batch.ignored;
      badCount += batch.bad.length;
      for (const { where, why } of batch.bad) if (bad.length < MAX_REPORTED) bad.push(`${where}: ${why}`);
      await applying;
      applying = learn(store, batch.events, settings, learned);
      applying.catch(() => undefined); // awaited below; this only keeps an early failure from counting as unhandled
    }
    await applying;
    await store.sync();
  } finally {
    await applying.catch(() => undefined);
    await store.close();
  }
  const summary = { command: 'ingest', bodies, ...learned, bad_lines: badCount, bad_examples: bad };
  if (flags.json) io.stdout.write(JSON.stringify(summary, null, 2) + '\n');
  else if (!flags.quiet) {
    io.stderr.write(summaryText('ingest', learned, [
      ...(badCount ? [`  ${badCount} bad line(s), skipped:`, ...bad.map((b) => `    ${b}`)] : []),
    ]));
  }
  return 0;
}

/** `wa-guard listen`: Meta's webhook subscription, verified and made durable before the 200. */
export async function listen(flags: WebhookFlags, io: IO): Promise<number> {
  const settings = learnSettings(flags);
  const secret = (io.env.WA_GUARD_APP_SECRET ?? '').trim();
  if (!secret && !flags.insecureNoSignature) {
    throw new UsageError('listen needs the app secret to verify signatures: set WA_GUARD_APP_SECRET (or, for a local rehearsal only, --insecure-no-signature)');
  }
  const host = flags.host ?? '127.0.0.1';
  // Unsigned POSTs are believed: only this machine may send them.
  if (!secret && !/^(127\.\d+\.\d+\.\d+|::1|localhost)$/i.test(host)) {
    throw new UsageError(`--insecure-no-signature listens on a loopback address only (127.0.0.1, ::1, localhost): on ${host} anyone who can reach it could write your blacklist and opt-outs`);
  }
  const verifyToken = io.env.WA_GUARD_VERIFY_TOKEN;
  const port = Number(flags.port ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be 0 to 65535; got "${flags.port}"`);
  const store = await openStore(flags.store, io.env, io.cwd);
  const learned = emptyLearned();
  const refused: Record<string, number> = {};
  let applying = Promise.resolve();
  let waiting: string[] = [];
  const log = (text: string): void => {
    if (!flags.quiet) io.stderr.write(flags.json ? JSON.stringify({ at: new Date().toISOString(), message: text }) + '\n' : `wa-guard listen: ${text}\n`);
  };

  let retryMs = 0;
  let retryTimer: NodeJS.Timeout | undefined;
  /**
   * Applies what is in the inbox, in order, one at a time; removes each entry
   * once applied. When the store fails, the entries stay in the inbox and are
   * tried again after 1 s, doubling to a minute: listen runs for days and
   * the store (Redis, a disk) may come back.
   */
  const drain = (keys: string[]): Promise<void> => {
    waiting.push(...keys);
    applying = applying.then(async () => {
      // Everything that arrived meanwhile is applied together, in arrival order.
      const batch = waiting;
      waiting = [];
      if (batch.length === 0) return;
      try {
        const events: Event[] = [];
        for (const body of await store.get(INBOX, batch)) {
          if (body === undefined) continue;
          try {
            events.push(...readPayload(JSON.parse(body), settings, learned));
          } catch (err) {
            log(`an inbox entry could not be read: ${(err as Error).message}`);
          }
        }
        await learn(store, events, settings, learned);
        await store.delete(INBOX, batch);
        retryMs = 0;
      } catch (err) {
        waiting = [...batch, ...waiting];
        retryMs = Math.min(60_000, retryMs * 2 || 1000);
        log(`applying ${batch.length} event(s) failed, kept in the inbox, trying again in ${retryMs / 1000} s: ${(err as Error).message}`);
        clearTimeout(retryTimer);
        retryTimer = setTimeout(() => void drain([]), retryMs);
      }
    });
    return applying;
  };

  const refuse = (res: ServerResponse, status: number, why: string): void => {
    refused[why] = (refused[why] ?? 0) + 1;
    res.writeHead(status, { 'content-type': 'text/plain' });
    res.end(why + '\n');
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://listen');
    if (req.method === 'GET') {
      const ok = url.searchParams.get('hub.mode') === 'subscribe' && verifyToken !== undefined && verifyToken !== ''
        && url.searchParams.get('hub.verify_token') === verifyToken;
      if (!ok) return refuse(res, 403, 'verification refused');
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(url.searchParams.get('hub.challenge') ?? '');
      return;
    }
    if (req.method !== 'POST') return refuse(res, 405, 'method not allowed');
    if (!String(req.headers['content-type'] ?? '').toLowerCase().startsWith('application/json')) return refuse(res, 415, 'content type must be application/json');
    const raw = await readBody(req, MAX_BODY_BYTES);
    if (raw === undefined) return refuse(res, 413, 'body too large');
    if (secret) {
      const header = String(req.headers['x-hub-signature-256'] ?? '');
      if (!header) return refuse(res, 401, 'missing signature');
      const expected = Buffer.from('sha256=' + createHmac('sha256', secret).update(raw).digest('hex'));
      const given = Buffer.from(header);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return refuse(res, 403, 'bad signature');
    }
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
      readPayload(body, settings, emptyLearned()); // shape check only: applied from the inbox
    } catch {
      return refuse(res, 400, 'not a webhook payload');
    }
    const key = createHash('sha256').update(raw).digest('hex');
    try {
      await store.set(INBOX, [{ key, value: raw.toString('utf8') }]);
    } catch (err) {
      log(`cannot store an event: ${(err as Error).message}`);
      return refuse(res, 503, 'cannot store the event now'); // Meta retries non-2xx
    }
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok\n');
    void drain([key]);
  };

  // Whatever a crash left between the 200 and its application is applied first.
  const pending: string[] = [];
  for await (const [key] of store.scan(INBOX)) pending.push(key);
  if (pending.length) log(`applying ${pending.length} event(s) received before a restart`);
  await drain(pending);

  const server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      log(`request failed: ${(err as Error).message}`);
      if (!res.headersSent) refuse(res, 500, 'internal error');
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 30_000;
  // Meta's bodies are small: a client that takes longer than this is stalled or hostile.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  try {
    await new Promise<void>((done, fail) => {
      server.once('error', fail);
      server.listen(port, host, () => done());
    });
  } catch (err) {
    await store.close();
    throw new UsageError(`cannot listen on ${host}:${port}: ${(err as Error).message}`);
  }
  const address = server.address() as AddressInfo;
  const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  io.stdout.write(`${url}\n`);
  log(`receiving webhooks on ${url}${secret ? '' : ' WITHOUT signature checks (--insecure-no-signature)'}; Ctrl-C stops`);
  const ticker = setInterval(() => {
    const events = Object.values(learned.events).reduce((a, b) => a + b, 0);
    if (events) log(`${events} events so far: ${Object.entries(learned.events).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  }, 60_000);
  ticker.unref();

  await new Promise<void>((done) => {
    if (!io.signal) return; // nothing can stop it
    if (io.signal.aborted) done();
    io.signal.addEventListener('abort', () => done(), { once: true });
  });
  clearInterval(ticker);
  clearTimeout(retryTimer);
  // Stop accepting; requests under way get a moment to finish. A client still
  // sending after it is cut off: it has no 200, so Meta sends the event again.
  const closed = new Promise<void>((done) => server.close(() => done()));
  const cutOff = setTimeout(() => server.closeAllConnections(), SHUTDOWN_DRAIN_MS);
  await closed;
  clearTimeout(cutOff);
  await applying;
  await store.sync();
  await store.close();
  if (!flags.quiet) io.stderr.write(summaryText('listen', learned, Object.keys(refused).length ? [`  refused: ${Object.entries(refused).map(([k, v]) => `${k} ${v}`).join(', ')}`] : []));
  return 0;
}

/** The raw body, or undefined when it is larger than `max` (reading stops there). */
function readBody(req: IncomingMessage, max: number): Promise<Buffer | undefined> {
  return new Promise((done, fail) => {
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
    req.on('error', fail);
  });
}
