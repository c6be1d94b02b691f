import { SEND_DEFAULTS } from '../defaults.js';
import { resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { readJsonFile } from '../input/json-file.js';
import { count } from '../flags.js';
import { untilAborted } from '../time.js';
import { loadTemplates } from '../gate/templates.js';
import type { IO } from '../io.js';
import { parseScenario } from '../simulator/scenario.js';
import { startSimulator, type Simulator } from '../simulator/server.js';
import { DEFAULT_TOKEN, type WorldConfig } from '../simulator/world.js';

export interface SimulateOptions {
  host: string;
  port: string;
  scenario?: string;
  templates?: string;
  token?: string;
  mode?: string;
  seed?: string;
  registeredFraction?: string;
  registered?: string;
  unregistered?: string;
  optedOut?: string;
  phoneNumberId?: string[];
  mps?: string;
  pairInterval?: string;
  contactsRps?: string;
  contactsMax?: string;
  undeliverable?: string;
  processingFirst?: boolean;
  faultReset?: string;
  fault5xx?: string;
  faultSlow?: string;
  slowMs?: string;
  error131000?: string;
  error131016?: string;
  error131049?: string;
  faultResetAfter?: string;
  errorFor?: string;
  webhooksOut?: string;
  webhooksUrl?: string;
  delivered?: string;
  read?: string;
  replied?: string;
  statusDelay?: string;
}

/** A number flag that, when absent, leaves the scenario's value (or the default) in place. */
function optionalCount(value: string | undefined, flag: string, min: number, max: number): number | undefined {
  return value === undefined ? undefined : count(value, flag, 0, min, max);
}

/** --error-for "+6281234567890=131048,+447400123456=190". */
function errorsFor(value: string): Record<string, number> {
  const errors: Record<string, number> = {};
  for (const part of value.split(',').map((p) => p.trim()).filter(Boolean)) {
    const [number, code] = part.split('=');
    if (!number || !/^\d+$/.test(code ?? '')) throw new UsageError(`--error-for: "${part}" is not NUMBER=CODE`);
    errors[number] = Number(code);
  }
  return errors;
}

const list = (value: string | undefined): string[] | undefined => value?.split(',').map((s) => s.trim()).filter(Boolean);

/** Flags win over the scenario file, which wins over the defaults. */
export async function worldFromOptions(options: SimulateOptions, io: IO): Promise<Partial<WorldConfig>> {
  const scenario = await readScenario(options.scenario, io);
  const flags = worldFromFlags(options, io);
  const faults = faultsFromFlags(options);
  if (options.templates) flags.templates = await templatesFile(options.templates, io);
  const defined = <T extends object>(o: T): Partial<T> => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
  return { ...scenario, ...defined(flags), faults: { ...scenario.faults, ...defined(faults) } as WorldConfig['faults'] };
}

/** --templates: Meta's message_templates answer (as send --templates reads it), served with each template's own status. */
async function templatesFile(path: string, io: IO): Promise<WorldConfig['templates']> {
  const byName = await loadTemplates(path, io.cwd);
  return [...byName.values()].flatMap((languages) => [...languages.values()].map((t) => ({ name: t.name, language: t.language, category: t.category, params: t.params, status: t.status })));
}

/** --scenario: a JSON file of WorldConfig settings, checked (camelCase or kebab-case keys). */
async function readScenario(path: string | undefined, io: IO): Promise<Partial<WorldConfig>> {
  if (!path) return {};
  return parseScenario(await readJsonFile(path, io.cwd, '--scenario'), path);
}

/** The world's settings from flags and the environment; undefined where none was given. */
function worldFromFlags(options: SimulateOptions, io: IO): Partial<WorldConfig> {
  if (options.mode !== undefined && options.mode !== 'truthful' && options.mode !== 'always-valid') {
    throw new UsageError(`--mode must be truthful or always-valid; got "${options.mode}"`);
  }
  if (options.undeliverable !== undefined && options.undeliverable !== 'sync' && options.undeliverable !== 'async') {
    throw new UsageError(`--undeliverable must be sync or async; got "${options.undeliverable}"`);
  }
  return {
    token: options.token ?? io.env.WA_GUARD_TOKEN,
    mode: options.mode as WorldConfig['mode'] | undefined,
    seed: optionalCount(options.seed, '--seed', 0, 2 ** 32 - 1),
    registeredFraction: optionalCount(options.registeredFraction, '--registered-fraction', 0, 1),
    registered: list(options.registered),
    unregistered: list(options.unregistered),
    optedOut: list(options.optedOut),
    phoneNumberIds: options.phoneNumberId,
    mps: optionalCount(options.mps, '--mps', 1, 100_000),
    pairIntervalMs: options.pairInterval === undefined ? undefined : count(options.pairInterval, '--pair-interval', 0, 0, 3600) * 1000,
    contactsRps: optionalCount(options.contactsRps, '--contacts-rps', 0, 100_000),
    contactsMax: optionalCount(options.contactsMax, '--contacts-max', 1, 100_000),
    undeliverable: options.undeliverable as WorldConfig['undeliverable'] | undefined,
    processingFirst: options.processingFirst,
    errors: options.errorFor === undefined ? undefined : errorsFor(options.errorFor),
    delivered: optionalCount(options.delivered, '--delivered', 0, 1),
    read: optionalCount(options.read, '--read', 0, 1),
    replied: optionalCount(options.replied, '--replied', 0, 1),
    statusDelayS: optionalCount(options.statusDelay, '--status-delay', 0, 3600),
    webhooksOut: options.webhooksOut ? resolve(io.cwd, options.webhooksOut) : undefined,
    webhooksUrl: options.webhooksUrl,
    appSecret: io.env.WA_GUARD_APP_SECRET?.trim() || undefined,
  };
}

function faultsFromFlags(options: SimulateOptions): Partial<WorldConfig['faults']> {
  return {
    reset: optionalCount(options.faultReset, '--fault-reset', 0, 1),
    serverError: optionalCount(options.fault5xx, '--fault-5xx', 0, 1),
    slow: optionalCount(options.faultSlow, '--fault-slow', 0, 1),
    slowMs: optionalCount(options.slowMs, '--slow-ms', 0, 600_000),
    error131000: optionalCount(options.error131000, '--error-131000', 0, 1),
    error131016: optionalCount(options.error131016, '--error-131016', 0, 1),
    error131049: optionalCount(options.error131049, '--error-131049', 0, 1),
    resetAfterAccept: optionalCount(options.faultResetAfter, '--fault-reset-after', 0, 1),
  };
}

/** Runs the simulator until SIGINT/SIGTERM; prints its URL as the first line of stdout. */
export async function simulate(options: SimulateOptions, io: IO): Promise<number> {
  const world = await worldFromOptions(options, io);
  const simulator = await startListening(world, options.host, count(options.port, '--port', 0, 0, 65535));
  io.stdout.write(`${simulator.url}\n`);
  io.stderr.write(banner(simulator, world, options));
  await untilAborted(io.signal);
  await simulator.close();
  return 0;
}

async function startListening(world: Partial<WorldConfig>, host: string, port: number): Promise<Simulator> {
  try {
    return await startSimulator(world, { host, port });
  } catch (err) {
    throw new UsageError(`cannot listen on ${host}:${port}: ${(err as Error).message}`);
  }
}

/** Where to point wa-guard, and with which token. */
function banner(simulator: Simulator, world: Partial<WorldConfig>, options: SimulateOptions): string {
  const { url } = simulator;
  const token = world.token ?? DEFAULT_TOKEN;
  return `wa-guard simulate: Meta API simulator on ${url} (stop with Ctrl-C)\n` +
    `  token: ${world.token ? 'from ' + (options.token ? '--token' : 'WA_GUARD_TOKEN') : `${token} (export WA_GUARD_TOKEN=${token})`}\n` +
    `  POST ${url}/v1/contacts   POST ${url}/${SEND_DEFAULTS.apiVersion}/${simulator.world.config.phoneNumberIds[0]}/messages\n` +
    `  GET  ${url}/_sim/stats    POST ${url}/_sim/inbound    POST ${url}/_sim/reset    POST ${url}/_sim/token\n` +
    '  a rehearsal\'s answers land in the store: give wa-guard its own --store for it, not your real one\n';
}
