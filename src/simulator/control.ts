// The /_sim/* endpoints a rehearsal drives the simulator with (no token needed).
import { DAY_MS } from '../time.js';
import { ApiError } from './http.js';
import type { SimulatorState } from './state.js';
import { toWaId } from './world.js';

/** The answer to a control request, or undefined when no control endpoint has this method and path (404). */
export function answerControl(method: string, path: string, body: Record<string, unknown>, state: SimulatorState): unknown {
  if (method === 'GET' && path === '/_sim/stats') return state.session.snapshot();
  if (method === 'POST' && path === '/_sim/token') return setToken(body, state);
  if (method === 'POST' && path === '/_sim/reset') {
    state.reset();
    return { ok: true };
  }
  if (method === 'POST' && path === '/_sim/inbound') return receiveInbound(body, state);
  return undefined;
}

/** Rehearses a token that expires or is revoked mid-campaign (190), and its fix. */
function setToken(body: Record<string, unknown>, state: SimulatorState): unknown {
  if (typeof body.token !== 'string' || body.token === '') throw new ApiError(400, 100, 'Invalid parameter', '"token" must be a string');
  state.token = body.token;
  return { ok: true };
}

/** A user writes (now, or at "at"): their 24-hour window opens and an inbound webhook goes out. */
function receiveInbound(body: Record<string, unknown>, state: SimulatorState): unknown {
  const waId = toWaId(String(body.from ?? ''));
  if (!waId) throw new ApiError(400, 100, 'Invalid parameter', '"from" must be a phone number');
  const at = typeof body.at === 'string' ? Date.parse(body.at) : state.now();
  if (Number.isNaN(at)) throw new ApiError(400, 100, 'Invalid parameter', '"at" must be an ISO 8601 time');
  state.session.world.inbound.set(waId, at);
  state.webhooks.inbound(waId, at, String(body.text ?? 'hi'), state.config.phoneNumberIds[0]!);
  return { ok: true, wa_id: waId, window_open_until: new Date(at + DAY_MS).toISOString() };
}
