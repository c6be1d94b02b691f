// Stopgap until send.ts imports recipients/policy.ts and store/status-cache.ts.
export { readPolicy, type BlacklistFile } from '../recipients/policy.js';
export { readCachedStatuses as readStatuses } from '../store/status-cache.js';
