// Until cli.ts imports the two commands from their own modules.
export { ingest } from './ingest.js';
export { listen } from './listen.js';
