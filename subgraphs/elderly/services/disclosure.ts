/**
 * The complementary suppression pattern of a city's elderly statistics (lib/disclosure.ts) for
 * callers without individual-level access, computed for the whole 小区 → district → city hierarchy
 * from the rollups: every figure published to such a caller comes from one snapshot of the city,
 * and the pattern depends on the data only, never on which area, argument or page was asked for.
 *
 * Computed once per rollup version, not per request: a request reads only the city's version stamp
 * (stats/model.ts `elderly_stats_versions`, incremented by every rollup write and rebuild) and takes
 * the snapshot cached in this process for (city, stamp, period). On a miss (the first request after
 * a write, or a new process) the whole city is read and the pattern computed, once: concurrent
 * requests share the computation. Every replica computes its own; the computation is deterministic
 * and its instant is the start of a fixed period (SNAPSHOT_PERIOD_MS), so replicas agree. Windowed
 * figures (last 30 days, overdue, last 12 months) move with time even without writes: a snapshot is
 * as of its period's start, at most a period plus a recomputation old. A large city (see
 * STALE_AFTER_WRITE_MIN_AREAS) is served its latest snapshot while a new version's is computed.
 *
 * Tables (each partitions `registered`; the rest is a hidden complement protected like any cell):
 * living alone; with a difficulty; risk tier high / key (general hidden); visited in the last 30
 * days; overdue now; visited in the current calendar month (the current month of visitTrend, whose
 * registered and overdue are these figures). Holiday visits are a hierarchy of their own. Past
 * months of visitTrend are one pattern per month (registered by the month's end; visited in it;
 * overdue at its end). Rates are suppressed with either of their counts.
 */
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { patternInput, patternOfInputAsync, type AreaNode, type DisclosureSpec, type SuppressionPattern } from '../../../lib/disclosure';
import { monthWindow } from '../../../lib/clock';
import { unionReaderFor } from '../../../lib/union-reader';
import type { Context } from '../context';
import { areaId, type Level } from '../stats/contribution';
import { holidayOf, overdueOf, trendOf, visitedOf, windowsAt, type AreaDoc, type Windows } from '../stats';
import { MAX_TREND_MONTHS_FOR_PATTERN, SUPPRESSION_THRESHOLD } from './privacy';

export const CURRENT_SPEC: DisclosureSpec = {
  margin: 'registered',
  tables: [['livingAlone'], ['difficulty'], ['highRisk', 'keyRisk'], ['visitedLast30d'], ['overdueVisits'], ['visitedThisMonth']],
  standalone: ['holidayVisitsLast12m'],
  threshold: SUPPRESSION_THRESHOLD,
};
export const MONTH_SPEC: DisclosureSpec = { margin: 'registered', tables: [['visited'], ['overdue']], standalone: [], threshold: SUPPRESSION_THRESHOLD };

/** One month of an area's trend, suppressed cells null. */
export interface ExposedMonth {
  month: string;
  registered: number | null;
  visited: number | null;
  visitCoverage: number | null;
  overdue: number | null;
}

export interface CityDisclosure {
  /** The current figures and pattern; areas are `areaId(level, code)`. */
  current: SuppressionPattern;
  /**
   * An area's trend over the last `months` months with the pattern of each month applied (month
   * patterns not yet computed are computed first, off the event loop for a large city).
   */
  trend(id: string, months: number): Promise<ExposedMonth[]>;
  /** Areas of the hierarchy (city, districts, 小区). */
  size: number;
}

/** The inputs of one city, as read from the database (exported for the tests' reference). */
export interface CityInput {
  areas: AreaNode[];
  docs: Map<string, AreaDoc>;
  edges: { dueToday: Map<string, number>; visitedBefore30: Map<string, number>; holidayBefore365: Map<string, number> };
}

/**
 * Work over every 小区 of a city (a fraction of a millisecond each, up to seconds for a city) is done
 * a slice at a time: at most SLICE_MS per turn of the event loop, so requests are served meanwhile.
 */
const SLICE_MS = 10;
/** Resolves in the next turn of the event loop (after pending I/O and timers). */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
async function inSlices<T>(items: Iterable<T>, each: (item: T) => void): Promise<void> {
  let slice = performance.now();
  for (const item of items) {
    if (performance.now() - slice > SLICE_MS) {
      await nextTurn();
      slice = performance.now();
    }
    each(item);
  }
}

/** The current figures of each 小区 (the leaves) from its rollup document and edge counts. */
export async function leafFigures(input: CityInput, w: Windows): Promise<Map<string, Record<string, number>>> {
  const current = monthWindow(w.now).month;
  const out = new Map<string, Record<string, number>>();
  await inSlices(input.areas, (a) => {
    if (!a.id.startsWith('COMMUNITY|')) return;
    const code = a.id.slice('COMMUNITY|'.length);
    const doc = input.docs.get(code) ?? null;
    out.set(a.id, {
      registered: doc?.registered ?? 0,
      livingAlone: doc?.livingAlone ?? 0,
      difficulty: doc?.difficulty ?? 0,
      highRisk: doc?.highRisk ?? 0,
      keyRisk: doc?.keyRisk ?? 0,
      visitedLast30d: visitedOf(doc, input.edges.visitedBefore30.get(code) ?? 0, w),
      overdueVisits: overdueOf(doc, input.edges.dueToday.get(code) ?? 0, w),
      visitedThisMonth: doc?.visitedMonths?.[current] ?? 0,
      holidayVisitsLast12m: holidayOf(doc, input.edges.holidayBefore365.get(code) ?? 0, w),
    });
  });
  return out;
}

/**
 * Patterns by content: the same hierarchy and figures give the same pattern, so a snapshot of the
 * next period (or after a write that changed other figures) reuses the patterns whose figures did
 * not change, e.g. the past months of visitTrend. Keyed by a digest of everything the pattern
 * depends on; bounded by the cells the kept patterns hold (about 9 bytes each). A large hierarchy's
 * pattern is computed in a worker thread (lib/disclosure.ts `suppressionPatternAsync`), so requests
 * are served meanwhile; callers asking for a pattern being computed share the computation.
 */
const MAX_PATTERN_CELLS = 8_000_000;
const PATTERNS = new LRUCache<string, SuppressionPattern>({ maxSize: MAX_PATTERN_CELLS });
const PATTERNS_IN_FLIGHT = new Map<string, Promise<SuppressionPattern>>();
function cachedPattern(spec: DisclosureSpec, areas: readonly AreaNode[], leaves: ReadonlyMap<string, Readonly<Record<string, number>>>): Promise<SuppressionPattern> {
  const input = patternInput(spec, areas, leaves);
  const key = createHash('sha256')
    .update(JSON.stringify([spec, input.ids, input.parents, input.leafIds]))
    .update(new Uint8Array(input.leafValues.buffer, input.leafValues.byteOffset, input.leafValues.byteLength))
    .digest('hex');
  const hit = PATTERNS.get(key);
  if (hit) return Promise.resolve(hit);
  let p = PATTERNS_IN_FLIGHT.get(key);
  if (!p) {
    p = patternOfInputAsync(input);
    PATTERNS_IN_FLIGHT.set(key, p);
    const cells = areas.length * (1 + spec.tables.flat().length + spec.standalone.length + spec.tables.length);
    void p.then(
      (done) => cells <= MAX_PATTERN_CELLS && PATTERNS.set(key, done, { size: cells }),
      () => undefined, // the caller sees the failure; the next one computes again
    ).finally(() => PATTERNS_IN_FLIGHT.delete(key));
  }
  return p;
}


/**
 * The pattern of a city's figures, and its trend patterns (computed when a trend asks for their
 * month, once per snapshot and month; the answer waits for them).
 */
export async function cityDisclosure(input: CityInput, w: Windows): Promise<CityDisclosure> {
  const leaves = await leafFigures(input, w);
  const current = await cachedPattern(CURRENT_SPEC, input.areas, leaves);
  const currentMonth = monthWindow(w.now).month;
  const leafIds = [...leaves.keys()];
  // Leaf trends over the longest window, computed once when a trend is asked for (in slices: about
  // a second per 4,000 小区).
  let leafTrends: Promise<Map<string, ReturnType<typeof trendOf>>> | null = null;
  const trendsOfLeaves = () =>
    (leafTrends ??= (async () => {
      const out = new Map<string, ReturnType<typeof trendOf>>();
      await inSlices(leafIds, (id) =>
        out.set(id, trendOf(input.docs.get(id.slice('COMMUNITY|'.length)) ?? null, leaves.get(id)!.overdueVisits, w, MAX_TREND_MONTHS_FOR_PATTERN)),
      );
      return out;
    })());
  const monthPatterns = new Map<string, Promise<SuppressionPattern>>();
  // Each month's inputs are prepared in a turn of the event loop of their own, one month after the
  // other (tens of milliseconds each for a large city); the patterns are computed meanwhile.
  let preparing: Promise<unknown> = Promise.resolve();
  const monthPattern = (index: number, month: string): Promise<SuppressionPattern> => {
    let p = monthPatterns.get(month);
    if (!p) {
      const started = preparing.then(async () => {
        const trends = await trendsOfLeaves();
        await nextTurn();
        const values = new Map(leafIds.map((id) => {
          const m = trends.get(id)![index];
          return [id, { registered: m.registered, visited: m.visited, overdue: m.overdue }];
        }));
        await nextTurn();
        return { pattern: cachedPattern(MONTH_SPEC, input.areas, values) };
      });
      preparing = started.catch(() => undefined);
      const computing = started.then((s) => s.pattern);
      monthPatterns.set(month, (p = computing));
      // A failed computation is not kept: the next trend asks again.
      computing.catch(() => monthPatterns.get(month) === computing && monthPatterns.delete(month));
    }
    return p;
  };
  return {
    current,
    size: input.areas.length,
    async trend(id, months) {
      const known = current.has(id);
      // The month patterns this answer needs, computed (or shared) before it is built.
      const wanted = Array.from({ length: months }, (_, j) => {
        const k = months - 1 - j;
        const month = monthWindow(w.now, -k).month;
        return { month, pattern: known && month !== currentMonth ? monthPattern(MAX_TREND_MONTHS_FOR_PATTERN - 1 - k, month) : null };
      });
      const patterns = await Promise.all(wanted.map((m) => m.pattern));
      return wanted.map(({ month }, j): ExposedMonth => {
        if (!known) return { month, registered: null, visited: null, visitCoverage: null, overdue: null };
        let registered: number | null;
        let visited: number | null;
        let overdue: number | null;
        const p = patterns[j];
        if (!p) {
          // The current month's figures are the current ones: one pattern for both.
          const v = current.values(id)!;
          registered = current.suppressed(id, 'registered') ? null : v.registered;
          visited = current.suppressed(id, 'visitedThisMonth') ? null : v.visitedThisMonth;
          overdue = current.suppressed(id, 'overdueVisits') ? null : v.overdueVisits;
        } else {
          const v = p.values(id)!;
          registered = p.suppressed(id, 'registered') ? null : v.registered;
          visited = p.suppressed(id, 'visited') ? null : v.visited;
          overdue = p.suppressed(id, 'overdue') ? null : v.overdue;
        }
        return { month, registered, visited, overdue, visitCoverage: registered != null && visited != null && registered > 0 ? visited / registered : null };
      });
    },
  };
}

/** Reads a city's inputs: its 小区 register, the 小区 rollup documents and the edge-day counts. */
export async function readCityInput(ctx: Pick<Context, 'repo'>, cityCode: string, w: Windows): Promise<CityInput> {
  const m = ctx.repo.models;
  // The five reads leave as one command (lib/union-reader.ts).
  const reads = unionReaderFor(m.Resident.db);
  const countBy = async (model: typeof m.Resident | typeof m.HomeVisit, match: Record<string, unknown>) => {
    const rows = await reads.aggregate<{ _id: string; n: number }>(model, [{ $match: { cityCode, ...match } }, { $group: { _id: '$communityId', n: { $sum: 1 } } }]);
    return new Map(rows.map((r) => [r._id, r.n]));
  };
  const [refs, docs, dueToday, visitedBefore30, holidayBefore365] = await Promise.all([
    reads.find<{ _id: string; districtCode: string }>(m.CommunityRef, { cityCode }, { projection: { _id: 1, districtCode: 1 } }),
    reads.find<AreaDoc>(m.StatsArea, { level: 'COMMUNITY', cityCode }, { projection: { communities: 0 }, cast: false }),
    // The edge days, as the stats reader counts them (../stats/read.ts), for every 小区 at once.
    countBy(m.Resident, { status: 'ACTIVE', nextVisitDue: { $gte: w.todayStart, $lt: w.now } }),
    countBy(m.Resident, { status: 'ACTIVE', lastVisitedAt: { $gte: w.since30DayStart, $lt: w.since30 } }),
    countBy(m.HomeVisit, { occasion: 'HOLIDAY', visitedAt: { $gte: w.since365DayStart, $lt: w.since365 } }),
  ]);
  return { ...cityTree(cityCode, refs, docs), edges: { dueToday, visitedBefore30, holidayBefore365 } };
}

/** The hierarchy of a city: every 小区 of its register and every 小区 with figures, under its district. */
export function cityTree(cityCode: string, refs: readonly { _id: string; districtCode: string }[], docs: readonly AreaDoc[]): Pick<CityInput, 'areas' | 'docs'> {
  const districtOf = new Map<string, string>();
  for (const r of refs) districtOf.set(r._id, r.districtCode);
  for (const d of docs) if (d.districtCode) districtOf.set(d.code, d.districtCode);
  const id = (level: Level, code: string) => areaId(level, code);
  const areas: AreaNode[] = [{ id: id('CITY', cityCode), parent: null }];
  for (const district of new Set(districtOf.values())) areas.push({ id: id('DISTRICT', district), parent: id('CITY', cityCode) });
  for (const [community, district] of districtOf) areas.push({ id: id('COMMUNITY', community), parent: id('DISTRICT', district) });
  return { areas, docs: new Map(docs.map((d) => [d.code, d])) };
}

/**
 * How long a snapshot's instant lasts: the figures of a snapshot are computed as of the start of its
 * period (aligned on the epoch, so every replica computes the same instant and, from the same
 * rollups, the same pattern). While the rollups of the city stay the same, the next period's
 * snapshot is computed in the background and the previous one is served meanwhile.
 */
export const SNAPSHOT_PERIOD_MS = 60_000;
/**
 * Snapshots kept per database (cities × stamps × periods: the current and previous period of a few
 * cities). A snapshot holds its city's 小区 documents for the trends: tens of MB at 40,000 小区.
 */
export const MAX_SNAPSHOTS = 8;

/** The rollup version of a city (stats/model.ts `elderly_stats_versions`), or `none` before the first write. */
export async function readStamp(ctx: Pick<Context, 'repo'>, cityCode: string): Promise<string> {
  const m = ctx.repo.models;
  // Through the union reader: sent in the same command as the statistics reads of the same turn.
  const [doc] = await unionReaderFor(m.Resident.db).find<{ v: number; epoch: string }>(m.StatsVersion, { _id: cityCode }, { cast: false });
  return doc ? `${doc.epoch}:${doc.v}` : 'none';
}

interface Snapshot {
  promise: Promise<CityDisclosure>;
  /** Set once computed (a stale entry is served only when it is ready). */
  ready?: CityDisclosure;
}

/**
 * A city of at least this many areas is served its latest snapshot (if of this period or the
 * previous one) while the snapshot of a new rollup version is computed: there, a computation takes
 * about a second (4,000 小区), longer than the subgraph's deadline under load, and writes come all day.
 * Smaller cities compute the new version's snapshot before answering (a few milliseconds).
 */
export const STALE_AFTER_WRITE_MIN_AREAS = 1000;
let staleAfterWriteMinAreas = STALE_AFTER_WRITE_MIN_AREAS;
/** Tests: the size from which a city is served its latest snapshot after a write (default STALE_AFTER_WRITE_MIN_AREAS). */
export function setStaleAfterWriteMinAreas(n: number = STALE_AFTER_WRITE_MIN_AREAS): void {
  staleAfterWriteMinAreas = n;
}

/** Per database (a process may serve several, e.g. in tests). */
interface SnapshotState {
  /** Snapshots by city, stamp and period. */
  cache: LRUCache<string, Snapshot>;
  /** Per city, the latest snapshot computed (by period). */
  latest: Map<string, { d: CityDisclosure; period: number }>;
  /** Cities with a computation under way. */
  busy: Set<string>;
}
const states = new WeakMap<object, SnapshotState>();

/** Counters for tests and benchmarks: snapshots computed, served from the cache, served stale; the last computation's time. */
export const snapshotStats = { computed: 0, hits: 0, stale: 0, lastComputeMs: 0 };

/** Computations under way (including those started in the background while a stale one is served). */
const computing = new Set<Promise<void>>();
/** Resolves when no snapshot is being computed (tests: the next request is served the current period's). */
export async function snapshotsSettled(): Promise<void> {
  while (computing.size) await Promise.all([...computing]);
}

/** The instant a snapshot served at `atMs` is computed as of (with no stale one served): its period's start. */
export const snapshotInstant = (atMs: number): Date => new Date(Math.floor(atMs / SNAPSHOT_PERIOD_MS) * SNAPSHOT_PERIOD_MS);

/**
 * The city's disclosure snapshot for a stamp and instant: from the cache, else read and computed
 * once (concurrent callers share the computation). Exported for tests.
 */
export function snapshotFor(ctx: Pick<Context, 'repo'>, cityCode: string, stamp: string, atMs: number): Promise<CityDisclosure> {
  const db = ctx.repo.models.StatsArea.db;
  let state = states.get(db);
  if (!state) states.set(db, (state = { cache: new LRUCache<string, Snapshot>({ max: MAX_SNAPSHOTS }), latest: new Map(), busy: new Set() }));
  const { cache, latest, busy } = state;
  const period = snapshotInstant(atMs).getTime();
  const keyOf = (p: number) => `${cityCode}|${stamp}|${p}`;
  const key = keyOf(period);
  const hit = cache.get(key);
  if (hit) {
    snapshotStats.hits++;
    return hit.promise;
  }
  // What may be served while this snapshot is computed: the same rollups' snapshot of the previous
  // period; for a large city, also its latest snapshot of an older version, if it is that recent.
  const last = latest.get(cityCode);
  const stale =
    cache.peek(keyOf(period - SNAPSHOT_PERIOD_MS))?.ready ??
    (last && last.period >= period - SNAPSHOT_PERIOD_MS && last.d.size >= staleAfterWriteMinAreas ? last.d : undefined);
  if (stale && busy.has(cityCode)) {
    // One computation per city at a time: a version that arrives meanwhile waits for the next request.
    snapshotStats.stale++;
    return Promise.resolve(stale);
  }
  busy.add(cityCode);
  const entry: Snapshot = {
    promise: (async () => {
      snapshotStats.computed++;
      const started = performance.now();
      const w = windowsAt(new Date(period));
      const d = await cityDisclosure(await readCityInput(ctx, cityCode, w), w);
      snapshotStats.lastComputeMs = performance.now() - started;
      return d;
    })(),
  };
  const settled = entry.promise.then(
    (d) => {
      entry.ready = d;
      const prev = latest.get(cityCode);
      if (!prev || prev.period <= period) latest.set(cityCode, { d, period });
    },
    () => void (cache.peek(key) === entry && cache.delete(key)), // a failed computation is not kept
  );
  computing.add(settled);
  void settled.finally(() => {
    computing.delete(settled);
    busy.delete(cityCode);
  });
  cache.set(key, entry);
  if (stale) {
    snapshotStats.stale++;
    return Promise.resolve(stale);
  }
  return entry.promise;
}

/** One snapshot per request and city (every figure of a response from the same one). */
const perRequest = new WeakMap<object, Map<string, Promise<CityDisclosure>>>();

/**
 * The city's disclosure snapshot for this request: one small read (the city's rollup version), then
 * the snapshot cached for that version; only when there is none is the whole city read and the
 * pattern computed (services/disclosure.ts `readCityInput`, lib/disclosure.ts).
 */
export function cityDisclosureFor(ctx: Pick<Context, 'repo' | 'loaders'>, cityCode: string): Promise<CityDisclosure> {
  let byCity = perRequest.get(ctx.loaders);
  if (!byCity) perRequest.set(ctx.loaders, (byCity = new Map()));
  let p = byCity.get(cityCode);
  if (!p) {
    const at = ctx.loaders.windows.now.getTime();
    byCity.set(cityCode, (p = readStamp(ctx, cityCode).then((stamp) => snapshotFor(ctx, cityCode, stamp, at))));
  }
  return p;
}
