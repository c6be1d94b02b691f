// Defaults that --help shows and the parsers apply: here, apart from flags.ts,
// because the command definitions load on every run and must stay light.
/** send's defaults, shown by --help and applied when a flag is absent. */
export const SEND_DEFAULTS = {
  apiUrl: 'https://graph.facebook.com',
  apiVersion: 'v21.0',
  language: 'en_US',
  tier: '250',
  pairInterval: '6s',
  mps: '80',
} as const;
