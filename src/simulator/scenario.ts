import { UsageError } from '../errors.js';
import type { TemplateSpec, WorldConfig } from './world.js';

/** What a setting's value must be: a number in a range, one of some words, or a shape. */
type Check =
  | { type: 'number'; min: number; max: number }
  | { type: 'enum'; values: readonly string[] }
  | { type: 'string' | 'boolean' | 'strings' | 'errors' | 'templates' | 'faults' };

const fraction: Check = { type: 'number', min: 0, max: 1 };
const strings: Check = { type: 'strings' };

/** Every setting a scenario may hold (WorldConfig's names; not the app secret: that only from WA_GUARD_APP_SECRET), and what its value must be. */
const SETTINGS: Record<string, Check> = {
  seed: { type: 'number', min: 0, max: 2 ** 32 - 1 },
  token: { type: 'string' },
  mode: { type: 'enum', values: ['truthful', 'always-valid'] },
  registered: strings,
  unregistered: strings,
  registeredFraction: fraction,
  optedOut: strings,
  errors: { type: 'errors' },
  phoneNumberIds: strings,
  templates: { type: 'templates' },
  mps: { type: 'number', min: 1, max: 100_000 },
  pairIntervalMs: { type: 'number', min: 0, max: 3_600_000 },
  contactsRps: { type: 'number', min: 0, max: 100_000 },
  contactsMax: { type: 'number', min: 1, max: 100_000 },
  processingFirst: { type: 'boolean' },
  undeliverable: { type: 'enum', values: ['sync', 'async'] },
  faults: { type: 'faults' },
  webhooksOut: { type: 'string' },
  webhooksUrl: { type: 'string' },
  delivered: fraction,
  read: fraction,
  replied: fraction,
  statusDelayS: { type: 'number', min: 0, max: 3600 },
};

const FAULTS: Record<string, Check> = {
  reset: fraction,
  serverError: fraction,
  slow: fraction,
  slowMs: { type: 'number', min: 0, max: 600_000 },
  error131000: fraction,
  error131016: fraction,
  error131049: fraction,
  resetAfterAccept: fraction,
};

const TEMPLATE_CATEGORIES = ['marketing', 'utility', 'authentication'];

/** `registered-fraction` -> `registeredFraction`; `error-131000` -> `error131000`; camelCase stays. */
const camel = (key: string): string => key.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/**
 * A --scenario file's settings, checked: a JSON object whose keys are
 * WorldConfig's names, in camelCase or kebab-case, with values of the right
 * type and range. Anything else is an error naming the file and the key, so a
 * typo never silently leaves a default in place.
 */
export function parseScenario(json: unknown, file: string): Partial<WorldConfig> {
  const fail = (why: string): never => {
    throw new UsageError(`--scenario ${file}: ${why}`);
  };
  return readObject(json, SETTINGS, '', fail) as Partial<WorldConfig>;
}

function readObject(value: unknown, checks: Record<string, Check>, path: string, fail: (why: string) => never): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(`${path || 'the file'} must be a JSON object`);
  const out: Record<string, unknown> = {};
  for (const [given, v] of Object.entries(value as Record<string, unknown>)) {
    const key = camel(given);
    const where = path ? `${path}.${given}` : given;
    const check = checks[key];
    if (!check) fail(`unknown key "${where}"${hint(key, checks)}; known: ${Object.keys(checks).join(', ')}`);
    if (key in out) fail(`"${where}" is given twice (camelCase and kebab-case)`);
    out[key] = readValue(v, check!, where, fail);
  }
  return out;
}

function readValue(value: unknown, check: Check, where: string, fail: (why: string) => never): unknown {
  switch (check.type) {
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value) || value < check.min || value > check.max) fail(`"${where}" must be a number from ${check.min} to ${check.max}; got ${JSON.stringify(value)}`);
      return value;
    case 'enum':
      if (typeof value !== 'string' || !check.values.includes(value)) fail(`"${where}" must be ${check.values.join(' or ')}; got ${JSON.stringify(value)}`);
      return value;
    case 'string':
    case 'boolean':
      if (typeof value !== check.type) fail(`"${where}" must be a ${check.type}; got ${JSON.stringify(value)}`);
      return value;
    case 'strings':
      if (!Array.isArray(value) || !value.every((s) => typeof s === 'string')) fail(`"${where}" must be a list of strings`);
      return value;
    case 'errors':
      if (typeof value !== 'object' || value === null || Array.isArray(value) || !Object.values(value).every((c) => Number.isInteger(c))) {
        fail(`"${where}" must map numbers to Meta error codes, e.g. {"+6281234567890": 131048}`);
      }
      return value;
    case 'faults':
      return readObject(value, FAULTS, where, fail);
    case 'templates':
      if (!Array.isArray(value) || !value.every(isTemplate)) fail(`"${where}" must be a list of {name, language, category (${TEMPLATE_CATEGORIES.join(', ')}), params}`);
      return value;
  }
}

function isTemplate(t: unknown): t is TemplateSpec {
  const o = t as Record<string, unknown>;
  return typeof o === 'object' && o !== null && typeof o.name === 'string' && typeof o.language === 'string'
    && TEMPLATE_CATEGORIES.includes(o.category as string) && Number.isInteger(o.params) && (o.params as number) >= 0;
}

/** " (did you mean registered?)" for a key one or two letters off a known one. */
function hint(key: string, checks: Record<string, Check>): string {
  const near = Object.keys(checks).find((k) => distance(k.toLowerCase(), key.toLowerCase()) <= 2);
  return near ? ` (did you mean ${near}?)` : '';
}

/** Levenshtein distance, for the hint only. */
function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length]!;
}
