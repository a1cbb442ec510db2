/**
 * `$in` / `$nin` semantics (issue 18: the engine tests `$in` by hash-set membership instead of
 * intersecting every candidate's values with the whole list). Each test states MongoDB's
 * documented behaviour ("$in selects the documents where the value of a field equals any value in
 * the specified array"; an array field matches when the array itself or any element does; null
 * matches null and missing; regexes match strings). They run against the engine, and against a
 * real server when MONGODB_URI is set.
 */
import { Db, Double, Int32, Long, MongoClient, ObjectId } from 'mongodb';
import { dbName, startTarget, Target } from './helpers';

let target: Target;
let client: MongoClient;
let db: Db;

beforeAll(async () => {
  target = await startTarget();
  client = new MongoClient(target.uri);
  await client.connect();
  db = client.db(dbName('compat_in'));
});

afterAll(async () => {
  await db?.dropDatabase().catch(() => undefined);
  await client?.close();
  await target?.stop();
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const coll = (n: string) => db.collection<any>(n);
const ids = async (n: string, filter: object): Promise<unknown[]> => (await coll(n).find(filter, { projection: { _id: 1 } }).sort({ _id: 1 }).toArray()).map((d) => d._id);
const aggIds = async (n: string, filter: object): Promise<unknown[]> => (await coll(n).aggregate([{ $match: filter }, { $sort: { _id: 1 } }, { $project: { _id: 1 } }]).toArray()).map((d) => d._id);

describe('$in and $nin', () => {
  beforeAll(async () => {
    await coll('vals').insertMany([
      { _id: 1, a: [1, 2] },
      { _id: 2, a: [] },
      { _id: 3, a: [[1, 2], 3] },
      { _id: 4, a: 1 },
      { _id: 5, a: null },
      { _id: 6 },
      { _id: 7, a: [1, null] },
      { _id: 8, a: { x: 1, y: 2 } },
      { _id: 9, a: { y: 2, x: 1 } },
      { _id: 10, a: '1' },
      { _id: 11, a: true },
      { _id: 12, a: new Date(1) },
      { _id: 13, a: ['zz', 'xaby'] },
      { _id: 14, a: 'abc' },
      { _id: 15, a: [{ b: [1, 2] }, { b: [3] }] },
      { _id: 16, a: [{ b: 'xaby' }, { c: 1 }] },
    ]);
  });

  test('a listed array matches a field holding exactly that array, also nested one level in an array field', async () => {
    expect(await ids('vals', { a: { $in: [[1, 2]] } })).toEqual([1, 3]);
    expect(await ids('vals', { a: { $in: [[]] } })).toEqual([2]);
    expect(await aggIds('vals', { a: { $in: [[1, 2]] } })).toEqual([1, 3]);
    expect(await ids('vals', { a: { $nin: [[1, 2]] } })).not.toContain(1);
  });

  // (_id 3 holds arrays inside an array: dotted paths over those follow mingo's traversal, a known
  // difference listed in the README, so it is left out here.)
  test('a dotted path through an array of documents matches values inside the arrays it reaches', async () => {
    expect(await ids('vals', { 'a.b': { $in: [3] } })).toEqual([15]);
    expect(await ids('vals', { _id: { $ne: 3 }, 'a.b': { $in: [2, 'nope'] } })).toEqual([15]);
  });

  test('embedded documents are equal only with the same fields in the same order', async () => {
    expect(await ids('vals', { a: { $in: [{ x: 1, y: 2 }] } })).toEqual([8]);
    expect(await ids('vals', { a: { $in: [{ y: 2, x: 1 }] } })).toEqual([9]);
  });

  test('numbers match across int32, int64 and double; strings, booleans and dates never equal a number', async () => {
    await coll('nums').insertMany([
      { _id: 'int', n: new Int32(1) },
      { _id: 'long', n: Long.fromNumber(1) },
      { _id: 'double', n: new Double(1) },
      { _id: 'half', n: 1.5 },
      { _id: 'str', n: '1' },
      { _id: 'bool', n: true },
      { _id: 'date', n: new Date(1) },
    ]);
    const numeric = ['double', 'int', 'long'];
    expect(await ids('nums', { n: { $in: [1] } })).toEqual(numeric);
    expect(await ids('nums', { n: { $in: [Long.fromNumber(1)] } })).toEqual(numeric);
    expect(await ids('nums', { n: { $in: [new Double(1.0), 1.5] } })).toEqual(['double', 'half', 'int', 'long']);
    expect(await ids('nums', { n: { $in: ['1'] } })).toEqual(['str']);
    expect(await ids('nums', { n: { $in: [true] } })).toEqual(['bool']);
    expect(await ids('nums', { n: { $in: [new Date(1)] } })).toEqual(['date']);
    expect(await ids('nums', { n: { $nin: [1, '1'] } })).toEqual(['bool', 'date', 'half']);
  });

  test('null matches null, missing and a null array element, not an empty array; $nin with null excludes them', async () => {
    expect(await ids('vals', { a: { $in: [null] } })).toEqual([5, 6, 7]);
    expect(await ids('vals', { a: { $in: [null, 1] } })).toEqual([1, 4, 5, 6, 7]);
    const nin = await ids('vals', { a: { $nin: [null] } });
    for (const id of [5, 6, 7]) expect(nin).not.toContain(id);
    expect(nin).toContain(2);
    // without null in the list, $nin matches missing and null fields
    expect(await ids('vals', { a: { $nin: [1, 2, 3] } })).toEqual(expect.arrayContaining([5, 6]));
  });

  test('a listed regex matches string values and string elements, including through a dotted path', async () => {
    expect(await ids('vals', { a: { $in: [/ab/] } })).toEqual([13, 14]);
    expect(await ids('vals', { a: { $in: [/^ab/, 1] } })).toEqual([1, 4, 7, 14]);
    expect(await ids('vals', { 'a.b': { $in: [/ab/] } })).toEqual([16]);
  });

  test('inside $elemMatch and $not, and as update, delete and $pull conditions', async () => {
    expect(await ids('vals', { a: { $elemMatch: { $in: [2, 3] } } })).toEqual([1, 3]);
    expect(await ids('vals', { _id: { $lte: 7 }, a: { $not: { $in: [1] } } })).toEqual([2, 3, 5, 6]);
    const c = coll('writes');
    await c.insertMany([{ _id: 1, tags: ['a', 'b', 'c'] }, { _id: 2, tags: ['b'] }, { _id: 3, tags: ['d'] }]);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const pull: any = { $pull: { tags: { $in: ['a', 'b'] } } };
    const u = await c.updateMany({ tags: { $in: ['b'] } }, pull);
    expect(u.matchedCount).toBe(2);
    expect(await c.find().sort({ _id: 1 }).toArray()).toEqual([{ _id: 1, tags: ['c'] }, { _id: 2, tags: [] }, { _id: 3, tags: ['d'] }]);
    expect((await c.deleteMany({ _id: { $in: [1, 3, 99] } })).deletedCount).toBe(2);
  });

  test('1,000 listed ObjectIds and strings select exactly those documents, through an index and through a scan', async () => {
    const c = coll('many');
    const docs = Array.from({ length: 3000 }, (_, i) => ({ _id: `d${i}`, ref: new ObjectId(), k: i % 7 === 0 ? String(i) : i }));
    await c.insertMany(docs);
    await c.createIndex({ ref: 1 });
    const chosen = docs.filter((_, i) => i % 3 === 0);
    const want = chosen.map((d) => d._id).sort();
    expect(await ids('many', { ref: { $in: chosen.map((d) => d.ref) } })).toEqual(want);
    expect(await ids('many', { _id: { $in: chosen.map((d) => d._id) } })).toEqual(want);
    // no index on k; a mixed list of strings and numbers (k is a string for every 7th document)
    const ks = chosen.map((d) => d.k);
    expect(await ids('many', { k: { $in: ks } })).toEqual(want);
    expect(await ids('many', { k: { $in: ks.map((k) => (typeof k === 'number' ? String(k) : k)) } })).toEqual(chosen.filter((d) => typeof d.k === 'string').map((d) => d._id).sort());
    expect((await c.countDocuments({ ref: { $nin: chosen.map((d) => d.ref) } }))).toBe(2000);
  });

  test('a $in whose argument is not an array is an error (2 BadValue)', async () => {
    const err = await coll('vals').find({ a: { $in: 5 } }).toArray().then(() => null, (e: { code?: number }) => e);
    expect(err?.code).toBe(2);
  });
});
