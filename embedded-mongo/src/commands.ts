/**
 * Command layer: one handler per MongoDB command, returning the reply document. Handlers run
 * synchronously on the engine thread; the caller commits the journal (one fsync per command)
 * before the reply is sent.
 */
import { BSON, Long } from 'bson';
import { makeQuery } from './mingo';
import { CursorManager } from './cursors';
import { mapMingoError, MongoServerError, unsupported } from './errors';
import { aggregateDocs, bsonSort, findDocs, matchDocs, projectDocs, refuseCollation, refuseUnsupported } from './query';
import { fastStats } from './fast';
import { Collection, Engine, stats, validateCollName } from './storage';
import { applyUpdate, UpdateSpec, upsertDoc, validateUpdate } from './update';
import { cloneDoc, Doc, idFirst, isPlainObject, keyOf, valuesAtPath } from './values';

export const MAX_WIRE_VERSION = 21;
export const SERVER_VERSION = '7.0.0';

export interface ConnInfo {
  id: number;
  remote: string;
}

export interface CommandContext {
  engine: Engine;
  cursors: CursorManager;
  conn: ConnInfo;
  startedAt: number;
  /** Extra status for the `embeddedEngineStats` command (recovery info etc.). */
  info: Doc;
}

type Handler = (cmd: Doc, db: string, ctx: CommandContext) => Doc;

function toErr(e: unknown): MongoServerError {
  return e instanceof MongoServerError ? e : mapMingoError(e);
}

function collName(cmd: Doc, key: string): string {
  const v = cmd[key];
  if (typeof v !== 'string') throw new MongoServerError(73, `collection name has invalid type ${typeof v}`);
  return v;
}

function num(v: unknown, dflt: number): number {
  if (v === undefined || v === null) return dflt;
  if (typeof v === 'number') return v;
  if (v instanceof Long) return v.toNumber();
  return Number(v);
}

function helloReply(cmd: Doc, ctx: CommandContext, legacy: boolean): Doc {
  const r: Doc = {};
  if (cmd.helloOk) r.helloOk = true;
  r.isWritablePrimary = true;
  if (legacy) r.ismaster = true;
  Object.assign(r, {
    maxBsonObjectSize: 16 * 1024 * 1024,
    maxMessageSizeBytes: 48_000_000,
    maxWriteBatchSize: 100_000,
    localTime: new Date(), // wall-clock: the server's time, as MongoDB reports it
    logicalSessionTimeoutMinutes: 30,
    connectionId: ctx.conn.id,
    minWireVersion: 0,
    maxWireVersion: MAX_WIRE_VERSION,
    readOnly: false,
    ok: 1,
  });
  return r;
}

/** Sort helper for findAndModify (BSON order, like find). */
function sortDocs(docs: Doc[], sort: Doc | undefined): Doc[] {
  if (!sort || Object.keys(sort).length === 0) return docs;
  return bsonSort(docs, sort);
}

function project(doc: Doc | null, fields: Doc | undefined, filter: Doc): Doc | null {
  if (!doc || !fields || Object.keys(fields).length === 0) return doc;
  refuseUnsupported(fields);
  return projectDocs([doc], fields, filter)[0] ?? null;
}

/** An invalid filter is an error even when the collection does not exist (MongoDB parses it first). */
function checkFilter(filter: unknown): void {
  if (!isPlainObject(filter)) return;
  refuseUnsupported(filter);
  try {
    makeQuery(filter);
  } catch (e) {
    throw mapMingoError(e);
  }
}

// ---------------------------------------------------------------- writes

function cmdInsert(cmd: Doc, db: string, ctx: CommandContext): Doc {
  const name = collName(cmd, 'insert');
  const docs = (cmd.documents as Doc[]) ?? [];
  const ordered = cmd.ordered !== false;
  const coll = ctx.engine.ensureCollection(db, name);
  let n = 0;
  const writeErrors: Doc[] = [];
  for (let i = 0; i < docs.length; i++) {
    try {
      coll.insert(docs[i]);
      n++;
    } catch (e) {
      writeErrors.push(toErr(e).toWriteError(i));
      if (ordered) break;
    }
  }
  const r: Doc = { n, ok: 1 };
  if (writeErrors.length) r.writeErrors = writeErrors;
  return r;
}

function cmdUpdate(cmd: Doc, db: string, ctx: CommandContext): Doc {
  const name = collName(cmd, 'update');
  const updates = (cmd.updates as Doc[]) ?? [];
  const ordered = cmd.ordered !== false;
  let n = 0;
  let nModified = 0;
  const upserted: Doc[] = [];
  const writeErrors: Doc[] = [];
  for (let i = 0; i < updates.length; i++) {
    const st = updates[i];
    try {
      refuseCollation(st.collation);
      const q = (st.q as Doc) ?? {};
      checkFilter(q);
      const u = validateUpdate(st.u);
      const multi = !!st.multi;
      if (multi && !Array.isArray(u) && !Object.keys(u)[0]?.startsWith('$') && Object.keys(u).length > 0) {
        throw new MongoServerError(9, 'multi update is not supported for replacement-style update');
      }
      const arrayFilters = st.arrayFilters as Doc[] | undefined;
      const r = updateMatching(ctx, db, name, q, u, { multi, upsert: !!st.upsert, arrayFilters, sort: st.sort as Doc | undefined });
      n += r.n;
      nModified += r.nModified;
      if (r.upsertedId !== undefined) upserted.push({ index: i, _id: r.upsertedId });
    } catch (e) {
      writeErrors.push(toErr(e).toWriteError(i));
      if (ordered) break;
    }
  }
  const r: Doc = { n, nModified, ok: 1 };
  if (upserted.length) r.upserted = upserted;
  if (writeErrors.length) r.writeErrors = writeErrors;
  return r;
}

function updateMatching(
  ctx: CommandContext,
  db: string,
  name: string,
  q: Doc,
  u: UpdateSpec,
  o: { multi: boolean; upsert: boolean; arrayFilters?: Doc[]; sort?: Doc },
): { n: number; nModified: number; upsertedId?: unknown } {
  const coll = ctx.engine.getCollection(db, name);
  let n = 0;
  let nModified = 0;
  if (coll) {
    let { rids, docs } = matchDocs(coll, q, o.multi || o.sort ? 0 : 1);
    if (!o.multi && o.sort && docs.length > 1) {
      const first = sortDocs(docs, o.sort)[0];
      rids = [coll.findRidById(first._id)!];
      docs = [first];
    }
    for (let k = 0; k < rids.length; k++) {
      const { doc, changed } = applyUpdate(docs[k], u, { arrayFilters: o.arrayFilters, condition: q });
      n++;
      if (changed) {
        coll.replace(rids[k], doc);
        nModified++;
      }
    }
  }
  if (n === 0 && o.upsert) {
    const doc = upsertDoc(q, u, o.arrayFilters);
    ctx.engine.ensureCollection(db, name).insert(doc);
    return { n: 1, nModified: 0, upsertedId: doc._id };
  }
  return { n, nModified };
}

function cmdDelete(cmd: Doc, db: string, ctx: CommandContext): Doc {
  const name = collName(cmd, 'delete');
  const deletes = (cmd.deletes as Doc[]) ?? [];
  const ordered = cmd.ordered !== false;
  const coll = ctx.engine.getCollection(db, name);
  let n = 0;
  const writeErrors: Doc[] = [];
  for (let i = 0; i < deletes.length; i++) {
    try {
      const st = deletes[i];
      refuseCollation(st.collation);
      checkFilter(st.q);
      if (!coll) continue;
      const limit = num(st.limit, 0);
      const { rids } = matchDocs(coll, (st.q as Doc) ?? {}, limit === 1 ? 1 : 0);
      for (const rid of rids) coll.remove(rid);
      n += rids.length;
    } catch (e) {
      writeErrors.push(toErr(e).toWriteError(i));
      if (ordered) break;
    }
  }
  const r: Doc = { n, ok: 1 };
  if (writeErrors.length) r.writeErrors = writeErrors;
  return r;
}

function cmdFindAndModify(cmd: Doc, db: string, ctx: CommandContext): Doc {
  const name = typeof cmd.findAndModify === 'string' ? cmd.findAndModify : collName(cmd, 'findandmodify');
  refuseCollation(cmd.collation);
  const query = (cmd.query as Doc) ?? {};
  checkFilter(query);
  const sort = cmd.sort as Doc | undefined;
  const fields = cmd.fields as Doc | undefined;
  const returnNew = !!cmd.new;
  const remove = !!cmd.remove;
  if (remove && (cmd.update !== undefined || cmd.upsert)) {
    throw new MongoServerError(9, 'Cannot specify both an update and remove=true');
  }
  if (!remove && cmd.update === undefined) throw new MongoServerError(9, 'Either an update or remove=true must be specified');
  const coll = ctx.engine.getCollection(db, name);
  let target: Doc | undefined;
  let rid: number | undefined;
  if (coll) {
    const m = matchDocs(coll, query, sort && Object.keys(sort).length ? 0 : 1);
    if (m.docs.length) {
      target = sortDocs(m.docs, sort)[0];
      rid = coll.findRidById(target._id);
    }
  }
  if (remove) {
    if (coll && target && rid !== undefined) coll.remove(rid);
    return { lastErrorObject: { n: target ? 1 : 0 }, value: project(target ?? null, fields, query), ok: 1 };
  }
  const u = validateUpdate(cmd.update);
  const arrayFilters = cmd.arrayFilters as Doc[] | undefined;
  if (coll && target && rid !== undefined) {
    const { doc, changed } = applyUpdate(target, u, { arrayFilters, condition: query });
    if (changed) coll.replace(rid, doc);
    return {
      lastErrorObject: { n: 1, updatedExisting: true },
      value: project(returnNew ? doc : target, fields, query),
      ok: 1,
    };
  }
  if (cmd.upsert) {
    const doc = upsertDoc(query, u, arrayFilters);
    ctx.engine.ensureCollection(db, name).insert(doc);
    return {
      lastErrorObject: { n: 1, updatedExisting: false, upserted: doc._id },
      value: returnNew ? project(doc, fields, query) : null,
      ok: 1,
    };
  }
  return { lastErrorObject: { n: 0, updatedExisting: false }, value: null, ok: 1 };
}

// ---------------------------------------------------------------- reads

function cmdFind(cmd: Doc, db: string, ctx: CommandContext): Doc {
  const name = collName(cmd, 'find');
  refuseCollation(cmd.collation);
  if (cmd.tailable) throw unsupported('tailable cursors (capped collections)');
  if (cmd.min !== undefined || cmd.max !== undefined) throw unsupported('find min/max');
  if (cmd.let !== undefined) throw unsupported("find 'let' variables");
  const coll = ctx.engine.getCollection(db, name);
  let limit = num(cmd.limit, 0);
  let single = !!cmd.singleBatch;
  if (limit < 0) {
    limit = -limit;
    single = true;
  }
  const docs = findDocs(coll, {
    filter: cmd.filter as Doc | undefined,
    sort: cmd.sort as Doc | undefined,
    projection: cmd.projection as Doc | undefined,
    skip: num(cmd.skip, 0),
    limit,
    hint: cmd.hint,
  });
  const batchSize = cmd.batchSize === undefined ? 101 : num(cmd.batchSize, 101);
  return ctx.cursors.open(`${db}.${name}`, docs, batchSize, single);
}

function cmdGetMore(cmd: Doc, db: string, ctx: CommandContext): Doc {
  const id = num(cmd.getMore, 0);
  const r = ctx.cursors.getMore(id, num(cmd.batchSize, 0));
  if (!r) throw new MongoServerError(43, `cursor id ${id} not found`);
  return { cursor: { nextBatch: r.batch, id: Long.fromNumber(r.id), ns: r.ns }, ok: 1 };
}

function cmdKillCursors(cmd: Doc, _db: string, ctx: CommandContext): Doc {
  const killed: Long[] = [];
  const notFound: Long[] = [];
  for (const raw of (cmd.cursors as unknown[]) ?? []) {
    const id = num(raw, 0);
    (ctx.cursors.kill(id) ? killed : notFound).push(Long.fromNumber(id));
  }
  return { cursorsKilled: killed, cursorsNotFound: notFound, cursorsAlive: [], cursorsUnknown: [], ok: 1 };
}

function cmdAggregate(cmd: Doc, db: string, ctx: CommandContext): Doc {
  refuseCollation(cmd.collation);
  if (cmd.explain) throw unsupported('explain');
  if (cmd.let !== undefined) throw unsupported("aggregate 'let' variables");
  const target = cmd.aggregate;
  let coll: Collection | undefined;
  let nsColl: string;
  if (target === 1) nsColl = '$cmd.aggregate';
  else {
    nsColl = collName(cmd, 'aggregate');
    coll = ctx.engine.getCollection(db, nsColl);
  }
  const pipeline = cmd.pipeline as Doc[];
  if (target === 1) {
    // Database-level aggregates ($currentOp, $listLocalSessions, $documents...) are not offered.
    throw unsupported('database-level aggregate (aggregate: 1)');
  }
  const docs = aggregateDocs(ctx.engine, db, coll, pipeline);
  const cur = (cmd.cursor as Doc) ?? {};
  return ctx.cursors.open(`${db}.${nsColl}`, docs, cur.batchSize === undefined ? 101 : num(cur.batchSize, 101));
}

function cmdCount(cmd: Doc, db: string, ctx: CommandContext): Doc {
  refuseCollation(cmd.collation);
  const coll = ctx.engine.getCollection(db, collName(cmd, 'count'));
  checkFilter(cmd.query);
  if (!coll) return { n: 0, ok: 1 };
  const query = (cmd.query as Doc) ?? {};
  let n = Object.keys(query).length === 0 ? coll.docs.size : matchDocs(coll, query).docs.length;
  const skip = num(cmd.skip, 0);
  const limit = Math.abs(num(cmd.limit, 0));
  n = Math.max(0, n - skip);
  if (limit) n = Math.min(n, limit);
  return { n, ok: 1 };
}

function cmdDistinct(cmd: Doc, db: string, ctx: CommandContext): Doc {
  refuseCollation(cmd.collation);
  const coll = ctx.engine.getCollection(db, collName(cmd, 'distinct'));
  const key = cmd.key;
  if (typeof key !== 'string') throw new MongoServerError(14, "The 'key' field must be a string");
  checkFilter(cmd.query);
  if (!coll) return { values: [], ok: 1 };
  const seen = new Map<string, unknown>();
  for (const d of matchDocs(coll, (cmd.query as Doc) ?? {}).docs) {
    for (const v of valuesAtPath(d, key)) {
      if (v === undefined) continue;
      const k = keyOf(v);
      if (!seen.has(k)) seen.set(k, v);
    }
  }
  if (coll.decimalFields.has(key.split('.')[0])) throw unsupported('Decimal128 in comparisons (distinct)');
  return { values: [...seen.values()], ok: 1 };
}

// ---------------------------------------------------------------- catalog

function collInfo(c: Collection): Doc {
  return {
    name: c.name,
    type: 'collection',
    options: c.options,
    info: { readOnly: false, uuid: c.uuid },
    idIndex: { v: 2, key: { _id: 1 }, name: '_id_' },
  };
}

function cmdCreate(cmd: Doc, db: string, ctx: CommandContext): Doc {
  const name = collName(cmd, 'create');
  if (cmd.capped) throw unsupported('capped collections');
  if (cmd.validator !== undefined) throw unsupported('collection validators ($jsonSchema / validator option)');
  if (cmd.timeseries !== undefined) throw unsupported('time series collections');
  if (cmd.viewOn !== undefined) throw unsupported('views');
  if (cmd.clusteredIndex !== undefined) throw unsupported('clustered collections');
  if (cmd.changeStreamPreAndPostImages !== undefined) throw unsupported('change streams');
  refuseCollation(cmd.collation);
  if (cmd.expireAfterSeconds !== undefined) throw unsupported('TTL (expireAfterSeconds)');
  ctx.engine.createCollection(db, name, {});
  return { ok: 1 };
}

function cmdDrop(cmd: Doc, db: string, ctx: CommandContext): Doc {
  const name = collName(cmd, 'drop');
  const c = ctx.engine.getCollection(db, name);
  const nIndexesWas = c ? c.indexes.length : 0;
  ctx.engine.dropCollection(db, name);
  return { nIndexesWas, ns: `${db}.${name}`, ok: 1 };
}

function cmdListCollections(cmd: Doc, db: string, ctx: CommandContext): Doc {
  const d = ctx.engine.getDb(db, false);
  let infos = d ? [...d.collections.values()].map(collInfo) : [];
  if (isPlainObject(cmd.filter) && Object.keys(cmd.filter).length) {
    infos = makeQuery(cmd.filter).find(infos).all() as Doc[];
  }
  if (cmd.nameOnly) infos = infos.map((i) => ({ name: i.name, type: i.type }));
  return ctx.cursors.open(`${db}.$cmd.listCollections`, infos, 0, true);
}

function cmdListIndexes(cmd: Doc, db: string, ctx: CommandContext): Doc {
  const name = collName(cmd, 'listIndexes');
  const c = ctx.engine.getCollection(db, name);
  if (!c) throw new MongoServerError(26, `ns does not exist: ${db}.${name}`);
  return ctx.cursors.open(`${db}.${name}`, c.indexes.map((i) => ({ ...i.spec })), 0, true);
}

function cmdCreateIndexes(cmd: Doc, db: string, ctx: CommandContext): Doc {
  const name = collName(cmd, 'createIndexes');
  const specs = cmd.indexes;
  if (!Array.isArray(specs) || specs.length === 0) throw new MongoServerError(2, 'Must specify at least one index to create');
  validateCollName(db, name);
  const existed = !!ctx.engine.getCollection(db, name);
  const c = ctx.engine.ensureCollection(db, name);
  const before = c.indexes.length;
  let created = 0;
  for (const s of specs) if (c.createIndex(s as Doc)) created++;
  const r: Doc = { numIndexesBefore: before, numIndexesAfter: c.indexes.length, createdCollectionAutomatically: !existed, ok: 1 };
  if (created === 0) r.note = 'all indexes already exist';
  return r;
}

function cmdDropIndexes(cmd: Doc, db: string, ctx: CommandContext): Doc {
  const name = collName(cmd, 'dropIndexes');
  const c = ctx.engine.getCollection(db, name);
  if (!c) throw new MongoServerError(26, `ns not found ${db}.${name}`);
  const nIndexesWas = c.indexes.length;
  const which = cmd.index;
  if (which === '*') {
    for (const ix of c.indexes.slice(1)) c.dropIndex(ix.spec.name);
  } else if (typeof which === 'string') {
    c.dropIndex(which);
  } else if (Array.isArray(which)) {
    for (const n of which) c.dropIndex(String(n));
  } else if (isPlainObject(which)) {
    const ix = c.indexes.find((i) => JSON.stringify(i.spec.key) === JSON.stringify(which));
    if (!ix) throw new MongoServerError(27, `can't find index with key: ${JSON.stringify(which)}`);
    c.dropIndex(ix.spec.name);
  } else throw new MongoServerError(14, 'dropIndexes: index must be a string, array or object');
  return { nIndexesWas, ok: 1 };
}

function dataSize(c: Collection): number {
  let n = 0;
  for (const d of c.docs.values()) n += BSON.calculateObjectSize(d);
  return n;
}

function cmdListDatabases(cmd: Doc, _db: string, ctx: CommandContext): Doc {
  const dbs = [...ctx.engine.dbs.values()].map((d) => {
    const size = [...d.collections.values()].reduce((a, c) => a + dataSize(c), 0);
    return cmd.nameOnly ? { name: d.name } : { name: d.name, sizeOnDisk: size, empty: size === 0 };
  });
  const totalSize = dbs.reduce((a, d) => a + ((d as Doc).sizeOnDisk as number ?? 0), 0);
  return cmd.nameOnly ? { databases: dbs, ok: 1 } : { databases: dbs, totalSize, totalSizeMb: Math.floor(totalSize / 1048576), ok: 1 };
}

function cmdDbStats(_cmd: Doc, db: string, ctx: CommandContext): Doc {
  const d = ctx.engine.getDb(db, false);
  const colls = d ? [...d.collections.values()] : [];
  const objects = colls.reduce((a, c) => a + c.docs.size, 0);
  const size = colls.reduce((a, c) => a + dataSize(c), 0);
  return {
    db,
    collections: colls.length,
    views: 0,
    objects,
    avgObjSize: objects ? size / objects : 0,
    dataSize: size,
    storageSize: size,
    indexes: colls.reduce((a, c) => a + c.indexes.length, 0),
    indexSize: 0,
    totalSize: size,
    scaleFactor: 1,
    ok: 1,
  };
}

function cmdCollStats(cmd: Doc, db: string, ctx: CommandContext): Doc {
  const name = collName(cmd, 'collStats');
  const c = ctx.engine.getCollection(db, name);
  if (!c) throw new MongoServerError(26, `Collection [${db}.${name}] not found.`);
  const size = dataSize(c);
  const indexSizes: Doc = {};
  for (const ix of c.indexes) indexSizes[ix.spec.name] = 0;
  return {
    ns: c.ns,
    count: c.docs.size,
    size,
    avgObjSize: c.docs.size ? size / c.docs.size : 0,
    storageSize: size,
    nindexes: c.indexes.length,
    totalIndexSize: 0,
    indexSizes,
    capped: false,
    ok: 1,
  };
}

// ---------------------------------------------------------------- registry

const refuse = (feature: string): Handler => () => {
  throw unsupported(feature);
};

const HANDLERS: Record<string, Handler> = {
  hello: (cmd, _db, ctx) => helloReply(cmd, ctx, false),
  isMaster: (cmd, _db, ctx) => helloReply(cmd, ctx, true),
  ismaster: (cmd, _db, ctx) => helloReply(cmd, ctx, true),
  ping: () => ({ ok: 1 }),
  buildInfo: () => ({
    version: SERVER_VERSION,
    gitVersion: 'embedded-mongo',
    versionArray: [7, 0, 0, 0],
    bits: 64,
    debug: false,
    maxBsonObjectSize: 16 * 1024 * 1024,
    storageEngines: ['embedded'],
    javascriptEngine: 'none',
    modules: [],
    ok: 1,
  }),
  buildinfo: (c, d, x) => HANDLERS.buildInfo(c, d, x),
  getParameter: (cmd) => {
    const r: Doc = { ok: 1 };
    if (cmd.featureCompatibilityVersion || cmd.getParameter === '*') r.featureCompatibilityVersion = { version: '7.0' };
    return r;
  },
  getLog: (cmd) => (cmd.getLog === '*' ? { names: ['global', 'startupWarnings'], ok: 1 } : { totalLinesWritten: 0, log: [], ok: 1 }),
  whatsmyuri: (_c, _d, ctx) => ({ you: ctx.conn.remote, ok: 1 }),
  connectionStatus: () => ({ authInfo: { authenticatedUsers: [], authenticatedUserRoles: [] }, ok: 1 }),
  hostInfo: () => ({ system: { currentTime: new Date() /* wall-clock: as MongoDB reports it */, hostname: '127.0.0.1', numCores: 1 }, os: { type: process.platform }, extra: {}, ok: 1 }),
  serverStatus: (_c, _d, ctx) => ({
    host: '127.0.0.1',
    version: SERVER_VERSION,
    process: 'embedded-mongo',
    pid: Long.fromNumber(process.pid),
    uptime: Math.floor((Date.now() - ctx.startedAt) / 1000), // wall-clock: server uptime
    localTime: new Date(), // wall-clock: the server's time, as MongoDB reports it
    ok: 1,
  }),
  dbStats: cmdDbStats,
  collStats: cmdCollStats,
  endSessions: () => ({ ok: 1 }),
  killAllSessions: () => ({ ok: 1 }),
  refreshSessions: () => ({ ok: 1 }),
  insert: cmdInsert,
  update: cmdUpdate,
  delete: cmdDelete,
  findAndModify: cmdFindAndModify,
  findandmodify: cmdFindAndModify,
  find: cmdFind,
  getMore: cmdGetMore,
  killCursors: cmdKillCursors,
  aggregate: cmdAggregate,
  count: cmdCount,
  distinct: cmdDistinct,
  create: cmdCreate,
  drop: cmdDrop,
  dropDatabase: (_c, db, ctx) => {
    ctx.engine.dropDatabase(db);
    return { dropped: db, ok: 1 };
  },
  listCollections: cmdListCollections,
  listIndexes: cmdListIndexes,
  createIndexes: cmdCreateIndexes,
  dropIndexes: cmdDropIndexes,
  deleteIndexes: cmdDropIndexes,
  listDatabases: cmdListDatabases,
  collMod: (cmd) => {
    if (cmd.validator !== undefined) throw unsupported('collection validators ($jsonSchema / validator option)');
    if (cmd.index !== undefined && isPlainObject(cmd.index) && cmd.index.expireAfterSeconds !== undefined) throw unsupported('TTL indexes (expireAfterSeconds)');
    throw unsupported('collMod');
  },
  explain: refuse('explain'),
  mapReduce: refuse('mapReduce'),
  commitTransaction: () => {
    throw new MongoServerError(20, 'Transaction numbers are only allowed on a replica set member or mongos');
  },
  abortTransaction: () => {
    throw new MongoServerError(20, 'Transaction numbers are only allowed on a replica set member or mongos');
  },
  renameCollection: refuse('renameCollection'),
  bulkWrite: refuse('the bulkWrite command (MongoDB 8.0 client.bulkWrite)'),
  saslStart: refuse('authentication'),
  authenticate: refuse('authentication'),
  /** Engine-specific: counters for tests (documents examined, index lookups, cursors...). */
  embeddedEngineStats: (_c, _d, ctx) => ({ ...stats, aggregateFastPath: { enabled: ctx.engine.aggregateFastPath, ...fastStats }, openCursors: ctx.cursors.size, ...ctx.info, ok: 1 }),
};

/** Run one command document. Never throws: errors become `{ok: 0, ...}` replies. */
export function runCommand(cmd: Doc, ctx: CommandContext): Doc {
  const name = Object.keys(cmd)[0];
  const db = typeof cmd.$db === 'string' ? cmd.$db : 'admin';
  try {
    if (name === undefined) throw new MongoServerError(59, 'no such command: empty command');
    if (cmd.txnNumber !== undefined || cmd.startTransaction !== undefined || cmd.autocommit !== undefined) {
      throw new MongoServerError(20, 'Transaction numbers are only allowed on a replica set member or mongos');
    }
    const h = HANDLERS[name];
    if (!h) throw new MongoServerError(59, `no such command: '${name}'`);
    return h(cmd, db, ctx);
  } catch (e) {
    return toErr(e).toReply();
  }
}
