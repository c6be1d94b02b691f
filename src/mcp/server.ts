import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { Store } from '../store/store.js';
import { LiveGate } from './decide.js';
import { answerNonResponsesAtOnce } from './sdk-patch.js';
import { McpSends } from './send-one.js';
import type { McpSettings } from './settings.js';
import { toolServer, type ToolContext } from './tools.js';

/** How often the server looks for messages a person approved. */
const APPROVAL_POLL_MS = 1000;

/**
 * Serves the tools over stdio, or Streamable HTTP with --http, until the
 * client closes stdin (stdio) or a signal comes. stdout carries only the
 * protocol (stdio) or the URL (HTTP); every log line goes to stderr.
 */
export async function serve(store: Store, settings: McpSettings, io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream; signal?: AbortSignal }): Promise<void> {
  const log = (line: string): void => void io.stderr.write(`wa-guard mcp: ${line}\n`);
  answerNonResponsesAtOnce();
  const gate = new LiveGate(store, settings);
  const sends = new McpSends(store, gate, settings);
  const context: ToolContext = { store, settings, gate, sends, log };
  const poll = settings.approve && settings.sending.kind === 'live' ? setInterval(() => void sends.sendApproved(log).catch((err: Error) => log(`approvals: ${err.message}`)), APPROVAL_POLL_MS) : undefined;
  const what = `store ${store.location}; ${settings.sending.kind === 'live' ? `sending as ${settings.sending.phoneNumberId}` : settings.sending.why}${settings.readOnly ? '' : `${Number.isFinite(settings.maxSends) ? `, at most ${settings.maxSends} sends` : ''}`}`;
  try {
    if (settings.http) {
      const { serveHttp } = await import('./http.js');
      await serveHttp(context, settings.http, io, what);
    } else {
      await serveStdio(context, io.signal, what);
    }
  } finally {
    clearInterval(poll);
    await sends.close();
  }
}

async function serveStdio(context: ToolContext, signal: AbortSignal | undefined, what: string): Promise<void> {
  const server = toolServer(context);
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
    process.stdin.once('end', () => resolve());
    signal?.addEventListener('abort', () => resolve(), { once: true });
  });
  await server.connect(transport);
  context.log(`serving on stdio (${what})`);
  try {
    await closed;
  } finally {
    await server.close().catch(() => undefined);
  }
}
