/**
 * A wire recorder in front of the embedded engine that plays a replica set member's part in
 * transactions, so the transactional path of the write paths (lib/db.ts `runInTransaction`) can be
 * driven and inspected on a machine where no replica set can run.
 *
 * It sits between the driver and the engine on 127.0.0.1 and, for every OP_MSG command:
 * - records the command name, collection, session id (`lsid`), `txnNumber` and `startTransaction`;
 * - keeps each transaction's state as a server does: opened by `startTransaction`, aborted by
 *   `abortTransaction` or by any command of it that fails (a write error such as a duplicate key
 *   included), after which its further commands and its commit get `NoSuchTransaction` (251,
 *   TransientTransactionError), as from a real server;
 * - answers `commitTransaction` / `abortTransaction` itself and forwards every other command to the
 *   engine without the transaction fields (the engine refuses them, like a standalone server);
 * - fails the commands a test asks it to (`failWhen`), with the code and labels given.
 *
 * What it cannot do: isolate or roll back. Writes reach the engine when they are sent; a rolled
 * back transaction's writes stay in the engine. Tests therefore check what the driver sends (every
 * command of the write path inside one transaction, the abort and no commit on failure), which is
 * what makes a real server roll back; the rollback itself needs a real replica set (MONGODB_URI).
 */
import net from 'node:net';
import { BSON } from 'mongodb';

const OP_MSG = 2013;
const TXN_FIELDS = ['txnNumber', 'startTransaction', 'autocommit'];

export interface WireCommand {
  name: string;
  db: string | null;
  collection: string | null;
  /** Hex of the session id, or null for a command sent without a session. */
  lsid: string | null;
  txnNumber: string | null;
  startTransaction: boolean;
  /** What the recorder answered instead of the engine (an injected or emulated error), if anything. */
  answered?: 'ok' | { code: number };
  /** The engine's error for a forwarded transaction command (command error or first write error). */
  failed?: { code?: number; errmsg?: string };
}

export interface InjectedError {
  code: number;
  errmsg?: string;
  errorLabels?: string[];
}

export interface TransactionWire {
  /** Connection string of the recorder (same database options as the engine's). */
  uri: string;
  /** Every command seen, in arrival order (connection handshakes and heartbeats included). */
  commands: WireCommand[];
  /** The next command matching `when` (once) is answered with `error` instead of reaching the engine. */
  failWhen(when: (c: WireCommand) => boolean, error: InjectedError): void;
  close(): Promise<void>;
}

interface Section {
  kind: number;
  bytes: Buffer;
}

function parseOpMsg(buf: Buffer): { flags: number; body: Buffer; others: Section[] } {
  const flags = buf.readUInt32LE(16);
  const end = buf.length - (flags & 1 ? 4 : 0);
  let off = 20;
  let body: Buffer | null = null;
  const others: Section[] = [];
  while (off < end) {
    const kind = buf[off]!;
    const size = buf.readInt32LE(off + 1);
    if (kind === 0) body = buf.subarray(off + 1, off + 1 + size);
    else others.push({ kind, bytes: buf.subarray(off, off + 1 + size) });
    off += 1 + size;
  }
  if (!body) throw new Error('OP_MSG without a body section');
  return { flags, body, others };
}

function encodeOpMsg(requestId: number, responseTo: number, flags: number, body: Buffer, others: Section[] = []): Buffer {
  const parts = [Buffer.from([0]), body, ...others.map((s) => s.bytes)];
  const length = 16 + 4 + parts.reduce((n, p) => n + p.length, 0);
  const head = Buffer.alloc(20);
  head.writeInt32LE(length, 0);
  head.writeInt32LE(requestId, 4);
  head.writeInt32LE(responseTo, 8);
  head.writeInt32LE(OP_MSG, 12);
  head.writeUInt32LE(flags & ~1, 16); // no checksum: the message was rewritten
  return Buffer.concat([head, ...parts]);
}

/** Splits a byte stream into whole wire messages. */
function framer(onMessage: (msg: Buffer) => void): (chunk: Buffer) => void {
  let pending: Buffer = Buffer.alloc(0);
  return (chunk) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    while (pending.length >= 4) {
      const len = pending.readInt32LE(0);
      if (pending.length < len) break;
      onMessage(pending.subarray(0, len));
      pending = pending.subarray(len);
    }
  };
}

const RAW = { promoteValues: false, promoteLongs: false, promoteBuffers: false, bsonRegExp: true } as const;

export async function startTransactionWire(engineUri: string): Promise<TransactionWire> {
  const upstream = new URL(engineUri);
  const commands: WireCommand[] = [];
  const failures: { when: (c: WireCommand) => boolean; error: InjectedError }[] = [];
  /** `lsid:txnNumber` → state, as the server keeps it. */
  const txns = new Map<string, 'open' | 'aborted' | 'committed'>();
  const sockets = new Set<net.Socket>();
  let nextId = 1_000_000;

  const server = net.createServer((client) => {
    const engine = net.connect(Number(upstream.port), upstream.hostname);
    sockets.add(client).add(engine);
    /** requestId → the forwarded transaction command, to watch its reply. */
    const awaiting = new Map<number, { key: string; rec: WireCommand }>();
    const reply = (responseTo: number, doc: Record<string, unknown>) => client.write(encodeOpMsg(nextId++, responseTo, 0, Buffer.from(BSON.serialize(doc))));
    const noSuchTransaction = (txnNumber: string) => ({
      ok: 0,
      code: 251,
      codeName: 'NoSuchTransaction',
      errmsg: `Transaction with { txnNumber: ${txnNumber} } has been aborted.`,
      errorLabels: ['TransientTransactionError'],
    });

    client.on(
      'data',
      framer((msg) => {
        if (msg.readInt32LE(12) !== OP_MSG) return void engine.write(msg);
        const requestId = msg.readInt32LE(4);
        const { flags, body, others } = parseOpMsg(msg);
        const cmd = BSON.deserialize(body, RAW) as Record<string, unknown>;
        const name = Object.keys(cmd)[0]!;
        const lsidId = (cmd.lsid as { id?: BSON.Binary } | undefined)?.id;
        const rec: WireCommand = {
          name,
          db: typeof cmd.$db === 'string' ? cmd.$db : null,
          collection: typeof cmd[name] === 'string' ? (cmd[name] as string) : typeof cmd.collection === 'string' ? cmd.collection : null,
          lsid: lsidId ? Buffer.from(lsidId.buffer).toString('hex') : null,
          txnNumber: cmd.txnNumber !== undefined ? String(cmd.txnNumber) : null,
          startTransaction: cmd.startTransaction === true,
        };
        commands.push(rec);
        const key = rec.txnNumber !== null ? `${rec.lsid}:${rec.txnNumber}` : null;
        const failure = failures.findIndex((f) => f.when(rec));
        if (failure >= 0) {
          const { error } = failures.splice(failure, 1)[0]!;
          rec.answered = { code: error.code };
          if (key) txns.set(key, 'aborted');
          return void reply(requestId, { ok: 0, errmsg: error.errmsg ?? `injected failure of ${name}`, code: error.code, ...(error.errorLabels ? { errorLabels: error.errorLabels } : {}) });
        }
        if (key) {
          const state = txns.get(key);
          if (name === 'abortTransaction') {
            txns.set(key, 'aborted');
            rec.answered = 'ok';
            return void reply(requestId, { ok: 1 });
          }
          if (name === 'commitTransaction') {
            if (state === 'aborted') {
              rec.answered = { code: 251 };
              return void reply(requestId, noSuchTransaction(rec.txnNumber!));
            }
            txns.set(key, 'committed');
            rec.answered = 'ok';
            return void reply(requestId, { ok: 1 });
          }
          if (rec.startTransaction && state === undefined) txns.set(key, 'open');
          else if (state !== 'open') {
            rec.answered = { code: 251 };
            return void reply(requestId, noSuchTransaction(rec.txnNumber!));
          }
          for (const f of TXN_FIELDS) delete cmd[f];
          awaiting.set(requestId, { key, rec });
          return void engine.write(encodeOpMsg(requestId, msg.readInt32LE(8), flags, Buffer.from(BSON.serialize(cmd)), others));
        }
        engine.write(msg);
      }),
    );

    engine.on(
      'data',
      framer((msg) => {
        const sent = awaiting.get(msg.readInt32LE(8));
        if (sent !== undefined && msg.readInt32LE(12) === OP_MSG) {
          awaiting.delete(msg.readInt32LE(8));
          const doc = BSON.deserialize(parseOpMsg(msg).body) as { ok?: number; code?: number; errmsg?: string; writeErrors?: { code?: number; errmsg?: string }[] };
          // A server aborts the transaction of any command that fails inside it.
          if (doc.ok !== 1) sent.rec.failed = { code: doc.code, errmsg: doc.errmsg };
          else if (Array.isArray(doc.writeErrors) && doc.writeErrors.length > 0) sent.rec.failed = { code: doc.writeErrors[0]!.code, errmsg: doc.writeErrors[0]!.errmsg };
          if (sent.rec.failed) txns.set(sent.key, 'aborted');
        }
        client.write(msg);
      }),
    );
    const closeBoth = () => {
      client.destroy();
      engine.destroy();
      sockets.delete(client);
      sockets.delete(engine);
    };
    client.on('close', closeBoth).on('error', closeBoth);
    engine.on('close', closeBoth).on('error', closeBoth);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const uri = new URL(engineUri);
  uri.host = `127.0.0.1:${port}`;
  return {
    uri: uri.toString(),
    commands,
    failWhen(when, error) {
      failures.push({ when, error });
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
