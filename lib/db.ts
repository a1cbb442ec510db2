/**
 * Database connections. Each subgraph owns its own MongoDB database (one per bureau) and opens its
 * own mongoose connection; the same code talks to a real MongoDB or to the embedded engine.
 */
import mongoose, { type Connection } from 'mongoose';

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
}

export async function connectDatabase(opts: DbOptions): Promise<Connection> {
  const conn = mongoose.createConnection(opts.uri, {
    dbName: opts.dbName,
    monitorCommands: opts.monitorCommands ?? false,
    serverSelectionTimeoutMS: 5000,
    ...(opts.patientMonitor ? { connectTimeoutMS: 600_000, serverSelectionTimeoutMS: 600_000 } : {}),
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
