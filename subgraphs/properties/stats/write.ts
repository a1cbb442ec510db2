/**
 * The write path of the statistics rollups. After a mutation has written its raw row, the buckets
 * the row falls in are recomputed bottom-up, each from its indexed inputs, and replaced:
 *
 *   COMMUNITY|<id>|LATEST                  ← the 小区's own fee rows and surveys
 *   CELL|<city/district/street>|<bucket>   ← raw rows of the cell's 小区 (REGISTER, periods) or its
 *                                            COMMUNITY documents (LATEST)
 *   PAIR|<city/district>|<bucket>          ← its CELL documents
 *   STREET|<code>|<bucket>                 ← the street's CELL documents
 *   DISTRICT|<code>|<bucket>, CITY|…       ← their PAIR documents
 *
 * A fee upsert or a survey touches two buckets (its period and LATEST), i.e. 11 small documents,
 * each computed from at most a few hundred small rows; the two chains run side by side.
 *
 * Concurrency. Every replacement is a compare-and-set on the document's generation `gen`: the
 * generations of all documents of a refresh are read first (one query), then each document's inputs
 * once its children are done, then it is written with `gen + 1` only if `gen` has not moved
 * (otherwise its generation and inputs are read again), even when the figures did not change. So
 * concurrent writers, in this process or another, never leave a stale sum behind: the last
 * successful writer of a document read its inputs after every earlier successful write of it, hence
 * after every input change whose writer went on to recompute it. Within one process, refreshes of
 * one city are also coalesced: a write that arrives while its city is being refreshed waits for the
 * next round, which serves every write that arrived meanwhile at once.
 *
 * A retry (idempotent replay) runs the same refresh: it changes nothing when the rollups are current
 * and repairs them when an earlier attempt stopped between the raw write and the rollup update.
 */
import type { Collection } from 'mongodb';
import type { Models } from '../models';
import {
  cellCode, cellOf, communityLatestFigures, COMMUNITY_FIELDS, FEE_FIELDS, pairCode, periodFigures, registerFigures, sumFigures, SURVEY_FIELDS,
  type CellKey, type CommunityRow, type FeeRow, type SurveyRow,
} from './figures';
import { LATEST, REGISTER, rollupId, type Figures, type RollupDoc, type RollupLevel } from './model';

/** Attempts of one compare-and-set before giving up (each loses only to a concurrent write). */
const MAX_ATTEMPTS = 50;

interface Ident {
  level: RollupLevel;
  code: string;
  bucket: string;
  cityCode?: string;
  districtCode?: string;
  streetCode?: string | null;
}

/** Grouping codes stored on a document (only the levels whose parents query by them carry them). */
function identOf(level: RollupLevel, code: string, bucket: string, cell?: CellKey): Ident {
  if (level === 'COMMUNITY' || level === 'CELL') return { level, code, bucket, cityCode: cell!.cityCode, districtCode: cell!.districtCode, streetCode: cell!.streetCode };
  if (level === 'PAIR') return { level, code, bucket, cityCode: cell!.cityCode, districtCode: cell!.districtCode };
  return { level, code, bucket };
}

/** What to bring up to date: 小区 LATEST documents and (cell, bucket) pairs, with every ancestor. */
export interface RefreshTarget {
  /** 小区 (register rows) whose LATEST documents to recompute. */
  communities: readonly CommunityRow[];
  /** Cells and, for each, the buckets to recompute there (periods, LATEST, REGISTER). */
  cells: readonly { cell: CellKey; buckets: readonly string[] }[];
}

/** `gen` read up front: a number, null when the document does not exist, undefined when unknown. */
type KnownGen = number | null | undefined;

export function createRollupWriter(m: Models) {
  const rollups = m.Rollup.collection as unknown as Collection<RollupDoc>;
  const communities = m.Community.collection as unknown as Collection<CommunityRow>;
  const fees = m.Fee.collection as unknown as Collection<FeeRow>;
  const surveys = m.Survey.collection as unknown as Collection<SurveyRow>;

  /** Replaces one document by its recomputation (compare-and-set on `gen`). */
  async function recompute(ident: Ident, compute: () => Promise<Figures>, known: KnownGen): Promise<void> {
    const _id = rollupId(ident.level, ident.code, ident.bucket);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      // The generation first, then the inputs: a write that lands in between moves `gen`.
      if (known === undefined) {
        const old = await rollups.findOne({ _id }, { projection: { gen: 1 } });
        known = old ? (old.gen ?? 0) : null;
      }
      const f = await compute();
      // Written even when unchanged: the new generation fails a concurrent writer that read the
      // inputs before this one (skipping the write would let its stale sum land afterwards). An
      // emptied document stays, with `f: {}`, so its generation keeps counting.
      if (known === null) {
        try {
          await rollups.insertOne({ _id, ...ident, f, gen: 1 } as RollupDoc);
          return;
        } catch (e) {
          if ((e as { code?: number }).code !== 11000) throw e;
        }
      } else if ((await rollups.updateOne({ _id, gen: known }, { $set: { ...ident, f, gen: known + 1 } })).matchedCount === 1) {
        return;
      }
      known = undefined; // a concurrent writer got there first: read its generation and recompute
    }
    throw new Error(`properties statistics: rollup ${_id} kept changing under concurrent writes`);
  }

  const childFigures = async (filter: Record<string, unknown>) => sumFigures(await rollups.find(filter, { projection: { f: 1 } }).toArray());
  const cellFilter = (c: CellKey) => ({ cityCode: c.cityCode, districtCode: c.districtCode, streetCode: c.streetCode });

  const computeCommunityLatest = (id: string) => async () => {
    const [f, s] = await Promise.all([
      fees.find({ communityId: id }, { projection: FEE_FIELDS }).toArray(),
      surveys.find({ communityId: id }, { projection: SURVEY_FIELDS }).toArray(),
    ]);
    return communityLatestFigures(f, s);
  };
  const computeCell = (cell: CellKey, bucket: string) => async (): Promise<Figures> => {
    if (bucket === REGISTER) return registerFigures(await communities.find(cellFilter(cell), { projection: COMMUNITY_FIELDS }).toArray());
    if (bucket === LATEST) return childFigures({ level: 'COMMUNITY', bucket, ...cellFilter(cell) });
    const ids = (await communities.find(cellFilter(cell), { projection: { _id: 1 } }).toArray()).map((r) => r._id);
    if (!ids.length) return {};
    const [f, s] = await Promise.all([
      fees.find({ communityId: { $in: ids }, period: bucket }, { projection: FEE_FIELDS }).toArray(),
      surveys.find({ communityId: { $in: ids }, period: bucket, percent: { $ne: null } }, { projection: SURVEY_FIELDS }).toArray(),
    ]);
    return periodFigures(f, s);
  };

  /** Brings the target's documents and every ancestor up to date. */
  async function refresh(target: RefreshTarget): Promise<void> {
    interface Node {
      ident: Ident;
      deps: string[];
      compute: () => Promise<Figures>;
    }
    const nodes = new Map<string, Node>();
    const add = (ident: Ident, deps: string[], compute: () => Promise<Figures>) => {
      const id = rollupId(ident.level, ident.code, ident.bucket);
      const node = nodes.get(id);
      if (node) node.deps.push(...deps.filter((d) => !node.deps.includes(d)));
      else nodes.set(id, { ident, deps: [...deps], compute });
      return id;
    };
    const latestOfCell = new Map<string, string[]>();
    for (const c of target.communities) {
      const cell = cellOf(c);
      const id = add(identOf('COMMUNITY', c._id, LATEST, cell), [], computeCommunityLatest(c._id));
      latestOfCell.set(cellCode(cell), [...(latestOfCell.get(cellCode(cell)) ?? []), id]);
    }
    for (const { cell, buckets } of target.cells) {
      for (const bucket of new Set(buckets)) {
        const code = cellCode(cell);
        const cellId = add(identOf('CELL', code, bucket, cell), bucket === LATEST ? (latestOfCell.get(code) ?? []) : [], computeCell(cell, bucket));
        const pairId = add(identOf('PAIR', pairCode(cell), bucket, cell), [cellId], () =>
          childFigures({ level: 'CELL', bucket, cityCode: cell.cityCode, districtCode: cell.districtCode }),
        );
        if (cell.streetCode !== null) {
          const street = cell.streetCode;
          add(identOf('STREET', street, bucket), [cellId], () => childFigures({ level: 'CELL', bucket, streetCode: street }));
        }
        add(identOf('DISTRICT', cell.districtCode, bucket), [pairId], () => childFigures({ level: 'PAIR', bucket, districtCode: cell.districtCode }));
        add(identOf('CITY', cell.cityCode, bucket), [pairId], () => childFigures({ level: 'PAIR', bucket, cityCode: cell.cityCode }));
      }
    }
    // Every generation first, then each document as soon as its children are written.
    // (In groups of 1,000 ids: the embedded engine's cost of a query grows with its $in list times its matches.)
    const gens = new Map<string, KnownGen>([...nodes.keys()].map((id) => [id, null]));
    const ids = [...nodes.keys()];
    for (let i = 0; i < ids.length; i += 1000) {
      for (const d of await rollups.find({ _id: { $in: ids.slice(i, i + 1000) } }, { projection: { gen: 1 } }).toArray()) gens.set(d._id, d.gen ?? 0);
    }
    const running = new Map<string, Promise<void>>();
    const run = (id: string): Promise<void> => {
      let p = running.get(id);
      if (!p) {
        const node = nodes.get(id)!;
        p = Promise.all(node.deps.map(run)).then(() => recompute(node.ident, node.compute, gens.get(id)));
        running.set(id, p);
      }
      return p;
    };
    await Promise.all([...nodes.keys()].map(run));
  }

  // Coalescing per city: one round at a time; writes arriving meanwhile share the next round.
  interface Round {
    communities: Map<string, CommunityRow>;
    cells: Map<string, { cell: CellKey; buckets: Set<string> }>;
    waiters: { resolve: () => void; reject: (e: unknown) => void }[];
  }
  const pending = new Map<string, Round>();
  const busy = new Set<string>();
  function schedule(key: string, target: RefreshTarget): Promise<void> {
    let round = pending.get(key);
    if (!round) pending.set(key, (round = { communities: new Map(), cells: new Map(), waiters: [] }));
    for (const c of target.communities) round.communities.set(c._id, c);
    for (const { cell, buckets } of target.cells) {
      const code = cellCode(cell);
      const entry = round.cells.get(code) ?? { cell, buckets: new Set<string>() };
      for (const b of buckets) entry.buckets.add(b);
      round.cells.set(code, entry);
    }
    const done = new Promise<void>((resolve, reject) => round!.waiters.push({ resolve, reject }));
    if (!busy.has(key)) void drain(key);
    return done;
  }
  async function drain(key: string) {
    busy.add(key);
    try {
      for (let round = pending.get(key); round; round = pending.get(key)) {
        pending.delete(key);
        try {
          await refresh({ communities: [...round.communities.values()], cells: [...round.cells.values()].map((c) => ({ cell: c.cell, buckets: [...c.buckets] })) });
          for (const w of round.waiters) w.resolve();
        } catch (e) {
          for (const w of round.waiters) w.reject(e);
        }
      }
    } finally {
      busy.delete(key);
    }
  }
  const cityKey = (target: RefreshTarget) => [...new Set(target.cells.map((c) => c.cell.cityCode))].sort().join(',');

  return {
    /** Brings the target's documents and every ancestor up to date (coalesced per city). */
    refresh: (target: RefreshTarget) => schedule(cityKey(target), target),
    /**
     * After a fee row or a survey of a 小区 (its register row with COMMUNITY_FIELDS, or its id) for
     * `period` was written (or replayed): its period bucket and LATEST, up the hierarchy. An unknown
     * 小区 changes nothing.
     */
    async rowWritten(community: string | CommunityRow, period: string): Promise<void> {
      const c = typeof community === 'string' ? await communities.findOne({ _id: community }, { projection: COMMUNITY_FIELDS }) : community;
      if (!c) return;
      const target = { communities: [c], cells: [{ cell: cellOf(c), buckets: [period, LATEST] }] };
      await schedule(cityKey(target), target);
    },
    /**
     * After 小区 rows were written or replaced (seeds): every bucket of theirs (register, LATEST,
     * every period of their fee rows and surveys), in their cells and in `formerCells` (the cells
     * they were in before the write, when they may have moved).
     */
    async communitiesWritten(ids: readonly string[], formerCells: readonly CellKey[] = []): Promise<void> {
      if (!ids.length && !formerCells.length) return;
      const [rows, feePeriods, surveyPeriods] = await Promise.all([
        communities.find({ _id: { $in: [...ids] } }, { projection: COMMUNITY_FIELDS }).toArray(),
        fees.distinct('period', { communityId: { $in: [...ids] } }),
        surveys.distinct('period', { communityId: { $in: [...ids] } }),
      ]);
      const buckets = [REGISTER, LATEST, ...(feePeriods as string[]), ...(surveyPeriods as string[])];
      const target = { communities: rows, cells: [...rows.map(cellOf), ...formerCells].map((cell) => ({ cell, buckets })) };
      await schedule(cityKey(target), target);
    },
  };
}
export type RollupWriter = ReturnType<typeof createRollupWriter>;
