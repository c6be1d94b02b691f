import type { RedisOptions } from 'ioredis';

/**
 * A redis:// or rediss:// URL, read by hand: a password may hold an unencoded
 * '/', '@' or '#' (the last '@' ends it), which a URL parser would take for
 * the host or a fragment, print back in its warnings (Node's DEP0170), and
 * lose. The connection options for ioredis, never the URL itself.
 */
export function redisOptions(url: string): RedisOptions {
  const { scheme, auth, rest } = split(url);
  const options: RedisOptions = {};
  if (auth !== undefined) {
    const colon = auth.indexOf(':');
    const user = colon < 0 ? auth : auth.slice(0, colon);
    if (user) options.username = decode(user);
    if (colon >= 0) options.password = decode(auth.slice(colon + 1));
  }
  const hostPort = /^(\[[^\]]*\]|[^:/?#]*)(?::(\d+))?(?:\/(\d+))?/.exec(rest);
  const host = hostPort?.[1] ?? '';
  options.host = host.startsWith('[') ? host.slice(1, -1) : host || '127.0.0.1';
  if (hostPort?.[2]) options.port = Number(hostPort[2]);
  if (hostPort?.[3]) options.db = Number(hostPort[3]);
  if (scheme === 'rediss') options.tls = { servername: options.host };
  return options;
}

/** Whether the URL carries a password. */
export function hasPassword(url: string): boolean {
  const { auth } = split(url);
  return auth !== undefined && auth.includes(':') && auth.indexOf(':') < auth.length - 1;
}

/** The URL with its password hidden, whatever it holds: for messages, the summary and logs. */
export function redactRedisUrl(url: string): string {
  const { scheme, auth, rest } = split(url);
  if (auth === undefined) return url;
  const colon = auth.indexOf(':');
  return `${scheme}://${colon < 0 ? '***' : `${auth.slice(0, colon)}:***`}@${rest}`;
}

function split(url: string): { scheme: string; auth: string | undefined; rest: string } {
  const m = /^([a-z][a-z0-9+.-]*):\/\/(.*)$/is.exec(url);
  if (!m) return { scheme: '', auth: undefined, rest: url };
  const body = m[2]!;
  const at = body.lastIndexOf('@');
  return { scheme: m[1]!.toLowerCase(), auth: at < 0 ? undefined : body.slice(0, at), rest: at < 0 ? body : body.slice(at + 1) };
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text; // a bare '%' in a password: taken as it is
  }
}
