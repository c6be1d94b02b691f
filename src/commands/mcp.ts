import type { IO } from '../io.js';
import { mcpSettings, type McpFlags } from '../mcp/settings.js';
import { openStore } from '../store/open.js';

/** `wa-guard mcp`: the flags checked, the store opened, then the protocol on stdio or HTTP (the SDK is loaded only here). */
export async function mcpServe(flags: McpFlags, io: IO): Promise<number> {
  const settings = await mcpSettings(flags, io);
  const store = await openStore(flags.store, io.env, io.cwd);
  try {
    const { serve } = await import('../mcp/server.js');
    await serve(store, settings, io);
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
