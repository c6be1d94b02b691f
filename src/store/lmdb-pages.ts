import { readSync } from 'node:fs';

/**
 * Reading LMDB's data file by hand, before LMDB maps it (lmdb-js's LMDB:
 * 24-byte page headers, 0.9's meta layout). LMDB trusts its file: a page it
 * needs that lies past the end of the file is a SIGBUS, not an error.
 */
export const LMDB_MAGIC = 0xbeefc0de;
const DATA_VERSION = 2;
/** Page header: pgno (8), txnid (8), pad (2), flags (2), lower (2), upper (2); the meta follows it. */
const HEADER = 24;
const META_BYTES = HEADER + 136 + 8; // through mm_txnid
const P_BRANCH = 0x01;
const P_LEAF = 0x02;
const P_OVERFLOW = 0x04;
const F_BIGDATA = 0x01;
const F_SUBDATA = 0x02;
const NO_PAGE = 0xffffffffffffffffn;

export interface Meta {
  pageSize: number;
  /** The roots of the free-page DB and the main DB (NO_PAGE: empty). */
  roots: [bigint, bigint];
  lastPage: bigint;
  txnId: bigint;
}

/** One of the two meta pages, or why it is not one. */
export function readMeta(fd: number, at: number): Meta | string {
  const b = Buffer.alloc(META_BYTES);
  if (readSync(fd, b, 0, META_BYTES, at) < META_BYTES) return 'shorter than its header';
  if (b.readUInt32LE(HEADER) !== LMDB_MAGIC) return 'no LMDB header';
  if (b.readUInt32LE(HEADER + 4) !== DATA_VERSION) return 'an unknown LMDB version';
  const db = (i: number): number => HEADER + 24 + 48 * i; // mm_dbs[i]: pad, flags, depth, 4 counts, root
  const pageSize = b.readUInt32LE(db(0));
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) return 'a meta page with a bad page size';
  const meta: Meta = {
    pageSize,
    roots: [b.readBigUInt64LE(db(0) + 40), b.readBigUInt64LE(db(1) + 40)],
    lastPage: b.readBigUInt64LE(HEADER + 120),
    txnId: b.readBigUInt64LE(HEADER + 128),
  };
  if (meta.lastPage < 1n || meta.roots.some((r) => r !== NO_PAGE && (r < 2n || r > meta.lastPage))) return 'a meta page that points outside the file';
  // Every page a transaction uses lies within the map it commits with.
  if ((meta.lastPage + 1n) * BigInt(pageSize) > b.readBigUInt64LE(HEADER + 16)) return 'a meta page that names more pages than its map holds';
  return meta;
}

/**
 * Walks every page reachable from the meta's roots (the free-page DB, the
 * main DB and each named DB in it, overflow pages included) and says why the
 * first page that is missing (past the end of the file) or not what its
 * parent says is damaged; undefined when the tree is whole.
 */
export function walkTree(fd: number, meta: Meta, fileSize: number): string | undefined {
  const size = meta.pageSize;
  const pages = BigInt(Math.floor(fileSize / size));
  const page = Buffer.alloc(size);
  const stack: bigint[] = meta.roots.filter((r) => r !== NO_PAGE);
  const head = Buffer.alloc(HEADER);
  const subDbRoots = new Set<bigint>();
  for (let visited = 0; stack.length; visited++) {
    const pgno = stack.pop()!;
    if (BigInt(visited) > pages) return 'its tree loops';
    if (pgno >= pages) return `page ${pgno} is past the end of the file: truncated`;
    if (readSync(fd, page, 0, size, Number(pgno) * size) < size) return `page ${pgno} is unreadable: truncated`;
    if (page.readBigUInt64LE(0) !== pgno) return `page ${pgno} holds something else`;
    const flags = page.readUInt16LE(18);
    const lower = page.readUInt16LE(20);
    if (!(flags & (P_BRANCH | P_LEAF)) || lower > size - HEADER) return `page ${pgno} is not a tree page`;
    for (let i = 0; i < lower >> 1; i++) {
      const node = HEADER + page.readUInt16LE(HEADER + 2 * i);
      if (node + 8 > size) return `page ${pgno} has a node outside it`;
      const lo = page.readUInt16LE(node);
      const hi = page.readUInt16LE(node + 2);
      const nodeFlags = page.readUInt16LE(node + 4);
      const keySize = page.readUInt16LE(node + 6);
      const data = node + 8 + keySize;
      if (flags & P_BRANCH) {
        stack.push(BigInt(lo) | (BigInt(hi) << 16n) | (BigInt(nodeFlags) << 32n));
      } else if (nodeFlags & F_BIGDATA) {
        if (data + 8 > size) return `page ${pgno} has a node outside it`;
        const overflow = page.readBigUInt64LE(data);
        if (overflow >= pages) return `page ${overflow} is past the end of the file: truncated`;
        readSync(fd, head, 0, HEADER, Number(overflow) * size);
        if (head.readBigUInt64LE(0) !== overflow || !(head.readUInt16LE(18) & P_OVERFLOW)) return `page ${overflow} is not an overflow page`;
        const last = overflow + BigInt(Math.max(1, head.readUInt32LE(20))) - 1n;
        if (last >= pages) return `page ${last} is past the end of the file: truncated`;
      } else if (nodeFlags & F_SUBDATA) {
        if (data + 48 > size) return `page ${pgno} has a node outside it`;
        const root = page.readBigUInt64LE(data + 40);
        if (root !== NO_PAGE && !subDbRoots.has(root)) {
          subDbRoots.add(root);
          stack.push(root);
        }
      }
    }
  }
  return undefined;
}
