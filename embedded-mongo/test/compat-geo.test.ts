/**
 * Geospatial queries on GeoJSON points with 2dsphere indexes, checked against hand-computed
 * distances: MongoDB measures on a sphere of radius 6378100 m, so along a meridian d metres are
 * d / 6378100 radians of latitude (haversine of two points on one meridian = R * dLat). Runs
 * against the engine, and against a real server when MONGODB_URI is set.
 */
import { Db, MongoClient } from 'mongodb';
import { dbName, onEngine, startTarget, Target } from './helpers';

const R = 6378100;
const LNG = 118.78; // 南京
const LAT = 32.04;
/** A point `m` metres north of (LNG, LAT) on MongoDB's sphere. */
const north = (m: number) => ({ type: 'Point', coordinates: [LNG, LAT + (m / R) * (180 / Math.PI)] });
const origin = { type: 'Point', coordinates: [LNG, LAT] };

let target: Target;
let client: MongoClient;
let db: Db;

beforeAll(async () => {
  target = await startTarget();
  client = new MongoClient(target.uri);
  await client.connect();
  db = client.db(dbName('compat_geo'));
  const c = db.collection('places');
  await c.createIndex({ loc: '2dsphere' });
  await c.insertMany([
    { _id: 'far', loc: north(2000) },
    { _id: 'km', loc: north(1000) },
    { _id: 'here', loc: origin },
    { _id: 'half', loc: north(500) },
    { _id: 'nowhere' },
  ] as never[]);
});

afterAll(async () => {
  await db?.dropDatabase().catch(() => undefined);
  await client?.close();
  await target?.stop();
});

const ids = (docs: { _id: unknown }[]) => docs.map((d) => d._id);
const errOf = (p: Promise<unknown>) => p.then(() => null, (e: { code?: number; message: string }) => e);

describe('2dsphere index', () => {
  test('inserting invalid GeoJSON into a 2dsphere-indexed field fails with 16755 (Can\'t extract geo keys); nothing is written', async () => {
    const c = db.collection('strict');
    await c.createIndex({ loc: '2dsphere' });
    const outOfRange = await errOf(c.insertOne({ loc: { type: 'Point', coordinates: [200, 0] } }));
    expect(outOfRange?.code).toBe(16755);
    expect(outOfRange?.message).toMatch(/Can't extract geo keys/);
    const notNumbers = await errOf(c.insertOne({ loc: { type: 'Point', coordinates: ['a', 0] } }));
    expect(notNumbers?.code).toBe(16755);
    const scalar = await errOf(c.insertOne({ loc: 'here' }));
    expect(scalar?.code).toBe(16755);
    expect(await c.countDocuments()).toBe(0);
    await c.insertOne({ name: 'no location' }); // the index is sparse on a missing field
    expect(await c.countDocuments()).toBe(1);
  });

  test('building a 2dsphere index over invalid GeoJSON fails with 16755', async () => {
    const c = db.collection('late');
    await c.insertOne({ loc: { type: 'Point', coordinates: [0, 95] } });
    const e = await errOf(c.createIndex({ loc: '2dsphere' }));
    expect(e?.code).toBe(16755);
  });
});

describe('$near / $nearSphere', () => {
  test('$near without a 2dsphere index fails with 291 (unable to find index for $geoNear query)', async () => {
    const c = db.collection('noindex');
    await c.insertOne({ loc: origin });
    const e = await errOf(c.find({ loc: { $near: { $geometry: origin } } }).toArray());
    expect(e?.code).toBe(291);
    expect(e?.message).toMatch(/unable to find index for \$geoNear query/);
  });

  test('$near returns nearest first, bounded by $maxDistance / $minDistance in metres', async () => {
    const c = db.collection('places');
    expect(ids(await c.find({ loc: { $near: { $geometry: north(2100) } } }).toArray())).toEqual(['far', 'km', 'half', 'here']);
    expect(ids(await c.find({ loc: { $near: { $geometry: origin, $maxDistance: 1001 } } }).toArray())).toEqual(['here', 'half', 'km']);
    expect(ids(await c.find({ loc: { $near: { $geometry: origin, $maxDistance: 999 } } }).toArray())).toEqual(['here', 'half']);
    expect(ids(await c.find({ loc: { $near: { $geometry: origin, $minDistance: 501, $maxDistance: 5000 } } }).toArray())).toEqual(['km', 'far']);
    expect(ids(await c.find({ loc: { $nearSphere: { $geometry: north(1000), $maxDistance: 600 } } }).limit(2).toArray())).toEqual(['km', 'half']);
    // unbounded with a limit: the nearest k, however far (here 2 km and more away)
    expect(ids(await c.find({ loc: { $near: { $geometry: north(4100) } } }).limit(2).toArray())).toEqual(['far', 'km']);
    expect(ids(await c.find({ loc: { $near: { $geometry: north(4100) } } }).skip(1).limit(2).toArray())).toEqual(['km', 'half']);
  });

  test('$geoNear stage adds the spherical distance (1 km north = 1000 m) and must come first', async () => {
    const c = db.collection('places');
    const out = await c.aggregate([{ $geoNear: { near: origin, distanceField: 'd', maxDistance: 1500 } }, { $project: { d: 1 } }]).toArray();
    expect(ids(out as never)).toEqual(['here', 'half', 'km']);
    expect(out[0].d).toBeCloseTo(0, 6);
    expect(out[1].d).toBeCloseTo(500, 3);
    expect(out[2].d).toBeCloseTo(1000, 3);
    const q = await c.aggregate([{ $geoNear: { near: origin, distanceField: 'd', query: { _id: { $ne: 'here' } }, distanceMultiplier: 0.001 } }]).toArray();
    expect(ids(q as never)).toEqual(['half', 'km', 'far']);
    expect(q[2].d).toBeCloseTo(2, 6);
    const late = await errOf(c.aggregate([{ $match: {} }, { $geoNear: { near: origin, distanceField: 'd' } }]).toArray());
    expect(late?.code).toBe(40602);
    const noIndex = await errOf(db.collection('noindex').aggregate([{ $geoNear: { near: origin, distanceField: 'd' } }]).toArray());
    expect(noIndex).not.toBeNull();
  });
});

describe('index use', () => {
  onEngine('a bounded $near and a $geoWithin examine only the 2dsphere grid cells they reach', async () => {
    const c = db.collection('spread');
    await c.createIndex({ loc: '2dsphere' });
    // 400 points on a 20 x 20 grid, 0.1 degree apart (about 11 km)
    await c.insertMany(Array.from({ length: 400 }, (_, i) => ({ i, loc: { type: 'Point', coordinates: [100 + (i % 20) * 0.1, 30 + Math.floor(i / 20) * 0.1] } })));
    const stats = async () => (await db.command({ embeddedEngineStats: 1 })) as { docsExamined: number };
    const before = (await stats()).docsExamined;
    const near = await c.find({ loc: { $near: { $geometry: { type: 'Point', coordinates: [100, 30] }, $maxDistance: 1000 } } }).toArray();
    expect(near.map((d) => d.i)).toEqual([0]);
    const mid = (await stats()).docsExamined;
    expect(mid - before).toBeLessThan(10);
    const box = await c.find({ loc: { $geoWithin: { $box: [[100.05, 30.05], [100.25, 30.15]] } } }).sort({ i: 1 }).toArray();
    expect(box.map((d) => d.i)).toEqual([21, 22]);
    expect((await stats()).docsExamined - mid).toBeLessThan(40);
  });
});

describe('$geoWithin / $geoIntersects', () => {
  // a square about 2.2 km across around the origin, with a square hole around 'half' (500 m north)
  const d = (m: number) => (m / R) * (180 / Math.PI);
  const ring = (cx: number, cy: number, h: number) => [
    [cx - h, cy - h],
    [cx + h, cy - h],
    [cx + h, cy + h],
    [cx - h, cy + h],
    [cx - h, cy - h],
  ];
  const outer = ring(LNG, LAT + d(500), d(1100));
  const hole = ring(LNG, LAT + d(500), d(100));

  test('$geometry Polygon with a hole: points in the hole and outside are excluded', async () => {
    const c = db.collection('places');
    const inOuter = await c.find({ loc: { $geoWithin: { $geometry: { type: 'Polygon', coordinates: [outer] } } } }).sort({ _id: 1 }).toArray();
    expect(ids(inOuter)).toEqual(['half', 'here', 'km']);
    const withHole = await c.find({ loc: { $geoWithin: { $geometry: { type: 'Polygon', coordinates: [outer, hole] } } } }).sort({ _id: 1 }).toArray();
    expect(ids(withHole)).toEqual(['here', 'km']);
  });

  test('$geometry MultiPolygon matches points in any of its polygons', async () => {
    const c = db.collection('places');
    const multi = { type: 'MultiPolygon', coordinates: [[ring(LNG, LAT, d(50))], [ring(LNG, LAT + d(2000), d(50))]] };
    expect(ids(await c.find({ loc: { $geoWithin: { $geometry: multi } } }).sort({ _id: 1 }).toArray())).toEqual(['far', 'here']);
  });

  test('$centerSphere radius in radians (1000 m = 1000 / 6378100), $box in degrees', async () => {
    const c = db.collection('places');
    const within = (m: number) => c.find({ loc: { $geoWithin: { $centerSphere: [[LNG, LAT], m / R] } } }).sort({ _id: 1 }).toArray();
    expect(ids(await within(1001))).toEqual(['half', 'here', 'km']);
    expect(ids(await within(999))).toEqual(['half', 'here']);
    const box = await c.find({ loc: { $geoWithin: { $box: [[LNG - 0.001, LAT - 0.001], [LNG + 0.001, LAT + d(600)]] } } }).sort({ _id: 1 }).toArray();
    expect(ids(box)).toEqual(['half', 'here']);
  });

  test('$geoIntersects with a Polygon matches the points inside it', async () => {
    const c = db.collection('places');
    const r = await c.find({ loc: { $geoIntersects: { $geometry: { type: 'Polygon', coordinates: [outer, hole] } } } }).sort({ _id: 1 }).toArray();
    expect(ids(r)).toEqual(['here', 'km']);
  });

  test('invalid query geometry answers 2 BadValue (unclosed ring, out-of-range point)', async () => {
    const c = db.collection('places');
    const open = await errOf(c.find({ loc: { $geoWithin: { $geometry: { type: 'Polygon', coordinates: [outer.slice(0, 4)] } } } }).toArray());
    expect(open?.code).toBe(2);
    const bad = await errOf(c.find({ loc: { $near: { $geometry: { type: 'Point', coordinates: [0, 91] } } } }).toArray());
    expect(bad?.code).toBe(2);
    const nested = await errOf(c.find({ $or: [{ loc: { $near: { $geometry: origin } } }, { _id: 'x' }] } as never).toArray());
    expect(nested?.code).toBe(2);
  });
});
