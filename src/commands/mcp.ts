import type { IO } from '../io.js';
import { mcpSettings, type McpFlags } from '../mcp/settings.js';
import { openStore } from '../store/open.js';

/** `wa-guard mcp`: the flags checked, the store opened, then the protocol on stdio (the SDK is loaded only here). */
export async function mcpServe(flags: McpFlags, io: IO): Promise<number> {
  const settings = await mcpSettings(flags, io);
  const store = await openStore(flags.store, io.env, io.cwd);
  try {
    const { serveStdio } = await import('../mcp/server.js');
    await serveStdio(store, settings, io.stderr, io.signal);
    return 0;
  } finally {
    await store.sync().catch(() => undefined);
    await store.close();
  }
}

export async function mcpDecide(verb: 'approve' | 'reject', token: string | undefined, flags: { store?: string; json?: boolean }, io: IO): Promise<number> {
  const { decideApproval } = await import('../mcp/approvals.js');
  const store = await openStore(flags.store, io.env, io.cwd);
  try {
    return await decideApproval(store, verb, token, Boolean(flags.json), io);
  } finally {
    await store.close();
  }
}
