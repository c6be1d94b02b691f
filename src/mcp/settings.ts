import { UNDELIVERABLE_TTL_MS } from '../store/lists.js';
import { UsageError } from '../errors.js';
import { count, envSecret, isLoopback, parseApiVersion, parseCountry, parseDuration, parseHttpUrl, parsePhoneNumberId, parseTier, SEND_DEFAULTS } from '../flags.js';
import type { GateConfig } from '../gate/gate.js';
import { loadTemplates } from '../gate/templates.js';
import type { IO } from '../io.js';
import { MessagesClient } from '../send/client.js';
import { fetchTemplates } from '../send/templates-api.js';
import { THROTTLE_TIMEOUT_MS } from '../send/watchdog.js';

export interface McpFlags {
  store?: string;
  templates?: string;
  wabaId?: string;
  phoneNumberId?: string;
  apiUrl?: string;
  apiVersion?: string;
  country?: string;
  tier?: string;
  pairInterval?: string;
  mps?: string;
  strikes?: string;
  readOnly?: boolean;
  dryRun?: boolean;
  maxSends?: string;
  approve?: boolean;
  http?: string;
  host?: string;
}

/** How a send tool may send: through Meta (live), or not at all (why). */
export type Sending =
  | { kind: 'live'; client: MessagesClient; phoneNumberId: string; strikes: number }
  | { kind: 'off'; why: string };

export interface McpSettings {
  config: GateConfig;
  country: ReturnType<typeof parseCountry>;
  mps: number;
  readOnly: boolean;
  /** The send tools rehearse: --dry-run, or nothing to send with (no token or phone number id). */
  dryRun: boolean;
  /** --dry-run itself: the list tools rehearse too (without a token they still change the lists). */
  rehearsal: boolean;
  approve: boolean;
  maxSends: number;
  sending: Sending;
  /** --http PORT: Streamable HTTP on host:port instead of stdio; a bearer token required when set (always off loopback). */
  http: { port: number; host: string; token: string | undefined } | undefined;
}

const API_TIMEOUT_MS = 30_000;

/**
 * The flags, checked before the store is opened or the protocol starts (a
 * wrong one exits 2 with one line on stderr). Sending needs WA_GUARD_TOKEN
 * and a phone number id; without them the send tools rehearse, as with --dry-run.
 */
export async function mcpSettings(flags: McpFlags, io: IO): Promise<McpSettings> {
  const country = parseCountry(flags.country, io.env);
  const tier = parseTier(flags.tier);
  const mps = count(flags.mps ?? SEND_DEFAULTS.mps, '--mps', 0, 1, 10_000);
  const pairIntervalMs = parseDuration(flags.pairInterval ?? SEND_DEFAULTS.pairInterval, '--pair-interval');
  const maxSends = count(flags.maxSends, '--max-sends', Infinity, 0, 1e9);
  if (flags.maxSends !== undefined && !Number.isInteger(maxSends)) throw new UsageError(`--max-sends must be a whole number; got "${flags.maxSends}"`);
  if (flags.templates && flags.wabaId) throw new UsageError('give --templates FILE or --waba-id ID, not both');
  const readOnly = Boolean(flags.readOnly);
  const dryRun = Boolean(flags.dryRun);
  const apiVersion = parseApiVersion(flags.apiVersion);
  const apiUrl = parseHttpUrl(flags.apiUrl ?? io.env.WA_GUARD_API_URL ?? SEND_DEFAULTS.apiUrl, '--api-url');
  const token = envSecret(io.env, 'WA_GUARD_TOKEN');
  const phoneNumberId = parsePhoneNumberId(flags.phoneNumberId, io.env);
  const strikes = count(flags.strikes, '--strikes', 1, 1, 100);
  const http = httpSettings(flags, io.env);

  let sending: Sending;
  if (readOnly) sending = { kind: 'off', why: 'the server runs with --read-only' };
  else if (dryRun) sending = { kind: 'off', why: 'the server runs with --dry-run: send tools rehearse' };
  else if (!token) sending = { kind: 'off', why: 'no WA_GUARD_TOKEN in the server\'s environment: send tools rehearse' };
  else if (!phoneNumberId) sending = { kind: 'off', why: 'no sender: start the server with --phone-number-id ID or WA_GUARD_PHONE_NUMBER_ID; send tools rehearse' };
  else sending = { kind: 'live', client: new MessagesClient({ apiUrl, version: apiVersion, phoneNumberId, token, timeoutMs: API_TIMEOUT_MS, connections: 8 }), phoneNumberId, strikes };

  let templates: GateConfig['templates'];
  if (flags.templates) templates = await loadTemplates(flags.templates, io.cwd);
  else if (flags.wabaId) {
    if (!token) throw new UsageError('--waba-id fetches the templates from Meta: set WA_GUARD_TOKEN, or give --templates FILE');
    templates = await fetchTemplates(apiUrl, apiVersion, flags.wabaId, token, API_TIMEOUT_MS);
  }
  return {
    config: { templates, tier, pairIntervalMs },
    country, mps, readOnly, dryRun: sending.kind === 'off', rehearsal: dryRun, approve: Boolean(flags.approve), maxSends, sending, http,
  };
}

/** --http PORT [--host ADDR]: loopback by default; any other address only with WA_GUARD_MCP_TOKEN, which clients then send as a bearer token. */
function httpSettings(flags: McpFlags, env: NodeJS.ProcessEnv): McpSettings['http'] {
  if (flags.http === undefined) {
    if (flags.host !== undefined) throw new UsageError('--host is for --http PORT: stdio has no address');
    return undefined;
  }
  const port = count(flags.http, '--http', 0, 0, 65_535);
  if (!Number.isInteger(port)) throw new UsageError(`--http must be a port number; got "${flags.http}"`);
  const host = flags.host ?? '127.0.0.1';
  const token = envSecret(env, 'WA_GUARD_MCP_TOKEN') || undefined;
  if (!token && !isLoopback(host)) {
    throw new UsageError(`--host ${host} is reachable from other machines: set WA_GUARD_MCP_TOKEN (clients send it as "Authorization: Bearer …"), or keep the default 127.0.0.1`);
  }
  return { port, host, token };
}

/** The sender's settings for one MCP server (no campaign: one message at a time). */
export function senderSettings(settings: McpSettings, live: Extract<Sending, { kind: 'live' }>) {
  return {
    mps: settings.mps, concurrency: 8, maxAttempts: 5, pairIntervalMs: settings.config.pairIntervalMs,
    phoneNumberId: live.phoneNumberId, throttleTimeoutMs: THROTTLE_TIMEOUT_MS,
    strikes: live.strikes, undeliverableTtlMs: UNDELIVERABLE_TTL_MS,
  };
}
