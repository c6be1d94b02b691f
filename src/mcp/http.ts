import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import { createHash, timingSafeEqual } from 'node:crypto';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { untilAborted } from '../time.js';
import type { McpSettings } from './settings.js';
import { toolServer, type ToolContext } from './tools.js';

/** The one path the protocol is served on. */
const PATH = '/mcp';

/**
 * Streamable HTTP, stateless: each request gets its own MCP server over the
 * shared gate, journal and pacing (exactly once per idempotency key holds
 * across requests as across processes: it is the store's). A bearer token,
 * when set, is required on every request. Runs until a signal.
 */
export async function serveHttp(context: ToolContext, http: NonNullable<McpSettings['http']>, io: { stdout: NodeJS.WritableStream; signal?: AbortSignal }, what: string): Promise<void> {
  const server = createServer((req, res) => void answer(req, res, context, http.token).catch((err: Error) => {
    context.log(`request failed: ${err.message}`);
    if (!res.headersSent) refuse(res, 500, 'internal error');
  }));
  server.listen(http.port, http.host);
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : http.port;
  const host = http.host.includes(':') ? `[${http.host}]` : http.host;
  io.stdout.write(`http://${host}:${port}${PATH}\n`);
  context.log(`serving Streamable HTTP on ${host}:${port}${PATH}${http.token ? ' (bearer token required)' : ''} (${what})`);
  await untilAborted(io.signal);
  server.close();
  server.closeAllConnections();
}

async function answer(req: IncomingMessage, res: ServerResponse, context: ToolContext, token: string | undefined): Promise<void> {
  if (new URL(req.url ?? '/', 'http://x').pathname !== PATH) return refuse(res, 404, `not found: the protocol is at ${PATH}`);
  if (token !== undefined && !bearerMatches(req.headers.authorization, token)) {
    res.setHeader('www-authenticate', 'Bearer');
    return refuse(res, 401, 'missing or wrong bearer token (WA_GUARD_MCP_TOKEN)');
  }
  const server = toolServer(context);
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  res.on('close', () => {
    void transport.close();
    void server.close();
  });
  await server.connect(transport);
  await transport.handleRequest(req, res);
}

/** Compared as hashes, in constant time: the token's length is not given away either. */
function bearerMatches(header: string | undefined, token: string): boolean {
  const given = /^Bearer\s+(.+)$/i.exec(header ?? '')?.[1]?.trim() ?? '';
  const digest = (text: string): Buffer => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(given), digest(token));
}

function refuse(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }));
}
