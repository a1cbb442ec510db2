/**
 * The TCP server: accepts driver connections on 127.0.0.1, frames messages, runs commands
 * synchronously and commits the journal (one fdatasync per command) before replying.
 */
import * as net from 'node:net';
import { CommandContext, ConnInfo, runCommand } from './commands';
import { CursorManager } from './cursors';
import { DiskStore, RecoveryInfo } from './persistence';
import { COUNTER_NAMES } from './counters';
import { Engine, stats } from './storage';
import { Doc } from './values';
import { encodeOpMsg, encodeOpReply, Framer, OP_MSG, OP_QUERY, parseOpMsg, parseOpQuery } from './wire';

export interface ServerOptions {
  port?: number;
  dbPath?: string;
  /** Idle cursor timeout (default 10 minutes, like MongoDB). */
  cursorTimeoutMs?: number;
  /** Snapshot + compaction after this many journal records (default 100k). */
  snapshotEveryRecords?: number;
  /** Compiled aggregation fast path (default true); false runs every pipeline through mingo. */
  aggregateFastPath?: boolean;
  /**
   * Shared memory the counters of `stats` are copied into after every command (Float64, in the
   * order of `COUNTER_NAMES`), so the host reads them without a round trip to this thread.
   */
  counters?: SharedArrayBuffer;
}

export interface ServerStarted {
  port: number;
  recovery: RecoveryInfo | null;
}

export class EmbeddedServer {
  readonly engine = new Engine();
  private readonly cursors: CursorManager;
  private disk: DiskStore | null = null;
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  private nextConnId = 1;
  private readonly info: Doc = {};
  private readonly startedAt = Date.now();
  private journalFailure: string | null = null;
  private readonly shared: Float64Array | null;

  constructor(private readonly opts: ServerOptions) {
    this.cursors = new CursorManager(opts.cursorTimeoutMs ?? 10 * 60 * 1000);
    this.shared = opts.counters ? new Float64Array(opts.counters) : null;
    this.engine.aggregateFastPath = opts.aggregateFastPath !== false;
  }

  async start(): Promise<ServerStarted> {
    let recovery: RecoveryInfo | null = null;
    if (this.opts.dbPath) {
      const disk = new DiskStore(this.opts.dbPath, { snapshotEveryRecords: this.opts.snapshotEveryRecords });
      disk.lock();
      try {
        recovery = disk.recover(this.engine);
      } catch (e) {
        disk.unlock();
        throw e;
      }
      this.disk = disk;
      this.engine.journal = disk;
      this.info.recovery = { ...recovery };
      this.info.dbPath = disk.dir;
    }
    const server = net.createServer((s) => this.onConnection(s));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port ?? 0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    }).catch((e) => {
      this.disk?.unlock();
      throw e;
    });
    const port = (server.address() as net.AddressInfo).port;
    return { port, recovery };
  }

  private onConnection(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.setNoDelay(true);
    const conn: ConnInfo = { id: this.nextConnId++, remote: `${socket.remoteAddress}:${socket.remotePort}` };
    const ctx: CommandContext = { engine: this.engine, cursors: this.cursors, conn, startedAt: this.startedAt, info: this.info };
    const framer = new Framer();
    socket.on('data', (chunk) => {
      try {
        for (const msg of framer.push(chunk)) this.handle(socket, ctx, msg.opCode, msg.requestId, msg.body);
      } catch (e) {
        process.stderr.write(`embedded-mongo: closing connection ${conn.id}: ${(e as Error).message}\n`);
        socket.destroy();
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.sockets.delete(socket));
  }

  private handle(socket: net.Socket, ctx: CommandContext, opCode: number, requestId: number, body: Buffer): void {
    if (opCode === OP_MSG) {
      const { command, moreToCome } = parseOpMsg(body);
      const reply = this.execute(command, ctx);
      if (!moreToCome) writeAll(socket, encodeOpMsg(requestId, reply));
    } else if (opCode === OP_QUERY) {
      const { collection, query } = parseOpQuery(body);
      const dbName = collection.endsWith('.$cmd') ? collection.slice(0, -5) : collection.split('.')[0];
      const cmd = (query.$query as Doc | undefined) ?? query;
      const reply = this.execute({ ...cmd, $db: dbName }, ctx);
      writeAll(socket, encodeOpReply(requestId, reply));
    } else {
      throw new Error(`unsupported opcode ${opCode} (compression is not negotiated)`);
    }
  }

  /** Run one command, then make its writes durable before the reply goes out. */
  private execute(command: Doc, ctx: CommandContext): Doc {
    if (this.journalFailure) {
      // Memory may hold writes the journal lacks: refuse everything rather than diverge.
      return { ok: 0, code: 1, codeName: 'InternalError', errmsg: `embedded engine stopped accepting commands after a journal failure: ${this.journalFailure}; restart it` };
    }
    const reply = runCommand(command, ctx);
    if (this.disk) {
      try {
        this.disk.commit(this.engine);
      } catch (e) {
        this.journalFailure = (e as Error).message;
        process.stderr.write(`embedded-mongo: journal write failed, refusing further commands: ${(e as Error).stack}\n`);
        return { ok: 0, code: 1, codeName: 'InternalError', errmsg: `embedded engine could not write its journal: ${(e as Error).message}` };
      }
    }
    this.publishCounters();
    return reply;
  }

  /** Copies the counters into the host's shared memory (six stores per command). */
  private publishCounters(): void {
    const shared = this.shared;
    if (!shared) return;
    for (let i = 0; i < COUNTER_NAMES.length; i++) shared[i] = stats[COUNTER_NAMES[i]];
  }

  /** Snapshot + compact now (tests / tools). */
  snapshot(): void {
    this.disk?.snapshot(this.engine);
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    this.cursors.close();
    if (this.disk) {
      // After a journal failure do not snapshot memory that the journal never acknowledged.
      this.disk.close(this.journalFailure ? null : this.engine);
      this.disk = null;
      this.engine.journal = null;
    }
  }
}

function writeAll(socket: net.Socket, parts: Buffer[]): void {
  if (socket.destroyed) return;
  socket.cork();
  for (const p of parts) socket.write(p);
  socket.uncork();
}
