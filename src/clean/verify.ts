import { readCachedStatuses } from '../store/status-cache.js';
import type { Store } from '../store/store.js';
import type { VerifySettings } from '../verify/settings.js';
import type { Verifier } from '../verify/verifier.js';
import type { DecidedChunk } from './purge-rules.js';

/**
 * The verification stage: asks whether each kept number is on WhatsApp. The
 * status cache first; what it does not know goes to /contacts, and the chunk
 * keeps the promises of those answers until it is written.
 */
export class ChunkVerification {
  private cacheHits = 0;

  constructor(
    private readonly settings: VerifySettings,
    private readonly verifier: Verifier,
    private readonly store: Store,
  ) {}

  /** Numbers the endpoint could not answer for (they stay unverified). */
  get unresolved(): number {
    return this.verifier.stats.unresolved;
  }

  /** Starts checking the chunk's kept rows. */
  async start(d: DecidedChunk): Promise<void> {
    const kept: number[] = [];
    for (let i = 0; i < d.result.rows; i++) if (d.reason[i] === undefined) kept.push(i);
    const e164 = kept.map((i) => '+' + d.result.waIds[i]);
    const cached = await readCachedStatuses(this.store, e164);
    kept.forEach((i, k) => {
      const hit = cached[k];
      if (hit) {
        this.cacheHits++;
        if (hit.status === 'valid') {
          d.status[i] = 'cached';
          d.waId[i] = hit.wa_id;
        } else {
          d.reason[i] = 'not_on_whatsapp';
          d.detail[i] = `not on WhatsApp (cached answer of ${hit.checked_at.slice(0, 10)} from ${hit.source})`;
        }
        return;
      }
      const check = this.verifier.check(e164[k]!).then((outcome) => {
        if (outcome.status === 'valid') {
          d.status[i] = 'valid';
          d.waId[i] = outcome.waId;
        } else if (outcome.status === 'invalid') {
          d.reason[i] = 'not_on_whatsapp';
          d.detail[i] = 'not on WhatsApp (the /contacts endpoint answered invalid)';
        }
      });
      // Awaited when the chunk is written; a run that fails first must not leave it unhandled.
      check.catch(() => undefined);
      d.checks.push(check);
    });
    d.batch = this.verifier.batchSeq;
  }

  /** Waits for the chunk's answers; its last numbers may sit in the batch still being filled: that batch is sent rather than waited for. */
  async settle(d: DecidedChunk): Promise<void> {
    if (d.checks.length === 0) return;
    if (d.batch === this.verifier.batchSeq) this.verifier.flush();
    await Promise.all(d.checks);
  }

  /** summary.json's verification section. */
  summary(): Record<string, unknown> & { mode: 'online' } {
    const { settings, verifier: { stats } } = this;
    return {
      mode: 'online',
      endpoint: settings.url.origin + settings.url.pathname.replace(/\/$/, '') + '/v1/contacts',
      requests: stats.requests,
      numbers_checked: stats.numbers_checked,
      cache_hits: this.cacheHits,
      retries: stats.retries,
      over_budget: stats.over_budget,
      unresolved: stats.unresolved,
      requests_per_second: Math.round(stats.requests_per_second * 10) / 10,
      rate: settings.rate,
      burst: settings.burst,
      batch_size: settings.batchSize,
      concurrency: settings.concurrency,
    };
  }

  close(): Promise<void> {
    return this.verifier.close();
  }
}
