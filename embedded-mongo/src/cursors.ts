/** Server-side cursors: pre-computed result arrays handed out in batches, with idle timeout. */
import { BSON, Long } from 'bson';
import { exportNested } from './numtypes';
import { Doc } from './values';

/** Keep reply batches under the 16 MiB BSON limit (with room for the envelope). */
const MAX_BATCH_BYTES = 16 * 1024 * 1024 - 64 * 1024;
const SER: BSON.SerializeOptions = { ignoreUndefined: true };

/**
 * A batch of documents already encoded as a BSON array (`firstBatch` / `nextBatch`). Each document
 * is serialized once, while the batch is cut at 16 MiB: sizing every document with
 * `calculateObjectSize` and then serializing the whole reply walked every document twice. The
 * wire encoder (wire.ts) splices the bytes into the reply.
 */
export class RawBatch {
  constructor(
    readonly bytes: Buffer,
    readonly count: number,
  ) {}
}

/** Array index keys "0", "1", ... as C strings, cached. */
const indexKeys: Buffer[] = [];
function indexKey(i: number): Buffer {
  return (indexKeys[i] ??= Buffer.from(`${i}\0`, 'latin1'));
}

interface CursorState {
  id: number;
  ns: string;
  docs: Doc[];
  pos: number;
  lastUsed: number;
}

export class CursorManager {
  private readonly cursors = new Map<number, CursorState>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly timeoutMs: number) {
    this.timer = setInterval(() => this.reap(), Math.max(50, Math.min(60_000, Math.floor(timeoutMs / 2))));
    this.timer.unref();
  }

  /**
   * Split off a batch of at most `batchSize` docs (0 = no count limit) and at most 16 MiB, encoded
   * as a BSON array (marked numbers exported as Long / Double, as for any reply).
   */
  static takeBatch(docs: Doc[], start: number, batchSize: number): RawBatch {
    const end = batchSize > 0 ? Math.min(docs.length, start + batchSize) : docs.length;
    let bytes = 0;
    const parts: Uint8Array[] = [];
    for (let i = start; i < end; i++) {
      const enc = BSON.serialize(exportNested(docs[i], 3), SER);
      const size = 1 + indexKey(parts.length).length + enc.length;
      if (parts.length > 0 && bytes + size > MAX_BATCH_BYTES) break;
      bytes += size;
      parts.push(enc);
    }
    const out = Buffer.allocUnsafe(4 + bytes + 1);
    out.writeInt32LE(out.length, 0);
    let o = 4;
    for (let j = 0; j < parts.length; j++) {
      out[o++] = 0x03; // embedded document
      const key = indexKey(j);
      key.copy(out, o);
      o += key.length;
      out.set(parts[j], o);
      o += parts[j].length;
    }
    out[o] = 0;
    return new RawBatch(out, parts.length);
  }

  /** First batch of a result; registers a cursor when more remain. */
  open(ns: string, docs: Doc[], batchSize: number, singleBatch = false): Doc {
    const first = CursorManager.takeBatch(docs, 0, batchSize);
    let id = 0;
    if (!singleBatch && first.count < docs.length) {
      do id = Math.floor(Math.random() * 2 ** 52) + 1;
      while (this.cursors.has(id));
      this.cursors.set(id, { id, ns, docs, pos: first.count, lastUsed: Date.now() });
    }
    return { cursor: { firstBatch: first, id: Long.fromNumber(id), ns }, ok: 1 };
  }

  getMore(id: number, batchSize: number): { batch: RawBatch; id: number; ns: string } | null {
    const c = this.cursors.get(id);
    if (!c) return null;
    const batch = CursorManager.takeBatch(c.docs, c.pos, batchSize);
    c.pos += batch.count;
    c.lastUsed = Date.now();
    if (c.pos >= c.docs.length) {
      this.cursors.delete(id);
      return { batch, id: 0, ns: c.ns };
    }
    return { batch, id, ns: c.ns };
  }

  kill(id: number): boolean {
    return this.cursors.delete(id);
  }

  get size(): number {
    return this.cursors.size;
  }

  /** Drop cursors idle longer than the timeout (MongoDB's default is 10 minutes). */
  reap(now = Date.now()): number {
    let n = 0;
    for (const [id, c] of this.cursors) {
      if (now - c.lastUsed > this.timeoutMs) {
        this.cursors.delete(id);
        n++;
      }
    }
    return n;
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.cursors.clear();
  }
}
