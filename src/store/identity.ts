import { randomUUID } from 'node:crypto';
import type { Store } from './store.js';

/** Where the identity is kept: the store's meta namespace (both backends). */
const KEY = 'identity';

/**
 * The store's identity: a random id created once, the first time it is asked
 * for, and kept in the store. A store emptied, replaced, or a Redis restarted
 * without its data gets a new one: a live send records it in summary.json, so
 * a resume can tell it is no longer talking to the store that holds its journal.
 */
export async function storeIdentity(store: Store): Promise<string> {
  const [found] = await store.get('meta', [KEY]);
  if (found) return found;
  const id = randomUUID();
  const [taken] = await store.claim('meta', [{ key: KEY, value: id }]);
  if (taken) return id;
  const [other] = await store.get('meta', [KEY]);
  return other ?? id;
}
