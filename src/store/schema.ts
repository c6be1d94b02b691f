/**
 * Every namespace of the store: what its keys and values are, how long an
 * entry lives, and the one module that builds its entries (others read it;
 * `also` names those that delete or rewrite entries). Every value is a string.
 *
 * The names are what is stored: renaming one orphans every entry under it.
 * Redis keys are `wa-guard:<namespace>:<key>`; the embedded store keeps one
 * LMDB sub-database per namespace.
 */
export interface NamespaceSpec {
  readonly key: string;
  readonly value: string;
  readonly ttl: string;
  readonly writer: string;
  readonly also?: string;
  /**
   * The embedded store commits it without waiting for the disk: a power cut
   * may lose its last entries. Only for what can be asked again (the status
   * cache); every other namespace is synced on commit.
   */
  readonly batched?: true;
}

export const SCHEMA = {
  blacklist: {
    key: 'wa_id',
    value: 'JSON BlacklistEntry {reason, source, first_seen, last_seen, strikes, expires?}',
    ttl: 'none; --undeliverable-ttl (90 days) for 131026 strikes',
    writer: 'store/lists.ts (blacklistWrite, for verify, send, webhooks and the blacklist command; blacklistEntryWrite for blacklist import; a user_changed_number lists the old number, reason "changed number to +<new>")',
    also: 'webhooks/learn.ts deletes undeliverable entries a delivery disproves; commands/lists.ts removes',
  },
  optout: {
    key: 'wa_id',
    value: 'JSON OptOutEntry {source, at, scope?: all | marketing, reason?}',
    ttl: 'none',
    writer: 'store/lists.ts (optOutWrite)',
    also: 'webhooks/learn.ts deletes on START and marketing resumed; commands/lists.ts removes',
  },
  strikes: {
    key: 'wa_id',
    value: 'JSON {strikes, last_seen}: 131026 answers below the blacklist threshold',
    ttl: 'none',
    writer: 'store/lists.ts (strikeWrites)',
    also: 'webhooks/learn.ts deletes on delivery',
  },
  inbound: {
    key: 'wa_id',
    value: "ISO time of the user's last message (opens the 24h care window)",
    ttl: '30 days',
    writer: 'webhooks/learn.ts',
  },
  capped: {
    key: 'wa_id',
    value: 'ISO time Meta last answered 131049 (per-user marketing cap)',
    ttl: '1 day',
    writer: 'send/sender.ts',
    also: 'webhooks/learn.ts (from failed status webhooks)',
  },
  conversations: {
    key: 'wa_id',
    value: 'ISO time a conversation was opened outside a care window (counts toward the tier)',
    ttl: '1 day',
    writer: 'commands/send.ts',
  },
  journal: {
    key: '<campaign id>:<row key>',
    value: 'JSON JournalEntry (send/journal.ts)',
    ttl: '90 days (JOURNAL_TTL_MS)',
    writer: 'send/sender.ts',
    also: 'webhooks/learn.ts marks rows sent or failed as status webhooks say',
  },
  wamids: {
    key: 'wamid',
    value: 'journal key of the row sent as that message',
    ttl: '90 days (JOURNAL_TTL_MS)',
    writer: 'send/sender.ts',
  },
  lifecycle: {
    key: '<campaign id>:<row key> (the journal key)',
    value: 'JSON Lifecycle {state: accepted | sent | delivered | read | failed, template?, language?, sent?, delivered?, read?, failed? (Meta\'s times, s), code?, title?}',
    ttl: '90 days (LIFECYCLE_TTL_MS, as the journal)',
    writer: 'report/lifecycle.ts (entries for report/campaign-journal.ts at acceptance and webhooks/outcomes.ts from status webhooks)',
  },
  reached: {
    key: 'wa_id',
    value: 'JSON Reached {key (journal key of the message last delivered to the user), at (s), replied?, opted_out?, opt_out_by?}',
    ttl: '90 days',
    writer: 'report/lifecycle.ts (entries for webhooks/outcomes.ts)',
  },
  replies: {
    key: '<campaign id>:<row key> (the journal key)',
    value: 'JSON Replies {delivered, replied?, opted_out?, opt_out_by?} (s): the answer the message got; report applies --attribution',
    ttl: '90 days',
    writer: 'report/lifecycle.ts (entries for webhooks/outcomes.ts)',
  },
  campaigns: {
    key: 'campaign id',
    value: 'JSON CampaignRecord {id, name (the file), first_send, last_send, rows, blocked, deferred (by reason)}',
    ttl: '90 days from the last send',
    writer: 'report/campaigns.ts (for commands/send.ts)',
  },
  pair: {
    key: '<phone number id>:<wa_id>',
    value: 'ms since the epoch before which the next message to that number waits',
    ttl: 'the pair interval + 1 minute',
    writer: 'send/sender.ts',
  },
  status: {
    key: "E.164 ('+' and digits)",
    value: 'JSON CachedStatus {status: valid | invalid, wa_id?, checked_at, source}',
    ttl: '--ttl (7 days) from /contacts; 30 days from a delivery',
    writer: 'store/status-cache.ts (entries for verify/verifier.ts and webhooks/learn.ts)',
    also: 'commands/lists.ts (cache forget, cache clear); webhooks/learn.ts drops the old number of a user_changed_number',
    batched: true,
  },
  'webhook-seen': {
    key: 'st:<wamid>:failed | in:<message id> | pref:<wa_id>:<time s>:<stop>',
    value: "'1': the event was applied (a repeat of it is not applied twice)",
    ttl: '30 days',
    writer: 'webhooks/learn.ts',
  },
  'webhook-evidence': {
    key: 'wa_id',
    value: 'time (s) of the newest delivery or 131026 applied, so older events cannot undo newer ones',
    ttl: '365 days',
    writer: 'webhooks/learn.ts',
  },
  'webhook-preference': {
    key: 'wa_id',
    value: "time (s) of the user's newest preference event applied (user_preferences stop/resume, a stop or start word), so an older one cannot undo it",
    ttl: 'none',
    writer: 'webhooks/learn.ts',
  },
  'changed-number': {
    key: 'wa_id (the old number)',
    value: 'JSON {to: the new wa_id, at: ISO time of the user_changed_number message}',
    ttl: 'none',
    writer: 'webhooks/learn.ts',
  },
  'template-status': {
    key: '<name>:<language>',
    value: "JSON {event, at (s), disable_at? (s): when a FLAGGED template is disabled}: the template's last status event, which the gate reads",
    ttl: 'none',
    writer: 'webhooks/learn.ts',
  },
  'webhook-inbox': {
    key: 'sha256 (hex) of the body',
    value: 'a webhook body received and not yet applied (UTF-8)',
    ttl: 'none (deleted once applied)',
    writer: 'webhooks/inbox.ts',
  },
  'mcp-requests': {
    key: 'idempotency_key (of a send tool call)',
    value: 'JSON {fingerprint (sha256 of the recipient and content), at, outcome?: the gate\'s block, final for the key}',
    ttl: '90 days (JOURNAL_TTL_MS, as the journal entry mcp:<key>)',
    writer: 'mcp/requests.ts',
  },
  'mcp-approvals': {
    key: 'approval token (random, hex)',
    value: 'JSON PendingApproval {key, to, summary, body, template?, status: pending | approved | rejected | sent, at, decided_at?}',
    ttl: '7 days',
    writer: 'mcp/approvals.ts (the server adds and sends; `wa-guard mcp approve | reject` decides)',
  },
  rate: {
    key: 'token bucket: contacts:<source> | messages:<phone number id>',
    value: 'GCRA theoretical arrival time (embedded: ms since the epoch; Redis: µs on its clock)',
    ttl: 'embedded: 1 minute past it; Redis: 1 s past it',
    writer: 'the backends (takeToken in store/embedded.ts, store/redis.ts)',
  },
  meta: {
    key: 'format | legacy_imported | identity',
    value: "the store's format ('1'); when store.jsonl was imported (ISO); the store's identity (a random UUID)",
    ttl: 'none',
    writer: 'store/embedded.ts (format, legacy_imported: the embedded store only); store/identity.ts (identity, both backends)',
  },
} as const satisfies Record<string, NamespaceSpec>;

export type Namespace = keyof typeof SCHEMA;

/** Namespaces the embedded store commits without waiting for the disk. */
export const BATCHED_NAMESPACES: ReadonlySet<string> = new Set(
  (Object.keys(SCHEMA) as Namespace[]).filter((name) => (SCHEMA[name] as NamespaceSpec).batched),
);
