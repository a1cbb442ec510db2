/**
 * MongoDB wire protocol: message framing and the three opcodes a modern driver uses
 * (OP_QUERY for the legacy `ismaster` handshake, OP_REPLY to answer it, OP_MSG for the rest).
 */
import { BSON } from 'bson';
import { RawBatch } from './cursors';
import { absorbNumTypes, exportNested } from './numtypes';
import { Doc } from './values';

export const OP_REPLY = 1;
export const OP_QUERY = 2004;
export const OP_COMPRESSED = 2012;
export const OP_MSG = 2013;

const FLAG_CHECKSUM = 1 << 0;
const FLAG_MORE_TO_COME = 1 << 1;

/**
 * Deserialize options: numbers arrive as Int32 / Double / Long and are turned into JS numbers
 * (mingo compares JS values) with their BSON type remembered (numtypes.ts); Long stays when unsafe.
 */
const DESER: BSON.DeserializeOptions = { promoteLongs: false, promoteValues: false, promoteBuffers: false, bsonRegExp: false };

function deserialize(buf: Buffer): Doc {
  const doc = BSON.deserialize(buf, DESER);
  absorbNumTypes(doc);
  return doc;
}
const SER: BSON.SerializeOptions = { ignoreUndefined: true };

export interface Message {
  requestId: number;
  opCode: number;
  body: Buffer; // whole message including header
}

/**
 * Accumulates socket chunks and yields whole messages. Chunks are concatenated once per
 * message (never per chunk), so large messages cost O(n), not O(n^2).
 */
export class Framer {
  private chunks: Buffer[] = [];
  private total = 0;

  constructor(private readonly maxMessageBytes = 48_000_000 + 1024) {}

  push(chunk: Buffer): Message[] {
    this.chunks.push(chunk);
    this.total += chunk.length;
    const out: Message[] = [];
    for (;;) {
      if (this.total < 4) break;
      const len = this.peekLength();
      if (len < 16 || len > this.maxMessageBytes) throw new Error(`invalid message length ${len}`);
      if (this.total < len) break;
      const buf = this.take(len);
      out.push({ requestId: buf.readInt32LE(4), opCode: buf.readInt32LE(12), body: buf });
    }
    return out;
  }

  private peekLength(): number {
    const first = this.chunks[0];
    if (first.length >= 4) return first.readInt32LE(0);
    const tmp = Buffer.alloc(4);
    let o = 0;
    for (const c of this.chunks) {
      const n = Math.min(4 - o, c.length);
      c.copy(tmp, o, 0, n);
      o += n;
      if (o === 4) break;
    }
    return tmp.readInt32LE(0);
  }

  private take(len: number): Buffer {
    const first = this.chunks[0];
    let buf: Buffer;
    if (first.length >= len) {
      buf = first.subarray(0, len);
      if (first.length === len) this.chunks.shift();
      else this.chunks[0] = first.subarray(len);
    } else {
      buf = Buffer.allocUnsafe(len);
      let o = 0;
      while (o < len) {
        const c = this.chunks[0];
        const n = Math.min(len - o, c.length);
        c.copy(buf, o, 0, n);
        o += n;
        if (n === c.length) this.chunks.shift();
        else this.chunks[0] = c.subarray(n);
      }
    }
    this.total -= len;
    return buf;
  }
}

export interface ParsedMsg {
  command: Doc;
  moreToCome: boolean;
}

/** Parse an OP_MSG: kind-0 body plus kind-1 document sequences merged in as arrays. */
export function parseOpMsg(buf: Buffer): ParsedMsg {
  const flags = buf.readUInt32LE(16);
  let end = buf.length;
  if (flags & FLAG_CHECKSUM) end -= 4;
  let pos = 20;
  let command: Doc | null = null;
  const sequences: [string, Doc[]][] = [];
  while (pos < end) {
    const kind = buf[pos++];
    if (kind === 0) {
      const size = buf.readInt32LE(pos);
      command = deserialize(buf.subarray(pos, pos + size));
      pos += size;
    } else if (kind === 1) {
      const size = buf.readInt32LE(pos);
      const secEnd = pos + size;
      let p = pos + 4;
      const nul = buf.indexOf(0, p);
      const ident = buf.toString('utf8', p, nul);
      p = nul + 1;
      const docs: Doc[] = [];
      while (p < secEnd) {
        const dsize = buf.readInt32LE(p);
        docs.push(deserialize(buf.subarray(p, p + dsize)));
        p += dsize;
      }
      sequences.push([ident, docs]);
      pos = secEnd;
    } else {
      throw new Error(`unknown OP_MSG section kind ${kind}`);
    }
  }
  if (!command) throw new Error('OP_MSG without a body section');
  for (const [ident, docs] of sequences) command[ident] = docs;
  return { command, moreToCome: (flags & FLAG_MORE_TO_COME) !== 0 };
}

/** Parse a legacy OP_QUERY (only used for the handshake). */
export function parseOpQuery(buf: Buffer): { collection: string; query: Doc } {
  let p = 20;
  const nul = buf.indexOf(0, p);
  const collection = buf.toString('utf8', p, nul);
  p = nul + 1 + 8; // numberToSkip, numberToReturn
  const size = buf.readInt32LE(p);
  const query = deserialize(buf.subarray(p, p + size));
  return { collection, query };
}

let nextRequestId = 1;

function header(len: number, responseTo: number, opCode: number): Buffer {
  const h = Buffer.allocUnsafe(16);
  h.writeInt32LE(len, 0);
  h.writeInt32LE(nextRequestId++ & 0x7fffffff, 4);
  h.writeInt32LE(responseTo, 8);
  h.writeInt32LE(opCode, 12);
  return h;
}

export function serializeDoc(doc: Doc): Buffer {
  const cursor = doc.cursor as Doc | undefined;
  if (cursor !== null && typeof cursor === 'object') {
    if (cursor.firstBatch instanceof RawBatch) return spliceBatch(doc, cursor, 'firstBatch', cursor.firstBatch);
    if (cursor.nextBatch instanceof RawBatch) return spliceBatch(doc, cursor, 'nextBatch', cursor.nextBatch);
  }
  return Buffer.from(BSON.serialize(exportNested(doc), SER));
}

/**
 * A cursor reply whose batch is already encoded (cursors.ts): the envelope is serialized with an
 * empty array in the batch's place (`cursor` first, the batch first in it, so the array sits at a
 * fixed offset), then the batch's bytes replace it and the two enclosing lengths are corrected.
 */
function spliceBatch(doc: Doc, cursor: Doc, key: 'firstBatch' | 'nextBatch', batch: RawBatch): Buffer {
  const { [key]: _batch, ...cursorRest } = cursor;
  const { cursor: _cursor, ...rest } = doc;
  void _batch;
  void _cursor;
  const env = Buffer.from(BSON.serialize(exportNested({ cursor: { [key]: [], ...cursorRest }, ...rest }), SER));
  // outer length (4) | 0x03 "cursor\0" (8) | cursor length (4) | 0x04 key "\0" | empty array (5 bytes)
  const cursorAt = 4 + 8;
  const arrayAt = cursorAt + 4 + 1 + key.length + 1;
  if (env[cursorAt - 8] !== 0x03 || env[cursorAt + 4] !== 0x04 || env.toString('latin1', cursorAt + 5, cursorAt + 5 + key.length) !== key || env.readInt32LE(arrayAt) !== 5) {
    throw new Error('embedded-mongo: unexpected cursor reply layout');
  }
  const out = Buffer.concat([env.subarray(0, arrayAt), batch.bytes, env.subarray(arrayAt + 5)]);
  const grow = batch.bytes.length - 5;
  out.writeInt32LE(env.readInt32LE(0) + grow, 0);
  out.writeInt32LE(env.readInt32LE(cursorAt) + grow, cursorAt);
  return out;
}

export function encodeOpMsg(responseTo: number, doc: Doc): Buffer[] {
  const body = serializeDoc(doc);
  const pre = Buffer.allocUnsafe(5);
  pre.writeUInt32LE(0, 0);
  pre[4] = 0;
  return [header(16 + 5 + body.length, responseTo, OP_MSG), pre, body];
}

export function encodeOpReply(responseTo: number, doc: Doc): Buffer[] {
  const body = serializeDoc(doc);
  const pre = Buffer.alloc(20);
  pre.writeInt32LE(0, 0); // responseFlags
  // cursorID (8 bytes) = 0, startingFrom = 0
  pre.writeInt32LE(1, 16); // numberReturned
  return [header(16 + 20 + body.length, responseTo, OP_REPLY), pre, body];
}
