import { addOptOuts, addToBlacklist, BLACKLIST, OPTOUT } from '../store/lists.js';
import type { Store } from '../store/store.js';
import { waIdOf } from './reads.js';
import type { McpSettings } from './settings.js';

/** Who changed a list, as its entries say: an agent through MCP. */
const SOURCE = 'mcp';

export async function listChange(store: Store, settings: McpSettings, change: { list: 'blacklist' | 'optout'; add: boolean; phone: string; reason?: string; scope?: 'all' | 'marketing' }) {
  const { waId } = waIdOf(change.phone, settings);
  const ns = change.list === 'blacklist' ? BLACKLIST : OPTOUT;
  if (!change.add) {
    const [before] = await store.get(ns, [waId]);
    if (before !== undefined) await store.delete(ns, [waId]);
    return { wa_id: waId, list: change.list, changed: before !== undefined, now_listed: false };
  }
  const reason = (change.reason ?? '').slice(0, 200) || 'added by an agent through MCP';
  if (change.list === 'blacklist') await addToBlacklist(store, [{ waId, reason, source: SOURCE }], new Date());
  else if ((await addOptOuts(store, [{ waId, source: SOURCE, scope: change.scope ?? 'all', reason }], new Date())).length) {
    return { wa_id: waId, list: change.list, changed: false, now_listed: true, note: 'already opted out of everything: an opt-out never narrows' };
  }
  return { wa_id: waId, list: change.list, changed: true, now_listed: true };
}
