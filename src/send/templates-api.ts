import { CliError } from '../errors.js';
import type { TemplateInfo } from '../gate/gate.js';
import { addTemplates } from '../gate/templates.js';
import { oneLine } from './client.js';

const MAX_PAGES = 100;
const MAX_PAGE_BYTES = 4 << 20;

/**
 * Fetches the WhatsApp Business Account's templates (GET
 * {api}/{version}/{waba-id}/message_templates, following paging.next on the
 * same host only: the token never goes anywhere else).
 */
export async function fetchTemplates(apiUrl: URL, version: string, wabaId: string, token: string, timeoutMs: number): Promise<Map<string, Map<string, TemplateInfo>>> {
  const { request } = await import('undici');
  const templates = new Map<string, Map<string, TemplateInfo>>();
  const first = new URL(`${apiUrl.pathname.replace(/\/$/, '')}/${version}/${encodeURIComponent(wabaId)}/message_templates?limit=100`, apiUrl.origin);
  const where = `${first.origin}${first.pathname}`;
  let next: URL | undefined = first;
  for (let page = 0; next && page < MAX_PAGES; page++) {
    let status: number;
    let text = '';
    try {
      const res = await request(next, { headers: { authorization: `Bearer ${token}` }, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
      status = res.statusCode;
      for await (const part of res.body) {
        text += part;
        if (text.length > MAX_PAGE_BYTES) throw new Error('answer too large');
      }
    } catch (err) {
      throw new CliError(`cannot fetch templates from ${where}: ${oneLine((err as Error).message)}`);
    }
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (status !== 200 || !Array.isArray(json?.data)) {
      const code = Number.isInteger(json?.error?.code) ? ` (code ${json.error.code})` : '';
      const hint = status === 401 || json?.error?.code === 190 ? ': check WA_GUARD_TOKEN' : status === 404 ? ': check --waba-id' : '';
      throw new CliError(`cannot fetch templates from ${where}: HTTP ${status}${code}${hint}`);
    }
    addTemplates(templates, json.data, `templates from ${where}`);
    const link = typeof json.paging?.next === 'string' ? json.paging.next : undefined;
    next = undefined;
    if (link) {
      try {
        const url = new URL(link, first);
        if (url.origin === first.origin) next = url;
      } catch { /* no further page */ }
    }
  }
  return templates;
}
