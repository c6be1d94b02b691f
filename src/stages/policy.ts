// Only for commands/send.ts until its import names ../recipients/policy.js; then delete stages/.
export { readPolicy, readStatuses, type BlacklistFile } from '../recipients/policy.js';
