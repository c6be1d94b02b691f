import { open, readFile, rm } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { CliError, EXIT } from '../errors.js';
import { headerKey } from '../input/columns.js';
import { journalKey, parseJournalEntry, type Journal, type RowResult } from '../send/journal.js';

/**
 * Written to the out-dir (and synced) before a live send's first request, and
 * removed once its summary is written (or if it made no request): a run killed
 * before its summary still says which store holds its journal.
 */
const SEND_MARK = '.wa-guard-send.json';

/** What the last live send of this campaign into the out-dir left there. */
export interface EarlierRun {
  /** The store identities its summary and its start mark recorded (none: from before identities). */
  identities: string[];
  /** Journal key -> what its results file says of each row it reports sent or unknown. */
  outcomes: Map<string, RowResult>;
  resultsName: string;
}

/**
 * The out-dir's summary.json and results file, when its last run was a live
 * send of this campaign (another campaign's rows are not this one's); a file
 * that cannot be read is no record of anything sent.
 */
export async function readEarlierRun(outDir: string, campaignId: string): Promise<EarlierRun | undefined> {
  const mark = await readJson(join(outDir, SEND_MARK)) as { campaign_id?: unknown; identity?: unknown } | undefined;
  const marked = mark?.campaign_id === campaignId && typeof mark.identity === 'string' ? [mark.identity] : [];
  const summary = await readJson(join(outDir, 'summary.json')) as { command?: unknown; campaign_id?: unknown; outputs?: { results?: unknown }; store?: { identity?: unknown } } | undefined;
  if (summary?.command !== 'send' || summary.campaign_id !== campaignId) return marked.length ? { identities: marked, outcomes: new Map(), resultsName: 'results' } : undefined;
  const identities = typeof summary.store?.identity === 'string' ? [...marked, summary.store.identity] : marked;
  const results = typeof summary.outputs?.results === 'string' ? resolve(outDir, basename(summary.outputs.results)) : undefined;
  let text: string | undefined;
  try {
    if (results) text = await readFile(results, 'utf8');
  } catch { /* moved away: nothing to protect */ }
  const outcomes = text === undefined ? new Map<string, RowResult>() : earlierOutcomes(text, results!, campaignId);
  return { identities, outcomes, resultsName: results ? basename(results) : 'results' };
}

async function readJson(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8'));
  } catch {
    return undefined; // absent or unreadable: no record
  }
}

/** Marks the out-dir as holding a live send of the campaign from the store of that identity, on disk before any request. */
export async function markSendStarted(outDir: string, campaignId: string, identity: string): Promise<void> {
  const file = await open(join(outDir, SEND_MARK), 'w');
  try {
    await file.writeFile(JSON.stringify({ campaign_id: campaignId, identity }) + '\n');
    await file.sync();
  } finally {
    await file.close();
  }
}

/** Removes the mark: the run's summary records the identity, or it sent nothing. */
export async function unmarkSend(outDir: string): Promise<void> {
  await rm(join(outDir, SEND_MARK), { force: true });
}

/** Rows a results file reports sent or unknown, keyed as the journal keys them (the id column, else the row number). */
export function earlierOutcomes(text: string, path: string, campaignId: string): Map<string, RowResult> {
  const rows = readRows(text, path);
  const outcomes = new Map<string, RowResult>();
  const cell = cellReader();
  rows.forEach((row, i) => {
    const status = cell(row, 'status');
    if (status !== 'sent' && status !== 'unknown') return;
    const key = journalKey(campaignId, cell(row, 'id') || String(i + 1));
    const wamid = cell(row, 'wamid');
    outcomes.set(key, {
      status, attempts: Number(cell(row, 'attempts')) || 1, ...(wamid ? { wamid } : {}),
      reason: `${status === 'sent' ? 'sent' : 'no clear answer'} in an earlier run, as ${basename(path)} in this --out-dir says; not sent again`,
    });
  });
  return outcomes;
}

function readRows(text: string, path: string): Record<string, unknown>[] {
  try {
    if (path.endsWith('.json')) return JSON.parse(text) as Record<string, unknown>[];
    if (path.endsWith('.jsonl')) return text.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as Record<string, unknown>);
    // The results keep the input's dialect: the delimiter is what stands before the added wamid column.
    const header = text.slice(0, text.search(/\r?\n/));
    const delimiter = header[header.lastIndexOf('wamid') - 1] ?? ',';
    return parseCsv(text, { columns: true, bom: true, delimiter, relax_column_count: true, skip_empty_lines: true }) as Record<string, unknown>[];
  } catch {
    return []; // not readable as results: it records nothing
  }
}

/** A row's cell by column name, as headerKey reads names; each key's headerKey worked out once (the rows repeat the same few). */
function cellReader(): (row: Record<string, unknown>, name: string) => string {
  const keyOf = new Map<string, string>();
  const key = (name: string): string => {
    let k = keyOf.get(name);
    if (k === undefined) keyOf.set(name, k = headerKey(name));
    return k;
  };
  return (row, name) => {
    if (!row || typeof row !== 'object') return '';
    const wanted = key(name);
    const column = Object.keys(row).find((k) => key(k) === wanted);
    const value = column === undefined ? undefined : row[column];
    return value === undefined || value === null || typeof value === 'object' ? '' : String(value);
  };
}

/**
 * Refuses a resume whose store is not the one the out-dir's last send used
 * (another identity, or a journal that does not know rows its results report
 * sent): the journal no longer says which rows went, and sending would message
 * them again.
 */
export async function refuseForeignStore(earlier: EarlierRun, identity: string, journal: Journal, outDir: string, campaignId: string): Promise<void> {
  const advice = `point --store at the store that run used; to send this campaign again on purpose, give a new --out-dir (or another --campaign-id)`;
  const other = earlier.identities.find((id) => id !== identity);
  if (other !== undefined) {
    throw new CliError(`--out-dir ${outDir}: its last send of campaign ${campaignId} used another store (identity ${other}; this one is ${identity}): the store was emptied, replaced or restarted without its data, so its journal cannot say which rows were sent; nothing was sent: ${advice}`, EXIT.USAGE);
  }
  const keys = [...earlier.outcomes.keys()];
  const entries = keys.length ? await journal.read(keys) : [];
  const unknown = entries.filter((e) => e === undefined).length;
  if (unknown) {
    throw new CliError(`--out-dir ${outDir}: ${earlier.resultsName} says ${unknown} rows of campaign ${campaignId} were sent (or may have been), but the store's journal has no record of them: the store lost its data (or that run is older than the journal's 90 days); nothing was sent: ${advice}`, EXIT.USAGE);
  }
}

/** Whether the journal's entry for a row is to be trusted over what the earlier results say of it: it says as much, or more (a final answer). */
export function journalAgrees(seen: string | undefined, earlier: RowResult): boolean {
  if (seen === undefined) return false;
  const { status } = parseJournalEntry(seen);
  // An entry still in flight is what a results file reports as unknown (the run died before its answer).
  const reported = status === 'inflight' ? 'unknown' : status;
  return reported === earlier.status || status === 'sent' || status === 'failed';
}
