// POST /v1/contacts: the On-Premises-style contacts check (valid, invalid, processing, failed).
import { ApiError } from './http.js';
import type { SimulatorState } from './state.js';
import { metaWaId, toWaId } from './world.js';

export function checkContacts(body: Record<string, unknown>, state: SimulatorState): unknown {
  const { config } = state;
  const { world, stats } = state.session;
  if (config.contactsRps > 0 && state.session.contactsThisSecond.add(state.now()) > config.contactsRps) {
    throw new ApiError(429, 4, 'Too many calls', `more than ${config.contactsRps} requests per second`, { 'retry-after': '1' });
  }
  const list = body.contacts;
  if (!Array.isArray(list) || list.length === 0) throw new ApiError(400, 100, 'Invalid parameter', 'contacts must be a non-empty array');
  if (list.length > config.contactsMax) throw new ApiError(400, 100, 'Invalid parameter', `at most ${config.contactsMax} contacts per request`);
  const wait = (body.blocking ?? 'no_wait') === 'wait';
  const force = body.force_check === true;
  return {
    contacts: list.map((input: unknown) => {
      stats.numbers_checked++;
      const waId = typeof input === 'string' ? toWaId(input) : undefined;
      if (waId === undefined) return { input, status: 'failed' };
      // A number not checked before (or a forced check) is still "processing" unless the caller waits.
      if ((!wait || config.processingFirst) && (force || !world.checked.has(waId))) {
        world.checked.add(waId);
        return { input, status: 'processing' };
      }
      world.checked.add(waId);
      if (config.mode === 'always-valid' || world.isRegistered(waId)) return { input, status: 'valid', wa_id: metaWaId(waId) };
      return { input, status: 'invalid' };
    }),
    meta: { api_status: 'stable', version: config.mode === 'always-valid' ? '2.43.1' : '2.41.3' },
  };
}
