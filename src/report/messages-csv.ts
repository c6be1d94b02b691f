/** messages.csv: one line per message of the campaign, as it stands. */
import { FORMULA_CHARS } from '../output/rows.js';
import { isoSeconds } from '../webhooks/payload.js';
import type { Message } from './messages.js';

export const MESSAGE_COLUMNS = ['row_id', 'wa_id', 'template', 'language', 'status', 'wamid', 'error_code', 'error_title', 'sent_at', 'delivered_at', 'read_at', 'replied_at', 'opted_out_at'];

const FORMULA = new RegExp('^' + FORMULA_CHARS);
const iso = (s: number | undefined): string => (s === undefined ? '' : isoSeconds(s));

/** A CSV cell: quoted when it must be; with `safe`, a leading formula character is neutralised (--safe-csv). */
function cell(value: string, safe: boolean): string {
  const v = safe && FORMULA.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v;
}

/** A message's line; its reply and opt-out only within the attribution window (s) after its delivery, as the report counts them. */
export function messageLine(m: Message, safe: boolean, attributionS: number): string {
  const l = m.lifecycle;
  const r = m.replies;
  const within = (at: number | undefined): number | undefined => (r && at !== undefined && at - r.delivered <= attributionS ? at : undefined);
  return [
    cell(m.rowKey, safe), m.waId, cell(m.template ?? '', safe), cell(m.language ?? '', safe), m.outcome, cell(m.wamid ?? '', safe),
    m.code === undefined ? '' : String(m.code), cell(m.title ?? '', safe),
    iso(l?.sent ?? m.acceptedAt), iso(l?.delivered), iso(l?.read), iso(within(r?.replied)), iso(within(r?.opted_out)),
  ].join(',') + '\n';
}
