// Opens the store named by argv[2] and adds 1 to one counter argv[3] times,
// each a read-modify-write transaction: the multi-process contract test runs three at once.
import { openStore } from '../dist/store/open.js';

const store = await openStore(process.argv[2], process.env, process.cwd());
const times = Number(process.argv[3]);
for (let i = 0; i < times; i++) {
  await store.transact([{ namespace: 'counter', key: 'n' }], ([n]) => ({
    writes: [{ namespace: 'counter', key: 'n', value: String(Number(n ?? 0) + 1) }],
    result: undefined,
  }));
  if (i % 10 === 0) {
    const [claimed] = await store.claim('claims', [{ key: String(i), value: String(process.pid) }]);
    if (claimed) await store.transact([{ namespace: 'counter', key: 'claims' }], ([n]) => ({
      writes: [{ namespace: 'counter', key: 'claims', value: String(Number(n ?? 0) + 1) }],
      result: undefined,
    }));
  }
}
await store.close();
