import { addOptOuts, addToBlacklist, BLACKLIST, OPTOUT } from '../store/lists.js';
import type { Store } from '../store/store.js';
import { normalizeListNumber } from '../phone.js';
import { McpToolError } from './errors.js';
import type { McpSettings } from './settings.js';

/** Who changed a list, as its entries say: an agent through MCP. */
const SOURCE = 'mcp';

/** A number as the list commands read it: wa_id-shaped digits are that wa_id (a note names the national reading they might have meant). */
function listNumber(phone: string, settings: McpSettings): { waId: string; note?: string } {
  const n = normalizeListNumber(phone, settings.country, true);
  if (!n.ok) throw new McpToolError(`${phone}: ${n.detail}; give it in international form, e.g. +6281234567890`);
  return n.national ? { waId: n.waId, note: `read as the wa_id +${n.waId}; for ${n.national} give it with its +` } : { waId: n.waId };
}

export async function listChange(store: Store, settings: McpSettings, change: { list: 'blacklist' | 'optout'; add: boolean; phone: string; reason?: string; scope?: 'all' | 'marketing' }) {
  const { waId, note } = listNumber(change.phone, settings);
  const said = note ? { note } : {};
  const ns = change.list === 'blacklist' ? BLACKLIST : OPTOUT;
  if (settings.rehearsal) {
    // A rehearsal writes nothing, to the lists neither: what the call would do, from what is there now.
    const [before] = await store.get(ns, [waId]);
    return { wa_id: waId, list: change.list, changed: change.add || before !== undefined, now_listed: before !== undefined, rehearsed: true, note: 'not written: the server runs with --dry-run' };
  }
  if (!change.add) {
    const [before] = await store.get(ns, [waId]);
    if (before !== undefined) await store.delete(ns, [waId]);
    return { wa_id: waId, list: change.list, changed: before !== undefined, now_listed: false, ...said };
  }
  const reason = (change.reason ?? '').slice(0, 200) || 'added by an agent through MCP';
  if (change.list === 'blacklist') await addToBlacklist(store, [{ waId, reason, source: SOURCE }], new Date());
  else if ((await addOptOuts(store, [{ waId, source: SOURCE, scope: change.scope ?? 'all', reason }], new Date())).length) {
    return { wa_id: waId, list: change.list, changed: false, now_listed: true, note: 'already opted out of everything: an opt-out never narrows' };
  }
  return { wa_id: waId, list: change.list, changed: true, now_listed: true, ...said };
}
