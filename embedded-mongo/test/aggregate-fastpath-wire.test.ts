/**
 * The aggregation fast path through the wire protocol: the same data in two engines, one with
 * the fast path (the default) and one forced onto the mingo path (`aggregateFastPath: false`),
 * queried with the official driver and with mongoose. Engine-specific (skipped when MONGODB_URI
 * points the compatibility suites at a real server).
 */
import { Decimal128, Double, Int32, Long, MongoClient } from 'mongodb';
import mongoose, { Schema } from 'mongoose';
import { EmbeddedMongo, startEmbeddedMongo } from '../src/index';
import { REAL_URI } from './helpers';

const suite = REAL_URI ? describe.skip : describe;

suite('aggregation fast path over the wire', () => {
  let fast: EmbeddedMongo;
  let slow: EmbeddedMongo;
  let cf: MongoClient;
  let cs: MongoClient;

  const day = 86_400_000;
  const base = Date.UTC(2026, 11, 31, 16, 30); // 2027-01-01 00:30 in CST
  const docs = Array.from({ length: 1500 }, (_, i) => ({
    _id: `tk${String(i).padStart(5, '0')}`,
    communityId: `cm${i % 37}`,
    districtCode: `d${i % 5}`,
    status: ['OPEN', 'ASSIGNED', 'RESOLVED', 'CLOSED'][i % 4],
    requestedAt: new Date(base - (i % 90) * day - (i % 24) * 3_600_000),
    // BSON numeric types: all come back as JS numbers
    hours: i % 4 < 2 ? null : i % 3 === 0 ? new Double(i / 8) : i % 3 === 1 ? new Int32(i % 50) : Long.fromNumber(i % 70),
    ...(i % 11 === 0 ? {} : { rating: i % 6 }),
  }));

  beforeAll(async () => {
    [fast, slow] = await Promise.all([startEmbeddedMongo({}), startEmbeddedMongo({ aggregateFastPath: false })]);
    cf = await MongoClient.connect(fast.uri);
    cs = await MongoClient.connect(slow.uri);
    for (const c of [cf, cs]) {
      const t = c.db('w').collection('tickets');
      await t.createIndex({ districtCode: 1, requestedAt: -1 });
      await t.createIndex({ requestedAt: -1 });
      await t.createIndex({ communityId: 1 });
      await t.insertMany(docs.map((d) => ({ ...d })) as never[]);
    }
  }, 60_000);

  afterAll(async () => {
    await Promise.all([cf?.close(), cs?.close()]);
    await Promise.all([fast?.stop(), slow?.stop()]);
  });

  const stats = async (c: MongoClient) => (await c.db('w').command({ embeddedEngineStats: 1 })) as { collScans: number; indexLookups: number; aggregateFastPath: { enabled: boolean; runs: number; bails: number; errors: number } };
  const onBoth = async (pipeline: object[]) => {
    const [a, b] = await Promise.all([cf.db('w').collection('tickets').aggregate(pipeline).toArray(), cs.db('w').collection('tickets').aggregate(pipeline).toArray()]);
    return { a, b };
  };

  const from = new Date(base - 40 * day);
  const to = new Date(base);
  const pipelines: [string, object[]][] = [
    ['match indexed + group $sum', [{ $match: { districtCode: 'd2' } }, { $group: { _id: '$communityId', n: { $sum: 1 }, h: { $sum: '$hours' } } }]],
    ['range + $avg/$min/$max', [{ $match: { requestedAt: { $gte: from, $lt: to } } }, { $group: { _id: '$districtCode', a: { $avg: '$hours' }, mn: { $min: '$hours' }, mx: { $max: '$requestedAt' } } }]],
    ['two keys + $push', [{ $group: { _id: { d: '$districtCode', s: '$status' }, hs: { $push: '$hours' }, r: { $push: '$rating' } } }]],
    ['project + sort + limit', [{ $project: { communityId: 1, m: { $multiply: ['$hours', 60] } } }, { $sort: { m: -1, _id: 1 } }, { $limit: 25 }]],
    [
      'facet',
      [
        { $match: { districtCode: { $in: ['d1', 'd3'] } } },
        {
          $facet: {
            months: [{ $group: { _id: { $dateToString: { date: '$requestedAt', format: '%Y-%m', timezone: '+08:00' } }, n: { $sum: 1 } } }, { $sort: { _id: 1 } }],
            total: [{ $count: 'n' }],
            none: [{ $match: { status: 'NOPE' } }, { $count: 'n' }],
          },
        },
      ],
    ],
    ['count', [{ $match: { status: 'OPEN' } }, { $count: 'open' }]],
    ['unwind', [{ $project: { pair: ['$districtCode', '$status'] } }, { $unwind: '$pair' }, { $group: { _id: '$pair', n: { $sum: 1 } } }, { $sort: { _id: 1 } }]],
  ];

  test.each(pipelines)('%s: the same answer as the mingo path', async (_name, pipeline) => {
    const before = await stats(cf);
    const { a, b } = await onBoth(pipeline);
    expect(a).toEqual(b);
    expect(a.length).toBeGreaterThan(0);
    const after = await stats(cf);
    expect(after.aggregateFastPath.runs).toBe(before.aggregateFastPath.runs + 1);
    expect(after.aggregateFastPath.bails + after.aggregateFastPath.errors).toBe(before.aggregateFastPath.bails + before.aggregateFastPath.errors);
  });

  test('the forced engine never uses the fast path', async () => {
    const s = await stats(cs);
    expect(s.aggregateFastPath.enabled).toBe(false);
    expect(s.aggregateFastPath.runs).toBe(0);
    expect((await stats(cf)).aggregateFastPath.enabled).toBe(true);
  });

  test('a selective leading $match is answered from the index', async () => {
    const before = await stats(cf);
    const { a, b } = await onBoth([{ $match: { communityId: 'cm5', requestedAt: { $gte: from } } }, { $group: { _id: null, n: { $sum: 1 } } }]);
    expect(a).toEqual(b);
    const after = await stats(cf);
    expect(after.indexLookups).toBe(before.indexLookups + 1);
    expect(after.collScans).toBe(before.collScans);
  });

  test('through mongoose, with a Decimal128 collection refused alike', async () => {
    const connF = await mongoose.createConnection(fast.uri, { dbName: 'w' }).asPromise();
    const connS = await mongoose.createConnection(slow.uri, { dbName: 'w' }).asPromise();
    try {
      const schema = new Schema({ communityId: String, districtCode: String, status: String, requestedAt: Date, hours: Number }, { collection: 'tickets' });
      const [TF, TS] = [connF.model('T', schema), connS.model('T', schema)];
      const p = [{ $match: { status: { $in: ['RESOLVED', 'CLOSED'] } } }, { $group: { _id: '$districtCode', avg: { $avg: '$hours' }, n: { $sum: 1 } } }, { $sort: { _id: 1 as const } }];
      expect(await TF.aggregate(p)).toEqual(await TS.aggregate(p));
      for (const c of [cf, cs]) await c.db('w').collection('money').insertOne({ k: 1, v: Decimal128.fromString('1.5') });
      const err = async (cl: MongoClient) => cl.db('w').collection('money').aggregate([{ $group: { _id: '$k', s: { $sum: '$v' } } }]).toArray().catch((e: Error) => e.message);
      const [ef, es] = await Promise.all([err(cf), err(cs)]);
      expect(ef).toMatch(/Decimal128/);
      expect(ef).toBe(es);
    } finally {
      await Promise.all([connF.close(), connS.close()]);
    }
  });
});
