import type { Store } from './store.js';
import type { Namespace } from './schema.js';

/** `name:language` -> the template's last status event (PAUSED, DISABLED, FLAGGED, …) as webhooks announced it; the gate reads it. */
export const TEMPLATE_STATUS = 'template-status' satisfies Namespace;

/** A template's last announced status event; disableAt (ms): when a FLAGGED template will be disabled, if Meta said. */
export interface AnnouncedStatus {
  event: string;
  disableAt?: number;
}

/** The stored value of a status event at `at` (s); `disableAt` in seconds. */
export function templateStatusValue(event: string, at: number, disableAt: number | undefined): string {
  return JSON.stringify(disableAt === undefined ? { event, at } : { event, at, disable_at: disableAt });
}

/** Each template's last announced status; a damaged entry is ignored. */
export async function readTemplateStatus(store: Pick<Store, 'scan'>): Promise<Map<string, AnnouncedStatus>> {
  const status = new Map<string, AnnouncedStatus>();
  for await (const [key, value] of store.scan(TEMPLATE_STATUS)) {
    try {
      const v = JSON.parse(value) as { event?: unknown; disable_at?: unknown };
      if (typeof v.event !== 'string') continue;
      status.set(key, Number.isFinite(v.disable_at) ? { event: v.event, disableAt: (v.disable_at as number) * 1000 } : { event: v.event });
    } catch { /* damaged: ignored */ }
  }
  return status;
}
