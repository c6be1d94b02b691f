// Yes and no as CRM exports write them in opt-out and opt-in columns, in the
// languages wa-guard reads opt-outs in (English, Indonesian, Spanish,
// Portuguese, and a few more). One list, read by the column detection and by
// the row flags alike.

const YES = ['true', 'yes', 'y', 't', '1', 'x', 'on', 'checked', 'ya', 'iya', 'si', 'sim', 'ja', 'oui'];
const NO = ['false', 'no', 'n', 'f', '0', 'off', 'unchecked', 'tidak', 'tdk', 'ga', 'gak', 'nggak', 'enggak', 'bukan', 'nao', 'nein', 'non'];
const OPTED_OUT = ['optedout', 'optout', 'unsubscribed'];
const OPTED_IN = ['optedin', 'optin', 'subscribed'];
/** What consent fields say besides yes (HubSpot, Shopify, Mailchimp). */
const CONSENTED = ['granted', 'consented', 'confirmed', 'singleoptin', 'doubleoptin'];

/** Lower case without accents, spaces, '-', '_' or '.': "Sí" is "si", "Opted-Out" is "optedout". */
export const squeeze = (text: string): string => text.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase().replace(/[\s\-_.]/g, '');

/** Any yes/no answer (squeezed): a column of them is a flag column, never a phone column. */
export const YES_NO_WORDS: ReadonlySet<string> = new Set([...YES, ...NO, ...OPTED_OUT, ...OPTED_IN]);
/** Cells that say nothing: an export's way of writing an empty field. */
const EMPTY = ['none', 'null', 'nil', 'na', 'n/a', 'nan', 'undefined', '#n/a'];
const NOT_OPTED_OUT: ReadonlySet<string> = new Set([...NO, ...OPTED_IN, ...EMPTY]);

/**
 * An opt-out column's values that do NOT say the contact opted out
 * (squeezed): no, opted in, an empty-looking cell, or zero ("0.0" from pandas).
 * Any other value does (a yes, "✓", "STOP", "Yes - opted out", a date): a
 * contact messaged after opting out is the harm to avoid; one purged by
 * mistake is in purged.* with the column named.
 */
export function saysNotOptedOut(squeezed: string): boolean {
  return squeezed === '' || NOT_OPTED_OUT.has(squeezed) || /^0+$/.test(squeezed);
}
/** An opt-in column's values that say the contact agreed (squeezed). */
export const OPTED_IN_WORDS: ReadonlySet<string> = new Set([...YES, ...OPTED_IN, ...CONSENTED]);
