// The simulated Meta API: composes the routes, the endpoints and the state.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { answerControl } from './control.js';
import { checkContacts } from './contacts.js';
import { ApiError, authorize, closeServer, injectFaults, listen, loseAnswer, readJsonBody, routeOf, sendError, sendJson, type Route } from './http.js';
import { listTemplates, sendMessage } from './messages.js';
import { tally, type SimulatorStats } from './stats.js';
import { SimulatorState } from './state.js';
import { defaultWorld, type World, type WorldConfig } from './world.js';

export { peak, type SimulatorStats } from './stats.js';

export interface Simulator {
  url: string;
  world: World;
  stats(): SimulatorStats;
  reset(): void;
  close(): Promise<void>;
}

/** Starts the simulated Meta API on loopback; port 0 picks a free port. */
export async function startSimulator(
  overrides: Partial<WorldConfig> = {},
  at: { host?: string; port?: number } = {},
  now: () => number = Date.now,
): Promise<Simulator> {
  const base = defaultWorld();
  const config: WorldConfig = { ...base, ...overrides, faults: { ...base.faults, ...overrides.faults } };
  const state = new SimulatorState(config, now);
  const { server, url } = await listen((req, res) => handle(req, res, state), at);
  return {
    url,
    get world() { return state.session.world; },
    stats: () => state.session.snapshot(),
    reset: () => state.reset(),
    close: async () => {
      await state.webhooks.settled();
      await closeServer(server);
      await state.webhooks.close();
    },
  };
}

// Each step reads state.session afresh: a /_sim/reset (or one that lands while
// a request waits) replaces it, and counts go to the session current then.
async function handle(req: IncomingMessage, res: ServerResponse, state: SimulatorState): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://simulator');
  const method = req.method ?? 'GET';
  const route = routeOf(method, url.pathname);
  if (route.name === 'healthz') return sendJson(res, state.session.stats, 200, { status: 'ok' });
  tally(state.session.stats.requests, route.name);
  if (route.name === 'templates') return answerTemplates(req, res, url, state);
  if (route.name === 'contacts' || route.name === 'messages') state.session.arrivals.add(route.name, state.now());

  let body: Record<string, unknown>;
  try {
    body = await readJsonBody(req);
  } catch (err) {
    return sendError(res, state.session.stats, err);
  }
  try {
    if (route.name === 'contacts' || route.name === 'messages') return await answerApi(req, res, route, body, state);
    const answer = answerControl(method, url.pathname, body, state);
    if (answer === undefined) return sendJson(res, state.session.stats, 404, { error: { message: `no route for ${method} ${url.pathname}`, code: 404 } });
    sendJson(res, state.session.stats, 200, answer);
  } catch (err) {
    sendError(res, state.session.stats, err);
  }
}

function answerTemplates(req: IncomingMessage, res: ServerResponse, url: URL, state: SimulatorState): void {
  try {
    authorize(req, state.token);
  } catch (err) {
    return sendError(res, state.session.stats, err);
  }
  sendJson(res, state.session.stats, 200, listTemplates(url, `http://${req.headers.host}`, state.config.templates));
}

/** /v1/contacts and /messages: POST only, then the faults, the token, and the endpoint's own rules. */
async function answerApi(req: IncomingMessage, res: ServerResponse, route: Route, body: Record<string, unknown>, state: SimulatorState): Promise<void> {
  if (req.method !== 'POST') throw new ApiError(405, 100, 'Invalid parameter', 'use POST');
  if (await injectFaults(req, res, state.session, state.config.faults)) return;
  authorize(req, state.token);
  const answer = route.name === 'messages' ? sendMessage(body, route.phoneNumberId, state) : checkContacts(body, state);
  if (route.name === 'messages' && loseAnswer(req, state.session, state.config.faults)) return;
  sendJson(res, state.session.stats, 200, answer);
}
