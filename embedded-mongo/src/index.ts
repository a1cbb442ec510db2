/**
 * Public entry of the embedded MongoDB-compatible engine.
 *
 *   const db = await startEmbeddedMongo({ port: 0, dbPath: '.data/db' });
 *   await mongoose.connect(db.uri);
 *   ...
 *   await db.stop();
 *
 * The engine (TCP server included) runs on a worker thread, so large aggregations do not stall
 * the host's event loop. Without `dbPath` it is purely in memory.
 */
import os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { RecoveryInfo } from './persistence';
import { COUNTER_NAMES, type EngineCounters } from './counters';

export type { RecoveryInfo } from './persistence';
export type { EngineCounters } from './counters';

export interface EmbeddedMongoOptions {
  /** TCP port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** Data directory; omit for an in-memory engine. */
  dbPath?: string;
  /** Idle cursor timeout in ms (default 10 minutes, like MongoDB). */
  cursorTimeoutMs?: number;
  /** Snapshot and compact the journal after this many records (default 100,000). */
  snapshotEveryRecords?: number;
  /** Heap limit of the engine's worker in MiB (default: half the machine's memory, at least 2 GiB). */
  maxHeapMb?: number;
  /**
   * Compiled aggregation fast path (default true). false runs every pipeline through mingo, for
   * tests and benchmarks that compare the two.
   */
  aggregateFastPath?: boolean;
}

export interface EmbeddedMongo {
  /** `mongodb://127.0.0.1:PORT` */
  uri: string;
  port: number;
  /** What recovery found when a dbPath was given (null in memory). */
  recovery: RecoveryInfo | null;
  /** Force a snapshot + journal compaction now. */
  snapshot(): Promise<void>;
  /**
   * The engine's counters since it started: documents examined, index lookups, collection scans,
   * journal fsyncs and the seconds spent in them, journal records. Read from memory the worker
   * shares (updated after every command), so it answers at once even while a command runs.
   */
  counters(): EngineCounters;
  /** Close all connections, flush + snapshot, release the port and the lock. Idempotent. */
  stop(): Promise<void>;
}

type WorkerMsg =
  | { type: 'ready'; port: number; recovery: RecoveryInfo | null }
  | { type: 'error'; message: string }
  | { type: 'stopped'; error?: string }
  | { type: 'snapshotted'; error?: string };

export async function startEmbeddedMongo(options: EmbeddedMongoOptions = {}): Promise<EmbeddedMongo> {
  const counters = new SharedArrayBuffer(COUNTER_NAMES.length * Float64Array.BYTES_PER_ELEMENT);
  const countersView = new Float64Array(counters);
  const workerData = {
    counters,
    port: options.port ?? 0,
    dbPath: options.dbPath ? path.resolve(options.dbPath) : undefined,
    cursorTimeoutMs: options.cursorTimeoutMs,
    snapshotEveryRecords: options.snapshotEveryRecords,
    aggregateFastPath: options.aggregateFastPath,
  };
  // execArgv: [] keeps host flags (e.g. jest's or tsx's loaders) out of the worker; the
  // bootstrap registers its own TypeScript loader.
  // The whole data set lives in the worker's heap: give it room (half the machine's memory by
  // default) instead of V8's default old-space limit, which a 40,000-小区 city outgrows.
  const heapMb = options.maxHeapMb ?? Math.max(2048, Math.floor(os.totalmem() / 1048576 / 2));
  const worker = new Worker(path.join(__dirname, 'worker-entry.js'), {
    workerData,
    execArgv: [],
    resourceLimits: { maxOldGenerationSizeMb: heapMb },
  });
  const waiters: ((m: WorkerMsg) => void)[] = [];
  let exited = false;
  worker.on('message', (m: WorkerMsg) => {
    for (const w of waiters.splice(0)) w(m);
  });

  const ready = await new Promise<WorkerMsg>((resolve, reject) => {
    waiters.push(resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => {
      exited = true;
      reject(new Error(`embedded-mongo worker exited during start-up (code ${code})`));
    });
  }).catch(async (e) => {
    await worker.terminate().catch(() => undefined);
    throw e;
  });
  if (ready.type !== 'ready') {
    await worker.terminate();
    throw new Error(ready.type === 'error' ? ready.message : `embedded-mongo: unexpected start-up message ${ready.type}`);
  }
  worker.removeAllListeners('error');
  worker.removeAllListeners('exit');
  worker.on('error', (e) => process.stderr.write(`embedded-mongo worker error: ${e.stack ?? e.message}\n`));
  worker.on('exit', (code) => {
    exited = true;
    if (!stopping) process.stderr.write(`embedded-mongo: worker exited unexpectedly (code ${code}); the server at 127.0.0.1:${ready.port} is gone\n`);
  });

  const request = (type: string, expect: WorkerMsg['type']): Promise<WorkerMsg> =>
    new Promise((resolve) => {
      const onMsg = (m: WorkerMsg) => {
        if (m.type === expect) resolve(m);
        else waiters.push(onMsg);
      };
      waiters.push(onMsg);
      worker.postMessage({ type });
    });

  let stopping: Promise<void> | null = null;
  return {
    uri: `mongodb://127.0.0.1:${ready.port}`,
    port: ready.port,
    recovery: ready.recovery,
    counters() {
      const out = {} as EngineCounters;
      COUNTER_NAMES.forEach((name, i) => (out[name] = countersView[i]));
      return out;
    },
    async snapshot() {
      if (exited) throw new Error('embedded-mongo is stopped');
      const m = await request('snapshot', 'snapshotted');
      if ('error' in m && m.error) throw new Error(m.error);
    },
    stop() {
      if (!stopping) {
        stopping = (async () => {
          if (exited) return;
          const m = await request('stop', 'stopped');
          await worker.terminate();
          if ('error' in m && m.error) throw new Error(m.error);
        })();
      }
      return stopping;
    },
  };
}
