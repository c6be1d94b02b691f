import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { Store } from '../store/store.js';
import { versions } from '../versions.js';
import { LiveGate } from './decide.js';
import { McpSends } from './send-one.js';
import type { McpSettings } from './settings.js';
import { registerTools } from './tools.js';

/** How often the server looks for messages a person approved. */
const APPROVAL_POLL_MS = 1000;

/**
 * Serves the tools over stdio until the client closes the stream or a signal
 * comes. stdout carries only the protocol; every log line goes to stderr.
 */
export async function serveStdio(store: Store, settings: McpSettings, stderr: NodeJS.WritableStream, signal: AbortSignal | undefined): Promise<void> {
  const log = (line: string): void => void stderr.write(`wa-guard mcp: ${line}\n`);
  const gate = new LiveGate(store, settings);
  const sends = new McpSends(store, gate, settings);
  const server = new McpServer({ name: 'wa-guard', version: versions().wa_guard }, {
    instructions: 'wa-guard gates WhatsApp messages before Meta sees them. Call check_message before sending; send with send_template or send_text and one idempotency_key per message (retry with the same key). A result with allowed:false is a decision, not a failure: follow suggested_action.',
  });
  registerTools(server, { store, settings, gate, sends, log });
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
    process.stdin.once('end', () => resolve());
    signal?.addEventListener('abort', () => resolve(), { once: true });
  });
  await server.connect(transport);
  log(`serving on stdio (store ${store.location}; ${settings.sending.kind === 'live' ? `sending as ${settings.sending.phoneNumberId}` : settings.sending.why}${settings.readOnly ? '' : `${Number.isFinite(settings.maxSends) ? `, at most ${settings.maxSends} sends` : ''}`})`);
  const poll = settings.approve && settings.sending.kind === 'live' ? setInterval(() => void sends.sendApproved(log).catch((err: Error) => log(`approvals: ${err.message}`)), APPROVAL_POLL_MS) : undefined;
  try {
    await closed;
  } finally {
    clearInterval(poll);
    await server.close().catch(() => undefined);
    await sends.close();
  }
}
