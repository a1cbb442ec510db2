/**
 * In-memory catalog: databases -> collections -> documents (Map keyed by a monotonic record id,
 * so iteration order is natural/insertion order) plus their indexes. Every mutation is reported
 * to an optional journal (see persistence.ts) as an idempotent "assign" record.
 */
import { BSON, ObjectId, UUID } from 'bson';
import { MongoServerError } from './errors';
import { Index, IndexSpec, normaliseIndexSpec } from './indexes';
import { containsDecimal, Doc, idFirst, renderValue } from './values';

export type LogRecord = Doc & { o: string };

export interface Journal {
  append(rec: LogRecord): void;
}

/**
 * Counters exposed to tests through the `embeddedEngineStats` command, and to the host process's
 * metrics through shared memory (server.ts `publishCounters`, index.ts `counters()`).
 */
export const stats = { docsExamined: 0, indexLookups: 0, collScans: 0, journalSyncs: 0, journalSyncSeconds: 0, journalRecords: 0 };

/** MongoDB's document size limit (BSONObjMaxUserSize) and its internal BSON limit. */
const MAX_USER_SIZE = 16 * 1024 * 1024;
const MAX_INTERNAL_SIZE = MAX_USER_SIZE + 16 * 1024;

function checkInsertSize(doc: Doc): void {
  const size = BSON.calculateObjectSize(doc, { ignoreUndefined: true });
  if (size <= MAX_USER_SIZE) return;
  if (size <= MAX_INTERNAL_SIZE) {
    throw new MongoServerError(10334, `object to insert too large. size in bytes: ${size}, max size: ${MAX_USER_SIZE}`);
  }
  const first = Object.keys(doc)[0];
  throw new MongoServerError(
    10334,
    `BSONObj size: ${size} (0x${size.toString(16).toUpperCase()}) is invalid. Size must be between 0 and ${MAX_INTERNAL_SIZE}(16MB) First element: ${first}: ${renderValue(doc[first])}`,
  );
}

export class Collection {
  readonly docs = new Map<number, Doc>();
  /** The same documents by record id (holes for removed ones): index candidates are read from it. */
  readonly byRid: (Doc | undefined)[] = [];
  readonly indexes: Index[] = [];
  readonly uuid = new UUID();
  /** Top-level fields that have held a Decimal128 (comparisons on them are refused). */
  readonly decimalFields = new Set<string>();
  private nextRid = 1;

  constructor(
    readonly db: Database,
    readonly name: string,
    readonly options: Doc,
  ) {
    this.indexes.push(new Index({ v: 2, key: { _id: 1 }, name: '_id_' }));
  }

  get ns(): string {
    return `${this.db.name}.${this.name}`;
  }

  private get idIndex(): Index {
    return this.indexes[0];
  }

  findRidById(id: unknown): number | undefined {
    const set = this.idIndex.lookupFirst([id]);
    return set.size ? set.values().next().value : undefined;
  }

  private noteDecimals(doc: Doc): void {
    for (const k of Object.keys(doc)) if (containsDecimal(doc[k])) this.decimalFields.add(k);
  }

  /** Insert a document (gets an _id if missing). Enforces unique indexes; journals it. */
  insert(raw: Doc, journal = true): Doc {
    let doc = raw;
    if (doc._id === undefined) doc = { _id: new ObjectId(), ...doc };
    else doc = idFirst(doc);
    if (Array.isArray(doc._id)) throw new MongoServerError(2, "can't use an array for _id");
    checkInsertSize(doc);
    const rid = this.nextRid++;
    const entries = this.indexes.map((ix) => ix.entries(doc));
    this.indexes.forEach((ix, i) => ix.check(doc, rid, this.ns, entries[i]));
    this.indexes.forEach((ix, i) => ix.add(doc, rid, entries[i]));
    this.docs.set(rid, doc);
    this.byRid[rid] = doc;
    this.noteDecimals(doc);
    if (journal) this.db.engine.log({ o: 'i', db: this.db.name, c: this.name, d: doc });
    return doc;
  }

  /** Replace the document stored under `rid` (copy-on-write: `next` is a new object). */
  replace(rid: number, next: Doc, journal = true): Doc {
    const prev = this.docs.get(rid);
    if (!prev) throw new MongoServerError(1, 'record vanished');
    const doc = idFirst(next);
    const entries = this.indexes.map((ix) => ix.entries(doc));
    this.indexes.forEach((ix, i) => ix.check(doc, rid, this.ns, entries[i]));
    this.indexes.forEach((ix, i) => {
      ix.remove(prev, rid);
      ix.add(doc, rid, entries[i]);
    });
    this.docs.set(rid, doc);
    this.byRid[rid] = doc;
    this.noteDecimals(doc);
    if (journal) this.db.engine.log({ o: 'u', db: this.db.name, c: this.name, d: doc });
    return doc;
  }

  remove(rid: number, journal = true): void {
    const prev = this.docs.get(rid);
    if (!prev) return;
    for (const ix of this.indexes) ix.remove(prev, rid);
    this.docs.delete(rid);
    this.byRid[rid] = undefined;
    if (journal) this.db.engine.log({ o: 'r', db: this.db.name, c: this.name, id: prev._id });
  }

  getIndex(name: string): Index | undefined {
    return this.indexes.find((i) => i.spec.name === name);
  }

  /**
   * Create an index. Returns false when an identical index already exists. Building a unique
   * index over duplicate data fails with E11000 like MongoDB.
   */
  createIndex(rawSpec: Doc, journal = true): boolean {
    const spec = normaliseIndexSpec(rawSpec);
    const sameKey = (a: IndexSpec) => JSON.stringify(a.key) === JSON.stringify(spec.key);
    const byName = this.getIndex(spec.name);
    if (byName) {
      if (sameKey(byName.spec) && !!byName.spec.unique === !!spec.unique && !!byName.spec.sparse === !!spec.sparse) return false;
      throw new MongoServerError(
        86,
        `An existing index has the same name as the requested index. When index names are not specified, they are auto generated and can cause conflicts. Please refer to our documentation. Requested index: ${JSON.stringify(spec)}, existing index: ${JSON.stringify(byName.spec)}`,
      );
    }
    const byKey = this.indexes.find((i) => sameKey(i.spec) && JSON.stringify(i.spec.partialFilterExpression) === JSON.stringify(spec.partialFilterExpression));
    if (byKey) {
      throw new MongoServerError(
        85,
        `Index already exists with a different name: ${byKey.spec.name}`,
      );
    }
    const ix = new Index(spec);
    for (const [rid, doc] of this.docs) {
      ix.check(doc, rid, this.ns);
      ix.add(doc, rid);
    }
    this.indexes.push(ix);
    if (journal) this.db.engine.log({ o: 'ci', db: this.db.name, c: this.name, spec: spec as Doc });
    return true;
  }

  dropIndex(name: string, journal = true): void {
    if (name === '_id_') throw new MongoServerError(72, 'cannot drop _id index');
    const i = this.indexes.findIndex((x) => x.spec.name === name);
    if (i < 0) throw new MongoServerError(27, `index not found with name [${name}]`);
    this.indexes.splice(i, 1);
    if (journal) this.db.engine.log({ o: 'di', db: this.db.name, c: this.name, name });
  }

  /** Rebuild all indexes from the documents (after recovery). */
  rebuildIndexes(): void {
    for (const ix of this.indexes) {
      ix.clear();
      for (const [rid, doc] of this.docs) {
        ix.check(doc, rid, this.ns);
        ix.add(doc, rid);
      }
    }
  }

  /** Recovery: assign a document by _id; only the _id index is maintained (rebuildIndexes follows). */
  recoveryUpsert(doc: Doc): void {
    const rid = this.findRidById(doc._id);
    const idIx = this.idIndex;
    if (rid !== undefined) {
      idIx.remove(this.docs.get(rid)!, rid);
      this.docs.set(rid, doc);
      this.byRid[rid] = doc;
      idIx.add(doc, rid);
    } else {
      const r = this.nextRid++;
      this.docs.set(r, doc);
      this.byRid[r] = doc;
      idIx.add(doc, r);
    }
    this.noteDecimals(doc);
  }

  recoveryRemove(id: unknown): void {
    const rid = this.findRidById(id);
    if (rid === undefined) return;
    this.idIndex.remove(this.docs.get(rid)!, rid);
    this.docs.delete(rid);
    this.byRid[rid] = undefined;
  }
}

export class Database {
  readonly collections = new Map<string, Collection>();
  constructor(
    readonly engine: Engine,
    readonly name: string,
  ) {}
}

export class Engine {
  readonly dbs = new Map<string, Database>();
  journal: Journal | null = null;
  /** Compiled aggregation fast path (src/fast); false runs every pipeline through mingo. */
  aggregateFastPath = true;

  log(rec: LogRecord): void {
    this.journal?.append(rec);
  }

  getDb(name: string, create: boolean): Database | undefined {
    let db = this.dbs.get(name);
    if (!db && create) {
      db = new Database(this, name);
      this.dbs.set(name, db);
    }
    return db;
  }

  getCollection(dbName: string, name: string): Collection | undefined {
    return this.dbs.get(dbName)?.collections.get(name);
  }

  /** Get or implicitly create (as inserts/upserts/createIndexes do). */
  ensureCollection(dbName: string, name: string): Collection {
    const existing = this.getCollection(dbName, name);
    if (existing) return existing;
    return this.createCollection(dbName, name, {});
  }

  createCollection(dbName: string, name: string, options: Doc, journal = true): Collection {
    validateCollName(dbName, name);
    const db = this.getDb(dbName, true)!;
    if (db.collections.has(name)) throw new MongoServerError(48, `Collection ${dbName}.${name} already exists.`);
    const c = new Collection(db, name, options);
    db.collections.set(name, c);
    if (journal) this.log({ o: 'c', db: dbName, c: name, opts: options });
    return c;
  }

  dropCollection(dbName: string, name: string, journal = true): boolean {
    const db = this.dbs.get(dbName);
    if (!db || !db.collections.has(name)) return false;
    db.collections.delete(name);
    if (db.collections.size === 0) this.dbs.delete(dbName);
    if (journal) this.log({ o: 'dc', db: dbName, c: name });
    return true;
  }

  dropDatabase(dbName: string, journal = true): void {
    if (!this.dbs.has(dbName)) return;
    this.dbs.delete(dbName);
    if (journal) this.log({ o: 'dd', db: dbName });
  }

  /** Apply one journal record during recovery (idempotent assign semantics). */
  replay(rec: LogRecord): void {
    const db = rec.db as string;
    const c = rec.c as string;
    switch (rec.o) {
      case 'c':
        if (!this.getCollection(db, c)) this.createCollection(db, c, (rec.opts as Doc) ?? {}, false);
        break;
      case 'dc':
        this.dropCollection(db, c, false);
        break;
      case 'dd':
        this.dropDatabase(db, false);
        break;
      case 'ci': {
        const coll = this.getCollection(db, c) ?? this.createCollection(db, c, {}, false);
        const spec = rec.spec as IndexSpec;
        if (!coll.getIndex(spec.name)) coll.indexes.push(new Index(spec));
        break;
      }
      case 'di': {
        const coll = this.getCollection(db, c);
        const i = coll ? coll.indexes.findIndex((x) => x.spec.name === rec.name) : -1;
        if (coll && i > 0) coll.indexes.splice(i, 1);
        break;
      }
      case 'i':
      case 'u': {
        const coll = this.getCollection(db, c) ?? this.createCollection(db, c, {}, false);
        coll.recoveryUpsert(rec.d as Doc);
        break;
      }
      case 'r':
        this.getCollection(db, c)?.recoveryRemove(rec.id);
        break;
      default:
        throw new Error(`unknown journal record type ${String(rec.o)}`);
    }
  }

  /** After recovery: build every secondary index (unique violations here mean corruption). */
  rebuildAllIndexes(): void {
    for (const db of this.dbs.values()) for (const c of db.collections.values()) c.rebuildIndexes();
  }
}

export function validateCollName(db: string, name: string): void {
  if (typeof name !== 'string' || name.length === 0) throw new MongoServerError(73, `Invalid namespace specified '${db}.${String(name)}'`);
  if (name.includes('$') || name.includes('\0')) throw new MongoServerError(73, `Invalid collection name: ${name}`);
  if (!db || /[/\\. "$\0]/.test(db)) throw new MongoServerError(73, `Invalid database name: '${db}'`);
}
