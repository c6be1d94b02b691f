/**
 * Characters a terminal acts on rather than shows: C0 and C1 controls (ESC
 * starts the sequences that move the cursor and erase lines), zero-width
 * characters and bidirectional overrides (they reorder what is shown).
 */
const ACTING = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g;

/**
 * Text that came from outside (an agent's message, a list entry's reason),
 * shown on one terminal line as it is: each acting character written as a
 * visible \uXXXX, so a person reading a list (the messages waiting for their
 * approval) sees what is there and nothing drawn over it.
 */
export function printable(text: string): string {
  return text.replace(ACTING, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
