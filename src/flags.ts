// Every flag value a command reads is parsed here, once, with its default and
// its one error message: the commands hold no parsing of their own.
import { UsageError } from './errors.js';
import { FORMATS, type Format } from './input/sniff.js';
import type { CountryCode } from 'libphonenumber-js';
import { countryFromText } from './phone.js';
import { SEND_DEFAULTS } from './defaults.js';
import { DAY_MS } from './time.js';

export { DAY_MS, SEND_DEFAULTS };

/** Flags of every command that reads a data file and writes to --out-dir (clean, send). */
export interface DataFileFlags {
  format?: string;
  delimiter?: string;
  encoding?: string;
  /** The phone column(s) (repeated, or a comma list) and the other columns clean and send read. */
  column?: string | string[];
  optoutColumn?: string;
  optinColumn?: string;
  countryColumn?: string;
  outputFormat?: string;
  outDir: string;
  safeCsv?: boolean;
  blacklist?: string;
  store?: string;
  failOn?: string;
  json?: boolean;
  quiet?: boolean;
  workers?: string;
}

export function parseFormat(value: string | undefined, flag: string): Format | undefined {
  if (value === undefined) return undefined;
  const format = value.toLowerCase() === 'ndjson' ? 'jsonl' : value.toLowerCase();
  if (!FORMATS.includes(format as Format)) throw new UsageError(`${flag} must be one of ${FORMATS.join(', ')}; got "${value}"`);
  return format as Format;
}

export function parseDelimiter(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const named: Record<string, string> = { '\\t': '\t', tab: '\t', comma: ',', semicolon: ';', pipe: '|' };
  const delimiter = named[value.toLowerCase()] ?? value;
  if (delimiter.length !== 1 || delimiter === '"' || delimiter === '\n' || delimiter === '\r') {
    throw new UsageError(`--delimiter must be one character (or "tab"); got "${value}"`);
  }
  return delimiter;
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: DAY_MS };

/** "7d", "12h", "90m", "30s", "500ms". */
export function parseDuration(text: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(text.trim());
  if (!match) throw new UsageError(`${flag}: "${text}" is not a duration like 7d, 12h, 30m or 45s`);
  return Number(match[1]) * UNITS[match[2]!]!;
}

/** A duration flag, or the fallback (ms) when absent. */
export function duration(value: string | undefined, flag: string, fallbackMs: number): number {
  return value === undefined ? fallbackMs : parseDuration(value, flag);
}

/** A number flag within [min, max], or the fallback when absent. */
export function count(value: string | undefined, flag: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max) throw new UsageError(`${flag} must be a number from ${min} to ${max}; got "${value}"`);
  return n;
}

/** --country (else WA_GUARD_COUNTRY): an ISO 3166 code or a country's English name, or undefined when neither is given. */
export function parseCountry(flag: string | undefined, env: NodeJS.ProcessEnv): CountryCode | undefined {
  const text = flag ?? env.WA_GUARD_COUNTRY;
  const country = text ? countryFromText(text) : undefined;
  if (text && !country) throw new UsageError(`--country: "${text}" is not a known ISO 3166 country code or country name (e.g. ID, BR, US, Indonesia)`);
  return country;
}

/** A secret from the environment ('' when unset); a trailing CR/LF (a CRLF file) is trimmed, other whitespace refused. */
export function envSecret(env: NodeJS.ProcessEnv, name: string): string {
  const token = (env[name] ?? '').replace(/[\r\n]+$/, '').trim();
  if (/[\s\u0000-\u001f]/.test(token)) throw new UsageError(`${name} holds spaces or control characters: check how it was set`);
  return token;
}

/** WA_GUARD_TOKEN, only from the environment, and required. */
export function readToken(env: NodeJS.ProcessEnv, purpose: string): string {
  const token = envSecret(env, 'WA_GUARD_TOKEN');
  if (!token) throw new UsageError(`${purpose} needs an access token: set WA_GUARD_TOKEN (never pass it as an argument)`);
  return token;
}

/** --phone-number-id (else WA_GUARD_PHONE_NUMBER_ID): digits, or '' when neither is given. */
export function parsePhoneNumberId(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  const id = (flag ?? env.WA_GUARD_PHONE_NUMBER_ID ?? '').trim();
  if (id && !/^\d{1,30}$/.test(id)) throw new UsageError(`--phone-number-id must be digits; got "${id}"`);
  return id;
}

/** --api-version, e.g. v21.0. */
export function parseApiVersion(flag: string | undefined): string {
  const version = flag ?? SEND_DEFAULTS.apiVersion;
  if (!/^v\d+(\.\d+)?$/.test(version)) throw new UsageError(`--api-version must look like v21.0; got "${version}"`);
  return version;
}

/** Whether an address is this machine's only (listen --insecure-no-signature, mcp --http without a token). */
export function isLoopback(host: string): boolean {
  return /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|localhost)$/i.test(host);
}

/** An http(s) base URL without credentials (the token goes in WA_GUARD_TOKEN). */
export function parseHttpUrl(spec: string, flag: string): URL {
  let url: URL;
  try {
    url = new URL(spec);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http(s)');
  } catch {
    throw new UsageError(`${flag}: "${spec}" is not an http(s) URL`);
  }
  if (url.username || url.password) throw new UsageError(`${flag} must not hold credentials; put the token in WA_GUARD_TOKEN`);
  return url;
}

/** --workers, else one per core (the main thread only cuts chunks, orders results and writes). */
export function parseWorkers(option: string | undefined, cores: number): number {
  if (option === undefined) return cores;
  const n = Number(option);
  if (!Number.isInteger(n) || n < 0 || n > 64) throw new UsageError(`--workers must be an integer from 0 to 64; got "${option}"`);
  return n;
}

const TIERS: Record<string, number> = { '250': 250, '1000': 1000, '2000': 2000, '10000': 10_000, '100000': 100_000, unlimited: Infinity };

/** --tier: Meta's messaging limit, new conversations in 24h. */
export function parseTier(value: string | undefined): number {
  const tier = TIERS[value ?? SEND_DEFAULTS.tier];
  if (tier === undefined) throw new UsageError(`--tier must be one of ${Object.keys(TIERS).join(', ')}; got "${value}"`);
  return tier;
}
