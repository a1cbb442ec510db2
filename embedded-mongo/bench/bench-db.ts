/**
 * `npm run bench:db` — latency through mongoose against the embedded engine.
 *
 *  1. Per-op latency of Model.create and indexed findOne (unique email) at 1k and 100k documents,
 *     and the ratio 100k/1k (an indexed lookup must stay flat as the collection grows).
 *  2. Host event-loop max lag while the engine (on its worker thread) runs a $group over 200k
 *     documents.
 *  3. Durable engine write latency.
 *  4. Aggregation fast path (aggregation.ts): per pipeline shape over 200k ticket-like documents,
 *     the engine's time in process, the same computation as a plain JavaScript loop, and the old
 *     mingo path; then the same shapes through the driver, fast path against mingo path.
 *
 *  5. Geo: a `$near` query (GeoJSON point, $maxDistance 1 km, and unbounded with limit 10) over
 *     100,000 points with a 2dsphere index; without the index `$near` is refused (MongoDB requires
 *     one), so the unindexed figure is the same circle as `$geoWithin: {$centerSphere}`.
 *
 *  6. `$in` with n = 10, 100, 1,000 ids (in-list.ts): mingo's `$in` (what the engine ran before)
 *     against the engine's hash-set `$in`, in process, and through the driver.
 *
 * `npm run bench:db -- --only agg` runs section 4 alone (`--docs N` sets its size);
 * `--only geo` runs section 5 alone; `--only in` section 6 alone.
 * Prints figures only; nothing here asserts on timing.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import mongoose, { Schema } from 'mongoose';
import { startEmbeddedMongo } from '../src/index';
import { EmbeddedServer } from '../src/server';
import { benchAggregation, benchAggregationWire } from './aggregation';
import { benchInList } from './in-list';

const OPS = 2000;

const userSchema = new Schema({
  email: { type: String, required: true, unique: true },
  name: String,
  city: String,
  age: Number,
});

function fmt(us: number): string {
  return `${us.toFixed(1)} µs`;
}

async function seed(model: mongoose.Model<unknown>, from: number, to: number): Promise<void> {
  const batch = 10_000;
  for (let i = from; i < to; i += batch) {
    const docs = [];
    for (let j = i; j < Math.min(to, i + batch); j++) docs.push({ email: `u${j}@bench`, name: `n${j}`, city: `c${j % 100}`, age: j % 90 });
    await model.collection.insertMany(docs);
  }
}

async function timeOps(n: number, fn: (i: number) => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await fn(i);
  return Number(process.hrtime.bigint() - t0) / 1000 / n;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

interface Target {
  size: number;
  create: (i: number) => Promise<unknown>;
  findOne: (i: number) => Promise<unknown>;
}

async function prepare(conn: mongoose.Connection, size: number, tag: string): Promise<Target> {
  const M = conn.model(`U${tag}`, userSchema, `users_${tag}`);
  await M.init();
  await seed(M as mongoose.Model<unknown>, 0, size);
  let k = 0;
  return {
    size,
    create: async () => M.create({ email: `new${tag}_${k++}@bench`, name: 'x', city: 'y', age: 1 }),
    findOne: async (i) => {
      const j = (i * 7919) % size;
      const doc = await M.findOne({ email: `u${j}@bench` }).lean();
      if (!doc) throw new Error(`missing u${j}`);
    },
  };
}

/**
 * Per-op latency at both sizes, measured in alternating rounds (1k, 100k, 1k, 100k, ...) and
 * reported as the median round, so load drift on a shared machine hits both sizes alike.
 */
async function measure(small: Target, large: Target, rounds = 8): Promise<Record<'small' | 'large', { create: number; findOne: number }>> {
  const per = OPS / rounds;
  const r = { small: { create: [] as number[], findOne: [] as number[] }, large: { create: [] as number[], findOne: [] as number[] } };
  for (let round = 0; round < rounds; round++) {
    for (const [name, t] of [['small', small], ['large', large]] as const) {
      r[name].create.push(await timeOps(per, t.create));
      r[name].findOne.push(await timeOps(per, (i) => t.findOne(round * per + i)));
    }
  }
  return {
    small: { create: median(r.small.create), findOne: median(r.small.findOne) },
    large: { create: median(r.large.create), findOne: median(r.large.findOne) },
  };
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** Section 5: $near over 100,000 points, with and without a 2dsphere index. */
async function benchGeo(): Promise<void> {
  const N = 100_000;
  const mem = await startEmbeddedMongo({});
  const conn = await mongoose.createConnection(mem.uri, { dbName: 'bench' }).asPromise();
  const db = conn.db!;
  // deterministic points over a 1 x 1 degree square around Nanjing (about 110 x 95 km)
  let seed = 42;
  const rnd = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32);
  const docs = Array.from({ length: N }, (_, i) => ({ i, loc: { type: 'Point', coordinates: [118.3 + rnd(), 31.5 + rnd()] } }));
  const indexed = db.collection('geo_indexed');
  const plain = db.collection('geo_plain');
  for (let k = 0; k < N; k += 20_000) {
    await indexed.insertMany(docs.slice(k, k + 20_000).map((d) => ({ ...d })));
    await plain.insertMany(docs.slice(k, k + 20_000).map((d) => ({ ...d })));
  }
  const t0 = performance.now();
  await indexed.createIndex({ loc: '2dsphere' });
  const buildMs = performance.now() - t0;
  const center = { type: 'Point', coordinates: [118.8, 32.0] };
  const R = 6378100;
  const time = async (fn: () => Promise<unknown[]>, rounds = 20): Promise<{ ms: number; n: number }> => {
    await fn();
    const t: number[] = [];
    let n = 0;
    for (let r = 0; r < rounds; r++) {
      const s0 = performance.now();
      n = (await fn()).length;
      t.push(performance.now() - s0);
    }
    t.sort((a, b) => a - b);
    return { ms: t[t.length >> 1], n };
  };
  const nearBounded = await time(() => indexed.find({ loc: { $near: { $geometry: center, $maxDistance: 1000 } } }).toArray());
  const nearTop10 = await time(() => indexed.find({ loc: { $near: { $geometry: center } } }).limit(10).toArray(), 5);
  const withinIx = await time(() => indexed.find({ loc: { $geoWithin: { $centerSphere: [center.coordinates, 1000 / R] } } }).toArray());
  const withinPlain = await time(() => plain.find({ loc: { $geoWithin: { $centerSphere: [center.coordinates, 1000 / R] } } }).toArray(), 5);
  const refused = await plain.find({ loc: { $near: { $geometry: center } } }).toArray().then(() => 'answered (unexpected)', (e: { code?: number }) => `refused, code ${e.code}`);
  process.stdout.write(`geo over ${N.toLocaleString('en')} points (driver, median of 20 runs; 5 for scans), 2dsphere index built in ${buildMs.toFixed(0)} ms:
`);
  process.stdout.write(`  with the index:    $near, $maxDistance 1 km: ${nearBounded.ms.toFixed(2)} ms (${nearBounded.n} docs)   $near unbounded, limit 10: ${nearTop10.ms.toFixed(1)} ms
`);
  process.stdout.write(`                     $geoWithin $centerSphere 1 km: ${withinIx.ms.toFixed(2)} ms (${withinIx.n} docs)
`);
  process.stdout.write(`  without the index: $near is ${refused} (MongoDB requires a 2dsphere index); the same 1 km circle as $geoWithin $centerSphere: ${withinPlain.ms.toFixed(1)} ms (${withinPlain.n} docs)

`);
  await conn.close();
  await mem.stop();
}

async function main(): Promise<void> {
  const only = arg('--only');
  if (only === 'geo') {
    await benchGeo();
    return;
  }
  if (only === 'in') {
    await benchInList();
    return;
  }
  const aggDocs = Number(arg('--docs') ?? 200_000);
  if (only === 'agg') {
    benchAggregation(aggDocs);
    await benchAggregationWire(aggDocs);
    return;
  }
  process.stdout.write(`embedded-mongo bench (node ${process.version}, ${os.cpus().length} cpus), ${OPS} sequential ops per figure (median of 8 alternating rounds)\n\n`);

  // 1. In-memory engine: latency at 1k vs 100k documents.
  const mem = await startEmbeddedMongo({});
  const conn = await mongoose.createConnection(mem.uri, { dbName: 'bench' }).asPromise();
  const smallT = await prepare(conn, 1_000, '1k');
  const largeT = await prepare(conn, 100_000, '100k');
  await measure(smallT, largeT, 2); // JIT warm-up of mongoose, driver and engine (not reported)
  const { small, large } = await measure(smallT, largeT);
  process.stdout.write('in-memory engine, through mongoose 9:\n');
  process.stdout.write(`  Model.create              1k docs: ${fmt(small.create)}/op   100k docs: ${fmt(large.create)}/op   ratio ${(large.create / small.create).toFixed(2)}\n`);
  process.stdout.write(`  findOne({email}).lean()   1k docs: ${fmt(small.findOne)}/op   100k docs: ${fmt(large.findOne)}/op   ratio ${(large.findOne / small.findOne).toFixed(2)}\n\n`);

  // 2. Host event-loop lag during a 200k-document $group.
  const E = conn.model('Ev', new Schema({ city: String, amount: Number, kind: String }), 'events');
  const t0 = performance.now();
  for (let i = 0; i < 200_000; i += 20_000) {
    const docs = [];
    for (let j = i; j < i + 20_000; j++) docs.push({ city: `c${j % 500}`, amount: j % 1000, kind: j % 3 ? 'a' : 'b' });
    await E.collection.insertMany(docs);
  }
  const seedMs = performance.now() - t0;
  // Max lag of a 1 ms timer on the host while `during` runs.
  const lagDuring = async <T>(during: () => Promise<T>): Promise<{ maxLag: number; p99: number; ms: number; value: T }> => {
    const h = monitorEventLoopDelay({ resolution: 1 });
    let maxLag = 0;
    let last = performance.now();
    const ticker = setInterval(() => {
      const now = performance.now();
      maxLag = Math.max(maxLag, now - last - 1);
      last = now;
    }, 1);
    h.enable();
    const t = performance.now();
    const value = await during();
    const ms = performance.now() - t;
    h.disable();
    clearInterval(ticker);
    return { maxLag, p99: h.percentile(99) / 1e6, ms, value };
  };
  await new Promise((r) => setTimeout(r, 500)); // let GC from seeding settle
  const agg = await lagDuring(() => E.aggregate([{ $group: { _id: '$city', total: { $sum: '$amount' }, n: { $sum: 1 } } }, { $sort: { total: -1 } }]));
  const idle = await lagDuring(() => new Promise((r) => setTimeout(r, agg.ms)));
  process.stdout.write(`$group over 200k docs (engine on its worker thread): seeded in ${seedMs} ms, aggregate took ${agg.ms} ms, ${agg.value.length} groups\n`);
  process.stdout.write(`  host event-loop lag during the aggregate: max ${agg.maxLag.toFixed(1)} ms, p99 ${agg.p99.toFixed(1)} ms\n`);
  process.stdout.write(`  same host idle for the same time (baseline/noise): max ${idle.maxLag.toFixed(1)} ms, p99 ${idle.p99.toFixed(1)} ms\n`);
  await conn.close();
  await mem.stop();

  // For comparison only: the same server on the host thread (not how the engine is shipped).
  const inproc = new EmbeddedServer({});
  const { port } = await inproc.start();
  const iconn = await mongoose.createConnection(`mongodb://127.0.0.1:${port}`, { dbName: 'bench' }).asPromise();
  const IE = iconn.model('Ev', new Schema({ city: String, amount: Number, kind: String }), 'events');
  for (let i = 0; i < 200_000; i += 20_000) {
    const docs = [];
    for (let j = i; j < i + 20_000; j++) docs.push({ city: `c${j % 500}`, amount: j % 1000, kind: j % 3 ? 'a' : 'b' });
    await IE.collection.insertMany(docs);
  }
  await new Promise((r) => setTimeout(r, 500));
  const same = await lagDuring(() => IE.aggregate([{ $group: { _id: '$city', total: { $sum: '$amount' }, n: { $sum: 1 } } }, { $sort: { total: -1 } }]));
  process.stdout.write(`  for comparison, engine on the host thread: aggregate ${same.ms} ms, host lag max ${same.maxLag.toFixed(1)} ms, p99 ${same.p99.toFixed(1)} ms\n\n`);
  await iconn.close();
  await inproc.stop();

  // 3. Durable engine (journal + fdatasync per acknowledged write), for reference.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'emb-bench-'));
  try {
    const disk = await startEmbeddedMongo({ dbPath: dir });
    const dconn = await mongoose.createConnection(disk.uri, { dbName: 'bench' }).asPromise();
    const D = dconn.model('D', userSchema, 'users_durable');
    await D.init();
    let k = 0;
    const create = await timeOps(500, async () => D.create({ email: `d${k++}@bench`, name: 'x' }));
    const many0 = process.hrtime.bigint();
    await D.insertMany(Array.from({ length: 10_000 }, (_, i) => ({ email: `m${i}@bench`, name: 'x' })));
    const manyMs = Number(process.hrtime.bigint() - many0) / 1e6;
    process.stdout.write(`durable engine (dbPath, fdatasync before each reply):\n`);
    process.stdout.write(`  Model.create: ${fmt(create)}/op;  insertMany(10k) in one call: ${manyMs.toFixed(0)} ms\n`);
    await dconn.close();
    await disk.stop();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write('\n');
  await benchGeo();
  await benchInList();
  benchAggregation(aggDocs);
  await benchAggregationWire(aggDocs);
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack}\n`);
  process.exit(1);
});
