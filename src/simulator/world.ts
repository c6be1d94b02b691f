import { normalizePhone } from '../phone.js';
import { DAY_MS } from '../time.js';

export type ContactsMode = 'truthful' | 'always-valid';

export interface TemplateSpec {
  name: string;
  language: string;
  category: 'marketing' | 'utility' | 'authentication';
  /** Number of {{n}} body parameters. */
  params: number;
  /** Meta's review status (default APPROVED): PAUSED, DISABLED, REJECTED, PENDING… are refused as Meta refuses them. */
  status?: string;
}

/** Everything that decides how the simulated Meta answers; flags and scenario files fill it. */
export interface WorldConfig {
  seed: number;
  token: string;
  mode: ContactsMode;
  /** Numbers on WhatsApp, in any format; the rest are decided by `registeredFraction`. */
  registered: string[];
  /** Numbers not on WhatsApp, whatever the fraction says. */
  unregistered: string[];
  /** Share (0-1) of other numbers that are on WhatsApp, decided by a hash so a file has a known split. */
  registeredFraction: number;
  /** Numbers that stopped marketing messages. */
  optedOut: string[];
  /** Numbers whose sends always fail with the given Meta error code (e.g. {"+6281234567890": 131048}). */
  errors: Record<string, number>;
  phoneNumberIds: string[];
  templates: TemplateSpec[];
  /** Messages per second per phone number id before 130429. */
  mps: number;
  /** Least time between two messages to the same user before 131056. */
  pairIntervalMs: number;
  /** /contacts requests per second before 429 (0: no limit). */
  contactsRps: number;
  /** Most numbers in one /contacts request before 400. */
  contactsMax: number;
  /** Answer "processing" the first time a number is checked even for blocking "wait" (as some gateways do). */
  processingFirst: boolean;
  /** 131026 as an error response ("sync"), or as 200 then a failed status webhook ("async", as Meta does). */
  undeliverable: 'sync' | 'async';
  /** Of the messages to numbers on WhatsApp: the share delivered; of those, the share read; of those, the share the user answers. */
  delivered: number;
  read: number;
  replied: number;
  /** Seconds (Meta's timestamps) from sent to delivered, delivered to read, and read to the reply. */
  statusDelayS: number;
  /** Fractions (0-1) of requests that meet each fault. */
  faults: {
    reset: number;
    serverError: number;
    slow: number;
    slowMs: number;
    error131000: number;
    error131016: number;
    error131049: number;
    /** Share of sends accepted, then answered with a reset connection: the sender cannot know (unknown outcome). */
    resetAfterAccept: number;
  };
  webhooksOut: string | undefined;
  /** Where to POST webhook payloads, signed with `appSecret` (X-Hub-Signature-256). */
  webhooksUrl: string | undefined;
  appSecret: string | undefined;
}

export const DEFAULT_TOKEN = 'wa-guard-simulator-token';

export function defaultWorld(): WorldConfig {
  return {
    seed: 1,
    token: DEFAULT_TOKEN,
    mode: 'truthful',
    registered: [],
    unregistered: [],
    registeredFraction: 0.8,
    optedOut: [],
    errors: {},
    phoneNumberIds: ['100000000000001'],
    templates: [
      { name: 'hello_world', language: 'en_US', category: 'utility', params: 0 },
      { name: 'order_update', language: 'en_US', category: 'utility', params: 2 },
      { name: 'spring_sale', language: 'en_US', category: 'marketing', params: 1 },
      { name: 'login_code', language: 'en_US', category: 'authentication', params: 1 },
    ],
    mps: 80,
    pairIntervalMs: 6000,
    contactsRps: 0,
    contactsMax: 1000,
    processingFirst: false,
    undeliverable: 'async',
    delivered: 1,
    read: 0,
    replied: 0,
    statusDelayS: 0,
    faults: { reset: 0, serverError: 0, slow: 0, slowMs: 2000, error131000: 0, error131016: 0, error131049: 0, resetAfterAccept: 0 },
    webhooksOut: undefined,
    webhooksUrl: undefined,
    appSecret: undefined,
  };
}

/** The wa_id of a number written in any format, read as international even without '+' (as Meta does). */
export function toWaId(input: string): string | undefined {
  const normalized = normalizePhone('+' + String(input).trim().replace(/^\+/, ''));
  return normalized.ok ? normalized.waId : undefined;
}

/**
 * The wa_id Meta answers for a number, which is not always its E.164 digits:
 * Mexican mobiles come back as 521…, and Brazilian mobiles in area codes 31
 * and up come back without the ninth digit.
 */
export function metaWaId(waId: string): string {
  if (waId.startsWith('52') && waId.length === 12) return '521' + waId.slice(2);
  if (waId.startsWith('55') && waId.length === 13 && waId[4] === '9' && Number(waId.slice(2, 4)) >= 31) {
    return waId.slice(0, 4) + waId.slice(5);
  }
  return waId;
}

/** A stable hash, so the same number is always (un)registered for a seed. */
function hash(text: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  // FNV's high bits vary little between similar strings: mix them (murmur3's finalizer).
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A seeded random sequence (mulberry32), so fault injection is reproducible. */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The simulated users and their state: who is on WhatsApp, who opted out, open care windows. */
export class World {
  private readonly registered: Set<string>;
  private readonly unregistered: Set<string>;
  private readonly optedOut: Set<string>;
  /** wa_id -> time of the user's last message (ms). */
  readonly inbound = new Map<string, number>();
  /** Numbers a no_wait check has seen once (answered "processing" the first time). */
  readonly checked = new Set<string>();
  /** wa_id -> time of the last message sent to it (ms). */
  readonly lastSent = new Map<string, number>();
  /** wa_id -> messages accepted for it: a recipient messaged twice shows here. */
  readonly sentCount = new Map<string, number>();
  private readonly errors = new Map<string, number>();

  constructor(readonly config: WorldConfig) {
    const ids = (list: string[]): Set<string> => new Set(list.map((n) => toWaId(n)).filter((n): n is string => n !== undefined));
    this.registered = ids(config.registered);
    this.unregistered = ids(config.unregistered);
    this.optedOut = ids(config.optedOut);
    for (const [number, code] of Object.entries(config.errors ?? {})) {
      const waId = toWaId(number);
      if (waId !== undefined && Number.isInteger(code)) this.errors.set(waId, code);
    }
  }

  /** The error code forced for this recipient, if any. */
  errorFor(waId: string): number | undefined {
    return this.errors.get(waId);
  }

  isRegistered(waId: string): boolean {
    if (this.registered.has(waId)) return true;
    if (this.unregistered.has(waId)) return false;
    return hash(waId, this.config.seed) / 4294967296 < this.config.registeredFraction;
  }

  isOptedOut(waId: string): boolean {
    return this.optedOut.has(waId);
  }

  inWindow(waId: string, now: number): boolean {
    const last = this.inbound.get(waId);
    return last !== undefined && now - last < DAY_MS;
  }

  template(name: string, language: string): TemplateSpec | undefined {
    return this.config.templates.find((t) => t.name === name && t.language === language);
  }
}
