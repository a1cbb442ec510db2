/**
 * Reads of the statistics rollups, each one database command for a batch of areas (the per-request
 * DataLoaders in ../loaders.ts sit in front): the area documents by id, and the small indexed
 * queries of raw rows at a window's edge day (./figures.ts).
 */
import type { PipelineStage } from 'mongoose';
import { unionReaderFor } from '../../../lib/union-reader';
import type { Models } from '../models';
import { areaId, readCoverageEntry, type Level } from './contribution';
import type { Windows } from './figures';
import type { AreaDoc } from './rebuild';

export type StatsLevel = Level;
export const levelField = (level: StatsLevel) => (level === 'CITY' ? 'cityCode' : level === 'DISTRICT' ? 'districtCode' : 'communityId');

export interface CoverageRow {
  communityId: string;
  registered: number;
  visitedLast30d: number;
}

export function createStatsReader(m: Models) {
  /** The reads of one figure set leave as one command (lib/union-reader.ts). */
  const reads = unionReaderFor(m.Resident.db);
  /** Counts per area code of rows matching `match` within the areas `codes` of `level`. */
  const countBy = async (
    model: Models['Resident'] | Models['HomeVisit'],
    level: StatsLevel,
    codes: readonly string[],
    match: Record<string, unknown>,
    groupBy: string = levelField(level),
  ) => {
    const field = levelField(level);
    const rows = await reads.aggregate<{ _id: string; n: number }>(model, [
      { $match: { [field]: codes.length === 1 ? codes[0] : { $in: [...codes] }, ...match } },
      { $group: { _id: `$${groupBy}`, n: { $sum: 1 } } },
    ] as PipelineStage[]);
    return new Map(rows.map((r) => [r._id, r.n]));
  };

  return {
    /** Area documents by (level, code); missing areas (nobody registered, no visits) are absent. */
    async areas(keys: readonly { level: StatsLevel; code: string }[]): Promise<Map<string, AreaDoc>> {
      const ids = [...new Set(keys.map((k) => areaId(k.level, k.code)))];
      const docs = await reads.find<AreaDoc>(m.StatsArea, { _id: ids.length === 1 ? ids[0] : { $in: ids } }, { projection: { communities: 0 }, cast: false });
      return new Map(docs.map((d) => [d._id, d]));
    },
    /** Active residents due today before now, per area. */
    dueToday: (level: StatsLevel, codes: readonly string[], w: Windows) =>
      countBy(m.Resident, level, codes, { status: 'ACTIVE', nextVisitDue: { $gte: w.todayStart, $lt: w.now } }),
    /** Active residents last visited on the 30-day window's first day before it opens, per area. */
    visitedBefore30: (level: StatsLevel, codes: readonly string[], w: Windows) =>
      countBy(m.Resident, level, codes, { status: 'ACTIVE', lastVisitedAt: { $gte: w.since30DayStart, $lt: w.since30 } }),
    /**
     * Both resident edge counts above in one command (an $or of the two indexed ranges, counted
     * apart by $cond): what a figure set with overdue visits and visit coverage needs.
     */
    async residentEdges(level: StatsLevel, codes: readonly string[], w: Windows): Promise<Map<string, { dueToday: number; visitedBefore30: number }>> {
      const field = levelField(level);
      const due = { nextVisitDue: { $gte: w.todayStart, $lt: w.now } };
      const visited = { lastVisitedAt: { $gte: w.since30DayStart, $lt: w.since30 } };
      const inRange = (f: string, lo: Date, hi: Date) => ({ $and: [{ $gte: [`$${f}`, lo] }, { $lt: [`$${f}`, hi] }] });
      const rows = await reads.aggregate<{ _id: string; due: number; visited: number }>(m.Resident, [
        { $match: { [field]: codes.length === 1 ? codes[0] : { $in: [...codes] }, status: 'ACTIVE', $or: [due, visited] } },
        {
          $group: {
            _id: `$${field}`,
            due: { $sum: { $cond: [inRange('nextVisitDue', w.todayStart, w.now), 1, 0] } },
            visited: { $sum: { $cond: [inRange('lastVisitedAt', w.since30DayStart, w.since30), 1, 0] } },
          },
        },
      ] as PipelineStage[]);
      return new Map(rows.map((r) => [r._id, { dueToday: r.due, visitedBefore30: r.visited }]));
    },
    /** Holiday visits on the 12-month window's first day before it opens, per area. */
    holidayBefore365: (level: StatsLevel, codes: readonly string[], w: Windows) =>
      countBy(m.HomeVisit, level, codes, { occasion: 'HOLIDAY', visitedAt: { $gte: w.since365DayStart, $lt: w.since365 } }),

    /**
     * Monthly visit coverage per 小区 of a city or district, lowest rate first (then id), keeping
     * rates below `below`, from the `communities` entries of the district documents (two commands:
     * those documents, and the residents of the 30-day window's first day visited before it opens).
     * With `suppressed` (callers without individual-level access) the 小区 whose rate the city's
     * disclosure pattern suppresses (services/disclosure.ts) are dropped before the rate is compared
     * or ranked: a threshold or a rank would reveal the hidden rate.
     */
    async coverage(level: 'CITY' | 'DISTRICT', code: string, below: number, skip: number, limit: number, suppressed: ((communityId: string) => boolean) | null, w: Windows) {
      const field = levelField(level);
      const [docs, before] = await Promise.all([
        m.StatsArea.collection
          .find(level === 'CITY' ? { level: 'DISTRICT', cityCode: code } : { _id: areaId('DISTRICT', code) as never }, { projection: { communities: 1 } })
          .toArray() as unknown as Promise<Pick<AreaDoc, 'communities'>[]>,
        countBy(m.Resident, level, [code], { status: 'ACTIVE', lastVisitedAt: { $gte: w.since30DayStart, $lt: w.since30 } }, 'communityId'),
      ]);
      const ranked: (CoverageRow & { rate: number })[] = [];
      for (const d of docs) {
        for (const [communityId, entry] of Object.entries(d.communities ?? {})) {
          const { registered, visitedFrom } = readCoverageEntry(entry, w.since30Day);
          const visited = visitedFrom - (before.get(communityId) ?? 0);
          if (suppressed?.(communityId)) continue;
          const rate = visited / registered;
          if (rate < below) ranked.push({ communityId, registered, visitedLast30d: visited, rate });
        }
      }
      ranked.sort((a, b) => a.rate - b.rate || (a.communityId < b.communityId ? -1 : a.communityId > b.communityId ? 1 : 0));
      const rows = ranked.slice(skip, skip + limit + 1).map(({ rate: _rate, ...row }) => row);
      return { rows: rows.slice(0, limit), hasNextPage: rows.length > limit, totalCount: ranked.length };
    },
  };
}
export type StatsReader = ReturnType<typeof createStatsReader>;
