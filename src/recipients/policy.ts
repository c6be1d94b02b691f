import type { NumberList } from '../input/number-list.js';
import { BLACKLIST, OPTOUT, describeBlacklisted, parseOptOut } from '../store/lists.js';
import type { Store } from '../store/store.js';

/** What the lists say of one number. */
export interface Policy {
  /** Why it is on the blacklist (the store's, or the --blacklist file). */
  blacklisted?: string;
  optedOut?: { scope: 'all' | 'marketing'; detail: string };
}

/** A --blacklist file and its name, for details. */
export interface BlacklistFile {
  list: NumberList;
  name: string;
}

/**
 * The policy stage shared by clean and send: one batched read of the store's
 * blacklist and opt-outs for a chunk's numbers, and the --blacklist file.
 */
export async function readPolicy(store: Store, waIds: readonly string[], file: BlacklistFile | undefined): Promise<Policy[]> {
  const [listed, optedOut] = await Promise.all([store.get(BLACKLIST, waIds), store.get(OPTOUT, waIds)]);
  return waIds.map((waId, i) => {
    const policy: Policy = {};
    if (listed[i] !== undefined) policy.blacklisted = describeBlacklisted(listed[i]!);
    else if (file?.list.has(Number(waId))) policy.blacklisted = `listed in ${file.name}`;
    if (optedOut[i] !== undefined) policy.optedOut = parseOptOut(optedOut[i]!);
    return policy;
  });
}
