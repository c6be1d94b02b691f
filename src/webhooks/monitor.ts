import type { Monitor } from './http.js';
import type { Inbox } from './inbox.js';
import type { Learned } from './learned.js';
import { exposition, type Histogram } from './metrics.js';

/** How long /healthz waits for the store to answer a read. */
const PROBE_TIMEOUT_MS = 2000;
/** A body waiting longer than this to be applied means the inbox is not draining. */
const STUCK_SECONDS = 60;

export interface MonitorSources {
  inbox: Inbox;
  learned: Learned;
  applyLatency: Histogram;
  /** The HTTP side's counts: refused by reason, and bodies accepted. */
  http: () => { refused: Record<string, number>; accepted: number };
}

/**
 * What a supervisor or Prometheus sees of a listen: healthy when the store
 * answers a read within 2 s and the inbox drains (no apply failing, nothing
 * waiting over a minute); the counters of /metrics.
 */
export function listenMonitor(sources: MonitorSources): Monitor {
  const { inbox, learned, applyLatency, http } = sources;
  return {
    async health() {
      const problems: string[] = [];
      const store = await probe(inbox);
      if (store !== 'ok') problems.push(`store: ${store}`);
      const oldest = Math.round(inbox.oldestSeconds() * 10) / 10;
      if (inbox.failing) problems.push(`inbox: applying has failed since ${inbox.failing.since.toISOString()}: ${inbox.failing.message}`);
      else if (oldest > STUCK_SECONDS) problems.push(`inbox: a body has waited ${oldest} s to be applied`);
      const body = {
        status: problems.length ? 'unavailable' : 'ok',
        ...(problems.length ? { problems } : {}),
        store,
        inbox: { depth: inbox.depth, oldest_seconds: oldest, failing_since: inbox.failing?.since.toISOString() ?? null },
      };
      return { ok: problems.length === 0, body };
    },
    metrics() {
      const { refused, accepted } = http();
      return exposition({ events: learned.events, changes: learned.changes, refused, accepted, inboxDepth: inbox.depth, applyLatency });
    },
  };
}

/** 'ok', or why the store did not answer a read in time. */
async function probe(inbox: Inbox): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((done) => { timer = setTimeout(() => done(`no answer within ${PROBE_TIMEOUT_MS / 1000} s`), PROBE_TIMEOUT_MS); });
  try {
    return await Promise.race([inbox.probe().then(() => 'ok', (err: Error) => err.message), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
