import { closeSync, fstatSync, openSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import { CliError, describeFsError } from '../errors.js';
import { makeDirs } from '../make-dirs.js';
import { readMeta, walkTree, type Meta } from './lmdb-pages.js';

/** The data file inside the store directory (LMDB adds `wa-guard.mdb-lock` beside it). */
export const DATA = 'wa-guard.mdb';
/** Virtual filesystems, where no store can live (statfs magic numbers: proc, sysfs, devpts, cgroup, cgroup2, debugfs, securityfs, tracefs, bpf). */
const VIRTUAL_FS = new Set([0x9fa0, 0x62656572, 0x1cd1, 0x27e0eb, 0x63677270, 0x64626720, 0x73636673, 0x74726163, 0xcafe4a11]);
/** Filesystems where LMDB's lock file cannot be trusted (statfs magic numbers: NFS, SMB/CIFS, SMB2, AFS, Ceph, Lustre). */
const NETWORK_FS = new Set([0x6969, 0x517b, 0xff534d42, 0xfe534d42, 0x5346414f, 0x00c36400, 0x0bd00bd0]);
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
  refuseFs(dir);
  // Another process may be creating or committing to the file right now: damage must persist to count.
  for (let attempt = 1; ; attempt++) {
    const damage = checkDataFile(join(dir, DATA));
    if (damage === undefined) return;
    if (attempt === 10) {
      throw new CliError(`store ${dir}: the data file ${DATA} is damaged or not a wa-guard store (${damage}); move it aside to start afresh, or restore a backup`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

function refuseFs(dir: string): void {
  let type: number;
  try {
    type = statfsSync(dir).type;
  } catch {
    return;
  }
  if (VIRTUAL_FS.has(type >>> 0)) throw new CliError(`store ${dir} is on a virtual filesystem (like /proc or /sys) where no data can be kept: use a directory on a disk`);
  if (NETWORK_FS.has(type >>> 0)) {
    throw new CliError(`store ${dir} is on a network filesystem, where the embedded store's locking is not safe: use a local directory, or --store redis://…`);
  }
}

/**
 * LMDB trusts its data file and crashes the process (SIGBUS) when a page it
 * needs lies past the end of the file, so the file is checked first: two meta
 * pages, and every page the newest one's trees use within the file. LMDB
 * grows the file lazily: the file may end before the last page the meta names
 * (pages a transaction allocated and freed again are never written, and the
 * free list holds them), so a short file is walked, not judged by its length.
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
    // LMDB would take an empty file for a new store: a store emptied by accident would start again from nothing.
    if (size === 0) return 'the file is empty: truncated';
    const first = readMeta(fd, 0);
    if (typeof first === 'string') return first;
    const second = readMeta(fd, first.pageSize);
    if (typeof second === 'string') return `its second meta page: ${second}`;
    if (second.pageSize !== first.pageSize) return 'its meta pages disagree on the page size';
    const newest: Meta = first.txnId > second.txnId ? first : second;
    if (BigInt(size) >= (newest.lastPage + 1n) * BigInt(newest.pageSize)) return undefined;
    const damage = walkTree(fd, newest, size);
    // A commit while the tree was walked may have moved pages: only a walk of an unchanged snapshot counts.
    const after = readMeta(fd, newest === first ? 0 : first.pageSize);
    if (damage !== undefined && (typeof after === 'string' || after.txnId !== newest.txnId)) return 'it changed while it was checked';
    return damage;
  } finally {
    closeSync(fd);
  }
}
