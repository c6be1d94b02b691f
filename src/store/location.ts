import { homedir } from 'node:os';
import { join } from 'node:path';

/** Where the store lives when neither --store nor WA_GUARD_STORE names one. */
export function defaultStorePath(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_STATE_HOME || join(env.HOME || homedir(), '.local', 'state');
  return join(base, 'wa-guard');
}
