import { UNDELIVERABLE_TTL_MS } from '../store/lists.js';
import { count, duration } from '../flags.js';
import type { LearnSettings } from './learn.js';
import { DEFAULT_START_WORDS, DEFAULT_STOP_WORDS } from './payload.js';
import { parseWords } from './words.js';

/** The flags ingest and listen share: what an event teaches. */
export interface LearnFlags {
  stopWords?: string;
  strikes?: string;
  undeliverableTtl?: string;
}

export function learnSettings(flags: LearnFlags): LearnSettings {
  return {
    // --stop-words replaces the list; "+WORD,…" adds to it (e.g. another language's words).
    stopWords: flags.stopWords === undefined ? DEFAULT_STOP_WORDS
      : flags.stopWords.startsWith('+') ? new Set([...DEFAULT_STOP_WORDS, ...parseWords(flags.stopWords.slice(1))]) : new Set(parseWords(flags.stopWords)),
    startWords: DEFAULT_START_WORDS,
    strikes: count(flags.strikes, '--strikes', 1, 1, 100),
    undeliverableTtlMs: duration(flags.undeliverableTtl, '--undeliverable-ttl', UNDELIVERABLE_TTL_MS),
  };
}
