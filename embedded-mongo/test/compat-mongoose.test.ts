/**
 * Compatibility suite through mongoose 9 (the path the project's subgraphs use).
 */
import mongoose, { Schema, Types } from 'mongoose';
import { dbName, startTarget, Target } from './helpers';

let target: Target;
let conn: mongoose.Connection;

interface User {
  email: string;
  name: string;
  age?: number;
  tags: string[];
  city?: string;
  org?: Types.ObjectId;
}

const userSchema = new Schema<User>(
  {
    email: { type: String, required: true, unique: true },
    name: { type: String, required: true },
    age: Number,
    tags: { type: [String], default: [] },
    city: String,
    org: { type: Schema.Types.ObjectId, ref: 'Org' },
  },
  { timestamps: true },
);

const orgSchema = new Schema({
  name: String,
  country: { type: Schema.Types.ObjectId, ref: 'Country' },
});
const countrySchema = new Schema({ code: String });

const membershipSchema = new Schema({
  user: { type: Schema.Types.ObjectId, required: true },
  group: { type: String, required: true },
  role: { type: String, default: 'member' },
  items: [{ sku: String, qty: Number }],
});
membershipSchema.index({ user: 1, group: 1 }, { unique: true });

const counterSchema = new Schema({ key: { type: String, unique: true }, n: { type: Number, default: 0 }, label: { type: String, default: 'none' } }, { timestamps: true });

beforeAll(async () => {
  target = await startTarget();
  conn = await mongoose.createConnection(target.uri, { dbName: dbName('compat_mg') }).asPromise();
});

afterAll(async () => {
  await conn?.dropDatabase().catch(() => undefined);
  await conn?.close();
  await target?.stop();
});

const UserM = () => conn.models.User ?? conn.model<User>('User', userSchema);
const Org = () => conn.models.Org ?? conn.model('Org', orgSchema);
const Country = () => conn.models.Country ?? conn.model('Country', countrySchema);
const Membership = () => conn.models.Membership ?? conn.model('Membership', membershipSchema);
const Counter = () => conn.models.Counter ?? conn.model('Counter', counterSchema);

describe('mongoose 9 against the target', () => {
  test('models init: unique + compound indexes are created and listed', async () => {
    await UserM().init();
    await Membership().init();
    const idx = await UserM().listIndexes();
    expect(idx.map((i) => i.name).sort()).toEqual(['_id_', 'email_1']);
    expect(idx.find((i) => i.name === 'email_1')?.unique).toBe(true);
    const midx = await Membership().listIndexes();
    expect(midx.find((i) => i.name === 'user_1_group_1')?.key).toEqual({ user: 1, group: 1 });
  });

  test('create / insertMany / save; find with sort, limit, select, lean', async () => {
    const U = UserM();
    const a = await U.create({ email: 'a@x.org', name: 'Ann', age: 31, tags: ['x'], city: 'Lyon' });
    expect(a._id).toBeInstanceOf(Types.ObjectId);
    expect(a.get('createdAt')).toBeInstanceOf(Date);
    await U.insertMany([
      { email: 'b@x.org', name: 'Bob', age: 25, city: 'Paris' },
      { email: 'c@x.org', name: 'Cid', age: 40, city: 'Lyon' },
      { email: 'd@x.org', name: 'Dee', age: 35, city: 'Nice' },
    ]);
    const e = new U({ email: 'e@x.org', name: 'Eve', age: 22 });
    await e.save();
    e.name = 'Eva';
    await e.save();
    expect((await U.findById(e._id).lean())?.name).toBe('Eva');

    const sorted = await U.find({ age: { $gte: 25 } }).sort({ age: -1 }).limit(2).select('name age -_id').lean();
    expect(sorted).toEqual([
      { name: 'Cid', age: 40 },
      { name: 'Dee', age: 35 },
    ]);
    const lyon = await U.find({ city: 'Lyon' }).sort('name').lean();
    expect(lyon.map((u) => u.name)).toEqual(['Ann', 'Cid']);
    const one = await U.findOne({ email: 'b@x.org' }).lean();
    expect(one?.name).toBe('Bob');
    expect(Object.keys(one!)[0]).toBe('_id');
    expect(await U.exists({ email: 'zzz' })).toBeNull();
    const skipped = await U.find().sort({ email: 1 }).skip(3).lean();
    expect(skipped.map((u) => u.email)).toEqual(['d@x.org', 'e@x.org']);
  });

  test('countDocuments and estimatedDocumentCount', async () => {
    expect(await UserM().countDocuments({ city: 'Lyon' })).toBe(2);
    expect(await UserM().countDocuments({ city: 'Nowhere' })).toBe(0);
    expect(await UserM().estimatedDocumentCount()).toBe(5);
  });

  test('duplicate key surfaces as code 11000 with keyValue', async () => {
    const err = await UserM()
      .create({ email: 'a@x.org', name: 'Dup' })
      .then(() => null, (e: unknown) => e as { code?: number; keyValue?: unknown; message: string });
    expect(err?.code).toBe(11000);
    expect(err?.keyValue).toEqual({ email: 'a@x.org' });
    expect(err?.message).toMatch(/E11000 duplicate key error collection: .*users index: email_1 dup key: \{ email: "a@x.org" \}/);
  });

  test('compound unique index enforced on insert and update', async () => {
    const M = Membership();
    const u1 = new Types.ObjectId();
    const u2 = new Types.ObjectId();
    await M.create({ user: u1, group: 'g1' });
    await M.create({ user: u1, group: 'g2' });
    await M.create({ user: u2, group: 'g1' });
    const dup = await M.create({ user: u1, group: 'g1' }).catch((e) => e);
    expect(dup.code).toBe(11000);
    expect(dup.keyPattern).toEqual({ user: 1, group: 1 });
    const upd = await M.updateOne({ user: u2, group: 'g1' }, { $set: { user: u1 } }).catch((e) => e);
    expect(upd.code).toBe(11000);
    expect(await M.countDocuments({ user: u2 })).toBe(1);
  });

  test('updateOne / updateMany with $set $inc $push $addToSet, arrayFilters, positional $', async () => {
    const U = UserM();
    const r = await U.updateOne({ email: 'a@x.org' }, { $set: { city: 'Lille' }, $inc: { age: 1 }, $push: { tags: 'y' } });
    expect(r.matchedCount).toBe(1);
    expect(r.modifiedCount).toBe(1);
    await U.updateOne({ email: 'a@x.org' }, { $addToSet: { tags: { $each: ['x', 'z'] } } });
    const a = await U.findOne({ email: 'a@x.org' }).lean();
    expect(a).toMatchObject({ city: 'Lille', age: 32, tags: ['x', 'y', 'z'] });

    const many = await U.updateMany({ city: { $in: ['Paris', 'Nice'] } }, { $set: { city: 'South' } });
    expect(many.matchedCount).toBe(2);
    expect(many.modifiedCount).toBe(2);
    const noop = await U.updateOne({ email: 'a@x.org' }, { $set: { city: 'Lille' } }, { timestamps: false });
    expect(noop.modifiedCount).toBe(0);

    const M = Membership();
    const user = new Types.ObjectId();
    await M.create({ user, group: 'orders', items: [{ sku: 'a', qty: 1 }, { sku: 'b', qty: 2 }, { sku: 'c', qty: 3 }] });
    await M.updateOne({ user, group: 'orders' }, { $set: { 'items.$[big].qty': 0 } }, { arrayFilters: [{ 'big.qty': { $gte: 2 } }] });
    await M.updateOne({ user, 'items.sku': 'a' }, { $inc: { 'items.$.qty': 10 } });
    const m = await M.findOne({ user }).lean();
    expect(m!.items.map((i: { qty: number }) => i.qty)).toEqual([11, 0, 0]);
  });

  test('findOneAndUpdate upsert with defaults and timestamps; returnDocument', async () => {
    const C = Counter();
    await C.init();
    const created = await C.findOneAndUpdate({ key: 'k1' }, { $inc: { n: 1 } }, { upsert: true, returnDocument: 'after', setDefaultsOnInsert: true }).lean();
    expect(created).toMatchObject({ key: 'k1', n: 1, label: 'none' });
    expect((created as unknown as { createdAt: Date }).createdAt).toBeInstanceOf(Date);
    const again = await C.findOneAndUpdate({ key: 'k1' }, { $inc: { n: 1 } }, { upsert: true, returnDocument: 'after' }).lean();
    expect(again).toMatchObject({ n: 2 });
    expect((again as unknown as { createdAt: Date }).createdAt).toEqual((created as unknown as { createdAt: Date }).createdAt);
    const before = await C.findOneAndUpdate({ key: 'k1' }, { $set: { label: 'x' } }, { returnDocument: 'before' }).lean();
    expect(before).toMatchObject({ label: 'none' });
    const missing = await C.findOneAndUpdate({ key: 'nope' }, { $set: { label: 'x' } }).lean();
    expect(missing).toBeNull();
  });

  test('findOneAndDelete and deleteOne/deleteMany', async () => {
    const C = Counter();
    await C.create([{ key: 'd1' }, { key: 'd2' }, { key: 'd3' }]);
    const del = await C.findOneAndDelete({ key: 'd1' }).lean();
    expect(del).toMatchObject({ key: 'd1' });
    expect(await C.findOne({ key: 'd1' })).toBeNull();
    expect((await C.deleteMany({ key: { $in: ['d2', 'd3'] } })).deletedCount).toBe(2);
  });

  test('populate, including nested populate', async () => {
    const country = await Country().create({ code: 'FR' });
    const org = await Org().create({ name: 'Acme', country: country._id });
    await UserM().updateMany({ city: 'Lyon' }, { $set: { org: org._id } });
    const users = await UserM()
      .find({ org: org._id })
      .populate({ path: 'org', populate: { path: 'country' } })
      .lean();
    expect(users.length).toBe(1);
    const o = users[0].org as unknown as { name: string; country: { code: string } };
    expect(o.name).toBe('Acme');
    expect(o.country.code).toBe('FR');
  });

  test('bulkWrite: ordered stops at a duplicate, unordered continues', async () => {
    const C = Counter();
    await C.create({ key: 'b0' });
    const ordered = await C.bulkWrite([
      { insertOne: { document: { key: 'b1' } } },
      { insertOne: { document: { key: 'b0' } } },
      { insertOne: { document: { key: 'b2' } } },
    ]).catch((e) => e);
    expect(ordered.code).toBe(11000);
    expect(await C.countDocuments({ key: { $in: ['b1', 'b2'] } })).toBe(1);

    const unordered = await C.bulkWrite(
      [
        { insertOne: { document: { key: 'b3' } } },
        { insertOne: { document: { key: 'b0' } } },
        { updateOne: { filter: { key: 'b1' }, update: { $inc: { n: 5 } } } },
        { deleteOne: { filter: { key: 'b3' } } },
        { updateOne: { filter: { key: 'b9' }, update: { $set: { n: 9 } }, upsert: true } },
        { replaceOne: { filter: { key: 'b1' }, replacement: { key: 'b1', n: 100 } as never } },
      ],
      { ordered: false },
    ).catch((e) => e);
    expect(unordered.code).toBe(11000);
    expect(unordered.result?.insertedCount ?? unordered.insertedCount).toBe(1);
    expect((await C.findOne({ key: 'b1' }).lean())?.n).toBe(100);
    expect(await C.findOne({ key: 'b3' })).toBeNull();
    expect((await C.findOne({ key: 'b9' }).lean())?.n).toBe(9);

    const ok = await C.bulkWrite([
      { insertOne: { document: { key: 'b10' } } },
      { updateMany: { filter: { key: { $in: ['b10', 'b9'] } }, update: { $set: { label: 'bulk' } } } },
      { deleteMany: { filter: { key: 'nothing' } } },
    ]);
    expect(ok.insertedCount).toBe(1);
    expect(ok.modifiedCount).toBe(2);
  });

  test('aggregate pipelines: $match $group $sort $project $unwind $lookup $facet $count', async () => {
    const U = UserM();
    const byCity = await U.aggregate([
      { $match: { age: { $gte: 20 } } },
      { $group: { _id: '$city', n: { $sum: 1 }, avgAge: { $avg: '$age' } } },
      { $sort: { n: -1, _id: 1 } },
      { $project: { _id: 0, city: '$_id', n: 1 } },
    ]);
    expect(byCity[0]).toEqual({ n: 2, city: 'South' });
    const tags = await U.aggregate([{ $unwind: '$tags' }, { $group: { _id: '$tags', n: { $sum: 1 } } }, { $sort: { _id: 1 } }]);
    expect(tags.map((t) => t._id)).toEqual(['x', 'y', 'z']);
    const joined = await U.aggregate([
      { $match: { org: { $exists: true } } },
      { $lookup: { from: Org().collection.name, localField: 'org', foreignField: '_id', as: 'orgDoc' } },
      { $unwind: '$orgDoc' },
      { $project: { name: 1, orgName: '$orgDoc.name' } },
    ]);
    expect(joined).toHaveLength(1);
    expect(joined[0].orgName).toBe('Acme');
    const [facet] = await U.aggregate([
      { $facet: { total: [{ $count: 'n' }], oldest: [{ $sort: { age: -1 } }, { $limit: 1 }, { $project: { _id: 0, name: 1 } }] } },
    ]);
    expect(facet).toEqual({ total: [{ n: 5 }], oldest: [{ name: 'Cid' }] });
  });

  test('distinct', async () => {
    const cities = await UserM().distinct('city');
    expect(cities.sort()).toEqual(['Lille', 'Lyon', 'South']);
    const tags = await UserM().distinct('tags', { email: 'a@x.org' });
    expect(tags.sort()).toEqual(['x', 'y', 'z']);
  });

  test('transactions are refused the way a standalone mongod refuses them', async () => {
    const session = await conn.startSession();
    const err = await session
      .withTransaction(async () => {
        await UserM().create([{ email: 'tx@x.org', name: 'Tx' }], { session });
      })
      .then(() => null, (e: Error) => e);
    await session.endSession();
    expect(err).not.toBeNull();
    // driver 7 rewrites code 20 into a "does not support retryable writes" / transaction error
    expect(String(err?.message)).toMatch(/Transaction numbers are only allowed on a replica set member or mongos|does not support retryable writes|Transaction/);
    expect(await UserM().countDocuments({ email: 'tx@x.org' })).toBe(0);
  });
});
