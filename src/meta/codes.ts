/**
 * The one table of Meta's error codes: what each means and what wa-guard does
 * about it. `send` acts on it, `ingest` reads failed status webhooks through
 * it, and the simulator takes its titles from it.
 *
 * Actions:
 * - retry: transient; back off with full jitter and try again (--max-attempts).
 * - slow: a rate limit; lower the pace (multiplicative decrease) and retry.
 * - pair: too many messages to this user; retry this recipient later, 4^attempt s.
 * - undeliverable: 131026; failed, a strike, blacklisted at --strikes.
 * - recipient: failed for this row only, never retried, the number is not blamed.
 * - window: 131047, outside the 24h care window; failed, needs a template.
 * - optout: the user stopped marketing messages; recorded; failed.
 * - capped: per-user marketing cap; deferred 24h.
 * - template: the template or request is wrong; that template's rows stop.
 * - stop: the account or token is broken, or Meta says stop; the campaign stops (exit 4).
 * - unknown: Meta may have accepted the message; never re-sent automatically.
 */
export type Action = 'retry' | 'slow' | 'pair' | 'undeliverable' | 'recipient' | 'window' | 'optout' | 'capped' | 'template' | 'stop' | 'unknown';

export interface CodeInfo {
  action: Action;
  title: string;
  /** What the user should do, for stop and template actions. */
  hint?: string;
}

const TOKEN_HINT = 'check WA_GUARD_TOKEN (a system-user token with whatsapp_business_messaging), then run the same command again to resume';
const ACCOUNT_HINT = 'see the account\'s status in WhatsApp Manager, then run the same command again to resume';

const TABLE: Record<number, CodeInfo> = {
  0: { action: 'stop', title: 'Authentication failed', hint: TOKEN_HINT },
  3: { action: 'stop', title: 'Capability or permission missing', hint: 'give the app the WhatsApp permissions it needs' },
  4: { action: 'slow', title: 'Too many API calls' },
  613: { action: 'slow', title: 'Calls to this API exceeded the rate limit' },
  10: { action: 'stop', title: 'Permission denied', hint: 'give the app the WhatsApp permissions it needs' },
  100: { action: 'template', title: 'Invalid parameter', hint: 'check the template, its language and its parameters' },
  190: { action: 'stop', title: 'Access token expired or invalid', hint: TOKEN_HINT },
  368: { action: 'stop', title: 'Temporarily blocked for policy violations', hint: ACCOUNT_HINT },
  80007: { action: 'slow', title: 'WABA rate limit reached' },
  130429: { action: 'slow', title: 'Throughput limit reached' },
  130472: { action: 'recipient', title: 'Recipient is part of a Meta experiment' },
  130497: { action: 'recipient', title: 'Business may not message users in this country' },
  131000: { action: 'unknown', title: 'Something went wrong (the message may have been sent)' },
  131005: { action: 'stop', title: 'Access denied', hint: ACCOUNT_HINT },
  131008: { action: 'template', title: 'Required parameter is missing' },
  131009: { action: 'template', title: 'Parameter value is not valid' },
  131016: { action: 'retry', title: 'Service unavailable' },
  131014: { action: 'template', title: 'Message type not allowed for this business', hint: 'send a message type this account may send (check the template and its components)' },
  131021: { action: 'recipient', title: 'Recipient is the sender' },
  131026: { action: 'undeliverable', title: 'Message undeliverable' },
  131030: { action: 'stop', title: 'Recipient not in the allowed list of the test number', hint: 'a test phone number sends only to the numbers added to its allowed list in the app dashboard: add them, or send from a registered business number, then resume' },
  131031: { action: 'stop', title: 'Account locked', hint: ACCOUNT_HINT },
  131042: { action: 'stop', title: 'Payment eligibility problem', hint: 'fix the payment method in WhatsApp Manager, then resume' },
  131045: { action: 'stop', title: 'Certificate problem', hint: 'register the phone number again, then resume' },
  131047: { action: 'window', title: 'More than 24 hours since the user last wrote' },
  131048: { action: 'stop', title: 'Spam rate limit: too many messages were blocked or reported', hint: 'pause: improve the content and audience before sending again; retrying makes it worse' },
  131049: { action: 'capped', title: 'Per-user marketing limit: not delivered to keep engagement healthy' },
  131050: { action: 'optout', title: 'The user stopped marketing messages' },
  131051: { action: 'template', title: 'Unsupported message type' },
  131053: { action: 'template', title: 'Media upload error', hint: 'check the media: its URL must be public and its type and size supported; the rows with that media were stopped' },
  131056: { action: 'pair', title: 'Pair rate limit: too many messages to this user' },
  131057: { action: 'slow', title: 'Account in maintenance' },
  133004: { action: 'retry', title: 'Server temporarily unavailable' },
  135000: { action: 'template', title: 'Generic user error' },
};

/** Families of codes Meta numbers together: what any code in one means when the table does not list it. */
const RANGES: { from: number; to: number; info: CodeInfo }[] = [
  { from: 200, to: 299, info: { action: 'stop', title: 'Permission missing', hint: 'give the app the WhatsApp permissions it needs' } },
  { from: 132000, to: 132999, info: { action: 'template', title: 'Template problem', hint: 'check the template in WhatsApp Manager (paused, disabled, parameters)' } },
  { from: 133000, to: 133999, info: { action: 'stop', title: 'Phone number registration problem', hint: 'register the phone number again, then resume' } },
];

const rangeOf = (code: number): typeof RANGES[number] | undefined => RANGES.find((r) => code >= r.from && code <= r.to);

/** The first code of the range a code falls in, if any (the guide keys its range texts by it). */
export function rangeStart(code: number): number | undefined {
  return rangeOf(code)?.from;
}

/** Whether wa-guard knows the code: listed in the table, or in one of its ranges. */
export function knownCode(code: number): boolean {
  return TABLE[code] !== undefined || rangeStart(code) !== undefined;
}

/** The codes the table lists. */
export function listedCodes(): number[] {
  return Object.keys(TABLE).map(Number);
}

/** Codes whose meaning depends on Meta's `error_subcode`: code -> subcode -> meaning. */
const SUBCODES: Record<number, Record<number, CodeInfo>> = {
  // On /messages: "object with ID … does not exist": the phone number id, or the token's access to it, is wrong.
  100: { 33: { action: 'stop', title: 'Phone number id not found or not accessible with this token', hint: 'check --phone-number-id (WA_GUARD_PHONE_NUMBER_ID) and that WA_GUARD_TOKEN has access to it, then run the same command again to resume' } },
};

/**
 * What a code means (with Meta's `error_subcode`, when the answer has one);
 * ranges (200-299, 132xxx, 133xxx) and unlisted codes included.
 */
export function codeInfo(code: number, subcode?: number): CodeInfo {
  const known = (subcode === undefined ? undefined : SUBCODES[code]?.[subcode]) ?? TABLE[code] ?? rangeOf(code)?.info;
  if (known) return known;
  // An unlisted code: not a reason to blame the number, nor to retry blindly.
  return { action: 'recipient', title: `Error ${code}` };
}

/** Codes that say the `to` field itself is wrong: then 131008/131009 are the recipient's, not the template's. */
export function blamesRecipient(code: number, details: string): boolean {
  return (code === 131008 || code === 131009) && /\bto\b|recipient|phone number/i.test(details);
}

export function codeTitle(code: number): string {
  return codeInfo(code).title;
}
