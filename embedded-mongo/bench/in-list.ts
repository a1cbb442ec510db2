/**
 * Section 6 of `npm run bench:db`: the cost of a `$in` with n ids (a page of hundreds of 小区, a
 * DataLoader batch, an import's existence check), n = 10, 100, 1,000.
 *
 * In process, over a collection of 20,000 documents with string `_id`s and an indexed ObjectId
 * field: the index hands over the n candidates and each is re-checked against the whole filter.
 * "mingo $in" re-checks with mingo's own `$in` (what the engine ran before: a hash map of the
 * whole list built for every candidate, ~n² per query); "engine $in" with the engine's
 * (src/fixes.ts: the list split into hash sets once per query). Then the same `find` through the
 * driver (BSON and the wire included), engine `$in` only. Medians; figures only, no assertions.
 */
import { MongoClient, ObjectId } from 'mongodb';
import { ObjectId as BsonObjectId } from 'bson';
import { Query as MingoRootQuery } from 'mingo';
import { startEmbeddedMongo } from '../src/index';
import { matchDocs } from '../src/query';
import { Engine } from '../src/storage';
import type { MingoQuery } from '../src/mingo';

const DOCS = 20_000;
const SIZES = [10, 100, 1000];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

/** Median ms of `fn` over enough rounds to last ~300 ms (at least 5, at most 200). */
function timeSync(fn: () => number): { ms: number; n: number } {
  let n = fn();
  const t: number[] = [];
  const t0 = performance.now();
  while (t.length < 5 || (t.length < 200 && performance.now() - t0 < 300)) {
    const s = performance.now();
    n = fn();
    t.push(performance.now() - s);
  }
  return { ms: median(t), n };
}

async function timeAsync(fn: () => Promise<number>): Promise<{ ms: number; n: number }> {
  let n = await fn();
  const t: number[] = [];
  const t0 = performance.now();
  while (t.length < 5 || (t.length < 100 && performance.now() - t0 < 300)) {
    const s = performance.now();
    n = await fn();
    t.push(performance.now() - s);
  }
  return { ms: median(t), n };
}

export async function benchInList(): Promise<void> {
  const engine = new Engine();
  const coll = engine.createCollection('bench', 'areas', {});
  const oids: BsonObjectId[] = [];
  for (let i = 0; i < DOCS; i++) {
    const oid = new BsonObjectId();
    oids.push(oid);
    coll.insert({ _id: `area_${i}`, ref: oid, district: `d${i % 12}`, households: i % 900 });
  }
  coll.createIndex({ key: { ref: 1 }, name: 'ref_1' });
  const pick = (n: number) => Array.from({ length: n }, (_, k) => Math.floor((k * DOCS) / n));
  process.stdout.write(`$in with n values over ${DOCS.toLocaleString('en')} documents (index candidates re-checked against the filter), median ms per query:\n`);
  process.stdout.write('  in process              n=     10        100       1000\n');
  const rows: Record<string, string[]> = { 'string _id, mingo $in': [], 'string _id, engine $in': [], 'ObjectId field, mingo $in': [], 'ObjectId field, engine $in': [] };
  for (const n of SIZES) {
    const idx = pick(n);
    for (const [label, filter] of [
      ['string _id', { _id: { $in: idx.map((i) => `area_${i}`) } }],
      ['ObjectId field', { ref: { $in: idx.map((i) => oids[i]) } }],
    ] as const) {
      const old = new MingoRootQuery(filter) as unknown as MingoQuery;
      const before = timeSync(() => matchDocs(coll, filter, 0, old).docs.length);
      const after = timeSync(() => matchDocs(coll, filter).docs.length);
      if (before.n !== n || after.n !== n) throw new Error(`${label} n=${n}: expected ${n} matches, got ${before.n} / ${after.n}`);
      rows[`${label}, mingo $in`].push(before.ms.toFixed(3));
      rows[`${label}, engine $in`].push(after.ms.toFixed(3));
    }
  }
  for (const [label, cells] of Object.entries(rows)) process.stdout.write(`  ${label.padEnd(28)}${cells.map((c) => c.padStart(10)).join(' ')}\n`);

  // Through the driver: the whole round trip of a find with n ids.
  const mem = await startEmbeddedMongo({});
  const client = await MongoClient.connect(mem.uri);
  try {
    const c = client.db('bench').collection<{ _id: string; ref: ObjectId }>('areas');
    const docs = oids.map((oid, i) => ({ _id: `area_${i}`, ref: new ObjectId(oid.toHexString()), district: `d${i % 12}`, households: i % 900 }));
    for (let k = 0; k < docs.length; k += 5000) await c.insertMany(docs.slice(k, k + 5000));
    const cells: string[] = [];
    for (const n of SIZES) {
      const ids = pick(n).map((i) => `area_${i}`);
      const r = await timeAsync(async () => (await c.find({ _id: { $in: ids } }).toArray()).length);
      if (r.n !== n) throw new Error(`driver n=${n}: ${r.n} matches`);
      cells.push(r.ms.toFixed(3));
    }
    process.stdout.write(`  ${'driver, string _id, engine'.padEnd(28)}${cells.map((c) => c.padStart(10)).join(' ')}\n\n`);
  } finally {
    await client.close();
    await mem.stop();
  }
}
