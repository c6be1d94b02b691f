import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { UsageError, describeFsError } from '../errors.js';
import type { IO } from '../io.js';
import { startSimulator } from '../simulator/server.js';
import { DEFAULT_TOKEN, type WorldConfig } from '../simulator/world.js';

export interface SimulateOptions {
  host: string;
  port: string;
  scenario?: string;
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
}

function number(value: string | undefined, flag: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max) throw new UsageError(`${flag} must be a number from ${min} to ${max}; got "${value}"`);
  return n;
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
  let scenario: Partial<WorldConfig> = {};
  if (options.scenario) {
    let text: string;
    try {
      text = await readFile(resolve(io.cwd, options.scenario), 'utf8');
    } catch (err) {
      throw new UsageError(describeFsError(err, 'cannot read --scenario', options.scenario));
    }
    try {
      scenario = JSON.parse(text) as Partial<WorldConfig>;
    } catch (err) {
      throw new UsageError(`--scenario ${options.scenario}: not valid JSON: ${(err as Error).message}`);
    }
  }
  if (options.mode !== undefined && options.mode !== 'truthful' && options.mode !== 'always-valid') {
    throw new UsageError(`--mode must be truthful or always-valid; got "${options.mode}"`);
  }
  if (options.undeliverable !== undefined && options.undeliverable !== 'sync' && options.undeliverable !== 'async') {
    throw new UsageError(`--undeliverable must be sync or async; got "${options.undeliverable}"`);
  }
  const flags: Partial<WorldConfig> = {
    token: options.token ?? io.env.WA_GUARD_TOKEN,
    mode: options.mode as WorldConfig['mode'] | undefined,
    seed: number(options.seed, '--seed', 0, 2 ** 32 - 1),
    registeredFraction: number(options.registeredFraction, '--registered-fraction', 0, 1),
    registered: list(options.registered),
    unregistered: list(options.unregistered),
    optedOut: list(options.optedOut),
    phoneNumberIds: options.phoneNumberId,
    mps: number(options.mps, '--mps', 1, 100_000),
    pairIntervalMs: options.pairInterval === undefined ? undefined : number(options.pairInterval, '--pair-interval', 0, 3600)! * 1000,
    contactsRps: number(options.contactsRps, '--contacts-rps', 0, 100_000),
    contactsMax: number(options.contactsMax, '--contacts-max', 1, 100_000),
    undeliverable: options.undeliverable as WorldConfig['undeliverable'] | undefined,
    processingFirst: options.processingFirst,
    errors: options.errorFor === undefined ? undefined : errorsFor(options.errorFor),
    webhooksOut: options.webhooksOut ? resolve(io.cwd, options.webhooksOut) : undefined,
    webhooksUrl: options.webhooksUrl,
    appSecret: io.env.WA_GUARD_APP_SECRET?.trim() || undefined,
  };
  const faults: Partial<WorldConfig['faults']> = {
    reset: number(options.faultReset, '--fault-reset', 0, 1),
    serverError: number(options.fault5xx, '--fault-5xx', 0, 1),
    slow: number(options.faultSlow, '--fault-slow', 0, 1),
    slowMs: number(options.slowMs, '--slow-ms', 0, 600_000),
    error131000: number(options.error131000, '--error-131000', 0, 1),
    error131016: number(options.error131016, '--error-131016', 0, 1),
    error131049: number(options.error131049, '--error-131049', 0, 1),
    resetAfterAccept: number(options.faultResetAfter, '--fault-reset-after', 0, 1),
  };
  const defined = <T extends object>(o: T): Partial<T> => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
  return { ...scenario, ...defined(flags), faults: { ...scenario.faults, ...defined(faults) } as WorldConfig['faults'] };
}

/** Runs the simulator until SIGINT/SIGTERM; prints its URL as the first line of stdout. */
export async function simulate(options: SimulateOptions, io: IO): Promise<number> {
  const world = await worldFromOptions(options, io);
  const port = number(options.port, '--port', 0, 65535)!;
  let simulator;
  try {
    simulator = await startSimulator(world, { host: options.host, port });
  } catch (err) {
    throw new UsageError(`cannot listen on ${options.host}:${port}: ${(err as Error).message}`);
  }
  io.stdout.write(`${simulator.url}\n`);
  const token = world.token ?? DEFAULT_TOKEN;
  io.stderr.write(
    `wa-guard simulate: Meta API simulator on ${simulator.url} (stop with Ctrl-C)\n` +
    `  token: ${world.token ? 'from ' + (options.token ? '--token' : 'WA_GUARD_TOKEN') : `${token} (export WA_GUARD_TOKEN=${token})`}\n` +
    `  POST ${simulator.url}/v1/contacts   POST ${simulator.url}/v21.0/${simulator.world.config.phoneNumberIds[0]}/messages\n` +
    `  GET  ${simulator.url}/_sim/stats    POST ${simulator.url}/_sim/inbound    POST ${simulator.url}/_sim/reset    POST ${simulator.url}/_sim/token\n` +
    '  a rehearsal\'s answers land in the store: give wa-guard its own --store for it, not your real one\n',
  );
  await new Promise<void>((resolve) => {
    if (!io.signal) return; // nothing can stop it: run forever
    if (io.signal.aborted) resolve();
    io.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  await simulator.close();
  return 0;
}
