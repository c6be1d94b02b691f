import { UsageError } from '../errors.js';
import { readJsonFile } from '../input/json-file.js';
import { CATEGORIES, type Category, type TemplateInfo } from './gate.js';

interface MetaTemplate {
  name?: unknown;
  language?: unknown;
  category?: unknown;
  status?: unknown;
  components?: { type?: string; text?: string }[];
}

/** Body parameters a template takes: the highest {{n}} in its body text. */
function bodyParams(components: MetaTemplate['components']): number {
  const body = components?.find((c) => String(c.type).toUpperCase() === 'BODY');
  let most = 0;
  for (const match of (body?.text ?? '').matchAll(/\{\{\s*(\d+)\s*\}\}/g)) most = Math.max(most, Number(match[1]));
  return most;
}

/** Reads what Meta's message_templates endpoint returns ({"data": [...]}, or the bare array) from a file. */
export async function loadTemplates(file: string, cwd: string): Promise<Map<string, Map<string, TemplateInfo>>> {
  const json = await readJsonFile(file, cwd, '--templates');
  const list = Array.isArray(json) ? json : (json as { data?: unknown })?.data;
  if (!Array.isArray(list)) throw new UsageError(`--templates ${file}: expected Meta's message_templates answer: {"data": [templates]}`);
  return addTemplates(new Map(), list, `--templates ${file}`);
}

/** Adds templates as Meta lists them to the map (name -> language -> template). */
export function addTemplates(templates: Map<string, Map<string, TemplateInfo>>, list: unknown[], source: string): Map<string, Map<string, TemplateInfo>> {
  list.forEach((item, i) => {
    const t = (item ?? {}) as MetaTemplate;
    const category = String(t.category ?? '').toLowerCase() as Category;
    if (typeof t.name !== 'string' || typeof t.language !== 'string' || !CATEGORIES.includes(category)) {
      throw new UsageError(`${source}: template ${i + 1} needs a name, a language and a category (marketing, utility or authentication)`);
    }
    if (!templates.has(t.name)) templates.set(t.name, new Map());
    templates.get(t.name)!.set(t.language, {
      name: t.name, language: t.language, category, status: String(t.status ?? 'APPROVED'), params: bodyParams(Array.isArray(t.components) ? t.components : undefined),
    });
  });
  return templates;
}
