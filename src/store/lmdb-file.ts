import { closeSync, fstatSync, openSync, readSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import { CliError, describeFsError } from '../errors.js';
import { makeDirs } from '../make-dirs.js';

/** The data file inside the store directory (LMDB adds `wa-guard.mdb-lock` beside it). */
export const DATA = 'wa-guard.mdb';
/** Filesystems where LMDB's lock file cannot be trusted (statfs magic numbers: NFS, SMB/CIFS, SMB2, AFS, Ceph, Lustre). */
const NETWORK_FS = new Set([0x6969, 0x517b, 0xff534d42, 0xfe534d42, 0x5346414f, 0x00c36400, 0x0bd00bd0]);
/** LMDB's data file: a meta page at the start of each of the first two pages (after a 24-byte page header). */
const LMDB_MAGIC = 0xbeefc0de;
const META = 24;
const META_BYTES = META + 136; // through mm_txnid

/**
 * Makes the store directory and checks what LMDB would trust blindly: that
 * its locking works there, and that an existing data file is whole.
 */
export async function prepareStoreDir(dir: string): Promise<void> {
  try {
    await makeDirs(dir);
  } catch (err) {
    throw new CliError(describeFsError(err, 'store', dir));
  }
  refuseNetworkFs(dir);
  // Another process may be extending the file right now: a mismatch must persist to count.
  for (let attempt = 1; ; attempt++) {
    const damage = checkDataFile(join(dir, DATA));
    if (damage === undefined) return;
    if (attempt === 5) {
      throw new CliError(`store ${dir}: the data file ${DATA} is damaged or not a wa-guard store (${damage}); move it aside to start afresh, or restore a backup`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

function refuseNetworkFs(dir: string): void {
  let type: number;
  try {
    type = statfsSync(dir).type;
  } catch {
    return;
  }
  if (NETWORK_FS.has(type >>> 0)) {
    throw new CliError(`store ${dir} is on a network filesystem, where the embedded store's locking is not safe: use a local directory, or --store redis://…`);
  }
}

/**
 * LMDB trusts its data file and crashes the process on a damaged one, so the
 * two meta pages are checked first: LMDB's magic number, and a file long
 * enough for the last page each says is in use (a truncated copy is not).
 */
function checkDataFile(path: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined; // a new store, or an error the open reports better
  }
  try {
    const size = fstatSync(fd).size;
    if (size === 0) return undefined;
    const head = Buffer.alloc(META_BYTES);
    const readMeta = (at: number): { pageSize: number; lastPage: bigint; txnId: bigint } | undefined => {
      if (readSync(fd, head, 0, META_BYTES, at) < META_BYTES || head.readUInt32LE(META + 0) !== LMDB_MAGIC) return undefined;
      return { pageSize: head.readUInt32LE(META + 24), lastPage: head.readBigUInt64LE(META + 120), txnId: head.readBigUInt64LE(META + 128) };
    };
    const first = readMeta(0);
    if (!first || first.pageSize < 512 || first.pageSize > 65536 || (first.pageSize & (first.pageSize - 1)) !== 0) return 'no LMDB header';
    const second = readMeta(first.pageSize);
    if (!second) return 'its second meta page is unreadable';
    // A healthy file may end some pages short of the last page its newest meta names
    // (pages a transaction allocated and freed again are never written): only a file
    // missing more than that slack (a tenth, at least 64 pages) is called truncated.
    const newest = first.txnId > second.txnId ? first : second;
    const page = BigInt(first.pageSize);
    const needed = (newest.lastPage + 1n) * page;
    const slack = needed / 10n > 64n * page ? needed / 10n : 64n * page;
    if (BigInt(size) + slack < needed) return 'the file is much shorter than its own index says: truncated';
    return undefined;
  } finally {
    closeSync(fd);
  }
}
