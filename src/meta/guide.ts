/**
 * The error guide: for each Meta code of meta/codes.ts, what it means, its
 * common causes and what to do; for each action, whether wa-guard retries
 * and what it does to the number or the campaign. `explain` prints it and
 * `report` quotes it, so both say the same thing.
 */
import { codeInfo, knownCode, rangeStart, type Action } from './codes.js';

export interface GuideText {
  means: string;
  causes: readonly string[];
  todo: string;
}

/** What wa-guard does for each action: retried or not, and to the number or the campaign. */
export const ACTION_GUIDE: Record<Action, { retried: string; does: string }> = {
  retry: { retried: 'yes: backed off with jitter, up to --max-attempts', does: 'nothing to the number; the row fails only if every attempt does' },
  slow: { retried: 'yes: the pace is lowered, then the message is tried again', does: 'nothing to the number; the whole campaign slows down' },
  pair: { retried: 'yes: this user\'s next message waits longer (4^attempt s)', does: 'nothing to the number; other users are not slowed' },
  undeliverable: { retried: 'never: the same message would fail again', does: 'a strike against the number; at --strikes strikes (default 1) it is blacklisted for --undeliverable-ttl (default 90 days), so clean and send skip it' },
  recipient: { retried: 'never', does: 'this row fails; the number is not blamed and no list changes' },
  window: { retried: 'never', does: 'this row fails; the number is not blamed (send an approved template instead)' },
  optout: { retried: 'never', does: 'the number is opted out of marketing; later marketing rows are blocked by the gate' },
  capped: { retried: 'not in this run: the row is deferred 24 hours', does: 'the number is marked capped for a day; a re-run after that sends it' },
  template: { retried: 'never', does: 'every row of that template stops (not attempted); fix the template and run again to resume' },
  stop: { retried: 'never', does: 'the campaign stops (exit 4); rows not sent stay unsent, and running the same command again resumes' },
  unknown: { retried: 'not automatically: Meta may have sent it (see --resend-unknown)', does: 'the row is reported unknown; a status webhook later settles it' },
};

const TOKEN = 'Check WA_GUARD_TOKEN: a system-user token with whatsapp_business_messaging, not expired; then run the same command again.';
const ACCOUNT = 'Open the account in WhatsApp Manager and fix what it shows; then run the same command again to resume.';
const PERMISSION = 'Give the app the WhatsApp permissions it needs (whatsapp_business_messaging, whatsapp_business_management).';
const WAIT = 'Nothing: wa-guard waits and tries again. Lower --mps if it happens often.';
const TEMPLATE = 'Check the template in WhatsApp Manager and the row\'s parameters against it; fix and run again.';

const GUIDE: Record<number, GuideText> = {
  0: { means: 'Meta could not authenticate the request.', causes: ['a wrong or revoked token', 'a token of another app'], todo: TOKEN },
  3: { means: 'The app lacks a capability this call needs.', causes: ['the app is not set up for WhatsApp', 'a missing permission'], todo: PERMISSION },
  4: { means: 'The app made too many API calls.', causes: ['several tools sharing one app', 'a burst of calls'], todo: WAIT },
  10: { means: 'The app does not have permission for this call.', causes: ['a missing permission', 'the phone number is not in the app\'s business'], todo: PERMISSION },
  100: { means: 'A parameter of the request is wrong.', causes: ['a template name or language that does not exist', 'wrong parameter count', 'a wrong phone number id (subcode 33)'], todo: TEMPLATE },
  190: { means: 'The access token expired or is invalid.', causes: ['a temporary token (24h) was used', 'the token was revoked'], todo: TOKEN },
  368: { means: 'The account is temporarily blocked for policy violations.', causes: ['many users blocked or reported the business', 'content against WhatsApp policy'], todo: ACCOUNT },
  613: { means: 'Calls to this API exceeded the rate limit (an older Graph code).', causes: ['too many calls in a short time'], todo: WAIT },
  80007: { means: 'The WhatsApp Business Account reached its API call rate limit.', causes: ['several tools or numbers sharing the account'], todo: WAIT },
  130429: { means: 'The phone number reached its throughput (messages per second).', causes: ['--mps higher than the number\'s throughput (80/s by default)'], todo: WAIT },
  130472: { means: 'Meta held this marketing message back: the user is part of an experiment.', causes: ['Meta\'s marketing message experiment'], todo: 'Nothing: the number is fine; it is not charged.' },
  130497: { means: 'The business may not message users in this country.', causes: ['country restrictions on the business or the category'], todo: 'Remove that country\'s numbers from the campaign.' },
  131000: { means: 'Something went wrong at Meta; the message may or may not have been sent.', causes: ['a transient error at Meta'], todo: 'Wait for status webhooks (listen or ingest); run again with --resend-unknown only if you accept a possible double send.' },
  131005: { means: 'Access was denied.', causes: ['the token lacks permission for this phone number', 'the number was removed from the account'], todo: ACCOUNT },
  131008: { means: 'A required parameter is missing.', causes: ['a template parameter left empty', 'a missing "to"'], todo: TEMPLATE },
  131009: { means: 'A parameter value is not valid.', causes: ['a parameter of the wrong type or length', 'a wrong phone number in "to"'], todo: TEMPLATE },
  131014: { means: 'This kind of request is not allowed for this business or number.', causes: ['a message type the account may not send'], todo: 'Send a message type the account supports; check the number\'s setup in WhatsApp Manager.' },
  131016: { means: 'The service is temporarily unavailable.', causes: ['an outage or maintenance at Meta'], todo: WAIT },
  131021: { means: 'The recipient is the sending number itself.', causes: ['the business number is in the contact list'], todo: 'Remove the business\'s own number from the list.' },
  131026: {
    means: 'Meta could not deliver the message to this number.',
    causes: ['the number is not on WhatsApp', 'the user has an old WhatsApp version', 'the account was deactivated, or the user has not accepted the latest terms', 'a wrong country code (a national number read with the wrong --country)', 'the user blocked the business; authentication templates to +91'],
    todo: 'Check the number and its country code; there is no charge for it. If a number you know is on WhatsApp is blacklisted, remove it with `wa-guard blacklist remove NUMBER`.',
  },
  131030: { means: 'The recipient is not in the test phone number\'s allowed list.', causes: ['sending from Meta\'s test number to a number not added to its allowed list'], todo: 'Add the recipient in the app\'s WhatsApp API setup, or send from a registered business number.' },
  131031: { means: 'The business account is locked.', causes: ['a policy violation', 'an incorrect two-step verification PIN'], todo: ACCOUNT },
  131042: { means: 'A payment problem: the account cannot be charged.', causes: ['no valid payment method', 'a credit line over its limit'], todo: 'Fix the payment method in WhatsApp Manager, then run the same command again.' },
  131045: { means: 'The phone number\'s certificate is wrong.', causes: ['the number was not registered properly'], todo: 'Register the phone number again, then resume.' },
  131047: { means: 'More than 24 hours passed since the user last wrote: only templates may be sent.', causes: ['a free-form (text) message to a user whose care window closed'], todo: 'Send an approved template instead.' },
  131048: { means: 'Spam rate limit: too many of the business\'s messages were blocked or reported.', causes: ['a poor-quality list or content', 'messages users did not ask for'], todo: 'Pause: improve the content and the audience before sending again; retrying makes it worse.' },
  131049: { means: 'Meta did not deliver this marketing message to keep the user\'s engagement healthy (per-user marketing limit).', causes: ['the user got many marketing messages lately, from any business'], todo: 'Nothing: wa-guard tries again after 24 hours. It is not charged.' },
  131050: { means: 'The user stopped marketing messages from this business.', causes: ['the user chose "stop" on a marketing message'], todo: 'Do not send marketing to this user; utility and authentication templates still go.' },
  131051: { means: 'The message type is not supported.', causes: ['a malformed body', 'a type this API does not send'], todo: TEMPLATE },
  131053: { means: 'The media of the message could not be uploaded or fetched.', causes: ['a media URL that is not public', 'an unsupported format or size'], todo: 'Fix the media (a public HTTPS URL, a supported type and size); its rows are stopped until then.' },
  131056: { means: 'Too many messages to this user in a short time (pair rate limit).', causes: ['several messages to one user within seconds'], todo: 'Nothing: wa-guard spaces messages to one user; raise --pair-interval if it happens often.' },
  131057: { means: 'The account is in maintenance (e.g. a throughput upgrade).', causes: ['maintenance at Meta'], todo: WAIT },
  133004: { means: 'The server is temporarily unavailable.', causes: ['an outage at Meta'], todo: WAIT },
  135000: { means: 'A generic user error.', causes: ['a malformed request, often a template parameter'], todo: TEMPLATE },
};

/** The text of each range of codes.ts, by its first code. */
const RANGE_TEXT: Record<number, GuideText> = {
  200: { means: 'A permission is missing.', causes: ['the app lacks a WhatsApp permission'], todo: PERMISSION },
  132000: { means: 'A template problem: its parameters, format, or status (paused, disabled).', causes: ['parameters that do not match the template', 'a paused or disabled template'], todo: TEMPLATE },
  133000: { means: 'A phone number registration problem.', causes: ['the number is not registered', 'a wrong two-step verification PIN'], todo: 'Register the phone number again, then resume.' },
};

/** A code's guide text: its own, its range's, or undefined when the code is not one wa-guard knows. */
export function guideText(code: number): GuideText | undefined {
  const start = rangeStart(code);
  return GUIDE[code] ?? (start === undefined ? undefined : RANGE_TEXT[start]);
}

export interface Explanation extends GuideText {
  code: number;
  title: string;
  action: Action;
  retried: string;
  wa_guard_does: string;
  hint?: string;
}

/** Everything the guide says of a code, or undefined for a code wa-guard does not know. */
export function explain(code: number): Explanation | undefined {
  const text = guideText(code);
  if (!text && !knownCode(code)) return undefined;
  const info = codeInfo(code);
  const action = ACTION_GUIDE[info.action];
  return {
    code, title: info.title, action: info.action,
    means: text?.means ?? info.title, causes: text?.causes ?? [], todo: text?.todo ?? info.hint ?? '',
    retried: action.retried, wa_guard_does: action.does,
    ...(info.hint ? { hint: info.hint } : {}),
  };
}

/** Every code with its own guide entry, for whoever lists them. */
export const GUIDE_CODES: readonly number[] = Object.keys(GUIDE).map(Number);
