/**
 * The union reader (lib/union-reader.ts): reads issued together on one database leave as one
 * command, each read still gets exactly its own answer (filter cast by its schema, its own sort,
 * skip and limit), and a read that fails gets its own error without failing the others.
 */
import mongoose, { type Connection } from 'mongoose';
import { connectDatabase, countCommands } from '../../lib/db';
import { createUnionReader } from '../../lib/union-reader';
import { startTestDatabase, uniqueDbName, type Engine } from '../helpers/subgraph';

let engine: Engine;
let conn: Connection;
let commands: ReturnType<typeof countCommands>;
const People = () =>
  conn.models.People ??
  conn.model('People', new mongoose.Schema({ _id: String, city: String, age: Number, born: Date }, { collection: 'people' }));
const Places = () =>
  conn.models.Places ?? conn.model('Places', new mongoose.Schema({ _id: String, city: String, kind: String }, { collection: 'places' }));

beforeAll(async () => {
  engine = await startTestDatabase();
  conn = await connectDatabase({ uri: engine.uri, dbName: uniqueDbName('union'), monitorCommands: true });
  commands = countCommands(conn);
  await Promise.all([People().init(), Places().init()]);
  await People().collection.insertMany(
    Array.from({ length: 40 }, (_, i) => ({ _id: `p${String(i).padStart(2, '0')}`, city: i % 2 ? 'A' : 'B', age: i, born: new Date(Date.UTC(1950, 0, 1 + i)) })) as never[],
  );
  await Places().collection.insertMany([
    { _id: 'x1', city: 'A', kind: 'clinic' },
    { _id: 'x2', city: 'A', kind: 'canteen' },
    { _id: 'x3', city: 'B', kind: 'clinic' },
  ] as never[]);
});

afterAll(async () => {
  await conn?.close();
  await engine?.stop();
});

describe('reads issued together', () => {
  test('three reads on two collections in one turn are one command, each with its own answer', async () => {
    const reads = createUnionReader();
    commands.reset();
    const [older, page, clinics, count] = await Promise.all([
      // cast by the schema: age as a string, born as an ISO string
      reads.find<{ _id: string }>(People(), { age: { $gte: '35' }, born: { $gte: '1950-01-01' } }, { sort: { age: -1 } }),
      reads.find<{ _id: string }>(People(), { city: 'A' }, { sort: { _id: 1 }, skip: 2, limit: 3, projection: { _id: 1 } }),
      reads.find<{ _id: string; kind: string }>(Places(), { kind: 'clinic' }, { sort: { _id: 1 } }),
      reads.count(People(), { city: 'B' }),
    ]);
    expect([...commands.byName]).toEqual([['aggregate', 1]]);
    expect(older.map((d) => d._id)).toEqual(['p39', 'p38', 'p37', 'p36', 'p35']);
    expect(page).toEqual([{ _id: 'p05' }, { _id: 'p07' }, { _id: 'p09' }]);
    expect(clinics.map((d) => d._id)).toEqual(['x1', 'x3']);
    expect(count).toBe(20);
  });

  test('reads in different turns are separate commands', async () => {
    const reads = createUnionReader();
    commands.reset();
    const a = await reads.find<{ _id: string }>(Places(), { city: 'B' });
    const b = await reads.find<{ _id: string }>(Places(), { city: 'A' }, { sort: { _id: -1 } });
    expect(a.map((d) => d._id)).toEqual(['x3']);
    expect(b.map((d) => d._id)).toEqual(['x2', 'x1']);
    expect(commands.count).toBe(2);
  });

  test('a read that fails gets its own error and the reads beside it still answer', async () => {
    const reads = createUnionReader();
    const [good, bad, other] = await Promise.allSettled([
      reads.find<{ _id: string }>(Places(), { kind: 'canteen' }),
      reads.aggregate(People(), [{ $match: { age: { $bogusOperator: 1 } } }]),
      reads.count(People(), { age: { $lt: 3 } }),
    ]);
    expect(good).toEqual({ status: 'fulfilled', value: [{ _id: 'x2', city: 'A', kind: 'canteen', __v: undefined }].map(({ __v: _v, ...d }) => d) });
    expect(bad.status).toBe('rejected');
    expect(String((bad as PromiseRejectedResult).reason)).toMatch(/bogusOperator/);
    expect(other).toEqual({ status: 'fulfilled', value: 3 });
  });

  test('a filter the schema cannot cast is refused before anything is sent', async () => {
    const reads = createUnionReader();
    commands.reset();
    await expect(reads.find(People(), { age: 'not a number' })).rejects.toThrow(/Cast to Number failed/);
    expect(commands.count).toBe(0);
  });
});
