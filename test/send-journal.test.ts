import { describe, expect, it } from 'vitest';
import { hostname } from 'node:os';
import { journalValue, parseJournalEntry, type JournalEntry } from '../src/send/journal.js';
import { journalEntryAfterStatus, type StatusReport } from '../src/send/journal-status.js';
import { DAMAGED_ENTRY, rowStanding, STALE_INFLIGHT_MS } from '../src/send/standing.js';

const NOW = Date.parse('2026-03-04T05:06:07.000Z');
const iso = (ms: number): string => new Date(ms).toISOString();
const WA = '6281234567890';
/** Claims of this test's own (live) process, and of a pid no process has. */
const LIVE = `${hostname()}:${process.pid}`;
const DEAD = `${hostname()}:${2 ** 22 + 1}`;
const entry = (e: Partial<JournalEntry>): JournalEntry => ({ status: 'sent', attempts: 1, at: iso(NOW - 60_000), to: WA, ...e });

describe('what a journal entry means for a row about to be sent', () => {
  it.each<[string, JournalEntry | undefined, boolean, string, string | undefined, boolean?]>([
    ['no entry: send it', undefined, false, 'claimable', undefined],
    ['sent before: stands', entry({ wamid: 'wamid.A' }), false, 'settled', 'sent'],
    ['failed before: stands', entry({ status: 'failed', code: 131026 }), false, 'settled', 'failed'],
    ['unknown: stands', entry({ status: 'unknown' }), false, 'settled', 'unknown'],
    ['unknown with --resend-unknown: send it', entry({ status: 'unknown' }), true, 'claimable', undefined],
    ['an id used for another number: blocked', entry({ to: '6280000000000' }), true, 'settled', 'blocked'],
    ['deferred, not yet due: the journal answers', entry({ status: 'deferred', not_before: iso(NOW + 1000) }), false, 'answered', 'deferred'],
    ['deferred and due: send it', entry({ status: 'deferred', not_before: iso(NOW - 1000) }), false, 'claimable', undefined],
    ['in flight elsewhere (no owner, within the lease): the journal answers', entry({ status: 'inflight', at: iso(NOW - 1000) }), true, 'answered', 'unknown'],
    ['in flight in a dead run (no owner, lease over): unknown, whatever the gate says', entry({ status: 'inflight', at: iso(NOW - STALE_INFLIGHT_MS) }), false, 'settled', 'unknown'],
    ['in flight in a dead run, --resend-unknown: send it', entry({ status: 'inflight', at: iso(NOW - STALE_INFLIGHT_MS) }), true, 'claimable', undefined],
    ['claimed by a live process: the journal answers', entry({ status: 'inflight', at: iso(NOW - 1000), owner: LIVE }), false, 'answered', 'unknown'],
    ['claimed by a dead process, never written: send it', entry({ status: 'inflight', at: iso(NOW - 1000), owner: DEAD }), false, 'claimable', undefined],
    ['written by a dead process: unknown at once', entry({ status: 'inflight', at: iso(NOW - 1000), owner: DEAD, written: true }), false, 'settled', 'unknown'],
    ['written by a dead process, --resend-unknown: send it', entry({ status: 'inflight', at: iso(NOW - 1000), owner: DEAD, written: true }), true, 'claimable', undefined],
    ['claimed on another host within the lease: the journal answers', entry({ status: 'inflight', at: iso(NOW - 1000), owner: 'elsewhere:1' }), false, 'answered', 'unknown'],
    ['claimed on another host, lease over, never written: send it', entry({ status: 'inflight', at: iso(NOW - STALE_INFLIGHT_MS), owner: 'elsewhere:1' }), false, 'claimable', undefined],
    ['failed 131016 after every try: stands', entry({ status: 'failed', code: 131016 }), false, 'settled', 'failed'],
    ['failed 131016 after every try, --retry-failed: send it', entry({ status: 'failed', code: 131016 }), false, 'claimable', undefined, true],
    ['failed 80007 (an earlier version gave up), --retry-failed: send it', entry({ status: 'failed', code: 80007 }), false, 'claimable', undefined, true],
    ['failed without a code (an earlier version gave up on the network), --retry-failed: send it', entry({ status: 'failed' }), false, 'claimable', undefined, true],
    ['failed 131026, --retry-failed: stands', entry({ status: 'failed', code: 131026 }), false, 'settled', 'failed', true],
    ['failed 131050 (opt-out), --retry-failed: stands', entry({ status: 'failed', code: 131050 }), false, 'settled', 'failed', true],
    ['failed as a webhook said, --retry-failed: stands', entry({ status: 'failed', wamid: 'wamid.A' }), false, 'settled', 'failed', true],
  ])('%s', (_, e, resendUnknown, kind, status, retryFailed = false) => {
    const standing = rowStanding(e, WA, NOW, resendUnknown, { retryFailed });
    expect(standing.kind).toBe(kind);
    expect(standing.kind === 'claimable' ? undefined : standing.outcome.status).toBe(status);
  });

  it('a row in flight in another process is worth asking again', () => {
    const standing = rowStanding(entry({ status: 'inflight', at: iso(NOW - 1000) }), WA, NOW, false);
    expect(standing).toEqual({ kind: 'answered', outcome: { status: 'unknown', attempts: 1, busy: true, reason: 'in flight in another process' } });
  });
});

describe('what a status webhook does to a journal entry', () => {
  const at = new Date(NOW);
  const stored = (e: Partial<JournalEntry>): string => JSON.stringify(entry(e));
  it.each<[string, string | undefined, StatusReport, string | undefined, Record<string, unknown> | undefined]>([
    ['no entry: nothing', undefined, { status: 'delivered', wamid: 'wamid.B' }, undefined, undefined],
    ['delivered settles an unknown row as sent', stored({ status: 'unknown' }), { status: 'delivered', wamid: 'wamid.B' }, 'journal_unknown_to_sent', { status: 'sent', wamid: 'wamid.B', reason: 'accepted: a delivered webhook arrived' }],
    ['read settles an in-flight row as sent', stored({ status: 'inflight' }), { status: 'read', wamid: 'wamid.B' }, 'journal_unknown_to_sent', { status: 'sent', wamid: 'wamid.B' }],
    ['delivered leaves a sent row', stored({ wamid: 'wamid.B' }), { status: 'delivered', wamid: 'wamid.B' }, undefined, undefined],
    ['failed marks a sent row failed, with the code', stored({ wamid: 'wamid.B' }), { status: 'failed', wamid: 'wamid.B', code: 131026 }, 'journal_failed', { status: 'failed', code: 131026, title: 'Message undeliverable', reason: 'failed, as a status webhook said' }],
    ['failed without a code', stored({ status: 'unknown' }), { status: 'failed', wamid: 'wamid.B' }, 'journal_failed', { status: 'failed', wamid: 'wamid.B' }],
    ['failed leaves a failed row', stored({ status: 'failed' }), { status: 'failed', wamid: 'wamid.B', code: 131026 }, undefined, undefined],
  ])('%s', (_, value, report, change, fields) => {
    const after = journalEntryAfterStatus(value, report, at);
    expect(after?.change).toBe(change);
    if (fields) expect(JSON.parse(after!.value)).toMatchObject({ ...fields, at: at.toISOString(), to: WA });
  });

  it('keeps the entry\'s own fields in their order, as ingest wrote them', () => {
    const after = journalEntryAfterStatus(stored({ status: 'unknown', attempts: 2 }), { status: 'sent', wamid: 'wamid.C' }, at);
    expect(after!.value).toMatch(new RegExp(`^\\{"status":"sent","attempts":2,"at":"${at.toISOString()}","to":"${WA}","wamid":"wamid.C","reason":"accepted: a sent webhook arrived","sum":"[0-9a-f]{16}"\\}$`));
  });
});

describe('the checksum of a journal entry', () => {
  const sent = entry({ wamid: 'wamid.A', sent_at: iso(NOW), attempts: 1 });

  it('covers every field an entry has, also fields this version does not know', () => {
    const value = journalValue({ ...sent, request: 'written' } as JournalEntry);
    expect(parseJournalEntry(value)).toMatchObject({ status: 'sent', wamid: 'wamid.A' });
    expect(parseJournalEntry(value.replace('"written"', '"w"')).reason).toBe(DAMAGED_ENTRY);
  });

  it('an entry whose bytes changed reads as unknown and is never sent again, not even with --resend-unknown', () => {
    const value = journalValue(sent);
    for (const [from, to] of [['"sent"', '"deferred"'], ['"attempts":1', '"attempts":7'], ['wamid.A', 'wamid.B'], ['"to"', '"tO"']]) {
      const damaged = parseJournalEntry(value.replace(from!, to!));
      expect(damaged).toMatchObject({ status: 'unknown', reason: DAMAGED_ENTRY });
      expect(rowStanding(damaged, WA, NOW, true)).toMatchObject({ kind: 'settled', outcome: { status: 'unknown' } });
    }
    expect(parseJournalEntry('{"status":"sent","attem')).toMatchObject({ status: 'unknown', reason: DAMAGED_ENTRY });
  });

  it('entries written before checksums are read as they are', () => {
    expect(parseJournalEntry(JSON.stringify(sent))).toMatchObject({ status: 'sent', wamid: 'wamid.A' });
  });
});
