/**
 * Database connections. Each subgraph owns its own MongoDB database (one per bureau) and opens its
 * own mongoose connection; the same code talks to a real MongoDB or to the embedded engine.
 */
import type { AsyncLocalStorage } from 'node:async_hooks';
import { ReadPreference } from 'mongodb';
import mongoose, { type ClientSession, type Connection } from 'mongoose';
import { databaseTimeoutsFromEnv, metricsFromEnv, mongoTopologyFromEnv, type DatabaseTimeouts, type MongoTopologySettings } from './config';

// Every mongoose operation run inside `runInTransaction` carries the transaction's session without
// being handed it (mongoose's transactionAsyncLocalStorage); outside a transaction nothing changes.
mongoose.set('transactionAsyncLocalStorage', true);

export interface DbOptions {
  uri: string;
  /** Database name for this subgraph, e.g. `city_properties`. */
  dbName: string;
  /**
   * Driver command monitoring: the database command metrics and spans (lib/metrics.ts
   * `instrumentDatabase`), the N+1 tests and benchmarks. Default: on when METRICS_ENABLED is (the
   * default), off otherwise.
   */
  monitorCommands?: boolean;
  /**
   * Tolerate a database that stops answering heartbeats for minutes (the single-threaded embedded
   * engine while it snapshots a very large data set): connection attempts and heartbeats may take
   * 10 minutes. With a real MongoDB leave it off, so a server that stops answering is detected within
   * `timeouts` (below). Either way, an operation waits at most the server-selection timeout for a
   * server the driver knows to be down (an engine that is gone: connection refused) and then fails.
   */
  patientMonitor?: boolean;
  /**
   * How long an operation waits for a usable server, and a connection attempt or heartbeat may
   * take, before the operation fails (the subgraph then answers SUBGRAPH_UNAVAILABLE). Default:
   * MONGODB_SERVER_SELECTION_TIMEOUT_MS / MONGODB_CONNECT_TIMEOUT_MS (5 s each; lib/config.ts).
   */
  timeouts?: DatabaseTimeouts;
  /**
   * Read preference, write concern and retryable writes for a replica set or sharded cluster.
   * Default: MONGODB_READ_PREFERENCE / MONGODB_WRITE_CONCERN / MONGODB_RETRY_WRITES (lib/config.ts);
   * an unset one leaves the URI's option or the driver's default (primary reads, the server's
   * default write concern, retryable writes on). The embedded engine accepts them all.
   */
  topology?: MongoTopologySettings;
}

/** The driver options of a topology setting (only the ones that are set). */
export function topologyOptions(t: MongoTopologySettings): { readPreference?: string; writeConcern?: { w: 'majority' | number }; retryWrites?: boolean } {
  return {
    ...(t.readPreference ? { readPreference: t.readPreference } : {}),
    ...(t.writeConcern !== undefined ? { writeConcern: { w: t.writeConcern } } : {}),
    ...(t.retryWrites !== undefined ? { retryWrites: t.retryWrites } : {}),
  };
}

export async function connectDatabase(opts: DbOptions): Promise<Connection> {
  const conn = mongoose.createConnection(opts.uri, {
    dbName: opts.dbName,
    monitorCommands: opts.monitorCommands ?? metricsFromEnv().enabled,
    ...(opts.timeouts ?? databaseTimeoutsFromEnv()),
    // Only the heartbeat and connection patience: a 10-minute server selection would hold every
    // request for 10 minutes once an engine that is gone has been noticed (tested in test/ops/faults.test.ts).
    ...(opts.patientMonitor ? { connectTimeoutMS: 600_000 } : {}),
    ...(topologyOptions(opts.topology ?? mongoTopologyFromEnv()) as mongoose.ConnectOptions),
  });
  conn.plugin(oneRoundTripPlugin);
  await conn.asPromise();
  return conn;
}

/**
 * Batched lookups (`_id $in [...]` behind a DataLoader) should come back in one round trip whatever
 * the list length: the driver's default first batch is 101 documents, after which every further 101
 * cost a `getMore`. Raise the batch size for finds and aggregations on this connection.
 */
export const DEFAULT_BATCH_SIZE = 10_000;
function oneRoundTripPlugin(schema: mongoose.Schema): void {
  schema.pre(['find'], function () {
    if (this.getOptions().batchSize === undefined) this.setOptions({ batchSize: DEFAULT_BATCH_SIZE });
  });
  schema.pre('aggregate', function () {
    if (this.options.batchSize === undefined && !this.options.cursor) this.option({ batchSize: DEFAULT_BATCH_SIZE });
  });
}

/** Creates the collections and indexes of every model on the connection. */
export async function initModels(conn: Connection): Promise<void> {
  for (const model of Object.values(conn.models)) {
    await model.init();
  }
}

/** Round trip to the database; false when it does not answer in time. */
export async function pingDatabase(conn: Connection, timeoutMs = 1000): Promise<boolean> {
  const db = conn.db;
  if (!db || conn.readyState !== 1) return false;
  try {
    await Promise.race([
      db.command({ ping: 1 }),
      new Promise((_, reject) => setTimeout(() => reject(new Error('ping timeout')), timeoutMs).unref()),
    ]);
    return true;
  } catch {
    return false;
  }
}

/** What `withTransaction` needs of a connection (a mongoose Connection; tests pass fakes). */
export interface TransactionCapable {
  db?: { command(cmd: Record<string, unknown>): Promise<Record<string, unknown>> } | null;
  startSession(): Promise<ClientSession>;
}

const transactionSupport = new WeakMap<object, Promise<boolean>>();

/**
 * Whether the server behind the connection runs transactions: a replica set member (`hello` names
 * a `setName`) or a mongos (`msg: 'isdbgrid'`). A standalone server and the embedded engine do not.
 * Asked once per connection.
 */
export function supportsTransactions(conn: TransactionCapable): Promise<boolean> {
  let known = transactionSupport.get(conn);
  if (!known) {
    const db = conn.db;
    known = db
      ? db.command({ hello: 1 }).then((h) => typeof h.setName === 'string' || h.msg === 'isdbgrid')
      : Promise.reject(new Error('withTransaction: the connection is not open'));
    // A failed probe is not remembered: the next call asks again.
    known.catch(() => transactionSupport.delete(conn));
    transactionSupport.set(conn, known);
  }
  return known;
}

/**
 * Runs `fn` as one transaction when the server supports transactions (replica set, sharded
 * cluster): `fn` gets the session to pass to every read and write (`{ session }`), the driver
 * retries it on transient errors and commits it, and an error aborts it, so a write touching
 * several documents is all or nothing. On a standalone server and the embedded engine, `fn` runs
 * once with `session` null, as plain writes (the standalone path). Mutations do not use it: every
 * Mutation resolver runs in `runInTransaction` (below), which needs no session threading. `fn` may
 * run more than once on a replica set: keep it free of side effects outside the database.
 */
export async function withTransaction<T>(conn: TransactionCapable, fn: (session: ClientSession | null) => Promise<T>): Promise<T> {
  if (!(await supportsTransactions(conn))) return fn(null);
  const session = await conn.startSession();
  try {
    let result: T | undefined;
    await session.withTransaction(async () => {
      result = await fn(session);
    });
    return result as T;
  } finally {
    await session.endSession();
  }
}

// ---------------------------------------------------------------------------------------------
// Transactions around whole write paths (every mutation: lib/subgraph-server.ts wraps them)
// ---------------------------------------------------------------------------------------------

/** mongoose's transaction store (the `{ session }` of the transaction the caller runs in). */
type TransactionStore = AsyncLocalStorage<{ session?: ClientSession }>;
const storeOf = (conn: Connection): TransactionStore | undefined =>
  (conn.base as unknown as { transactionAsyncLocalStorage?: TransactionStore }).transactionAsyncLocalStorage;

/** The session of the transaction the caller runs in (inside `runInTransaction`), or null. */
export function currentTransactionSession(conn: Connection): ClientSession | null {
  const session = storeOf(conn)?.getStore()?.session;
  return session && !session.hasEnded && session.inTransaction() ? session : null;
}

/**
 * Driver calls made through `model.collection` or `conn.db` (bulk rollup writes, raw inserts) are not
 * mongoose operations, so the store does not reach them. The driver gives every call made without a
 * session an implicit one from `client.startSession({ explicit: false })`: on this connection's
 * client, such a call made inside a transaction gets the transaction's session instead, so raw
 * reads see the transaction's own writes and raw writes commit or abort with it. Installed once per
 * client, on the first transaction; outside a transaction nothing changes.
 */
const sharingClients = new WeakSet<object>();
function shareTransactionWithDriverCalls(conn: Connection): void {
  // A transaction reads from the primary: the driver refuses any other read preference inside one.
  // Calls given the session take it from the transaction; calls that get it implicitly take their
  // collection's, inherited from this database object, which answers `primary` inside a transaction
  // (MONGODB_READ_PREFERENCE applies outside).
  const db = conn.db;
  if (db && !sharingClients.has(db)) {
    sharingClients.add(db);
    const inherited = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(db), 'readPreference')?.get;
    if (inherited) {
      Object.defineProperty(db, 'readPreference', {
        configurable: true,
        get: () => (currentTransactionSession(conn) ? ReadPreference.primary : inherited.call(db)),
      });
    }
  }
  const client = conn.getClient();
  if (sharingClients.has(client)) return;
  sharingClients.add(client);
  const startSession = client.startSession.bind(client);
  client.startSession = ((options?: { explicit?: boolean }) => {
    const session = options?.explicit === false ? storeOf(conn)?.getStore()?.session : undefined;
    if (session && (session as unknown as { client?: unknown }).client === client) return borrowed(session);
    return startSession(options as Parameters<typeof startSession>[0]);
  }) as typeof client.startSession;
}

/**
 * The transaction's session as lent to a driver call that asked for an implicit one: the same
 * session, except that the call cannot end it (`MongoClient.withSession`, used by bulk writes, ends
 * the session it started).
 */
const lent = new WeakMap<ClientSession, ClientSession>();
function borrowed(session: ClientSession): ClientSession {
  let proxy = lent.get(session);
  if (!proxy) {
    proxy = new Proxy(session, {
      get(target, prop) {
        if (prop === 'endSession') return async () => undefined;
        const value: unknown = Reflect.get(target, prop, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    lent.set(session, proxy);
  }
  return proxy;
}

/**
 * An ended session, put in the place of an attempt's session once the attempt is over: work the
 * attempt left running (the other branches of a `Promise.all` that rejected) then fails with
 * "expired session" instead of writing outside the transaction or into the next attempt's.
 */
const endedSessions = new WeakMap<object, Promise<ClientSession>>();
function endedSession(conn: Connection): Promise<ClientSession> {
  const client = conn.getClient();
  let ended = endedSessions.get(client);
  if (!ended) {
    ended = (async () => {
      const s = client.startSession();
      await s.endSession();
      return s as unknown as ClientSession;
    })();
    endedSessions.set(client, ended);
  }
  return ended;
}

/**
 * Tells `runInTransaction` and `withTransaction` whether the server runs transactions instead of
 * asking it (`hello`). Tests use it to drive the transactional path over a wire recorder in front of
 * the embedded engine; `false` also turns transactions off for a connection.
 */
export function assumeTransactionSupport(conn: TransactionCapable, supported: boolean): void {
  transactionSupport.set(conn, Promise.resolve(supported));
}

export interface RunInTransactionOptions {
  /**
   * Called each time an attempt is rolled back (before a retry, before the plain-write fallback and
   * before an error reaches the caller): undo what the attempt did outside the database (notes for
   * the audit log, DataLoader caches holding rows read inside it).
   */
  onRollback?: () => void;
  /** Told when the server aborted the transaction under the write path and it ran as plain writes. */
  onFallback?: (cause: unknown) => void;
}

/** Whole-transaction attempts on transient errors (write conflicts, elections), and commit retries. */
export const TRANSACTION_ATTEMPTS = 5;
const COMMIT_RETRIES = 3;
/** The server's `NoSuchTransaction`: it aborted the transaction (after a command error inside it). */
const NO_SUCH_TRANSACTION = 251;
/** The collection the first read of every transaction goes to (it never holds anything). */
export const TRANSACTION_BEGIN_COLLECTION = 'transaction_begin';

const hasLabel = (e: unknown, label: string): boolean =>
  typeof (e as { hasErrorLabel?: unknown })?.hasErrorLabel === 'function' && (e as { hasErrorLabel(l: string): boolean }).hasErrorLabel(label);
const abortedByServer = (e: unknown): boolean => (e as { code?: number })?.code === NO_SUCH_TRANSACTION;

/**
 * Runs a write path as one transaction when the server supports them (replica set, sharded cluster):
 * every mongoose operation and every raw driver call `fn` makes on this connection carries the
 * transaction's session without being handed it, reads go to the primary, and the writes commit
 * together or not at all. On a standalone server and the embedded engine `fn` simply runs (the
 * standalone path: plain writes, as before). Inside a transaction already, `fn` joins it.
 *
 * - Transient errors (write conflicts, a primary stepping down) re-run the whole of `fn`, at most
 *   TRANSACTION_ATTEMPTS times; `onRollback` runs before each retry. A commit whose outcome is
 *   unknown is retried as a commit.
 * - The first command of every attempt is a read that opens the transaction on the server, so
 *   operations `fn` runs in parallel (`Promise.all`) all join an open transaction.
 * - A command error inside a transaction makes the server abort it, even when `fn` catches the
 *   error (a duplicate key caught to return the first result of an idempotent retry, or to retry a
 *   compare-and-set): the next command or the commit then fails with NoSuchTransaction, and
 *   re-running `fn` would fail the same way. Such a write path runs once more as plain writes, as on
 *   a standalone server (the write paths are built to be correct that way), and `onFallback` is told.
 *
 * `fn` may run more than once: keep it free of effects outside the database, or undo them in
 * `onRollback`.
 */
export async function runInTransaction<T>(conn: Connection, fn: () => Promise<T>, opts: RunInTransactionOptions = {}): Promise<T> {
  if (currentTransactionSession(conn) || !(await supportsTransactions(conn))) return fn();
  const store = storeOf(conn);
  if (!store) throw new Error('runInTransaction: mongoose transactionAsyncLocalStorage is off');
  shareTransactionWithDriverCalls(conn);
  const ended = await endedSession(conn);
  const session = await conn.startSession();
  let cause: unknown;
  try {
    for (let attempt = 1; ; attempt++) {
      if (session.inTransaction()) await session.abortTransaction().catch(() => undefined);
      session.startTransaction({ readPreference: 'primary' });
      let failed = false;
      let failure: unknown;
      let result: T | undefined;
      const slot: { session?: ClientSession } = { session };
      try {
        result = await store.run(slot, async () => {
          await conn.db!.collection(TRANSACTION_BEGIN_COLLECTION).findOne({}, { session, projection: { _id: 1 } });
          return fn();
        });
      } catch (e) {
        [failed, failure] = [true, e];
      }
      slot.session = ended;
      if (failed && session.inTransaction()) await session.abortTransaction().catch(() => undefined);
      if (!failed) {
        for (let retry = 0; ; retry++) {
          try {
            await session.commitTransaction();
            return result as T;
          } catch (e) {
            if (hasLabel(e, 'UnknownTransactionCommitResult') && retry < COMMIT_RETRIES) continue;
            [failed, failure] = [true, e];
            break;
          }
        }
      }
      opts.onRollback?.();
      if (abortedByServer(failure)) {
        cause = failure;
        break;
      }
      if (hasLabel(failure, 'TransientTransactionError') && attempt < TRANSACTION_ATTEMPTS) continue;
      throw failure;
    }
  } finally {
    await session.endSession().catch(() => undefined);
  }
  opts.onFallback?.(cause);
  return fn();
}

/** Counts the commands the driver sends on this connection (needs `monitorCommands`). */
export function countCommands(conn: Connection): { readonly count: number; byName: Map<string, number>; reset(): void } {
  const byName = new Map<string, number>();
  let count = 0;
  conn.getClient().on('commandStarted', (ev) => {
    if (ev.commandName === 'hello' || ev.commandName === 'isMaster' || ev.commandName === 'ismaster') return;
    count++;
    byName.set(ev.commandName, (byName.get(ev.commandName) ?? 0) + 1);
  });
  return {
    get count() {
      return count;
    },
    byName,
    reset() {
      count = 0;
      byName.clear();
    },
  };
}

/** Registers a model once per connection (later calls return the same model). */
export function defineModel<S extends mongoose.Schema>(
  conn: Connection,
  name: string,
  schema: S,
  collection: string,
): mongoose.Model<mongoose.InferSchemaType<S>> {
  const existing = conn.models[name] as unknown as mongoose.Model<mongoose.InferSchemaType<S>> | undefined;
  return existing ?? (conn.model(name, schema, collection) as unknown as mongoose.Model<mongoose.InferSchemaType<S>>);
}

/** A document keyed by its own `_id`, as the seed data is written. */
/** MongoDB's duplicate-key error (E11000), as the driver reports it from any write. */
export const isDuplicateKey = (e: unknown): boolean => (e as { code?: number })?.code === 11000;

/** Driver errors that mean "no database to talk to right now" (not a bad command): by class name. */
const UNAVAILABLE_ERRORS = new Set([
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoServerSelectionError',
  'MongooseServerSelectionError',
  'MongoTopologyClosedError',
  'MongoClientClosedError',
  'MongoServerClosedError',
  'MongoNotConnectedError',
  'MongoPoolClearedError',
  'PoolClearedOnNetworkError',
  'MongoPoolClosedError',
  'MongoWaitQueueTimeoutError',
]);

/**
 * True when `e` (or an error it wraps, through `cause` or `originalError`) says the database is
 * unreachable: refused or dropped connections, no server selectable within
 * MONGODB_SERVER_SELECTION_TIMEOUT_MS, mongoose's buffering timeout, a closed client. The subgraph
 * answers these with SUBGRAPH_UNAVAILABLE (lib/subgraph-server.ts) instead of an internal error.
 */
export function isDatabaseUnavailable(e: unknown): boolean {
  for (let cur = e, depth = 0; cur && typeof cur === 'object' && depth < 5; depth++) {
    const err = cur as { name?: unknown; message?: unknown; cause?: unknown; originalError?: unknown };
    if (typeof err.name === 'string' && UNAVAILABLE_ERRORS.has(err.name)) return true;
    if (err.name === 'MongooseError' && typeof err.message === 'string' && /buffering timed out/.test(err.message)) return true;
    cur = err.originalError ?? err.cause;
  }
  return false;
}

export type SeedRow = { _id: string } & Record<string, unknown>;

/**
 * Writes rows as upserts by `_id` in one bulk write, so loading the same data twice creates no
 * duplicates. Returns the number of rows written.
 */
export async function upsertById(model: { bulkWrite: (ops: never[]) => Promise<unknown> }, rows: SeedRow[]): Promise<number> {
  if (!rows.length) return 0;
  await model.bulkWrite(rows.map((r) => ({ replaceOne: { filter: { _id: r._id }, replacement: r, upsert: true } })) as never[]);
  return rows.length;
}
