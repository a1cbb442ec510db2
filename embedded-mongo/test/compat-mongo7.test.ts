/**
 * Regression tests for the places where the engine used to answer, but not as MongoDB 7 does
 * (issue 15). Each test states the documented MongoDB behaviour it checks; they run against the
 * engine, and against a real server when MONGODB_URI is set.
 */
import { Binary, DBRef, Db, Double, Int32, Long, MongoClient, ObjectId } from 'mongodb';
import mongoose from 'mongoose';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startEmbeddedMongo } from '../src/index';
import { dbName, onEngine, startTarget, Target } from './helpers';

let target: Target;
let client: MongoClient;
let bigClient: MongoClient;
let db: Db;
let bigDb: Db;
let name: string;

beforeAll(async () => {
  target = await startTarget();
  client = new MongoClient(target.uri);
  bigClient = new MongoClient(target.uri, { useBigInt64: true });
  await client.connect();
  await bigClient.connect();
  name = dbName('compat_m7');
  db = client.db(name);
  bigDb = bigClient.db(name);
});

afterAll(async () => {
  await db?.dropDatabase().catch(() => undefined);
  await client?.close();
  await bigClient?.close();
  await target?.stop();
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const coll = (n: string) => db.collection<any>(n);
const errOf = (p: Promise<unknown>) => p.then(() => null, (e: { code?: number; codeName?: string; message: string }) => e);

describe('updates', () => {
  test('$set of _id to its current value is accepted as a no-op for _id (other fields still change)', async () => {
    const c = coll('setid');
    await c.insertOne({ _id: 7, a: 1 });
    const r = await c.updateOne({ _id: 7 }, { $set: { _id: 7, a: 2 } });
    expect(r.matchedCount).toBe(1);
    expect(await c.findOne({ _id: 7 })).toEqual({ _id: 7, a: 2 });
    const same = await c.updateOne({ _id: 7 }, { $set: { _id: 7 } });
    expect(same.modifiedCount).toBe(0);
    const changed = await errOf(c.updateOne({ _id: 7 }, { $set: { _id: 8 } }));
    expect(changed?.code).toBe(66);
  });

  test('two positional paths under one array ($ with $, $[] with $[], $addToSet with $) are both applied', async () => {
    const c = coll('positional');
    await c.insertOne({ _id: 1, a: [{ k: 1, x: 0, y: 0, tags: [] }, { k: 2, x: 0, y: 0, tags: [] }] });
    await c.updateOne({ _id: 1, 'a.k': 2 }, { $set: { 'a.$.x': 5, 'a.$.y': 6 } });
    await c.updateOne({ _id: 1 }, { $inc: { 'a.$[].x': 1, 'a.$[].y': 1 } });
    await c.updateOne({ _id: 1, 'a.k': 1 }, { $addToSet: { 'a.$.tags': 't' }, $set: { 'a.$.x': 9 } });
    expect((await c.findOne({ _id: 1 }))!.a).toEqual([
      { k: 1, x: 9, y: 1, tags: ['t'] },
      { k: 2, x: 6, y: 7, tags: [] },
    ]);
    // the same positional path twice is still a conflict (code 40)
    const dup = await errOf(c.updateOne({ _id: 1, 'a.k': 1 }, { $set: { 'a.$.x': 1 }, $inc: { 'a.$.x': 1 } }));
    expect(dup?.code).toBe(40);
  });

  test('$pull with a condition holding a top-level $or removes every matching element', async () => {
    const c = coll('pullor');
    await c.insertOne({ _id: 1, items: [{ a: 1 }, { b: 2 }, { a: 3 }], nums: [1, 5, 9, 12] });
    await c.updateOne({ _id: 1 }, { $pull: { items: { $or: [{ a: 1 }, { b: 2 }] }, nums: { $in: [5, 9] } } as never });
    expect(await c.findOne({ _id: 1 })).toEqual({ _id: 1, items: [{ a: 3 }], nums: [1, 12] });
  });

  test('documents over 16 MiB are refused with BSONObjectTooLarge (10334) on insert and as update results; nothing is written', async () => {
    const c = coll('toolarge');
    const big = 'x'.repeat(16 * 1024 * 1024 + 200 * 1024); // the driver itself cannot send 17 MiB
    const ins = await errOf(c.insertOne({ _id: 1, big }));
    expect(ins?.code).toBe(10334);
    expect(ins?.message).toMatch(/too large|BSONObj size: \d+ \(0x[0-9A-F]+\) is invalid/);
    expect(await c.countDocuments()).toBe(0);
    const half = 'y'.repeat(9 * 1024 * 1024);
    await c.insertOne({ _id: 2, a: half });
    const upd = await errOf(c.updateOne({ _id: 2 }, { $set: { b: half } }));
    expect(upd?.code).toBe(10334);
    expect(upd?.message).toMatch(/Resulting document after update is larger than 16777216/);
    const back = await c.findOne({ _id: 2 });
    expect(back!.b).toBeUndefined();
    await c.drop();
  });

  test('$-prefixed field names: accepted in $set on upsert inserts and in inserts; refused when the update modifies an existing document (MongoDB 5+)', async () => {
    const c = coll('dollar');
    await c.insertOne({ _id: 1, $price: 50, nested: { $inc: true } });
    expect(await c.findOne({ _id: 1 })).toEqual({ _id: 1, $price: 50, nested: { $inc: true } });
    await c.updateOne({ _id: 2 }, { $set: { phone: 25, $hotel: 320 } }, { upsert: true });
    expect(await c.findOne({ _id: 2 })).toEqual({ _id: 2, phone: 25, $hotel: 320 });
    const existing = await errOf(c.updateOne({ _id: 2 }, { $set: { $hotel: 1 } }));
    expect(existing).not.toBeNull();
    // nested $-prefixed names inside a $set value are fine on existing documents
    await c.updateOne({ _id: 1 }, { $set: { meta: { $ref: 'not-a-dbref-alone', n: 1 } } });
    expect((await c.findOne({ _id: 1 }))!.meta).toEqual({ $ref: 'not-a-dbref-alone', n: 1 });
    // a replacement document with a top-level $-prefixed name is refused
    const repl = await errOf(c.replaceOne({ _id: 1 }, { $x: 1 } as never));
    expect(repl).not.toBeNull();
  });

  test('__proto__ keys are ordinary field names in filters and $set: stored, matched, never dropped, no prototype pollution', async () => {
    const c = coll('proto');
    const doc = JSON.parse('{"_id": 1, "__proto__": {"polluted": true}, "a": 1}');
    await c.insertOne(doc);
    expect(Object.keys((await c.findOne({ _id: 1 }))!)).toEqual(['_id', '__proto__', 'a']);
    const filter = JSON.parse('{"__proto__.polluted": true}');
    expect((await c.find(filter).toArray()).map((d) => d._id)).toEqual([1]);
    const filter2 = JSON.parse('{"__proto__": {"polluted": true}}');
    expect((await c.find(filter2).toArray()).map((d) => d._id)).toEqual([1]);
    await c.updateOne({ _id: 1 }, JSON.parse('{"$set": {"__proto__": {"x": 2}, "b": 2}}'));
    const back = await c.findOne({ _id: 1 });
    expect(Object.keys(back!)).toEqual(['_id', '__proto__', 'a', 'b']);
    expect(Object.getOwnPropertyDescriptor(back, '__proto__')!.value).toEqual({ x: 2 });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });
});

describe('projections', () => {
  test('$slice in a projection keeps the other fields (and combines with an exclusion or inclusion)', async () => {
    const c = coll('slice');
    await c.insertOne({ _id: 1, a: 1, b: 2, arr: [1, 2, 3, 4] });
    expect(await c.findOne({ _id: 1 }, { projection: { arr: { $slice: 2 } } })).toEqual({ _id: 1, a: 1, b: 2, arr: [1, 2] });
    expect(await c.findOne({ _id: 1 }, { projection: { arr: { $slice: -1 }, b: 0 } })).toEqual({ _id: 1, a: 1, arr: [4] });
    expect(await c.findOne({ _id: 1 }, { projection: { arr: { $slice: [1, 2] }, a: 1 } })).toEqual({ _id: 1, a: 1, arr: [2, 3] });
  });

  test('$elemMatch projection with a bare operator returns the first matching element', async () => {
    const c = coll('elemproj');
    await c.insertOne({ _id: 1, a: 1, arr: [1, 6, 3, 8] });
    expect(await c.findOne({ _id: 1 }, { projection: { arr: { $elemMatch: { $in: [3, 8] } } } })).toEqual({ _id: 1, arr: [3] });
    expect(await c.findOne({ _id: 1 }, { projection: { arr: { $elemMatch: { $gte: 5 } } } })).toEqual({ _id: 1, arr: [6] });
  });
});

describe('queries', () => {
  test('$all against a non-array field matches when the value equals every listed element', async () => {
    const c = coll('allscalar');
    await c.insertMany([{ _id: 1, a: 'x' }, { _id: 2, a: ['x', 'y'] }, { _id: 3, a: 'y' }]);
    expect((await c.find({ a: { $all: ['x'] } }).sort({ _id: 1 }).toArray()).map((d) => d._id)).toEqual([1, 2]);
    expect((await c.find({ a: { $all: ['x', 'y'] } }).toArray()).map((d) => d._id)).toEqual([2]);
  });

  test('an unknown query operator is an error (2 BadValue) even when the collection does not exist', async () => {
    const e = await errOf(coll('no_such_collection').find({ a: { $foo: 1 } }).toArray());
    expect(e?.code).toBe(2);
    expect(e?.message).toMatch(/unknown operator: \$foo/);
    const e2 = await errOf(coll('no_such_collection').countDocuments({ a: { $foo: 1 } }));
    expect(e2?.code).toBe(2);
  });

  test('$elemMatch on a DBRef $id (and $ref) matches the referencing documents', async () => {
    const c = coll('dbref');
    const id = new ObjectId();
    await c.insertMany([
      { _id: 1, refs: [new DBRef('people', id), new DBRef('people', new ObjectId())] },
      { _id: 2, refs: [new DBRef('places', new ObjectId())] },
    ]);
    expect((await c.find({ refs: { $elemMatch: { $id: id } } }).toArray()).map((d) => d._id)).toEqual([1]);
    expect((await c.find({ refs: { $elemMatch: { $ref: 'places' } } }).toArray()).map((d) => d._id)).toEqual([2]);
    expect((await c.find({ 'refs.$id': id }).toArray()).map((d) => d._id)).toEqual([1]);
    const back = await c.findOne({ _id: 1 });
    expect(back!.refs[0]).toBeInstanceOf(DBRef);
  });

  test('$type aliases int, long, double, number, decimal select by the stored BSON type', async () => {
    const c = coll('typealias');
    await c.insertMany([
      { _id: 1, v: new Int32(1) },
      { _id: 2, v: Long.fromNumber(2) },
      { _id: 3, v: new Double(3) },
      { _id: 4, v: 4.5 },
      { _id: 5, v: '5' },
    ]);
    const ids = async (t: string | number) => (await c.find({ v: { $type: t as never } }).sort({ _id: 1 }).toArray()).map((d) => d._id);
    expect(await ids('int')).toEqual([1]);
    expect(await ids('long')).toEqual([2]);
    expect(await ids('double')).toEqual([3, 4]);
    expect(await ids('number')).toEqual([1, 2, 3, 4]);
    expect(await ids(18)).toEqual([2]);
    expect(await ids('decimal')).toEqual([]);
  });
});

describe('BinData', () => {
  const bin = (sub: number, ...bytes: number[]) => new Binary(Buffer.from(bytes), sub);

  test('BinData sorts by length first, then subtype, then bytes', async () => {
    const c = coll('binsort');
    await c.insertMany([
      { _id: 1, b: bin(0, 9, 9, 9) },
      { _id: 2, b: bin(5, 1) },
      { _id: 3, b: bin(0, 2) },
      { _id: 4, b: bin(0, 1, 1) },
    ]);
    expect((await c.find({}).sort({ b: 1 }).toArray()).map((d) => d._id)).toEqual([3, 2, 4, 1]);
    await c.createIndex({ b: 1 });
    expect((await c.find({ b: { $gt: bin(0, 2) } }).sort({ b: 1 }).toArray()).map((d) => d._id)).toEqual([2, 4, 1]);
  });

  test('a change of BinData subtype alone is saved', async () => {
    const c = coll('binsub');
    await c.insertOne({ _id: 1, b: bin(0, 1, 2, 3) });
    const r = await c.updateOne({ _id: 1 }, { $set: { b: bin(4, 1, 2, 3) } });
    expect(r.modifiedCount).toBe(1);
    expect((await c.findOne({ _id: 1 }))!.b.sub_type).toBe(4);
    await c.replaceOne({ _id: 1 }, { b: bin(5, 1, 2, 3) });
    expect((await c.findOne({ _id: 1 }))!.b.sub_type).toBe(5);
  });

  test('$bitsAllSet / $bitsAnySet / $bitsAllClear on BinData test its bits (byte 0 holds bits 0-7)', async () => {
    const c = coll('binbits');
    await c.insertMany([
      { _id: 1, b: bin(0, 0b0000_0101, 0b1000_0000) },
      { _id: 2, b: bin(0, 0b0000_0001) },
      { _id: 3, n: 5 },
    ]);
    const ids = async (f: object) => (await c.find(f).sort({ _id: 1 }).toArray()).map((d) => d._id);
    expect(await ids({ b: { $bitsAllSet: [0, 2] } })).toEqual([1]);
    expect(await ids({ b: { $bitsAllSet: [15] } })).toEqual([1]);
    expect(await ids({ b: { $bitsAnySet: [0] } })).toEqual([1, 2]);
    expect(await ids({ b: { $bitsAllClear: [2] } })).toEqual([2]);
    expect(await ids({ b: { $bitsAnyClear: [0, 2] } })).toEqual([2]);
    expect(await ids({ n: { $bitsAllSet: [0, 2] } })).toEqual([3]);
  });
});

describe('int64 and hint', () => {
  test('int64 values round-trip as Long: a useBigInt64 client gets bigint back, a default client a number', async () => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const c = bigDb.collection<any>('longs');
    await c.insertOne({ _id: 1, n: 5n, big: 2n ** 60n, small: 7 });
    const back = await c.findOne({ _id: 1 });
    expect(back).toEqual({ _id: 1, n: 5n, big: 2n ** 60n, small: 7 });
    expect(await c.findOne({ n: 5n })).not.toBeNull();
    await c.updateOne({ _id: 1 }, { $inc: { n: 1 } });
    expect((await c.findOne({ _id: 1 }))!.n).toBe(6n);
    await c.updateOne({ _id: 1 }, { $set: { n: 3 } });
    expect((await c.findOne({ _id: 1 }))!.n).toBe(3);
    const raw = await coll('longs').findOne({ _id: 1 }, { promoteLongs: false });
    expect(raw!.big).toBeInstanceOf(Long);
  });

  onEngine('int64 and integral double types survive a restart of a durable engine (journal and snapshot)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'emb-numtypes-'));
    try {
      for (const snapshot of [false, true]) {
        const e1 = await startEmbeddedMongo({ dbPath: dir });
        const c1 = new MongoClient(e1.uri, { useBigInt64: true });
        await c1.db('d').collection('n').replaceOne({ _id: 1 } as never, { n: 5n, d: new Double(2), nested: { l: 7n } }, { upsert: true });
        if (snapshot) await e1.snapshot();
        await c1.close();
        await e1.stop();
        const e2 = await startEmbeddedMongo({ dbPath: dir });
        const c2 = new MongoClient(e2.uri, { promoteValues: false });
        try {
          const back = await c2.db('d').collection('n').findOne({ _id: 1 } as never);
          expect(back!.n).toBeInstanceOf(Long);
          expect(back!.n.toNumber()).toBe(5);
          expect(back!.nested.l).toBeInstanceOf(Long);
          expect(back!.d).toBeInstanceOf(Double);
        } finally {
          await c2.close();
          await e2.stop();
        }
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('mongoose BigInt fields save, query and load as bigint', async () => {
    const conn = await mongoose.createConnection(target.uri, { dbName: name }).asPromise();
    try {
      const M = conn.model('BigThing', new mongoose.Schema({ n: BigInt, label: String }));
      await M.create({ n: 12345678901234n, label: 'a' });
      await M.create({ n: 3n, label: 'b' });
      const found = await M.findOne({ n: 12345678901234n });
      expect(found?.label).toBe('a');
      expect(found?.n).toBe(12345678901234n);
      // lean documents are the driver's raw values: int64 -> number unless promoteLongs is off
      const raw = await M.findOne({ label: 'a' }).lean().setOptions({ promoteLongs: false });
      expect((raw as unknown as { n: unknown }).n).toBeInstanceOf(Long);
      const doc = await M.findOne({ label: 'b' });
      expect(doc?.n).toBe(3n);
      expect((await M.find({ n: { $gt: 2n } }).sort({ n: 1 })).map((d) => d.label)).toEqual(['b', 'a']);
    } finally {
      await conn.close();
    }
  });

  test('hint on an index returns documents in that index order when no sort is given', async () => {
    const c = coll('hint');
    await c.insertMany([{ _id: 1, a: 3, b: 1 }, { _id: 2, a: 1, b: 3 }, { _id: 3, a: 2, b: 2 }]);
    await c.createIndex({ a: 1 });
    await c.createIndex({ b: -1 });
    expect((await c.find({}).hint({ a: 1 }).toArray()).map((d) => d._id)).toEqual([2, 3, 1]);
    expect((await c.find({ b: { $gte: 1 } }).hint('b_-1').toArray()).map((d) => d._id)).toEqual([2, 3, 1]);
    expect((await c.find({}).hint({ $natural: -1 }).toArray()).map((d) => d._id)).toEqual([3, 2, 1]);
    const missing = await errOf(c.find({}).hint({ zz: 1 }).toArray());
    expect(missing?.code).toBe(2);
    expect(missing?.message).toMatch(/hint provided does not correspond to an existing index/);
  });
});
