import { UsageError } from '../errors.js';
import { count, DAY_MS, parseDuration, parseHttpUrl, readToken } from '../flags.js';
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

/** --ttl 7d (every status) or --ttl valid=7d,invalid=30d. */
function parseTtl(text: string | undefined): VerifySettings['ttlMs'] {
  const ttl = { valid: 7 * DAY_MS, invalid: 7 * DAY_MS };
  if (text === undefined) return ttl;
  for (const part of text.split(',')) {
    const [name, value] = part.includes('=') ? part.split('=') : [undefined, part];
    if (name === undefined) ttl.valid = ttl.invalid = parseDuration(value!, '--ttl');
    else if (name.trim() === 'valid' || name.trim() === 'invalid') ttl[name.trim() as 'valid'] = parseDuration(value!, '--ttl');
    else throw new UsageError(`--ttl: unknown status "${name}"; use valid=… and/or invalid=…`);
  }
  return ttl;
}

/** Online when an endpoint is configured, unless --no-verify; --verify insists on it. */
export function verifySettings(flags: VerifyFlags, env: NodeJS.ProcessEnv): VerifySettings | undefined {
  const spec = flags.contactsUrl ?? env.WA_GUARD_CONTACTS_URL;
  if (flags.verify === false) return undefined;
  if (!spec) {
    if (flags.verify) throw new UsageError('--verify needs an endpoint: give --contacts-url URL or set WA_GUARD_CONTACTS_URL');
    return undefined;
  }
  const url = parseHttpUrl(spec, '--contacts-url');
  const token = readToken(env, 'verifying numbers');
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
