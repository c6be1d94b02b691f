import type { Store } from './store.js';

/** `name:language` -> the template's last status event (PAUSED, DISABLED, …) as webhooks announced it; the gate reads it. */
export const TEMPLATE_STATUS = 'template-status';

/** Each template's last announced status; a damaged entry is ignored. */
export async function readTemplateStatus(store: Pick<Store, 'scan'>): Promise<Map<string, string>> {
  const status = new Map<string, string>();
  for await (const [key, value] of store.scan(TEMPLATE_STATUS)) {
    try { status.set(key, String(JSON.parse(value).event)); } catch { /* damaged: ignored */ }
  }
  return status;
}
