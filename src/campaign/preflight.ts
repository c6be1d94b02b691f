import { resolve } from 'node:path';
import { UsageError } from '../errors.js';
import type { Journal, RowResult } from '../send/journal.js';
import { storeIdentity } from '../store/identity.js';
import type { Durability, Store } from '../store/store.js';
import { readEarlierRun, refuseForeignStore } from './earlier-run.js';

/** What a live send checked of its store before the first request. */
export interface StoreCheck {
  identity: string;
  durability: Durability;
  /** Journal key -> what the out-dir's earlier results say of rows sent or unknown: never sent again. */
  earlier: ReadonlyMap<string, RowResult>;
}

/**
 * Before a live send: the store keeps the journal through a crash (or the user
 * accepted that it may not), and it is the store the out-dir's last send of
 * this campaign used. Nothing is sent when either fails.
 */
export async function checkLiveStore(store: Store, journal: Journal, o: { outDir: string; cwd: string; campaignId: string; allowVolatile: boolean }): Promise<StoreCheck> {
  const durability = await store.durability();
  if (durability.kind === 'volatile' && !o.allowVolatile) {
    throw new UsageError(`store ${store.location}: ${durability.why}; nothing was sent: make the store durable (see README, State), or pass --allow-volatile-store to accept that a crash of the store may send rows twice`);
  }
  const identity = await storeIdentity(store);
  const outDir = resolve(o.cwd, o.outDir);
  const earlier = await readEarlierRun(outDir, o.campaignId);
  if (earlier) await refuseForeignStore(earlier, identity, journal, o.outDir, o.campaignId);
  return { identity, durability, earlier: earlier?.outcomes ?? new Map() };
}
