/**
 * Section 4 of `npm run bench:db`: the aggregation fast path (src/fast) against the same
 * computation written as a plain JavaScript loop over the same documents, and against the old
 * mingo path (the engine with `aggregateFastPath` off).
 *
 * `benchAggregation` runs in process on an Engine (no wire protocol, no BSON): the figures are
 * the engine's own work. Each shape runs `ROUNDS` times alternating engine / loop (medians
 * reported, so load drift on a shared machine hits both alike), and a few times through the mingo
 * path. The results of the two engine paths are compared before timing.
 *
 * `benchAggregationWire` runs the same shapes through the official driver against two worker
 * engines holding the same documents, one with the fast path and one forced onto mingo: what a
 * subgraph waits for, BSON and the wire included.
 */
import { isDeepStrictEqual } from 'node:util';
import { MongoClient } from 'mongodb';
import { fastStats } from '../src/fast';
import { startEmbeddedMongo } from '../src/index';
import { aggregateDocs } from '../src/query';
import { Engine } from '../src/storage';
import type { Doc } from '../src/values';

const ROUNDS = 9;
const MINGO_ROUNDS = 3;
const DAY = 86_400_000;
/** Fixed "as of" instant of the generated data (the bench does not depend on the date it runs). */
const AS_OF = Date.UTC(2026, 11, 1);
const STATUSES = ['OPEN', 'ASSIGNED', 'RESOLVED', 'CLOSED'];

/** Small deterministic generator (the engine imports nothing from the project). */
function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 4294967296;
  };
}

interface Ticket extends Doc {
  _id: string;
  communityId: string;
  districtCode: string;
  cityCode: string;
  status: string;
  open: boolean;
  category: string;
  requestedAt: Date;
  dueAt: Date;
  resolvedAt: Date | null;
  hours: number | null;
}

function makeTickets(n: number): Ticket[] {
  const rnd = lcg(18);
  const out: Ticket[] = [];
  for (let i = 0; i < n; i++) {
    const city = Math.floor(rnd() * 3);
    const district = city * 4 + Math.floor(rnd() * 4);
    const status = STATUSES[Math.floor(rnd() * 4)];
    const open = status === 'OPEN' || status === 'ASSIGNED';
    const requestedAt = new Date(AS_OF - Math.floor(rnd() * 365 * DAY));
    const hours = open ? null : Math.round(rnd() * rnd() * 3000) / 10;
    out.push({
      _id: `tk_${String(i).padStart(7, '0')}`,
      communityId: `cm_32${String(district).padStart(4, '0')}_${String(Math.floor(rnd() * 330)).padStart(4, '0')}`,
      districtCode: `32${String(district).padStart(4, '0')}`,
      cityCode: `32${city}00`,
      status,
      open,
      category: `cat${Math.floor(rnd() * 20)}`,
      requestedAt,
      dueAt: new Date(requestedAt.getTime() + 3 * DAY),
      resolvedAt: hours === null ? null : new Date(requestedAt.getTime() + hours * 3_600_000),
      hours,
    });
  }
  return out;
}

interface Shape {
  name: string;
  pipeline: Doc[];
  /** The same computation as a plain loop over `docs`. */
  loop(docs: Ticket[]): unknown;
}

function shapes(): Shape[] {
  const from = new Date(AS_OF - 90 * DAY);
  const narrowFrom = new Date(AS_OF - 30 * DAY);
  const to = new Date(AS_OF);
  const now = new Date(AS_OF);
  return [
    {
      name: 'match indexed field (1 district) + group $sum by 小区',
      pipeline: [{ $match: { districtCode: '320005' } }, { $group: { _id: '$communityId', tickets: { $sum: 1 }, hours: { $sum: '$hours' } } }],
      loop(docs) {
        const m = new Map<string, { _id: string; tickets: number; hours: number }>();
        for (const d of docs) {
          if (d.districtCode !== '320005') continue;
          let g = m.get(d.communityId);
          if (!g) m.set(d.communityId, (g = { _id: d.communityId, tickets: 0, hours: 0 }));
          g.tickets++;
          if (typeof d.hours === 'number') g.hours += d.hours;
        }
        return [...m.values()];
      },
    },
    {
      name: 'match range (30 days, index) + group $avg/$min/$max',
      pipeline: [
        { $match: { requestedAt: { $gte: narrowFrom, $lt: to } } },
        { $group: { _id: '$districtCode', avg: { $avg: '$hours' }, min: { $min: '$hours' }, max: { $max: '$hours' } } },
      ],
      loop: (docs) => rangeLoop(docs, narrowFrom.getTime(), to.getTime()),
    },
    {
      name: 'match range (90 days, scan) + group $avg/$min/$max',
      pipeline: [
        { $match: { requestedAt: { $gte: from, $lt: to } } },
        { $group: { _id: '$districtCode', avg: { $avg: '$hours' }, min: { $min: '$hours' }, max: { $max: '$hours' } } },
      ],
      loop: (docs) => rangeLoop(docs, from.getTime(), to.getTime()),
    },
    {
      name: 'group by two keys + $push',
      pipeline: [{ $group: { _id: { d: '$districtCode', s: '$status' }, hours: { $push: '$hours' } } }],
      loop(docs) {
        const m = new Map<string, { _id: { d: string; s: string }; hours: unknown[] }>();
        for (const d of docs) {
          const k = d.districtCode + '\u0000' + d.status;
          let g = m.get(k);
          if (!g) m.set(k, (g = { _id: { d: d.districtCode, s: d.status }, hours: [] }));
          g.hours.push(d.hours);
        }
        return [...m.values()];
      },
    },
    {
      name: 'project arithmetic + sort + limit 20',
      pipeline: [{ $project: { communityId: 1, minutes: { $multiply: ['$hours', 60] } } }, { $sort: { minutes: -1 } }, { $limit: 20 }],
      loop(docs) {
        return docs
          .map((d) => ({ _id: d._id, communityId: d.communityId, minutes: d.hours === null ? null : d.hours * 60 }))
          .sort((a, b) => (b.minutes ?? -Infinity) - (a.minutes ?? -Infinity))
          .slice(0, 20);
      },
    },
    {
      name: 'match (1 city) + facet of two sub-pipelines',
      pipeline: [
        { $match: { cityCode: '32100' } },
        {
          $facet: {
            byStatus: [{ $group: { _id: '$status', n: { $sum: 1 } } }],
            openByDistrict: [{ $match: { open: true } }, { $group: { _id: '$districtCode', n: { $sum: 1 } } }],
          },
        },
      ],
      loop(docs) {
        const byStatus = new Map<string, number>();
        const openBy = new Map<string, number>();
        for (const d of docs) {
          if (d.cityCode !== '32100') continue;
          byStatus.set(d.status, (byStatus.get(d.status) ?? 0) + 1);
          if (d.open) openBy.set(d.districtCode, (openBy.get(d.districtCode) ?? 0) + 1);
        }
        return [{ byStatus: [...byStatus].map(([_id, n]) => ({ _id, n })), openByDistrict: [...openBy].map(([_id, n]) => ({ _id, n })) }];
      },
    },
    {
      name: 'count (unindexed match)',
      pipeline: [{ $match: { status: 'OPEN', category: 'cat3' } }, { $count: 'n' }],
      loop(docs) {
        let n = 0;
        for (const d of docs) if (d.status === 'OPEN' && d.category === 'cat3') n++;
        return n ? [{ n }] : [];
      },
    },
    {
      name: 'dashboard: ticket stats of 3 districts (facet, $cond, $dateToString +08:00)',
      pipeline: [
        { $match: { districtCode: { $in: ['320004', '320005', '320006'] } } },
        {
          $facet: {
            opened: [
              { $match: { requestedAt: { $gte: from, $lte: to } } },
              { $group: { _id: { s: '$districtCode', m: { $dateToString: { date: '$requestedAt', format: '%Y-%m', timezone: '+08:00' } } }, n: { $sum: 1 } } },
            ],
            resolved: [
              { $match: { resolvedAt: { $gte: from, $lte: to } } },
              {
                $project: {
                  s: '$districtCode',
                  hours: { $divide: [{ $subtract: ['$resolvedAt', '$requestedAt'] }, 3_600_000] },
                  onTime: { $cond: [{ $lte: ['$resolvedAt', '$dueAt'] }, 1, 0] },
                },
              },
              { $sort: { hours: 1 } },
              { $group: { _id: '$s', n: { $sum: 1 }, hours: { $push: '$hours' }, onTime: { $sum: '$onTime' } } },
            ],
            backlog: [{ $match: { open: true } }, { $group: { _id: '$districtCode', n: { $sum: 1 }, overdue: { $sum: { $cond: [{ $lt: ['$dueAt', now] }, 1, 0] } } } }],
          },
        },
      ],
      loop(docs) {
        const lo = from.getTime();
        const hi = to.getTime();
        const ds = new Set(['320004', '320005', '320006']);
        const opened = new Map<string, { _id: { s: string; m: string }; n: number }>();
        const resolvedRows: { s: string; hours: number; onTime: number }[] = [];
        const backlog = new Map<string, { _id: string; n: number; overdue: number }>();
        for (const d of docs) {
          if (!ds.has(d.districtCode)) continue;
          const t = d.requestedAt.getTime();
          if (t >= lo && t <= hi) {
            const local = new Date(t + 8 * 3_600_000);
            const m = `${local.getUTCFullYear()}-${String(local.getUTCMonth() + 1).padStart(2, '0')}`;
            const k = d.districtCode + '|' + m;
            let g = opened.get(k);
            if (!g) opened.set(k, (g = { _id: { s: d.districtCode, m }, n: 0 }));
            g.n++;
          }
          if (d.resolvedAt && d.resolvedAt.getTime() >= lo && d.resolvedAt.getTime() <= hi) {
            resolvedRows.push({ s: d.districtCode, hours: (d.resolvedAt.getTime() - t) / 3_600_000, onTime: d.resolvedAt <= d.dueAt ? 1 : 0 });
          }
          if (d.open) {
            let g = backlog.get(d.districtCode);
            if (!g) backlog.set(d.districtCode, (g = { _id: d.districtCode, n: 0, overdue: 0 }));
            g.n++;
            if (d.dueAt.getTime() < AS_OF) g.overdue++;
          }
        }
        resolvedRows.sort((a, b) => a.hours - b.hours);
        const resolved = new Map<string, { _id: string; n: number; hours: number[]; onTime: number }>();
        for (const r of resolvedRows) {
          let g = resolved.get(r.s);
          if (!g) resolved.set(r.s, (g = { _id: r.s, n: 0, hours: [], onTime: 0 }));
          g.n++;
          g.hours.push(r.hours);
          g.onTime += r.onTime;
        }
        return [{ opened: [...opened.values()], resolved: [...resolved.values()], backlog: [...backlog.values()] }];
      },
    },
  ];
}

function rangeLoop(docs: Ticket[], lo: number, hi: number): unknown {
  const m = new Map<string, { _id: string; s: number; n: number; min: number | null; max: number | null }>();
  for (const d of docs) {
    const t = d.requestedAt.getTime();
    if (t < lo || t >= hi) continue;
    let g = m.get(d.districtCode);
    if (!g) m.set(d.districtCode, (g = { _id: d.districtCode, s: 0, n: 0, min: null, max: null }));
    const h = d.hours;
    if (typeof h === 'number') {
      g.s += h;
      g.n++;
      if (g.min === null || h < g.min) g.min = h;
      if (g.max === null || h >= g.max) g.max = h;
    }
  }
  return [...m.values()].map((g) => ({ _id: g._id, avg: g.n ? g.s / g.n : null, min: g.min, max: g.max }));
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function ms(fn: () => unknown): number {
  const t = performance.now();
  fn();
  return performance.now() - t;
}

export function benchAggregation(n: number): void {
  const engine = new Engine();
  const coll = engine.createCollection('bench', 'tickets', {}, false);
  // the project's ticket indexes (their first fields are what the planner uses)
  for (const key of [{ communityId: 1, requestedAt: -1 }, { cityCode: 1, requestedAt: -1 }, { districtCode: 1, requestedAt: -1 }, { requestedAt: -1, _id: -1 }]) {
    coll.createIndex({ key, name: Object.keys(key).join('_') }, false);
  }
  const t0 = performance.now();
  for (const t of makeTickets(n)) coll.insert(t, false);
  const docs = [...coll.docs.values()] as Ticket[];
  process.stdout.write(
    `aggregation fast path, in process: ${n.toLocaleString('en')} ticket-like documents (built in ${(performance.now() - t0).toFixed(0)} ms), ` +
      `engine and plain-JS loop ${ROUNDS} alternating rounds each, mingo path ${MINGO_ROUNDS} rounds; medians in ms\n\n`,
  );
  const run = (p: Doc[], fast: boolean) => {
    engine.aggregateFastPath = fast;
    return aggregateDocs(engine, 'bench', coll, p);
  };
  const rows: string[][] = [['pipeline shape', 'engine', 'JS loop', 'engine/JS', 'mingo path', 'mingo/engine', 'same answer']];
  for (const s of shapes()) {
    const before = { ...fastStats };
    const fastOut = run(s.pipeline, true);
    const mingoOut = run(s.pipeline, false);
    const bailed = fastStats.bails + fastStats.errors > before.bails + before.errors;
    const same = isDeepStrictEqual(fastOut, mingoOut);
    run(s.pipeline, true);
    s.loop(docs);
    const fastT: number[] = [];
    const loopT: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      fastT.push(ms(() => run(s.pipeline, true)));
      loopT.push(ms(() => s.loop(docs)));
    }
    const mingoT: number[] = [];
    for (let r = 0; r < MINGO_ROUNDS; r++) mingoT.push(ms(() => run(s.pipeline, false)));
    const f = median(fastT);
    const l = median(loopT);
    const m = median(mingoT);
    rows.push([s.name, f.toFixed(1), l.toFixed(1), (f / l).toFixed(2), m.toFixed(0), (m / f).toFixed(1), same ? (bailed ? 'yes (bailed!)' : 'yes') : 'NO']);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const [i, r] of rows.entries()) {
    process.stdout.write('  ' + r.map((c, j) => (j === 0 ? c.padEnd(widths[j]) : c.padStart(widths[j]))).join('  ') + '\n');
    if (i === 0) process.stdout.write('  ' + widths.map((w) => '-'.repeat(w)).join('  ') + '\n');
  }
  engine.aggregateFastPath = true;
  process.stdout.write(`\n  fast path counters: ${JSON.stringify(fastStats)}\n`);
}

export async function benchAggregationWire(n: number): Promise<void> {
  const [fast, slow] = await Promise.all([startEmbeddedMongo({}), startEmbeddedMongo({ aggregateFastPath: false })]);
  const clients = await Promise.all([MongoClient.connect(fast.uri), MongoClient.connect(slow.uri)]);
  try {
    const t0 = performance.now();
    const tickets = makeTickets(n);
    await Promise.all(
      clients.map(async (c) => {
        const coll = c.db('bench').collection('tickets');
        for (const key of [{ communityId: 1, requestedAt: -1 }, { cityCode: 1, requestedAt: -1 }, { districtCode: 1, requestedAt: -1 }, { requestedAt: -1, _id: -1 }]) await coll.createIndex(key as never);
        for (let i = 0; i < tickets.length; i += 20_000) await coll.insertMany(tickets.slice(i, i + 20_000).map((t) => ({ ...t })) as never[]);
      }),
    );
    process.stdout.write(
      `\nthrough the driver (engine on its worker thread, BSON and wire included): ${n.toLocaleString('en')} documents in each of two engines (seeded in ${(performance.now() - t0).toFixed(0)} ms), ` +
        `fast path ${ROUNDS} rounds, mingo path ${MINGO_ROUNDS} rounds; medians in ms\n\n`,
    );
    const time = async (c: MongoClient, p: Doc[]) => {
      const t = performance.now();
      const out = await c.db('bench').collection('tickets').aggregate(p).toArray();
      return { ms: performance.now() - t, out };
    };
    const rows: string[][] = [['pipeline shape', 'fast path', 'mingo path', 'mingo/fast', 'same answer']];
    for (const s of shapes()) {
      const a = await time(clients[0], s.pipeline);
      const b = await time(clients[1], s.pipeline);
      const same = isDeepStrictEqual(a.out, b.out);
      const f: number[] = [];
      for (let r = 0; r < ROUNDS; r++) f.push((await time(clients[0], s.pipeline)).ms);
      const m: number[] = [];
      for (let r = 0; r < MINGO_ROUNDS; r++) m.push((await time(clients[1], s.pipeline)).ms);
      rows.push([s.name, median(f).toFixed(1), median(m).toFixed(0), (median(m) / median(f)).toFixed(1), same ? 'yes' : 'NO']);
    }
    const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
    for (const [i, r] of rows.entries()) {
      process.stdout.write('  ' + r.map((c, j) => (j === 0 ? c.padEnd(widths[j]) : c.padStart(widths[j]))).join('  ') + '\n');
      if (i === 0) process.stdout.write('  ' + widths.map((w) => '-'.repeat(w)).join('  ') + '\n');
    }
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await Promise.all([fast.stop(), slow.stop()]);
  }
}
