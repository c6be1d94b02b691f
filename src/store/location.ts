import { homedir } from 'node:os';
import { join } from 'node:path';

/** Where the store lives when neither --store nor WA_GUARD_STORE names one. */
export function defaultStorePath(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_STATE_HOME || join(env.HOME || homedir(), '.local', 'state');
  return join(base, 'wa-guard');
}

/** Hides a password in a URL before it reaches a message or a log (the password may itself hold '@'). */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^/]*)@/, (_, auth: string) => `//${auth.includes(':') ? auth.split(':')[0] + ':***' : '***'}@`);
}
