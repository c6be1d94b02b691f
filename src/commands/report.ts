import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { EXIT, UsageError } from '../errors.js';
import { parseDuration } from '../flags.js';
import type { IO } from '../io.js';
import { Outputs } from '../output/outputs.js';
import { readCampaign } from '../report/campaigns.js';
import { matchedConditions, parseReportFailOn, type Condition } from '../report/fail-on.js';
import { Figures, campaignReport, type CampaignReport } from '../report/figures.js';
import { reportHtml } from '../report/html.js';
import { listCampaigns } from '../report/list.js';
import { MESSAGE_COLUMNS, messageLine } from '../report/messages-csv.js';
import { forEachMessage } from '../report/messages.js';
import { campaignListText, campaignText } from '../report/text.js';
import { fileCampaignId } from '../send/journal.js';
import { BLACKLIST } from '../store/lists.js';
import { openStore } from '../store/open.js';
import type { Store } from '../store/store.js';

export interface ReportFlags {
  store?: string;
  json?: boolean;
  outDir?: string;
  safeCsv?: boolean;
  failOn?: string;
  attribution?: string;
  quiet?: boolean;
}

/** `wa-guard report [CAMPAIGN]`: the campaigns in the store, or what became of one campaign's messages. */
export async function report(spec: string | undefined, flags: ReportFlags, io: IO): Promise<number> {
  const attributionMs = parseDuration(flags.attribution ?? '72h', '--attribution');
  const conditions = parseReportFailOn(flags.failOn);
  if (spec === undefined && (conditions.length || flags.outDir !== undefined)) throw new UsageError('--fail-on and --out-dir are for one campaign: give its id or its file');
  const id = spec === undefined ? undefined : await campaignIdOf(spec, io.cwd);
  const store = await openStore(flags.store, io.env, io.cwd, { existing: true });
  try {
    if (id === undefined) {
      const lines = await listCampaigns(store);
      if (!flags.quiet) io.stdout.write(flags.json ? JSON.stringify({ campaigns: lines }, null, 2) + '\n' : campaignListText(lines, store.location));
      return EXIT.OK;
    }
    const r = await campaign(store, id, flags, { attributionMs, conditions }, io);
    if (flags.json) io.stdout.write(JSON.stringify(r, null, 2) + '\n');
    else if (!flags.quiet) io.stdout.write(campaignText(r));
    const matched = r.fail_on?.matched ?? [];
    if (matched.length === 0) return EXIT.OK;
    io.stderr.write(`wa-guard: --fail-on: ${matched.map((m) => `${m.condition} (${m.value})`).join(', ')}\n`);
    return EXIT.FAIL_ON;
  } finally {
    await store.close();
  }
}

/** A campaign id, or a campaign file (its id as send computes it: a hash of its bytes). */
async function campaignIdOf(spec: string, cwd: string): Promise<string> {
  const isFile = await stat(resolve(cwd, spec)).then((s) => s.isFile(), () => false);
  if (isFile) return fileCampaignId(resolve(cwd, spec));
  if (!/^[\w.-]{1,64}$/.test(spec)) throw new UsageError(`report: "${spec}" is neither a campaign id nor a file`);
  return spec;
}

type Judged = CampaignReport & { fail_on?: { conditions: string[]; matched: { condition: string; value: number }[] } };

/** One pass over the campaign's messages: the figures, and (--out-dir) messages.csv as it goes; then --fail-on, report.json and report.html. */
async function campaign(store: Store, id: string, flags: ReportFlags, judge: { attributionMs: number; conditions: Condition[] }, io: IO): Promise<Judged> {
  const { attributionMs, conditions } = judge;
  const outputs = flags.outDir === undefined ? undefined : await Outputs.create(flags.outDir, io.cwd);
  try {
    const csv = outputs && await outputs.file('messages.csv');
    await csv?.write(MESSAGE_COLUMNS.join(',') + '\n');
    const figures = new Figures(attributionMs / 1000);
    const safe = Boolean(flags.safeCsv);
    let lines = '';
    await forEachMessage(store, id, (m) => {
      figures.add(m);
      if (csv) lines += messageLine(m, safe, attributionMs / 1000);
    }, {
      afterBatch: async () => {
        if (csv && lines) await csv.write(lines);
        lines = '';
      },
      alone: true,
    });
    const record = await readCampaign(store, id);
    if (figures.messages === 0 && !record) throw new UsageError(`report: no campaign ${id} in the store (${store.location}); \`wa-guard report\` lists them`);
    const report = campaignReport(id, record, figures, await blacklisted(store, figures.undeliverable), attributionMs / 3_600_000);
    const r: Judged = conditions.length ? { ...report, fail_on: { conditions: conditions.map((c) => c.text), matched: matchedConditions(conditions, report) } } : report;
    if (outputs) {
      await (await outputs.file('report.json')).write(JSON.stringify(r, null, 2) + '\n');
      await (await outputs.file('report.html')).write(reportHtml(r));
      await outputs.commit();
    }
    return r;
  } finally {
    await outputs?.abort();
  }
}

/** How many of these numbers are on the blacklist now. */
async function blacklisted(store: Store, waIds: readonly string[]): Promise<number> {
  const unique = [...new Set(waIds)];
  let listed = 0;
  for (let i = 0; i < unique.length; i += 5000) {
    for (const v of await store.get(BLACKLIST, unique.slice(i, i + 5000))) if (v !== undefined) listed++;
  }
  return listed;
}
