/**
 * Database connections. Each subgraph owns its own MongoDB database (one per bureau) and opens its
 * own mongoose connection; the same code talks to a real MongoDB or to the embedded engine.
 */
import mongoose, { type ClientSession, type Connection } from 'mongoose';
import { mongoTopologyFromEnv, type MongoTopologySettings } from './config';

export interface DbOptions {
  uri: string;
  /** Database name for this subgraph, e.g. `city_properties`. */
  dbName: string;
  /** Enables driver command monitoring (used by the N+1 tests and benchmarks). */
  monitorCommands?: boolean;
  /**
   * Tolerate a database that stops answering heartbeats for minutes (the single-threaded embedded
   * engine while it snapshots a very large data set). With a real MongoDB leave it off, so a dead
   * server is detected within the driver's default 30 s.
   */
  patientMonitor?: boolean;
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
    monitorCommands: opts.monitorCommands ?? false,
    serverSelectionTimeoutMS: 5000,
    ...(opts.patientMonitor ? { connectTimeoutMS: 600_000, serverSelectionTimeoutMS: 600_000 } : {}),
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
 * once with `session` null, as plain writes (the standalone path; docs/deployment.md lists the write
 * paths meant to use this). `fn` may run more than once on a replica set: keep it free of side
 * effects outside the database.
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
