// The Cloud API: POST /{version}/{phone-number-id}/messages and GET .../message_templates.
import { randomBytes } from 'node:crypto';
import { codeTitle } from '../meta/codes.js';
import { ApiError } from './http.js';
import { emitOutcome } from './outcomes.js';
import { tally } from './stats.js';
import { SecondCounter, type SimulatorState } from './state.js';
import { metaWaId, toWaId, type TemplateSpec, type WorldConfig } from './world.js';

/** How much earlier than --pair-interval a second message to one user may arrive before 131056. */
const PAIR_ARRIVAL_SLACK_MS = 500;

type TemplateBody = { name?: string; language?: { code?: string }; components?: { type: string; parameters?: unknown[] }[] } | undefined;

/**
 * Sends a message under Meta's rules, in Meta's order: the sender, the
 * recipient, the content, the recipient's state, then the random errors; an
 * accepted message gets its status webhooks.
 */
export function sendMessage(body: Record<string, unknown>, phoneNumberId: string, state: SimulatorState): unknown {
  checkSender(body, phoneNumberId, state);
  const to = typeof body.to === 'string' ? body.to : '';
  const waId = toWaId(to);
  if (waId === undefined) throw new ApiError(400, 131009, 'Parameter value is not valid', `"to" is not a valid phone number: ${to}`);
  const marketing = checkContent(body, waId, state);
  const registered = state.session.world.isRegistered(waId);
  checkRecipient(waId, registered, marketing, state);
  drawRandomErrors(marketing, state.session.random, state.config.faults);
  return accept(body, to, waId, registered, phoneNumberId, state);
}

/** The phone number id, the product, and the messages-per-second limit of that number. */
function checkSender(body: Record<string, unknown>, phoneNumberId: string, state: SimulatorState): void {
  const { config, session } = state;
  if (!config.phoneNumberIds.includes(phoneNumberId)) {
    throw new ApiError(400, 100, 'Invalid parameter', `Unsupported post request: no phone number with id ${phoneNumberId}`);
  }
  if (body.messaging_product !== 'whatsapp') throw new ApiError(400, 100, 'Invalid parameter', 'messaging_product must be "whatsapp"');
  let window = session.sendsThisSecond.get(phoneNumberId);
  if (!window) session.sendsThisSecond.set(phoneNumberId, window = new SecondCounter());
  const sends = window.add(state.now());
  // The first message of a second always goes, whatever --mps says.
  if (sends > 1 && sends > config.mps) {
    throw new ApiError(429, 130429, 'Rate limit hit', `more than ${config.mps} messages per second`, { 'retry-after': '1' });
  }
}

/** An approved template with the right number of parameters, or text within the 24-hour window; true for a marketing template. */
function checkContent(body: Record<string, unknown>, waId: string, state: SimulatorState): boolean {
  if (body.type === 'template') {
    const template = body.template as TemplateBody;
    const spec = state.session.world.template(template?.name ?? '', template?.language?.code ?? '');
    if (!spec) throw new ApiError(404, 132001, 'Template name does not exist in the translation', `template ${template?.name} (${template?.language?.code}) is not approved in this account`);
    refuseUnsendable(spec);
    const given = (template?.components ?? []).filter((c) => c.type === 'body').flatMap((c) => c.parameters ?? []).length;
    if (given !== spec.params) throw new ApiError(400, 132000, 'Number of parameters does not match the expected number of params', `template ${spec.name} takes ${spec.params} body parameters, got ${given}`);
    return spec.category === 'marketing';
  }
  if (body.type === 'text') {
    const text = body.text as { body?: unknown } | undefined;
    if (typeof text?.body !== 'string' || text.body === '') throw new ApiError(400, 131008, 'Required parameter is missing', 'text.body is required');
    if (!state.session.world.inWindow(waId, state.now())) {
      throw new ApiError(400, 131047, 'Re-engagement message', 'more than 24 hours since the user last wrote; send a template');
    }
    return false;
  }
  throw new ApiError(400, 131051, 'Unsupported message type', `type ${String(body.type)} is not simulated`);
}

/** The scenario's forced error, then whether the user can get this message now. */
function checkRecipient(waId: string, registered: boolean, marketing: boolean, state: SimulatorState): void {
  const { config, now } = state;
  const { world } = state.session;
  const forced = world.errorFor(waId);
  if (forced !== undefined) {
    const http = forced === 131000 ? 500 : forced === 130429 ? 429 : forced === 190 || forced === 0 ? 401 : 400;
    throw new ApiError(http, forced, codeTitle(forced), 'forced for this recipient by the scenario');
  }
  if (!registered && config.undeliverable === 'sync') {
    throw new ApiError(400, 131026, 'Message undeliverable', 'the recipient is not a WhatsApp user');
  }
  if (marketing && world.isOptedOut(waId)) {
    throw new ApiError(400, 131050, 'Unable to deliver the message: the user stopped marketing messages', 'the user opted out of marketing messages');
  }
  const last = world.lastSent.get(waId);
  // Arrivals, not bookings: a sender spacing its messages exactly the interval apart arrives within a
  // few hundred ms of it either way (Meta itself lets short bursts borrow from later).
  if (last !== undefined && now() - last < config.pairIntervalMs - PAIR_ARRIVAL_SLACK_MS) {
    throw new ApiError(400, 131056, '(Business Account, Consumer Account) pair rate limit hit', 'too many messages to this user in a short time');
  }
}

/** Meta's transient errors, at the configured rates (131049 only for marketing). */
function drawRandomErrors(marketing: boolean, random: () => number, faults: WorldConfig['faults']): void {
  if (random() < faults.error131000) throw new ApiError(500, 131000, 'Something went wrong', 'an unknown error; the message may or may not have been sent');
  if (random() < faults.error131016) throw new ApiError(503, 131016, 'Service unavailable', 'try again later');
  if (marketing && random() < faults.error131049) {
    throw new ApiError(400, 131049, 'This message was not delivered to maintain healthy ecosystem engagement', 'per-user marketing limit');
  }
}

/** Records the send, emits its status webhooks (sent and delivered, or failed: not on WhatsApp) and answers Meta's success shape. */
function accept(body: Record<string, unknown>, to: string, waId: string, registered: boolean, phoneNumberId: string, state: SimulatorState): unknown {
  const { world, stats } = state.session;
  world.lastSent.set(waId, state.now());
  world.sentCount.set(waId, (world.sentCount.get(waId) ?? 0) + 1);
  stats.messages_accepted++;
  const callback = typeof body.biz_opaque_callback_data === 'string' ? body.biz_opaque_callback_data.slice(0, 512) : undefined;
  const id = `wamid.${Buffer.from(`${phoneNumberId}:${waId}:${randomBytes(6).toString('hex')}`).toString('base64url')}`;
  const recipient = metaWaId(waId);
  const { webhooks } = state;
  if (registered) emitOutcome(state, { id, recipient, callback }, phoneNumberId);
  else {
    const error = { code: 131026, title: codeTitle(131026), details: 'the recipient is not a WhatsApp user' };
    webhooks.status({ id, recipient, state: 'failed', callback, error }, phoneNumberId);
    tally(stats.webhooks, 'failed');
  }
  return { messaging_product: 'whatsapp', contacts: [{ input: to, wa_id: recipient }], messages: [{ id, message_status: 'accepted' }] };
}

/** A template Meta would not send in its status: paused (132015), disabled (132016), or not approved at all (132001). */
function refuseUnsendable(spec: TemplateSpec): void {
  const status = (spec.status ?? 'APPROVED').toUpperCase();
  if (status === 'APPROVED' || status === 'FLAGGED' || status === 'REINSTATED') return;
  const what = `template ${spec.name} (${spec.language}) is ${status}`;
  if (status === 'PAUSED') throw new ApiError(400, 132015, 'Template is paused', what);
  if (status === 'DISABLED') throw new ApiError(400, 132016, 'Template is disabled', what);
  throw new ApiError(404, 132001, 'Template name does not exist in the translation', `${what}, not approved`);
}

/** GET /{version}/{waba-id}/message_templates, paged by `limit` and an `after` cursor, as Meta does. */
export function listTemplates(url: URL, base: string, templates: readonly TemplateSpec[]): unknown {
  const limit = Math.max(1, Math.min(100, Number(url.searchParams.get('limit')) || 25));
  const start = Number(url.searchParams.get('after') ?? 0) || 0;
  const data = templates.slice(start, start + limit).map((t) => ({
    name: t.name, language: t.language, status: t.status ?? 'APPROVED', category: t.category.toUpperCase(),
    components: [{ type: 'BODY', text: Array.from({ length: t.params }, (_, i) => `{{${i + 1}}}`).join(' ') || 'Hello' }],
  }));
  const next = start + limit < templates.length ? `${base}${url.pathname}?limit=${limit}&after=${start + limit}` : undefined;
  return { data, paging: { cursors: { after: String(start + limit) }, ...(next ? { next } : {}) } };
}
