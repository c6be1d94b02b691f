/** What ingest or listen learned so far: events by kind, changes by name, and what taught nothing. */
export interface Learned {
  events: Record<string, number>;
  changes: Record<string, number>;
  /** Events that taught nothing new: applied before, or older than what the store knows. */
  unchanged: number;
  ignored: number;
}

export function emptyLearned(): Learned {
  return { events: {}, changes: {}, unchanged: 0, ignored: 0 };
}

export function eventCount(learned: Learned): number {
  return Object.values(learned.events).reduce((a, b) => a + b, 0);
}

/** The summary both commands print on stderr; `extra`: the command's own lines after it. */
export function summaryText(command: string, learned: Learned, extra: string[] = []): string {
  const lines = [`wa-guard ${command}: ${eventCount(learned)} events` +
    (learned.unchanged ? ` (${learned.unchanged} taught nothing new: seen before or older than what is known)` : '')];
  for (const [kind, count] of Object.entries(learned.events)) lines.push(`  ${kind.padEnd(22)}${String(count).padStart(8)}`);
  if (Object.keys(learned.changes).length) lines.push(`  changes: ${Object.entries(learned.changes).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  if (learned.ignored) lines.push(`  ${learned.ignored} items could not be read (no number, no timestamp, or one more than a day ahead of this machine's clock) and were ignored`);
  return [...lines, ...extra].join('\n') + '\n';
}
