import { UsageError } from '../errors.js';
import { duration, isLoopback } from '../flags.js';
import { untilAborted } from '../time.js';
import type { IO } from '../io.js';
import { openStore } from '../store/open.js';
import { REQUEST_TIMEOUT_MS, WebhookServer, type Endpoint } from '../webhooks/http.js';
import { Inbox } from '../webhooks/inbox.js';
import type { LearnSettings } from '../webhooks/learn.js';
import { emptyLearned, eventCount, summaryText, type Learned } from '../webhooks/learned.js';
import { APPLY_BUCKETS, Histogram } from '../webhooks/metrics.js';
import { listenMonitor } from '../webhooks/monitor.js';
import { readPayload } from '../webhooks/payload.js';
import { learnSettings, type LearnFlags } from '../webhooks/settings.js';

export interface ListenFlags extends LearnFlags {
  store?: string;
  json?: boolean;
  quiet?: boolean;
  port?: string;
  host?: string;
  insecureNoSignature?: boolean;
  /** Hidden: how often the totals are looked at (default a minute); the heartbeat comes every 60 looks. */
  logInterval?: string;
  /** Hidden: how long a request may take to arrive whole (default 30 s). */
  requestTimeout?: string;
}

interface ListenOptions {
  settings: LearnSettings;
  endpoint: Endpoint;
  tickMs: number;
}

/** How often listen looks at its totals, logging them when they changed. */
const TICK_MS = 60_000;
/** With nothing new, a line every this many looks (an hour) says listen is still there. */
const HEARTBEAT_TICKS = 60;

/** `wa-guard listen`: Meta's webhook subscription, verified and made durable before the 200. */
export async function listen(flags: ListenFlags, io: IO): Promise<number> {
  const { settings, endpoint, tickMs } = listenOptions(flags, io.env);
  const store = await openStore(flags.store, io.env, io.cwd);
  const learned = emptyLearned();
  const log = logger(flags, io);
  const applyLatency = new Histogram(APPLY_BUCKETS);
  const inbox = new Inbox(store, settings, learned, log, (seconds) => applyLatency.observe(seconds));

  // Whatever a crash left between the 200 and its application is applied first.
  const pending = await inbox.pending();
  if (pending.length) log(`applying ${pending.length} event(s) received before a restart`);
  await inbox.apply(pending);

  const server: WebhookServer = new WebhookServer(endpoint, {
    check: (body) => void readPayload(body, settings, { ignored: 0 }), // the shape only: applied from the inbox
    keep: (raw) => inbox.keep(raw),
    accepted: (key) => void inbox.apply([key]),
  }, log, listenMonitor({ inbox, learned, applyLatency, http: () => ({ refused: server.refused, accepted: server.accepted }) }));
  let url: string;
  try {
    url = await server.start();
  } catch (err) {
    await store.close();
    throw err;
  }
  io.stdout.write(`${url}\n`);
  log(`receiving webhooks on ${url}${endpoint.secret ? '' : ' WITHOUT signature checks (--insecure-no-signature)'}; Ctrl-C stops`);
  const ticker = setInterval(totalsLog(learned, log), tickMs);
  ticker.unref();

  await untilAborted(io.signal);
  clearInterval(ticker);
  inbox.stopRetrying();
  await server.stop();
  await inbox.settled();
  await store.sync();
  await store.close();
  if (!flags.quiet) io.stderr.write(summaryText('listen', learned, refusedLines(server.refused)));
  return 0;
}

/** The flags and environment, checked: what events teach, then the secret, the address, the port. */
function listenOptions(flags: ListenFlags, env: NodeJS.ProcessEnv): ListenOptions {
  const settings = learnSettings(flags);
  const secret = (env.WA_GUARD_APP_SECRET ?? '').trim();
  if (!secret && !flags.insecureNoSignature) {
    throw new UsageError('listen needs the app secret to verify signatures: set WA_GUARD_APP_SECRET (or, for a local rehearsal only, --insecure-no-signature)');
  }
  const host = flags.host ?? '127.0.0.1';
  // Unsigned POSTs are believed: only this machine may send them.
  if (!secret && !isLoopback(host)) {
    throw new UsageError(`--insecure-no-signature listens on a loopback address only (127.0.0.1, ::1, localhost): on ${host} anyone who can reach it could write your blacklist and opt-outs`);
  }
  const port = Number(flags.port ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be 0 to 65535; got "${flags.port}"`);
  const requestTimeoutMs = duration(flags.requestTimeout, '--request-timeout', REQUEST_TIMEOUT_MS);
  const tickMs = duration(flags.logInterval, '--log-interval', TICK_MS);
  if (requestTimeoutMs < 100 || tickMs < 10) throw new UsageError('--request-timeout must be at least 100ms and --log-interval at least 10ms');
  return { settings, endpoint: { host, port, secret, verifyToken: env.WA_GUARD_VERIFY_TOKEN, requestTimeoutMs }, tickMs };
}

/** Log lines on stderr: text, or JSON with --json; none with --quiet. */
function logger(flags: ListenFlags, io: IO): (text: string) => void {
  return (text) => {
    if (!flags.quiet) io.stderr.write(flags.json ? JSON.stringify({ at: new Date().toISOString(), message: text }) + '\n' : `wa-guard listen: ${text}\n`);
  };
}

/** A look at the totals: a line when they changed since the last line; with nothing new, a heartbeat every HEARTBEAT_TICKS looks. */
function totalsLog(learned: Learned, log: (text: string) => void): () => void {
  let last = '';
  let quietTicks = 0;
  return () => {
    const events = eventCount(learned);
    const totals = `${events} events so far${events ? ': ' : ''}${Object.entries(learned.events).map(([k, v]) => `${k} ${v}`).join(', ')}`;
    if (totals !== last) {
      if (events) log(totals);
      last = totals;
      quietTicks = 0;
    } else if (++quietTicks >= HEARTBEAT_TICKS) {
      log(`still listening, nothing new since the last line; ${totals}`);
      quietTicks = 0;
    }
  };
}


function refusedLines(refused: Record<string, number>): string[] {
  return Object.keys(refused).length ? [`  refused: ${Object.entries(refused).map(([k, v]) => `${k} ${v}`).join(', ')}`] : [];
}
