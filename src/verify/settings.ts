import { UsageError } from '../errors.js';
import type { Store } from '../store/store.js';
import { ContactsClient } from './client.js';
import { Verifier, type BatchSettings } from './verifier.js';

export interface VerifySettings extends BatchSettings {
  url: URL;
  token: string;
  timeoutMs: number;
}

export interface VerifyFlags {
  contactsUrl?: string;
  verify?: boolean;
  batchSize?: string;
  rate?: string;
  burst?: string;
  concurrency?: string;
  maxChecks?: string;
  ttl?: string;
  timeout?: string;
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "7d", "12h", "90m", "30s", "500ms". */
export function parseDuration(text: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(text.trim());
  if (!match) throw new UsageError(`${flag}: "${text}" is not a duration like 7d, 12h, 30m or 45s`);
  return Number(match[1]) * UNITS[match[2]!]!;
}

/** --ttl 7d (every status) or --ttl valid=7d,invalid=30d. */
function parseTtl(text: string | undefined): VerifySettings['ttlMs'] {
  const ttl = { valid: 7 * UNITS.d!, invalid: 7 * UNITS.d! };
  if (text === undefined) return ttl;
  for (const part of text.split(',')) {
    const [name, value] = part.includes('=') ? part.split('=') : [undefined, part];
    if (name === undefined) ttl.valid = ttl.invalid = parseDuration(value!, '--ttl');
    else if (name.trim() === 'valid' || name.trim() === 'invalid') ttl[name.trim() as 'valid'] = parseDuration(value!, '--ttl');
    else throw new UsageError(`--ttl: unknown status "${name}"; use valid=… and/or invalid=…`);
  }
  return ttl;
}

/** A number flag within [min, max], or the fallback when absent. */
export function count(value: string | undefined, flag: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max) throw new UsageError(`${flag} must be a number from ${min} to ${max}; got "${value}"`);
  return n;
}

/** Online when an endpoint is configured, unless --no-verify; --verify insists on it. */
export function verifySettings(flags: VerifyFlags, env: NodeJS.ProcessEnv): VerifySettings | undefined {
  const spec = flags.contactsUrl ?? env.WA_GUARD_CONTACTS_URL;
  if (flags.verify === false) return undefined;
  if (!spec) {
    if (flags.verify) throw new UsageError('--verify needs an endpoint: give --contacts-url URL or set WA_GUARD_CONTACTS_URL');
    return undefined;
  }
  let url: URL;
  try {
    url = new URL(spec);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http(s)');
  } catch {
    throw new UsageError(`--contacts-url: "${spec}" is not an http(s) URL`);
  }
  if (url.username || url.password) throw new UsageError('--contacts-url must not hold credentials; put the token in WA_GUARD_TOKEN');
  // A token read from a CRLF file ends in CR/LF: trimmed; other whitespace inside is refused.
  const token = (env.WA_GUARD_TOKEN ?? '').trim();
  if (!token) throw new UsageError('verifying numbers needs an API token: set WA_GUARD_TOKEN (never pass it as an argument)');
  if (/[\s\u0000-\u001f]/.test(token)) throw new UsageError('WA_GUARD_TOKEN holds spaces or control characters: check how it was set');
  const rate = count(flags.rate, '--rate', 20, 0.01, 10_000);
  return {
    url,
    token,
    batchSize: count(flags.batchSize, '--batch-size', 50, 1, 10_000),
    rate,
    burst: count(flags.burst, '--burst', Math.max(1, Math.floor(rate)), 1, 100_000),
    concurrency: count(flags.concurrency, '--concurrency', 4, 1, 256),
    maxChecks: count(flags.maxChecks, '--max-checks', Infinity, 0, Number.MAX_SAFE_INTEGER),
    ttlMs: parseTtl(flags.ttl),
    timeoutMs: flags.timeout === undefined ? 30_000 : parseDuration(flags.timeout, '--timeout'),
  };
}

export function newVerifier(settings: VerifySettings, store: Store, signal?: AbortSignal): Verifier {
  const client = new ContactsClient(settings.url, settings.token, settings.timeoutMs);
  const { url: _url, token: _token, timeoutMs: _timeout, ...batching } = settings;
  return new Verifier(client, store, {
    ...batching,
    attempts: 10,
    source: `contacts:${settings.url.host}`,
    signal,
  });
}
