/**
 * Compatibility suite through the raw `mongodb` driver: protocol details, catalog commands,
 * cursors, update forms, write-error shapes and loud refusals.
 */
import { CommandStartedEvent, Decimal128, Document, Long, MongoClient, ObjectId, Db } from 'mongodb';
import { startEmbeddedMongo } from '../src/index';
import { dbName, onEngine, startTarget, Target } from './helpers';

let target: Target;
let client: MongoClient;
let db: Db;
const started: CommandStartedEvent[] = [];

beforeAll(async () => {
  target = await startTarget();
  client = new MongoClient(target.uri, { monitorCommands: true });
  client.on('commandStarted', (e) => started.push(e));
  await client.connect();
  db = client.db(dbName('compat_drv'));
});

afterAll(async () => {
  await db?.dropDatabase().catch(() => undefined);
  await client?.close();
  await target?.stop();
});

async function engineStats(): Promise<{ docsExamined: number; indexLookups: number; collScans: number; openCursors: number }> {
  return (await db.command({ embeddedEngineStats: 1 })) as never;
}

describe('protocol and catalog', () => {
  test('hello reports a standalone server', async () => {
    const hello = await db.admin().command({ hello: 1 });
    expect(hello.isWritablePrimary).toBe(true);
    expect(hello.setName).toBeUndefined();
    expect(hello.topologyVersion).toBeUndefined();
    expect(hello.maxWireVersion).toBeGreaterThanOrEqual(9);
    expect(hello.logicalSessionTimeoutMinutes).toBe(30);
    expect((await db.admin().command({ ping: 1 })).ok).toBe(1);
    expect((await db.admin().command({ buildInfo: 1 })).version).toMatch(/^\d+\.\d+/);
  });

  test('create answers 48 NamespaceExists; drop of a missing collection is ok', async () => {
    await db.createCollection('c1');
    const err = await db.createCollection('c1').catch((e) => e);
    expect(err.code).toBe(48);
    expect(err.codeName).toBe('NamespaceExists');
    expect(await db.collection('never').drop().catch(() => true)).toBe(true);
    const names = (await db.listCollections().toArray()).map((c) => c.name);
    expect(names).toContain('c1');
    expect(await db.collection('c1').drop()).toBe(true);
    expect((await db.listCollections({ name: 'c1' }).toArray()).length).toBe(0);
  });

  test('listDatabases includes the database', async () => {
    await db.collection('x').insertOne({ a: 1 });
    const dbs = await db.admin().listDatabases();
    expect(dbs.databases.map((d) => d.name)).toContain(db.databaseName);
  });

  test('createIndexes / listIndexes / dropIndexes', async () => {
    const c = db.collection('ix');
    await c.insertMany([{ a: 1, b: 1 }, { a: 2, b: 1 }]);
    expect(await c.createIndex({ a: 1 }, { unique: true })).toBe('a_1');
    expect(await c.createIndex({ a: 1, b: -1 })).toBe('a_1_b_-1');
    const bad = await c.createIndex({ b: 1 }, { unique: true }).catch((e) => e);
    expect(bad.code).toBe(11000);
    expect((await c.indexes()).map((i) => i.name)).toEqual(['_id_', 'a_1', 'a_1_b_-1']);
    await c.dropIndex('a_1_b_-1');
    expect((await c.indexes()).map((i) => i.name)).toEqual(['_id_', 'a_1']);
    const missing = await c.dropIndex('nope').catch((e) => e);
    expect(missing.code).toBe(27);
    await c.dropIndexes();
    expect((await c.indexes()).map((i) => i.name)).toEqual(['_id_']);
  });

  test('_id is the first field of stored and returned documents', async () => {
    const c = db.collection('idfirst');
    const res = await c.insertOne({ z: 1, a: 2 });
    const doc = await c.findOne({ _id: res.insertedId }, { projection: { a: 1 } });
    expect(Object.keys(doc!)).toEqual(['_id', 'a']);
    const agg = await c.aggregate([{ $project: { a: 1, _id: 1 } }]).toArray();
    expect(Object.keys(agg[0])).toEqual(['_id', 'a']);
  });

  test('unacknowledged writes (w:0, moreToCome) are applied without a reply', async () => {
    const c = db.collection('w0');
    await c.insertOne({ k: 1 }, { writeConcern: { w: 0 } });
    await c.insertMany([{ k: 2 }, { k: 3 }], { writeConcern: { w: 0 } });
    // the next acknowledged command on the same pool is ordered after them
    expect(await c.countDocuments({})).toBe(3);
  });

  test('harmless tool commands answer', async () => {
    const admin = db.admin();
    expect((await admin.command({ getParameter: 1, featureCompatibilityVersion: 1 })).ok).toBe(1);
    expect((await admin.command({ getLog: 'startupWarnings' })).ok).toBe(1);
    expect((await admin.command({ whatsmyuri: 1 })).you).toMatch(/^127\.0\.0\.1:\d+$/);
    expect((await admin.command({ connectionStatus: 1 })).authInfo).toBeDefined();
    await db.collection('statsc').insertOne({ a: 1 });
    const st = await db.command({ dbStats: 1 });
    expect(st.collections).toBeGreaterThanOrEqual(1);
    expect((await db.command({ collStats: 'statsc' })).count).toBe(1);
    expect((await db.command({ endSessions: [] })).ok).toBe(1);
  });

  test('unknown command answers 59 CommandNotFound', async () => {
    const err = await db.command({ frobnicate: 1 }).catch((e) => e);
    expect(err.code).toBe(59);
    expect(err.message).toBe("no such command: 'frobnicate'");
  });
});

describe('cursors', () => {
  test('1,000 documents with batchSize 100 use 9 getMore calls; cursor ids are int64', async () => {
    const c = db.collection('big');
    await c.insertMany(Array.from({ length: 1000 }, (_, i) => ({ i })));
    started.length = 0;
    const all = await c.find({}, { batchSize: 100 }).sort({ i: 1 }).toArray();
    expect(all).toHaveLength(1000);
    expect(all[999].i).toBe(999);
    const getMores = started.filter((e) => e.commandName === 'getMore');
    expect(getMores.length).toBe(9);
    expect(getMores[0].command.getMore).toBeInstanceOf(Long);
  });

  test('a result larger than 16 MiB arrives in several batches under the BSON limit, every document intact and in order', async () => {
    const c = db.collection<{ _id: number; blob: string; n: Long | number; tail: { k: number } }>('wide');
    const blob = 'x'.repeat(1024 * 1024);
    for (let i = 0; i < 40; i += 10) await c.insertMany(Array.from({ length: 10 }, (_, k) => ({ _id: i + k, blob, n: Long.fromNumber(i + k), tail: { k: i + k } })));
    const replies: { commandName: string; reply: Document }[] = [];
    const listener = (e: { commandName: string; reply: Document }) => replies.push(e);
    client.on('commandSucceeded', listener);
    try {
      const all = await c.find({}, { batchSize: 1000 }).sort({ _id: 1 }).toArray();
      expect(all.map((d) => d._id)).toEqual(Array.from({ length: 40 }, (_, i) => i));
      expect(all.every((d) => d.blob === blob && d.n === d._id && d.tail.k === d._id)).toBe(true);
      const agg = await c.aggregate([{ $match: { _id: { $gte: 0 } } }, { $sort: { _id: 1 } }], { batchSize: 1000 }).toArray();
      expect(agg.map((d) => d._id)).toEqual(all.map((d) => d._id));
    } finally {
      client.off('commandSucceeded', listener);
    }
    const batches = replies.filter((r) => r.commandName === 'find' || r.commandName === 'aggregate' || r.commandName === 'getMore').map((r) => (r.reply.cursor.firstBatch ?? r.reply.cursor.nextBatch).length);
    expect(batches.reduce((a, b) => a + b, 0)).toBe(80);
    expect(Math.max(...batches)).toBeLessThan(16);
    expect(batches.length).toBeGreaterThanOrEqual(6);
  });

  test('early break kills the cursor (killCursors)', async () => {
    const c = db.collection('big');
    started.length = 0;
    const cur = c.find({}, { batchSize: 10 });
    let n = 0;
    for await (const _ of cur) {
      if (++n === 15) break;
    }
    await new Promise((r) => setTimeout(r, 50));
    expect(started.some((e) => e.commandName === 'killCursors')).toBe(true);
  });

  onEngine('idle cursors time out (a separate engine with a 200 ms timeout)', async () => {
    const engine = await startEmbeddedMongo({ cursorTimeoutMs: 200 });
    const cl = await MongoClient.connect(engine.uri);
    try {
      const c = cl.db('t').collection('big');
      await c.insertMany(Array.from({ length: 50 }, (_, i) => ({ i })));
      const cur = c.find({}, { batchSize: 5 });
      await cur.next();
      await new Promise((r) => setTimeout(r, 1000));
      const err = await cur.toArray().catch((e) => e);
      expect(err.code).toBe(43);
      expect((await cl.db('t').command({ embeddedEngineStats: 1 })).openCursors).toBe(0);
    } finally {
      await cl.close();
      await engine.stop();
    }
  });
});

describe('indexes are used', () => {
  onEngine('a point lookup on an indexed field does not scan the collection', async () => {
    const c = db.collection('points');
    await c.createIndex({ email: 1 }, { unique: true });
    await c.createIndex({ org: 1, name: 1 });
    await c.insertMany(Array.from({ length: 5000 }, (_, i) => ({ email: `u${i}@x`, org: i % 50, name: `n${i}`, score: i })));
    const before = await engineStats();
    expect((await c.findOne({ email: 'u4321@x' }))?.score).toBe(4321);
    const mid = await engineStats();
    expect(mid.docsExamined - before.docsExamined).toBe(1);
    expect(mid.collScans).toBe(before.collScans);
    // $in on the unique index
    expect(await c.countDocuments({ email: { $in: ['u1@x', 'u2@x', 'nope'] } })).toBe(2);
    // compound prefix: org is the first field of {org, name}
    expect(await c.find({ org: 7, score: { $lt: 1000 } }).toArray()).toHaveLength(20);
    const after = await engineStats();
    expect(after.docsExamined - mid.docsExamined).toBe(2 + 100);
    expect(after.collScans).toBe(before.collScans);
  });

  onEngine('range and sort on a single indexed field use the sorted index', async () => {
    const c = db.collection('points');
    await c.createIndex({ score: 1 });
    const before = await engineStats();
    const range = await c.find({ score: { $gte: 100, $lt: 110 } }).toArray();
    expect(range.map((d) => d.score)).toEqual([100, 101, 102, 103, 104, 105, 106, 107, 108, 109]);
    const top = await c.find({}).sort({ score: -1 }).limit(3).toArray();
    expect(top.map((d) => d.score)).toEqual([4999, 4998, 4997]);
    const after = await engineStats();
    expect(after.docsExamined - before.docsExamined).toBe(13);
    expect(after.collScans).toBe(before.collScans);
  });

  onEngine('an $or whose branches are each indexed reads the union of the branches, not the collection', async () => {
    const c = db.collection('points');
    const before = await engineStats();
    // email (unique) and score (single field) are indexed above; org alone leads {org, name}.
    const got = await c
      .find({ $or: [{ email: 'u10@x' }, { score: { $gte: 4990 } }, { org: 3, name: 'n3' }] })
      .sort({ score: 1 })
      .toArray();
    expect(got.map((d) => d.score)).toEqual([3, 10, 4990, 4991, 4992, 4993, 4994, 4995, 4996, 4997, 4998, 4999]);
    // an $or beside a field condition, inside $and, with a branch that matches nothing
    const inAnd = await c.countDocuments({ $and: [{ org: { $lt: 100 } }, { $or: [{ email: 'nope' }, { score: { $lt: 5 } }] }] });
    expect(inAnd).toBe(5);
    const after = await engineStats();
    // 1 + 10 + 100 (org 3's entries of {org, name}) + 5 candidates; a scan would examine 5,000 per query
    expect(after.docsExamined - before.docsExamined).toBe(1 + 10 + 100 + 5);
    expect(after.collScans).toBe(before.collScans);
    // one unindexed branch: the whole $or needs the collection (still the right answer)
    expect(await c.countDocuments({ $or: [{ email: 'u1@x' }, { name: 'n2' }] })).toBe(2);
  });

  onEngine('$unionWith branches read through their own indexes and keep their own sort and limit', async () => {
    const c = db.collection('points');
    const other = db.collection('points_union');
    await other.createIndex({ k: 1 });
    await other.insertMany(Array.from({ length: 3000 }, (_, i) => ({ k: i % 300, v: i })));
    const before = await engineStats();
    const got = await c
      .aggregate([
        { $match: { email: { $in: ['u7@x', 'u8@x'] } } },
        { $sort: { score: -1 } },
        { $project: { _id: 0, score: 1 } },
        { $addFields: { u: 0 } },
        { $unionWith: { coll: 'points_union', pipeline: [{ $match: { k: 5 } }, { $sort: { v: 1 } }, { $limit: 3 }, { $project: { _id: 0, v: 1, u: { $literal: 1 } } }] } },
        { $unionWith: { coll: 'points', pipeline: [{ $match: { score: { $lt: 2 } } }, { $project: { _id: 0, score: 1, u: { $literal: 2 } } }] } },
      ])
      .toArray();
    expect(got).toEqual([
      { score: 8, u: 0 },
      { score: 7, u: 0 },
      { v: 5, u: 1 },
      { v: 305, u: 1 },
      { v: 605, u: 1 },
      { score: 0, u: 2 },
      { score: 1, u: 2 },
    ]);
    const after = await engineStats();
    // 2 + 10 (k = 5) + 2; scanning the branches' collections would examine 8,000
    expect(after.docsExamined - before.docsExamined).toBe(2 + 10 + 2);
    expect(after.collScans).toBe(before.collScans);
  });

  test('indexed and unindexed queries give the same answers (multikey, null, mixed types)', async () => {
    const docs = [
      { _id: 1, t: ['a', 'b'], v: 1 },
      { _id: 2, t: 'a', v: '1' },
      { _id: 3, v: null },
      { _id: 4, t: [], v: 2.5 },
      { _id: 5, t: ['c'], v: new Date(5) },
    ];
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const plain = db.collection<any>('noix');
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const ixd = db.collection<any>('withix');
    await plain.insertMany(docs);
    await ixd.insertMany(docs);
    await ixd.createIndex({ t: 1 });
    await ixd.createIndex({ v: 1 });
    const queries = [{ t: 'a' }, { t: { $in: ['b', 'c'] } }, { v: 1 }, { v: { $gte: 1 } }, { v: { $lt: '2' } }, { v: null }, { v: { $gt: new Date(1) } }, { t: ['a', 'b'] }];
    for (const q of queries) {
      const a = (await plain.find(q).toArray()).map((d) => d._id);
      const b = (await ixd.find(q).toArray()).map((d) => d._id);
      expect([q, b]).toEqual([q, a]);
    }
  });
});

describe('index maintenance under interleaved writes', () => {
  test('sorted/range queries on an indexed collection match an unindexed twin after random writes', async () => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const plain = db.collection<any>('twin_plain');
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const ixd = db.collection<any>('twin_ix');
    await ixd.createIndex({ v: 1 });
    await ixd.createIndex({ g: 1, v: -1 });
    let seed = 42;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const value = () => [rnd(50), `s${rnd(20)}`, null, new Date(rnd(1000)), rnd(7) * 1.5][rnd(5)];
    for (let step = 0; step < 200; step++) {
      const op = rnd(10);
      const id = rnd(120);
      for (const c of [plain, ixd]) {
        if (op < 5) await c.updateOne({ _id: id }, { $set: { v: value(), g: rnd(3) } }, { upsert: true });
        else if (op < 8) await c.updateMany({ g: rnd(3) }, { $inc: { n: 1 } });
        else await c.deleteOne({ _id: id });
      }
      // the two collections get different random values: re-sync by copying plain's doc
      const doc = await plain.findOne({ _id: id });
      if (doc) await ixd.replaceOne({ _id: id }, doc, { upsert: true });
      else await ixd.deleteOne({ _id: id });
      if (step % 20 === 19) {
        const queries: [object, object, number][] = [
          [{}, { v: 1, _id: 1 }, 0],
          [{}, { v: -1, _id: 1 }, 7],
          [{ v: { $gte: 10, $lt: 30 } }, { _id: 1 }, 0],
          [{ v: { $gt: 's1' } }, { _id: 1 }, 0],
          [{ v: { $lte: new Date(500) } }, { _id: 1 }, 0],
          [{ g: 1 }, { v: -1, _id: 1 }, 5],
        ];
        for (const [f, sort, limit] of queries) {
          const a = (await plain.find(f).sort(sort as never).limit(limit).toArray()).map((d) => d._id);
          const b = (await ixd.find(f).sort(sort as never).limit(limit).toArray()).map((d) => d._id);
          expect([f, sort, b]).toEqual([f, sort, a]);
        }
        // a single-field indexed sort (ties broken arbitrarily): compare the value sequence
        const va = (await plain.find({}).sort({ v: -1 }).limit(15).toArray()).map((d) => d.v);
        const vb = (await ixd.find({}).sort({ v: -1 }).limit(15).toArray()).map((d) => d.v);
        expect(vb).toEqual(va);
      }
    }
  });
});

describe('writes', () => {
  test('update forms: upsert with $setOnInsert, replacement, pipeline update, $unset/$rename/$pull', async () => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const c = db.collection<any>('upd');
    const r = await c.updateOne({ key: 'a', n: { $gt: 5 } }, { $set: { x: 1 }, $setOnInsert: { created: true } }, { upsert: true });
    expect(r.upsertedCount).toBe(1);
    expect(await c.findOne({ key: 'a' }, { projection: { _id: 0 } })).toEqual({ key: 'a', x: 1, created: true });
    await c.updateOne({ key: 'a' }, { $set: { x: 2 }, $setOnInsert: { created: false } }, { upsert: true });
    expect(await c.findOne({ key: 'a' }, { projection: { _id: 0 } })).toEqual({ key: 'a', x: 2, created: true });
    await c.replaceOne({ key: 'a' }, { key: 'a', replaced: true });
    expect(await c.findOne({ key: 'a' }, { projection: { _id: 0 } })).toEqual({ key: 'a', replaced: true });
    await c.updateOne({ key: 'a' }, [{ $set: { total: { $add: [1, 2] }, up: { $toUpper: '$key' } } }]);
    expect(await c.findOne({ key: 'a' }, { projection: { _id: 0 } })).toEqual({ key: 'a', replaced: true, total: 3, up: 'A' });
    await c.insertOne({ key: 'b', arr: [1, 2, 3, 4], old: 1, gone: 1 });
    await c.updateOne({ key: 'b' }, { $pull: { arr: { $gte: 3 } }, $rename: { old: 'renamed' }, $unset: { gone: '' } } as never);
    expect(await c.findOne({ key: 'b' }, { projection: { _id: 0 } })).toEqual({ key: 'b', arr: [1, 2], renamed: 1 });
    const imm = await c.updateOne({ key: 'b' }, { $set: { _id: 5 } }).catch((e) => e);
    expect(imm.code).toBe(66);
    const conflict = await c.updateOne({ key: 'b' }, { $set: { arr: 1 }, $inc: { arr: 1 } }).catch((e) => e);
    expect(conflict.code).toBe(40);
    const badOp = await c.updateOne({ key: 'b' }, { $frob: { a: 1 } } as never).catch((e) => e);
    expect(badOp.code).toBe(9);
  });

  test('update operators on the wrong type fail like MongoDB (mingo would skip them silently)', async () => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const c = db.collection<any>('types');
    await c.insertOne({ _id: 1, n: 2, s: 'x', a: [1], nul: null, o: { p: 1 } });
    const cases: [Record<string, unknown>, number][] = [
      [{ $push: { n: 1 } }, 2],
      [{ $addToSet: { s: 1 } }, 2],
      [{ $pull: { n: 1 } }, 2],
      [{ $pop: { s: 1 } }, 14],
      [{ $set: { 'n.x': 1 } }, 28],
      [{ $inc: { nul: 1 } }, 14],
      [{ $inc: { s: 1 } }, 14],
      [{ $inc: { n: 'x' } }, 14],
      [{ $mul: { s: 2 } }, 14],
      [{ $set: { 'a.x': 1 } }, 28],
    ];
    for (const [update, code] of cases) {
      const err = await c.updateOne({ _id: 1 }, update).then(() => null, (e) => e);
      expect([update, err?.code]).toEqual([update, code]);
    }
    await c.updateOne({ _id: 1 }, { $inc: { 'o.p': 1, 'a.0': 1 } });
    await c.updateOne({ _id: 1 }, { $unset: { 'n.x': 1 } });
    await c.updateOne({ _id: 1 }, { $set: { 'a.3': 5 } });
    expect(await c.findOne({ _id: 1 })).toEqual({ _id: 1, n: 2, s: 'x', a: [2, null, null, 5], nul: null, o: { p: 2 } });
  });

  test('more update and query operators', async () => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const c = db.collection<any>('ops');
    await c.insertOne({ _id: 1, arr: [{ k: 'a', v: 1 }, { k: 'b', v: 2 }], nums: [3, 1, 2], n: 5, s: 'Hello World', tags: ['x', 'y'] });
    await c.updateOne({ arr: { $elemMatch: { k: 'b', v: 2 } } }, { $set: { 'arr.$.v': 20 } });
    await c.updateOne({ _id: 1 }, { $push: { nums: { $each: [9], $position: 0 } } } as never);
    expect((await c.findOne({ _id: 1 }))?.nums).toEqual([9, 3, 1, 2]);
    await c.updateOne({ _id: 1 }, { $push: { nums: { $each: [7], $sort: 1, $slice: 3 } } } as never);
    await c.updateOne({ _id: 1 }, { $pop: { tags: 1 }, $pullAll: { nums: [1] }, $min: { n: 2 }, $inc: { 'arr.$[].v': 1, 'stats.views': 1 } } as never);
    expect(await c.findOne({ _id: 1 }, { projection: { s: 0 } })).toEqual({
      _id: 1,
      arr: [{ k: 'a', v: 2 }, { k: 'b', v: 21 }],
      nums: [2, 3],
      n: 2,
      tags: ['x'],
      stats: { views: 1 },
    });
    expect(await c.countDocuments({ s: /^hello/i })).toBe(1);
    expect(await c.countDocuments({ s: { $regex: 'WORLD', $options: 'i' } })).toBe(1);
    expect(await c.countDocuments({ $or: [{ n: 99 }, { s: 'Hello World' }] })).toBe(1);
    expect(await c.countDocuments({ tags: { $size: 1 }, nums: { $all: [2, 3] } })).toBe(1);
    expect(await c.countDocuments({ n: { $nin: [1, 2] } })).toBe(0);
    expect(await c.countDocuments({ $expr: { $gt: ['$n', 1] } })).toBe(1);
    expect(await c.countDocuments({ n: { $not: { $gt: 5 } } })).toBe(1);
    expect(await c.findOne({ _id: 1 }, { projection: { arr: { $elemMatch: { k: 'a' } } } })).toEqual({ _id: 1, arr: [{ k: 'a', v: 2 }] });
  });

  test('$type and $mod look into arrays and only at numbers; $push skips missing values', async () => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const c = db.collection<any>('typemod');
    await c.insertMany([
      { _id: 1, a: null },
      { _id: 2 },
      { _id: 3, a: [1, 2] },
      { _id: 5, a: '2' },
      { _id: 6, a: 2 },
      { _id: 7, a: new Date(5) },
      { _id: 8, a: { b: 1 } },
      { _id: 9, a: [{ b: 1 }, { b: 2 }] },
      { _id: 10, a: [] },
    ]);
    const ids = async (f: object) => (await c.find(f).toArray()).map((d) => d._id);
    expect(await ids({ a: { $type: 'number' } })).toEqual([3, 6]);
    expect(await ids({ a: { $type: 'array' } })).toEqual([3, 9, 10]);
    expect(await ids({ a: { $type: ['string', 9] } })).toEqual([5, 7]);
    expect(await ids({ a: { $type: 'object' } })).toEqual([8, 9]);
    expect(await ids({ a: { $mod: [2, 0] } })).toEqual([3, 6]);
    const agg = await c.aggregate([{ $sort: { _id: 1 } }, { $group: { _id: null, p: { $push: '$a' }, q: { $push: '$missing' } } }]).toArray();
    expect(agg[0].p).toEqual([null, [1, 2], '2', 2, new Date(5), { b: 1 }, [{ b: 1 }, { b: 2 }], []]);
    expect(agg[0].q).toEqual([]);
  });

  test('expression comparisons use BSON order (null and missing sort before numbers)', async () => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const c = db.collection<any>('cmpexpr');
    await c.insertMany([{ _id: 1, x: null }, { _id: 2 }, { _id: 3, x: 5 }, { _id: 4, x: 'a' }]);
    const out = await c
      .aggregate([{ $sort: { _id: 1 } }, { $project: { lt0: { $lt: ['$x', 0] }, gt0: { $gt: ['$x', 0] }, cmp: { $cmp: ['$x', 5] }, big: { $cond: [{ $gte: ['$x', 1] }, 'y', 'n'] } } }])
      .toArray();
    expect(out).toEqual([
      { _id: 1, lt0: true, gt0: false, cmp: -1, big: 'n' },
      { _id: 2, lt0: true, gt0: false, cmp: -1, big: 'n' },
      { _id: 3, lt0: false, gt0: true, cmp: 0, big: 'y' },
      { _id: 4, lt0: false, gt0: true, cmp: 1, big: 'y' },
    ]);
    expect((await c.find({ $expr: { $lt: ['$x', 0] } }).toArray()).map((d) => d._id)).toEqual([1, 2]);
    // $size of a non-array fails (mingo would answer null)
    const err = await c.aggregate([{ $project: { n: { $size: '$x' } } }]).toArray().catch((e) => e);
    expect(err.code).toBe(17124);
    await c.insertOne({ _id: 5, arr: [1, 2] });
    expect(await c.aggregate([{ $match: { _id: 5 } }, { $project: { n: { $size: '$arr' } } }]).toArray()).toEqual([{ _id: 5, n: 2 }]);
  });

  test('insertMany with duplicates: ordered vs unordered writeErrors', async () => {
    const c = db.collection('dups');
    await c.createIndex({ u: 1 }, { unique: true });
    const ordered = await c.insertMany([{ u: 1 }, { u: 1 }, { u: 2 }]).catch((e) => e);
    expect(ordered.code).toBe(11000);
    expect(ordered.writeErrors?.[0]?.index ?? ordered.writeErrors?.index).toBe(1);
    expect(await c.countDocuments()).toBe(1);
    const unordered = await c.insertMany([{ u: 3 }, { u: 1 }, { u: 4 }], { ordered: false }).catch((e) => e);
    expect(unordered.code).toBe(11000);
    expect(await c.countDocuments()).toBe(3);
    const fam = await c.findOneAndUpdate({ u: 3 }, { $set: { u: 4 } }).catch((e) => e);
    expect(fam.code).toBe(11000);
    expect(fam.keyValue).toEqual({ u: 4 });
  });

  test('large documents and batches round-trip', async () => {
    const c = db.collection('large');
    const blob = 'x'.repeat(5 * 1024 * 1024);
    await c.insertMany([{ blob }, { blob }, { blob }]);
    const back = await c.find({}).toArray();
    expect(back).toHaveLength(3);
    expect(back[2].blob.length).toBe(blob.length);
    await c.drop();
  });

  test('aggregations and projections never modify stored documents', async () => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const c = db.collection<any>('pure');
    const orig = { _id: 1, a: { b: 1, c: 2 }, arr: [{ x: 1, y: 1 }] };
    await c.insertOne(orig);
    await c.aggregate([{ $set: { 'a.b': 9 } }, { $unset: 'a.c' }, { $project: { 'arr.y': 0 } }]).toArray();
    await c.aggregate([{ $unwind: '$arr' }, { $set: { 'arr.x': 7 } }]).toArray();
    await c.aggregate([{ $facet: { f: [{ $replaceRoot: { newRoot: '$a' } }, { $set: { b: 100 } }] } }]).toArray();
    await c.find({}, { projection: { 'a.b': 0, 'arr.y': 0 } }).toArray();
    await c.findOneAndUpdate({ _id: 1 }, { $set: { z: 1 } }, { projection: { 'a.c': 0 } });
    expect(await c.findOne({ _id: 1 }, { projection: { z: 0 } })).toEqual(orig);
    const conv = await c.aggregate([{ $project: { o: { $toObjectId: '65a1b2c3d4e5f60718293a4b' } } }]).toArray();
    expect(conv[0].o).toBeInstanceOf(ObjectId);
  });

  test('$bucket puts boundary values in the right bucket and omits empty ones', async () => {
    const c = db.collection('bucket');
    await c.insertMany([1, 4, 5, 9].map((v) => ({ v })));
    const out = await c.aggregate([{ $bucket: { groupBy: '$v', boundaries: [0, 3, 5, 10, 20], default: 'other' } }]).toArray();
    expect(out).toEqual([
      { _id: 0, count: 1 },
      { _id: 3, count: 1 },
      { _id: 5, count: 2 },
    ]);
  });

  test('$lookup with pipeline, $unionWith, $out', async () => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const a = db.collection<any>('la');
    const b = db.collection('lb');
    await a.insertMany([{ _id: 1, k: 'x' }, { _id: 2, k: 'y' }]);
    await b.insertMany([{ k: 'x', n: 1 }, { k: 'x', n: 2 }, { k: 'y', n: 3 }]);
    const res = await a
      .aggregate([
        { $lookup: { from: 'lb', let: { kk: '$k' }, pipeline: [{ $match: { $expr: { $eq: ['$k', '$$kk'] } } }, { $project: { _id: 0, n: 1 } }], as: 'ns' } },
        { $sort: { _id: 1 } },
      ])
      .toArray();
    expect(res.map((r) => r.ns.length)).toEqual([2, 1]);
    // concise form (MongoDB 5.0+): localField/foreignField plus a pipeline over the matches only
    const concise = await a
      .aggregate([{ $lookup: { from: 'lb', localField: 'k', foreignField: 'k', pipeline: [{ $match: { n: { $gte: 2 } } }, { $project: { _id: 0, n: 1 } }], as: 'ns' } }, { $sort: { _id: 1 } }])
      .toArray();
    expect(concise.map((r) => r.ns)).toEqual([[{ n: 2 }], [{ n: 3 }]]);
    // null / missing localField matches null / missing foreignField
    await b.insertOne({ n: 9 });
    await a.insertOne({ _id: 3 });
    const nulls = await a.aggregate([{ $match: { _id: 3 } }, { $lookup: { from: 'lb', localField: 'k', foreignField: 'k', as: 'ns' } }]).toArray();
    expect(nulls[0].ns.map((x: { n: number }) => x.n)).toEqual([9]);
    await b.deleteOne({ n: 9 });
    await a.deleteOne({ _id: 3 });
    const union = await a.aggregate([{ $project: { k: 1 } }, { $unionWith: 'lb' }, { $count: 'n' }]).toArray();
    expect(union).toEqual([{ n: 5 }]);
    await b.aggregate([{ $group: { _id: '$k', total: { $sum: '$n' } } }, { $out: 'lout' }]).toArray();
    expect(await db.collection('lout').find().sort({ _id: 1 }).toArray()).toEqual([
      { _id: 'x', total: 3 },
      { _id: 'y', total: 3 },
    ]);
  });
});

describe('loud refusals', () => {
  const c = () => db.collection('refuse');
  const expectRefused = async (p: Promise<unknown>, feature: RegExp, code?: number) => {
    const err = await p.then(() => null, (e: { message: string; code?: number }) => e);
    expect(err).not.toBeNull();
    expect(err!.message).toMatch(feature);
    if (code !== undefined) expect(err!.code).toBe(code);
  };
  const onEngineOnly = onEngine;

  test('transactions (code 20 like a standalone)', async () => {
    const raw = await db.command({ find: 'refuse', filter: {}, txnNumber: Long.fromNumber(1), startTransaction: true, autocommit: false }).catch((e) => e);
    expect(raw.code).toBe(20);
    expect(raw.message).toMatch(/Transaction numbers are only allowed on a replica set member or mongos/);
  });

  onEngineOnly('$text, legacy 2d geo forms, $where, $function, $accumulator, $jsonSchema in queries', async () => {
    await c().insertOne({ a: 1, loc: { type: 'Point', coordinates: [0, 0] } });
    await expectRefused(c().find({ $text: { $search: 'x' } }).toArray(), /embedded engine does not support \$text/, 115);
    await expectRefused(c().find({ loc: { $near: [0, 0] } }).toArray(), /does not support \$near with legacy coordinate pairs/);
    await expectRefused(c().find({ loc: { $geoWithin: { $center: [[0, 0], 1] } } }).toArray(), /does not support \$center/);
    await expectRefused(c().find({ $where: 'this.a == 1' }).toArray(), /\$where/);
    await expectRefused(c().aggregate([{ $project: { x: { $function: { body: 'function(){return 1}', args: [], lang: 'js' } } } }]).toArray(), /\$function/);
    await expectRefused(c().find({ $jsonSchema: { required: ['a'] } }).toArray(), /\$jsonSchema/);
  });

  onEngineOnly('text / geo / TTL / collation indexes', async () => {
    await expectRefused(c().createIndex({ body: 'text' }), /text indexes/);
    await expectRefused(c().createIndex({ loc: '2d' }), /2d \(legacy geo\) indexes/);
    await expectRefused(c().createIndex({ at: 1 }, { expireAfterSeconds: 60 }), /TTL/);
    await expectRefused(c().createIndex({ name: 1 }, { collation: { locale: 'en', strength: 2 } }), /collation/);
  });

  onEngineOnly('Decimal128 comparisons, arithmetic and sort', async () => {
    await expectRefused(c().find({ price: { $gt: Decimal128.fromString('9.5') } }).toArray(), /Decimal128/);
    await c().insertOne({ price: Decimal128.fromString('10.25') }); // storing is fine
    const stored = await c().findOne({ price: { $exists: true } }, { projection: { _id: 0, price: 1 } });
    expect(stored?.price).toBeInstanceOf(Decimal128);
    expect(stored?.price.toString()).toBe('10.25');
    await expectRefused(c().find({}).sort({ price: 1 }).toArray(), /Decimal128/);
    await expectRefused(c().find({ price: { $gt: 1 } }).toArray(), /Decimal128/);
    await expectRefused(c().updateOne({}, { $inc: { price: Decimal128.fromString('1') } }), /Decimal128/);
    await expectRefused(c().aggregate([{ $group: { _id: null, s: { $sum: '$price' } } }]).toArray(), /Decimal128/);
  });

  onEngineOnly('collation on queries, validators, capped, change streams, explain', async () => {
    await expectRefused(c().find({ a: 'x' }, { collation: { locale: 'en', strength: 2 } }).toArray(), /collation/);
    await expectRefused(db.createCollection('v', { validator: { $jsonSchema: { required: ['a'] } } }), /validator/);
    await expectRefused(db.createCollection('capped', { capped: true, size: 1024 }), /capped collections/);
    await expectRefused(c().aggregate([{ $changeStream: {} }]).toArray(), /change streams/);
    await expectRefused(c().find({}).explain(), /explain/);
    await expectRefused(c().aggregate([{ $match: {} }], { explain: true }).toArray(), /explain/);
  });
});
