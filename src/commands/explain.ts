import { UsageError } from '../errors.js';
import type { IO } from '../io.js';
import { explain, type Explanation } from '../meta/guide.js';

/** `wa-guard explain CODE`: the guide's text for one Meta code, for a person or (--json) a machine. */
export function explainCommand(spec: string, flags: { json?: boolean }, io: IO): number {
  const text = spec.trim();
  if (!/^\d{1,9}$/.test(text)) throw new UsageError(`explain: "${spec}" is not an error code: give Meta's number, e.g. wa-guard explain 131026`);
  const found = explain(Number(text));
  if (!found) throw new UsageError(`explain: ${Number(text)} is not a code wa-guard knows; Meta's list: https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes`);
  io.stdout.write(flags.json ? JSON.stringify(found, null, 2) + '\n' : explanationText(found));
  return 0;
}

/** The guide's text for a person. */
export function explanationText(e: Explanation): string {
  return [
    `${e.code} ${e.title}`,
    '',
    `What it means:  ${e.means}`,
    ...(e.causes.length ? ['Common causes:', ...e.causes.map((c) => `  - ${c}`)] : []),
    `What to do:     ${e.todo}`,
    `Retried:        ${e.retried}`,
    `wa-guard:       ${e.wa_guard_does}`,
  ].join('\n') + '\n';
}
