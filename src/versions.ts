import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** Versions that decide results: ours, and libphonenumber-js, whose metadata decides which numbers are valid. */
export function versions(): Record<string, string> {
  return {
    wa_guard: (require('../package.json') as { version: string }).version,
    libphonenumber_js: (require('libphonenumber-js/package.json') as { version: string }).version,
    node: process.version,
  };
}
