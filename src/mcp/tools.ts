import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { Store } from '../store/store.js';
import type { LiveGate } from './decide.js';
import { McpToolError } from './errors.js';
import { listChange } from './lists.js';
import { campaignSummary, checkNumber, explainError, getContact, listTemplates, messageStatus } from './reads.js';
import type { McpSends } from './send-one.js';
import type { McpSettings } from './settings.js';
import { versions } from '../versions.js';

export interface ToolContext {
  store: Store;
  settings: McpSettings;
  gate: LiveGate;
  sends: McpSends;
  log: (line: string) => void;
}

const phone = z.string().min(1).max(64).describe('the number, in international form (+6281234567890) or national with the server\'s -c');
const template = z.object({
  name: z.string().min(1).max(512),
  language: z.string().min(2).max(15).describe('e.g. en_US'),
  params: z.array(z.string().max(1024)).max(50).optional().describe('the body parameters, in order'),
});
const category = z.enum(['marketing', 'utility', 'authentication']);
const key = z.string().min(1).max(128).describe('one key per message: a retry with the same key never sends it twice; the same key for another message is an error');
const decisionShape = {
  allowed: z.boolean(),
  decision: z.enum(['send', 'defer', 'block']).optional(),
  reason: z.string().optional(),
  detail: z.string().optional(),
  not_before: z.string().nullable().optional(),
  suggested_action: z.string().optional(),
};
const sendOutput = z.looseObject({ ...decisionShape, idempotency_key: z.string(), status: z.string(), wamid: z.string().optional(), repeated: z.boolean().optional() });
const any = z.looseObject({});

const READ = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false } as const;
const LIST_CHANGE = { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false } as const;

type Result = { content: { type: 'text'; text: string }[]; structuredContent: Record<string, unknown> };

/** A result both ways: the structured object, and a short text line for clients that show text. */
function result(summary: string, data: object): Result {
  return { content: [{ type: 'text', text: summary }], structuredContent: data as Record<string, unknown> };
}

/** Runs a tool: misuse becomes an MCP error the agent can act on; anything else a one-line tool error (logged to stderr). */
function run<A>(name: string, c: ToolContext, body: (args: A) => Promise<Result>): (args: A) => Promise<Result> {
  return async (args) => {
    try {
      return await body(args);
    } catch (err) {
      if (err instanceof McpToolError) throw new McpError(ErrorCode.InvalidParams, `${name}: ${err.message}`);
      c.log(`${name}: ${(err as Error).message}`);
      throw err;
    }
  };
}

const sentence = (r: Record<string, unknown>): string =>
  `${String(r.status ?? r.decision)}${r.reason ? `: ${String(r.reason)}` : ''}${r.detail ? ` (${String(r.detail)})` : ''}${r.repeated ? ' [repeat of an earlier call: nothing sent]' : ''}`;

/** The tools: reads always; list changes and sends unless --read-only. */
function registerTools(server: McpServer, c: ToolContext): void {
  const { store, settings } = c;
  server.registerTool('check_number', {
    description: 'What wa-guard knows of a number: E.164, wa_id, validity, line type, cached WhatsApp status and its age, blacklist entry, opt-out.',
    inputSchema: { phone, country: z.string().min(2).max(60).optional().describe('the country of a national number: an ISO code (ID) or an English name (Indonesia)') },
    outputSchema: any, annotations: { title: 'Check a number', ...READ },
  }, run('check_number', c, async ({ phone: p, country: cc }) => {
    const r = await checkNumber(store, settings, p, cc);
    return result(r.valid ? `${r.e164}: ${r.blacklist ? 'blacklisted' : r.opt_out ? 'opted out' : r.whatsapp?.status ?? 'not checked'}` : `invalid: ${r.detail}`, r);
  }));

  server.registerTool('check_message', {
    description: 'May this message be sent now? The same gate as `wa-guard send --dry-run` on the store\'s live state: decision send/defer/block, reason, detail, not_before, and a suggested action (e.g. approved templates of that language). Sends nothing.',
    inputSchema: { to: phone, template: template.optional(), text: z.string().max(4096).optional(), category: category.optional() },
    outputSchema: z.looseObject(decisionShape), annotations: { title: 'Check a message', ...READ },
  }, run('check_message', c, async (args) => {
    const checked = await c.gate.check(c.gate.message(args));
    const d = checked.decision;
    const suggested = c.gate.suggestion(checked);
    const r = { allowed: d.decision === 'send', decision: d.decision, reason: d.reason, detail: d.detail, not_before: d.notBefore === undefined ? null : new Date(d.notBefore).toISOString(), ...(d.category ? { category: d.category } : {}), ...(suggested ? { suggested_action: suggested } : {}) };
    return result(sentence(r), r);
  }));

  for (const name of ['get_message_status', 'get_contact', 'explain_error', 'list_templates', 'campaign_report'] as const) registerRead(server, c, name);
  if (settings.readOnly) return;

  const sendNote = settings.dryRun ? ` Rehearsal only on this server (${settings.sending.kind === 'off' ? settings.sending.why : ''}).` : '';
  server.registerTool('send_template', {
    description: `Send an approved template to one number, exactly once per idempotency_key: the gate decides first; a refusal is a result with allowed:false.${sendNote}`,
    inputSchema: { to: phone, name: z.string().min(1).max(512), language: z.string().min(2).max(15), params: z.array(z.string().max(1024)).max(50).optional(), category: category.optional(), idempotency_key: key },
    outputSchema: sendOutput, annotations: { title: 'Send a template', readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  }, run('send_template', c, async (a) => {
    const r = await c.sends.send({ to: a.to, template: { name: a.name, language: a.language, params: a.params }, category: a.category }, a.idempotency_key);
    return result(sentence(r), r);
  }));
  server.registerTool('send_text', {
    description: `Send a free-form text to one number inside its 24h care window, exactly once per idempotency_key; outside it the gate refuses and names approved templates.${sendNote}`,
    inputSchema: { to: phone, body: z.string().min(1).max(4096), idempotency_key: key },
    outputSchema: sendOutput, annotations: { title: 'Send a text', readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  }, run('send_text', c, async (a) => {
    const r = await c.sends.send({ to: a.to, text: a.body }, a.idempotency_key);
    return result(sentence(r), r);
  }));
  for (const list of ['blacklist', 'optout'] as const) {
    for (const add of [true, false]) {
      const name = `${list}_${add ? 'add' : 'remove'}`;
      server.registerTool(name, {
        description: `${add ? 'Add a number to' : 'Remove a number from'} the store's ${list === 'blacklist' ? 'blacklist (never messaged)' : 'opt-outs'}${add ? '' : ': it may be messaged again'}.`,
        inputSchema: { phone, reason: z.string().max(200).optional(), ...(list === 'optout' && add ? { scope: z.enum(['all', 'marketing']).optional() } : {}) },
        outputSchema: any,
        annotations: { title: name, ...LIST_CHANGE, destructiveHint: !add },
      }, run(name, c, async (a: { phone: string; reason?: string; scope?: 'all' | 'marketing' }) => {
        const r = await listChange(store, settings, { list, add, ...a });
        return result(`${r.wa_id}: ${r.changed ? (add ? 'added to' : 'removed from') : 'was not on'} the ${list}`, r);
      }));
    }
  }
}

function registerRead(server: McpServer, c: ToolContext, name: 'get_message_status' | 'get_contact' | 'explain_error' | 'list_templates' | 'campaign_report'): void {
  const { store, settings } = c;
  const annotations = { title: name, ...READ };
  switch (name) {
    case 'get_message_status':
      server.registerTool(name, {
        description: 'What became of a message sent through wa-guard: by the idempotency_key of the send call, or by its wamid (journal status, then sent / delivered / read / failed from webhooks).',
        inputSchema: { idempotency_key: z.string().max(128).optional(), wamid: z.string().max(256).optional() }, outputSchema: any, annotations,
      }, run(name, c, async (a) => { const r = await messageStatus(store, a); return result('status' in r ? String(r.status) : 'not found', r); }));
      return;
    case 'get_contact':
      server.registerTool(name, {
        description: 'A contact as the store knows it: care window open until, last inbound, opt-out, blacklist, strikes, the last message delivered and its status.',
        inputSchema: { to: phone }, outputSchema: any, annotations,
      }, run(name, c, async (a) => { const r = await getContact(store, settings, a.to); return result(`${r.e164}: window ${r.care_window_open_until ? `open until ${r.care_window_open_until}` : 'closed'}`, r); }));
      return;
    case 'explain_error':
      server.registerTool(name, {
        description: 'What a Meta error code means, its causes, what to do, and what wa-guard does about it (the `wa-guard explain` text).',
        inputSchema: { code: z.union([z.number().int().min(0).max(999_999_999), z.string().regex(/^\d{1,9}$/)]).describe('the code, e.g. 131026 (a number, or its digits as text)') }, outputSchema: any, annotations,
      }, run(name, c, async (a) => { const r = explainError(Number(a.code)); return result(`${r.code} ${r.title}: ${r.todo}`, r); }));
      return;
    case 'list_templates':
      server.registerTool(name, {
        description: 'The templates the server knows (--templates or --waba-id): name, language, category, status, parameter count.',
        inputSchema: { status: z.string().max(32).optional(), language: z.string().max(15).optional() }, outputSchema: any, annotations,
      }, run(name, c, async (a) => { const r = listTemplates(settings, a.status, a.language); return result(`${r.templates.length} templates`, r); }));
      return;
    case 'campaign_report':
      server.registerTool(name, {
        description: 'The summary of a campaign\'s report (funnel, failures, by template); campaign "mcp" holds the messages sent through this server.',
        inputSchema: { campaign: z.string().min(1).max(64) }, outputSchema: any, annotations,
      }, run(name, c, async (a) => { const r = await campaignSummary(store, a.campaign); return result(`${a.campaign}: ${r.funnel.sent} sent, ${r.funnel.delivered} delivered`, r); }));
  }
}

const INSTRUCTIONS = 'wa-guard gates WhatsApp messages before Meta sees them. Call check_message before sending; send with send_template or send_text and one idempotency_key per message (retry with the same key). A result with allowed:false is a decision, not a failure: follow suggested_action.';

/** One MCP server with every tool, over the shared gate and sends (stdio has one; HTTP makes one a request). */
export function toolServer(context: ToolContext): McpServer {
  const server = new McpServer({ name: 'wa-guard', version: versions().wa_guard }, { instructions: INSTRUCTIONS });
  registerTools(server, context);
  return server;
}
