/**
 * One database command for the reads a subgraph issues together.
 *
 * Resolving one entity batch touches several collections at once (a 小区's committee, alliance,
 * meetings, patrol teams and designations are five collections). Each per-request DataLoader
 * batches its own keys, but every loader would still send its own command. Reads made through this
 * reader in the same turn of the event loop on the same database leave as ONE `aggregate` command:
 * the first read's pipeline, then each other read as a `$unionWith` branch (MongoDB 4.4+; every
 * branch keeps its own `$match` on its own indexes, its own sort and limit), each branch tagging its
 * documents so the answer is split back per read. A lone read is sent as it is.
 *
 * If the combined command fails (a server without `$unionWith`, one branch's bad pipeline), each
 * read is retried on its own, so every caller gets its own answer or its own error.
 *
 * Reads are raw (like mongoose's `.lean()`): filters are cast by the model's schema, documents come
 * back as stored. Only read stages belong in a branch (no `$out`/`$merge`, no `$geoNear`).
 */
import type { Connection, Model, PipelineStage } from 'mongoose';

/** The tag each branch adds to its documents (removed before they are returned). */
const TAG = '__unionBranch';
/** Documents per cursor batch: answers of a few thousand rows arrive without getMore round trips. */
const BATCH_SIZE = 10_000;

export interface FindOptions {
  sort?: Record<string, 1 | -1>;
  skip?: number;
  limit?: number;
  projection?: Record<string, 0 | 1>;
  /** false: the filter is sent as given (reads of the raw collection); default: cast by the schema. */
  cast?: boolean;
}

interface Pending {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  model: Model<any>;
  pipeline: Record<string, unknown>[];
  resolve(docs: Record<string, unknown>[]): void;
  reject(err: unknown): void;
}

export interface UnionReader {
  /** Documents matching `filter` (cast by the model's schema), like `model.find(filter).lean()`. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  find<T>(model: Model<any>, filter: Record<string, unknown>, opts?: FindOptions): Promise<T[]>;
  /** How many documents match `filter` (cast by the model's schema), like `countDocuments`. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  count(model: Model<any>, filter: Record<string, unknown>): Promise<number>;
  /** The result of a read-only pipeline on the model's collection. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  aggregate<T>(model: Model<any>, pipeline: PipelineStage[] | Record<string, unknown>[]): Promise<T[]>;
}

/** Counters for tests and benchmarks: reads asked for, commands sent. */
export const unionReaderStats = { reads: 0, commands: 0, fallbacks: 0 };

const readers = new WeakMap<Connection, UnionReader>();

/** The reader of a connection (one per connection, shared by every request on it). */
export function unionReaderFor(conn: Connection): UnionReader {
  let r = readers.get(conn);
  if (!r) {
    r = createUnionReader();
    readers.set(conn, r);
  }
  return r;
}

export function createUnionReader(): UnionReader {
  let queue: Pending[] = [];
  let scheduled = false;

  const enqueue = <T>(entry: Omit<Pending, 'resolve' | 'reject'>): Promise<T[]> =>
    new Promise<T[]>((resolve, reject) => {
      unionReaderStats.reads++;
      queue.push({ ...entry, resolve: resolve as Pending['resolve'], reject });
      if (!scheduled) {
        scheduled = true;
        // After the DataLoaders of this turn have dispatched (they use process.nextTick).
        setImmediate(flush);
      }
    });

  function flush(): void {
    scheduled = false;
    const batch = queue;
    queue = [];
    // One command per database: group by the connection's database name.
    const byDb = new Map<string, Pending[]>();
    for (const p of batch) {
      const key = p.model.db.name;
      const list = byDb.get(key);
      if (list) list.push(p);
      else byDb.set(key, [p]);
    }
    for (const group of byDb.values()) void run(group);
  }

  async function runOne(p: Pending): Promise<void> {
    unionReaderStats.commands++;
    try {
      p.resolve((await p.model.collection.aggregate(p.pipeline, { batchSize: BATCH_SIZE }).toArray()) as Record<string, unknown>[]);
    } catch (err) {
      p.reject(err);
    }
  }

  async function run(group: Pending[]): Promise<void> {
    if (group.length === 1) return runOne(group[0]);
    const [first, ...rest] = group;
    const pipeline: Record<string, unknown>[] = [
      ...first.pipeline,
      { $addFields: { [TAG]: 0 } },
      ...rest.map((p, i) => ({
        $unionWith: { coll: p.model.collection.collectionName, pipeline: [...p.pipeline, { $addFields: { [TAG]: i + 1 } }] },
      })),
    ];
    let docs: Record<string, unknown>[];
    unionReaderStats.commands++;
    try {
      docs = (await first.model.collection.aggregate(pipeline, { batchSize: BATCH_SIZE }).toArray()) as Record<string, unknown>[];
    } catch {
      unionReaderStats.fallbacks++;
      await Promise.all(group.map(runOne));
      return;
    }
    const parts: Record<string, unknown>[][] = group.map(() => []);
    for (const d of docs) {
      const i = d[TAG] as number;
      delete d[TAG];
      parts[i]?.push(d);
    }
    group.forEach((p, i) => p.resolve(parts[i]));
  }

  return {
    find<T>(model: Model<any>, filter: Record<string, unknown>, opts: FindOptions = {}): Promise<T[]> {
      let match: Record<string, unknown> = filter;
      if (opts.cast !== false) {
        try {
          match = model.find(filter).cast(model) as Record<string, unknown>;
        } catch (err) {
          return Promise.reject(err);
        }
      }
      const pipeline: Record<string, unknown>[] = [{ $match: match }];
      if (opts.sort) pipeline.push({ $sort: opts.sort });
      if (opts.skip) pipeline.push({ $skip: opts.skip });
      if (opts.limit !== undefined) pipeline.push({ $limit: opts.limit });
      if (opts.projection) pipeline.push({ $project: opts.projection });
      return enqueue<T>({ model, pipeline });
    },
    async count(model: Model<any>, filter: Record<string, unknown>): Promise<number> {
      const match = model.find(filter).cast(model) as Record<string, unknown>;
      const rows = await enqueue<{ n: number }>({ model, pipeline: [{ $match: match }, { $count: 'n' }] });
      return rows[0]?.n ?? 0;
    },
    aggregate<T>(model: Model<any>, pipeline: PipelineStage[] | Record<string, unknown>[]): Promise<T[]> {
      return enqueue<T>({ model, pipeline: pipeline as Record<string, unknown>[] });
    },
  };
}
