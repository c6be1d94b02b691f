/** A day in milliseconds: TTLs, windows and caps. */
export const DAY_MS = 86_400_000;
