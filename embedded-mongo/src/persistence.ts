/**
 * Durability: an append-only journal of idempotent "assign" records plus periodic snapshots.
 *
 * File layout in dbPath:
 *   mongod.lock    pid of the owning process (a second engine refuses the directory)
 *   snapshot.bson  full state as of journal generation G (written to .tmp, fsynced, renamed)
 *   journal.log    records of generation G+1 since that snapshot
 *
 * Every record, in both files, is framed as [u32 length][u32 crc32][BSON]. The first journal
 * record is a header {o:'hdr', gen}. A journal whose gen is not newer than the snapshot's is
 * stale (a crash between snapshot rename and journal swap) and is discarded. Recovery loads the
 * snapshot, replays the journal and cuts a torn or corrupt tail.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { crc32 } from 'node:zlib';
import { BSON } from 'bson';
import { Engine, Journal, LogRecord, stats } from './storage';
import { absorbNumTypes, exportNested } from './numtypes';
import { Doc } from './values';

const DESER: BSON.DeserializeOptions = { promoteLongs: false, promoteValues: false, promoteBuffers: false };
const SER: BSON.SerializeOptions = { ignoreUndefined: true };

export interface RecoveryInfo {
  /** journal records replayed */
  records: number;
  /** bytes cut from a torn / corrupt journal tail */
  truncatedBytes: number;
  /** documents loaded from the snapshot */
  snapshotDocs: number;
  /** true when a stale journal (already folded into the snapshot) was discarded */
  staleJournalDiscarded: boolean;
  ms: number;
}

export interface DiskStoreOptions {
  /** Take a snapshot (and compact the journal) after this many journal records. */
  snapshotEveryRecords?: number;
  /** ...or once the journal grows beyond this many bytes. */
  snapshotEveryBytes?: number;
}

function frame(doc: Doc): Buffer {
  const body = BSON.serialize(exportNested(doc), SER);
  const out = Buffer.allocUnsafe(8 + body.length);
  out.writeUInt32LE(body.length, 0);
  out.writeUInt32LE(crc32(body) >>> 0, 4);
  out.set(body, 8);
  return out;
}

/** Parse framed records; stops at the first torn or corrupt one and returns where it stopped. */
function readFramed(buf: Buffer): { docs: Doc[]; validEnd: number } {
  const docs: Doc[] = [];
  let p = 0;
  while (p + 8 <= buf.length) {
    const len = buf.readUInt32LE(p);
    const sum = buf.readUInt32LE(p + 4);
    if (len < 5 || p + 8 + len > buf.length) break;
    const body = buf.subarray(p + 8, p + 8 + len);
    if ((crc32(body) >>> 0) !== sum) break;
    let doc: Doc;
    try {
      doc = BSON.deserialize(body, DESER);
      absorbNumTypes(doc);
    } catch {
      break;
    }
    docs.push(doc);
    p += 8 + len;
  }
  return { docs, validEnd: p };
}

function fsyncDir(dir: string): void {
  try {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // some filesystems do not allow fsync on directories; the rename is still atomic
  }
}

function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class DiskStore implements Journal {
  readonly dir: string;
  private readonly lockPath: string;
  private readonly snapPath: string;
  private readonly logPath: string;
  private fd: number | null = null;
  private gen = 1;
  private pending: Buffer[] = [];
  private pendingRecords = 0;
  private recordsSinceSnapshot = 0;
  private logBytes = 0;
  /** Size of the last snapshot: the journal must grow at least this big before the next one. */
  private lastSnapshotBytes = 0;
  private readonly everyRecords: number;
  private readonly everyBytes: number;
  private locked = false;
  snapshots = 0;

  constructor(dir: string, opts: DiskStoreOptions = {}) {
    this.dir = path.resolve(dir);
    this.lockPath = path.join(this.dir, 'mongod.lock');
    this.snapPath = path.join(this.dir, 'snapshot.bson');
    this.logPath = path.join(this.dir, 'journal.log');
    this.everyRecords = opts.snapshotEveryRecords ?? 100_000;
    this.everyBytes = opts.snapshotEveryBytes ?? 256 * 1024 * 1024;
  }

  /** Take the directory lock; a live owner makes this throw, a dead one is taken over. */
  lock(): void {
    fs.mkdirSync(this.dir, { recursive: true });
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        fs.writeFileSync(this.lockPath, String(process.pid), { flag: 'wx' });
        this.locked = true;
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        const pid = Number(fs.readFileSync(this.lockPath, 'utf8').trim());
        if (pidAlive(pid)) {
          throw new Error(`embedded-mongo: dbPath ${this.dir} is locked by a running engine (pid ${pid}, ${this.lockPath}); refusing to open it twice`);
        }
        process.stderr.write(`embedded-mongo: taking over stale lock of dead pid ${pid} in ${this.dir}\n`);
        fs.unlinkSync(this.lockPath);
      }
    }
    throw new Error(`embedded-mongo: could not lock ${this.dir}`);
  }

  /** Load snapshot + journal into `engine`, cut a torn tail, open the journal for appending. */
  recover(engine: Engine): RecoveryInfo {
    const t0 = performance.now();
    const info: RecoveryInfo = { records: 0, truncatedBytes: 0, snapshotDocs: 0, staleJournalDiscarded: false, ms: 0 };
    let snapGen = 0;
    if (fs.existsSync(this.snapPath)) {
      const buf = fs.readFileSync(this.snapPath);
      this.lastSnapshotBytes = buf.length;
      const { docs, validEnd } = readFramed(buf);
      const head = docs[0];
      const tail = docs[docs.length - 1];
      if (validEnd !== buf.length || !head || head.o !== 'snap' || !tail || tail.o !== 'end') {
        throw new Error(`embedded-mongo: snapshot ${this.snapPath} is corrupt (refusing to start rather than lose data)`);
      }
      snapGen = head.gen as number;
      for (const rec of docs.slice(1, -1)) {
        if (rec.o === 'coll') {
          const c = engine.createCollection(rec.db as string, rec.c as string, (rec.opts as Doc) ?? {}, false);
          for (const spec of (rec.indexes as Doc[]) ?? []) engine.replay({ o: 'ci', db: rec.db, c: rec.c, spec });
          void c;
        } else {
          engine.replay(rec as LogRecord);
          info.snapshotDocs++;
        }
      }
    }
    let appendAt = -1;
    if (fs.existsSync(this.logPath)) {
      const buf = fs.readFileSync(this.logPath);
      const { docs, validEnd } = readFramed(buf);
      const head = docs[0];
      if (head && head.o === 'hdr' && (head.gen as number) > snapGen) {
        this.gen = head.gen as number;
        for (const rec of docs.slice(1)) engine.replay(rec as LogRecord);
        info.records = docs.length - 1;
        info.truncatedBytes = buf.length - validEnd;
        appendAt = validEnd;
        if (info.truncatedBytes > 0) {
          process.stderr.write(
            `embedded-mongo: recovery cut a torn/corrupt journal tail of ${info.truncatedBytes} bytes in ${this.logPath} after ${info.records} records\n`,
          );
          fs.truncateSync(this.logPath, validEnd);
        }
      } else if (head) {
        info.staleJournalDiscarded = true;
      }
    }
    engine.rebuildAllIndexes();
    if (appendAt < 0) {
      this.gen = snapGen + 1;
      this.writeFreshLog();
    } else {
      this.fd = fs.openSync(this.logPath, 'r+');
      this.logBytes = appendAt;
      this.recordsSinceSnapshot = info.records;
    }
    info.ms = Math.round(performance.now() - t0);
    return info;
  }

  private writeFreshLog(): void {
    const tmp = this.logPath + '.tmp';
    const hdr = frame({ o: 'hdr', gen: this.gen });
    fs.writeFileSync(tmp, hdr);
    const tfd = fs.openSync(tmp, 'r+');
    fs.fdatasyncSync(tfd);
    fs.closeSync(tfd);
    fs.renameSync(tmp, this.logPath);
    fsyncDir(this.dir);
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = fs.openSync(this.logPath, 'r+');
    this.logBytes = hdr.length;
    this.recordsSinceSnapshot = 0;
  }

  append(rec: LogRecord): void {
    this.pending.push(frame(rec));
    this.pendingRecords++;
  }

  /** Write pending records and fdatasync: called once per command before its reply. */
  commit(engine: Engine): void {
    if (this.pending.length === 0 || this.fd === null) return;
    const buf = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending);
    this.pending = [];
    let off = 0;
    while (off < buf.length) off += fs.writeSync(this.fd, buf, off, buf.length - off, this.logBytes + off);
    const t0 = performance.now();
    fs.fdatasyncSync(this.fd);
    stats.journalSyncSeconds += (performance.now() - t0) / 1000;
    stats.journalSyncs++;
    stats.journalRecords += this.pendingRecords;
    this.logBytes += buf.length;
    this.recordsSinceSnapshot += this.pendingRecords;
    this.pendingRecords = 0;
    // A snapshot rewrites the whole data set, so it waits until the journal is at least as large as
    // the last snapshot: the total snapshot work stays proportional to the data written (amortised
    // O(1) per write) instead of growing with the data set on every 100k records.
    const due = this.recordsSinceSnapshot >= this.everyRecords || this.logBytes >= this.everyBytes;
    if (due && this.logBytes >= this.lastSnapshotBytes) this.snapshot(engine);
  }

  /** Write a full snapshot of generation `gen`, then start journal generation gen+1. */
  snapshot(engine: Engine): void {
    const tmp = this.snapPath + '.tmp';
    const fd = fs.openSync(tmp, 'w');
    let chunk: Buffer[] = [];
    let chunkBytes = 0;
    const flush = () => {
      if (!chunk.length) return;
      const b = Buffer.concat(chunk);
      let off = 0;
      while (off < b.length) off += fs.writeSync(fd, b, off, b.length - off);
      chunk = [];
      chunkBytes = 0;
    };
    const put = (d: Doc) => {
      const f = frame(d);
      chunk.push(f);
      chunkBytes += f.length;
      if (chunkBytes > 8 * 1024 * 1024) flush();
    };
    try {
      put({ o: 'snap', gen: this.gen, at: new Date() }); // wall-clock: when the snapshot was written, metadata only
      let count = 0;
      for (const db of engine.dbs.values()) {
        for (const c of db.collections.values()) {
          put({ o: 'coll', db: db.name, c: c.name, opts: c.options, indexes: c.indexes.slice(1).map((i) => i.spec as Doc) });
          for (const d of c.docs.values()) {
            put({ o: 'i', db: db.name, c: c.name, d });
            count++;
          }
        }
      }
      put({ o: 'end', count });
      flush();
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, this.snapPath);
    fsyncDir(this.dir);
    this.lastSnapshotBytes = fs.statSync(this.snapPath).size;
    this.snapshots++;
    this.gen++;
    this.writeFreshLog();
  }

  /** Clean stop: flush, snapshot (compacting the journal), release the lock. */
  close(engine: Engine | null): void {
    try {
      if (engine && this.fd !== null) {
        this.commit(engine);
        this.snapshot(engine);
      }
    } finally {
      if (this.fd !== null) fs.closeSync(this.fd);
      this.fd = null;
      this.unlock();
    }
  }

  unlock(): void {
    if (!this.locked) return;
    this.locked = false;
    try {
      if (fs.readFileSync(this.lockPath, 'utf8').trim() === String(process.pid)) fs.unlinkSync(this.lockPath);
    } catch {
      // already gone
    }
  }
}
