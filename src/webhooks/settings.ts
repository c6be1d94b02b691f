import { count, DAY_MS, duration } from '../flags.js';
import type { LearnSettings } from './learn.js';
import { DEFAULT_START_WORDS, DEFAULT_STOP_WORDS } from './payload.js';

/** The flags ingest and listen share: what an event teaches. */
export interface LearnFlags {
  stopWords?: string;
  strikes?: string;
  undeliverableTtl?: string;
}

export function learnSettings(flags: LearnFlags): LearnSettings {
  const words = (text: string): Set<string> => new Set(text.split(',').map((w) => w.trim().toUpperCase()).filter(Boolean));
  return {
    // --stop-words replaces the list; "+WORD,…" adds to it (e.g. local-language words).
    stopWords: flags.stopWords === undefined ? new Set(DEFAULT_STOP_WORDS)
      : flags.stopWords.startsWith('+') ? new Set([...DEFAULT_STOP_WORDS, ...words(flags.stopWords.slice(1))]) : words(flags.stopWords),
    startWords: new Set(DEFAULT_START_WORDS),
    strikes: count(flags.strikes, '--strikes', 1, 1, 100),
    undeliverableTtlMs: duration(flags.undeliverableTtl, '--undeliverable-ttl', 90 * DAY_MS),
  };
}
