/**
 * Data access of the elderly subgraph. Every read is a batch: many keys, one database command, so
 * the per-request DataLoaders sit in front of it. Aggregates are computed by the database. Pages
 * are keyset pages over indexed sort keys.
 */
import type { RowFilter } from '../../../lib/auth/directives';
import type { PipelineStage } from 'mongoose';
import { now as clockNow, rangeStart } from '../../../lib/clock';
import type { CareTeamDoc, CommunityRefDoc, HomeVisitDoc, MealProgramDoc, Models, ResidentDoc, ServiceProviderDoc } from '../models';
import { SUPPRESSION_THRESHOLD, type RawElderlyStats } from './privacy';

export type StatsLevel = 'COMMUNITY' | 'DISTRICT' | 'CITY';
const levelField = (level: StatsLevel) => (level === 'CITY' ? 'cityCode' : level === 'DISTRICT' ? 'districtCode' : 'communityId');

export interface ResidentFilter {
  communityId: string;
  riskTier?: readonly string[] | null;
  livingArrangement?: readonly string[] | null;
  overdue?: boolean | null;
  status?: string | null;
}

export interface VisitFilter {
  communityId?: string | null;
  elderId?: string | null;
  from?: Date | null;
  to?: Date | null;
  occasion?: readonly string[] | null;
  mode?: readonly string[] | null;
}

export interface CoverageRow {
  communityId: string;
  registered: number;
  visitedLast30d: number;
}

/**
 * The register figures, computed by the database in one `$group` over plain fields: the group key
 * is (area, living arrangement, tier, has a difficulty flag, overdue, visited in 30 days), so the
 * engine evaluates two date comparisons per resident and no conditional sums; the few group rows
 * per area (at most 96) are then folded into the figures.
 */
function statsPipeline(field: string, match: Record<string, unknown>, now: Date): PipelineStage[] {
  const since = rangeStart('LAST_30D', now)!;
  return [
    { $match: match },
    {
      $group: {
        _id: {
          code: `$${field}`,
          la: '$livingArrangement',
          tier: '$riskTier',
          d: '$hasDifficulty',
          // Active residents always have a due date (registration sets one).
          o: { $lt: ['$nextVisitDue', now] },
          v: { $gte: ['$lastVisitedAt', since] },
        },
        n: { $sum: 1 },
      },
    },
  ];
}

interface StatsGroupRow {
  _id: { code: string; la: string; tier: string; d: boolean | null; o: boolean; v: boolean };
  n: number;
}

function foldStats(rows: StatsGroupRow[]): (RawElderlyStats & { code: string })[] {
  const byCode = new Map<string, RawElderlyStats & { code: string }>();
  for (const { _id: k, n } of rows) {
    let s = byCode.get(k.code);
    if (!s) byCode.set(k.code, (s = { code: k.code, registered: 0, livingAlone: 0, difficulty: 0, highRisk: 0, keyRisk: 0, visitedLast30d: 0, overdueVisits: 0 }));
    s.registered += n;
    if (k.la === 'LIVING_ALONE') s.livingAlone += n;
    if (k.d) s.difficulty += n;
    if (k.tier === 'HIGH') s.highRisk += n;
    if (k.tier === 'KEY') s.keyRisk += n;
    if (k.v) s.visitedLast30d += n;
    if (k.o) s.overdueVisits += n;
  }
  return [...byCode.values()];
}

/**
 * ANDs the caller's area filter (lib/auth `rowFilter`, built from the verified token only) into a
 * query, keeping the query's own top-level keys so its index still applies.
 */
function withinArea(q: Record<string, unknown>, visible: RowFilter): Record<string, unknown> {
  return visible ? { ...q, $and: [...((q.$and as object[] | undefined) ?? []), visible] } : q;
}

/**
 * `clock` gives "now" for due dates and the 30-day / 12-month windows: the product clock
 * (lib/clock.ts) unless a test pins one through the context options.
 */
export function createRepository(m: Models, clock: () => Date = clockNow) {
  return {
    models: m,
    now: clock,

    communityRefs: (ids: readonly string[]) => m.CommunityRef.find({ _id: { $in: ids } }).lean<CommunityRefDoc[]>().exec(),
    careTeamsById: (ids: readonly string[]) => m.CareTeam.find({ _id: { $in: ids } }).lean<CareTeamDoc[]>().exec(),
    careTeamsByCommunity: (ids: readonly string[]) =>
      m.CareTeam.find({ communityIds: { $in: ids } }).sort({ _id: 1 }).lean<CareTeamDoc[]>().exec(),
    mealProgramsById: (ids: readonly string[]) => m.MealProgram.find({ _id: { $in: ids } }).lean<MealProgramDoc[]>().exec(),
    mealProgramsByCommunity: (ids: readonly string[]) =>
      m.MealProgram.find({ communityIds: { $in: ids } }).sort({ _id: 1 }).lean<MealProgramDoc[]>().exec(),
    mealProgramsByCity: (cityCodes: readonly string[]) =>
      m.MealProgram.find({ cityCodes: { $in: cityCodes } }).sort({ _id: 1 }).lean<MealProgramDoc[]>().exec(),
    mealProgramsOfType: (cityCode: string, type: string) =>
      m.MealProgram.find({ cityCodes: cityCode, type: type as MealProgramDoc['type'] }).sort({ _id: 1 }).lean<MealProgramDoc[]>().exec(),
    providersById: (ids: readonly string[]) => m.ServiceProvider.find({ _id: { $in: ids } }).lean<ServiceProviderDoc[]>().exec(),
    providersByCommunity: (ids: readonly string[]) =>
      m.ServiceProvider.find({ communityIds: { $in: ids } }).sort({ _id: 1 }).lean<ServiceProviderDoc[]>().exec(),
    providersByCity: (cityCode: string, type: string | null) =>
      m.ServiceProvider.find(type ? { cityCodes: cityCode, type: type as ServiceProviderDoc['type'] } : { cityCodes: cityCode }).sort({ _id: 1 }).lean<ServiceProviderDoc[]>().exec(),
    residentsById: (ids: readonly string[]) => m.Resident.find({ _id: { $in: ids } }).lean<ResidentDoc[]>().exec(),
    residentByClientKey: (clientKey: string) => m.Resident.findOne({ clientKey }).lean<ResidentDoc>().exec(),
    visitByClientKey: (clientKey: string) => m.HomeVisit.findOne({ clientKey }).lean<HomeVisitDoc>().exec(),

    /**
     * Register figures per 小区, district or city in ONE aggregation over the active register.
     * Areas without residents are absent (callers use zeros).
     */
    async elderlyStats(level: StatsLevel, codes: readonly string[]): Promise<(RawElderlyStats & { code: string })[]> {
      const field = levelField(level);
      return foldStats(await m.Resident.aggregate<StatsGroupRow>(statsPipeline(field, { [field]: { $in: [...codes] }, status: 'ACTIVE' }, clock())));
    },

    /** Holiday visits (节假日探视) in the last 12 months per 小区, district or city: one aggregation. */
    async holidayVisits(level: StatsLevel, codes: readonly string[]): Promise<{ code: string; count: number }[]> {
      const field = levelField(level);
      const since = rangeStart('LAST_12M', clock())!;
      return m.HomeVisit.aggregate([
        { $match: { [field]: { $in: [...codes] }, occasion: 'HOLIDAY', visitedAt: { $gte: since } } },
        { $group: { _id: `$${field}`, count: { $sum: 1 } } },
        { $project: { _id: 0, code: '$_id', count: 1 } },
      ]);
    },

    /** Worklist: active residents of a 小区 due before `before`, soonest first (visible rows only). */
    dueResidents: (communityId: string, before: Date, tiers: readonly string[] | null, limit: number, visible: RowFilter) =>
      m.Resident.find(withinArea({
        communityId,
        status: 'ACTIVE',
        nextVisitDue: { $lt: before },
        ...(tiers?.length ? { riskTier: { $in: [...tiers] as ResidentDoc['riskTier'][] } } : {}),
      }, visible))
        .sort({ nextVisitDue: 1, _id: 1 })
        .limit(limit)
        .lean<ResidentDoc[]>().exec(),

    /** One page of a 小区's register by id, plus the total count (both of visible rows only). */
    async residentPage(f: ResidentFilter, first: number, after: string | null, visible: RowFilter) {
      const q: Record<string, unknown> = { communityId: f.communityId };
      if (f.status) q.status = f.status;
      if (f.riskTier?.length) q.riskTier = { $in: [...f.riskTier] };
      if (f.livingArrangement?.length) q.livingArrangement = { $in: [...f.livingArrangement] };
      if (f.overdue === true) q.nextVisitDue = { $lt: clock() };
      if (f.overdue === false) q.$or = [{ nextVisitDue: { $gte: clock() } }, { nextVisitDue: null }];
      const scoped = withinArea(q, visible);
      const pageQuery = after ? { ...scoped, _id: { $gt: after } } : scoped;
      const [docs, totalCount] = await Promise.all([
        m.Resident.find(pageQuery).sort({ _id: 1 }).limit(first + 1).lean<ResidentDoc[]>().exec(),
        m.Resident.countDocuments(scoped),
      ]);
      return { docs: docs.slice(0, first), hasNextPage: docs.length > first, totalCount };
    },

    /** One page of visits, newest first, keyed by (visitedAt, _id) (visible rows only). */
    async visitPage(f: VisitFilter, first: number, after: { at: Date; id: string } | null, visible: RowFilter) {
      const q: Record<string, unknown> = {};
      if (f.elderId) q.elderId = f.elderId;
      if (f.communityId) q.communityId = f.communityId;
      if (f.occasion?.length) q.occasion = { $in: [...f.occasion] };
      if (f.mode?.length) q.mode = { $in: [...f.mode] };
      if (f.from || f.to) q.visitedAt = { ...(f.from ? { $gte: f.from } : {}), ...(f.to ? { $lt: f.to } : {}) };
      const scoped = withinArea(q, visible);
      const pageQuery = after ? withinArea(scoped, { $or: [{ visitedAt: { $lt: after.at } }, { visitedAt: after.at, _id: { $lt: after.id } }] }) : scoped;
      const docs = await m.HomeVisit.find(pageQuery).sort({ visitedAt: -1, _id: -1 }).limit(first + 1).lean<HomeVisitDoc[]>().exec();
      return { docs: docs.slice(0, first), hasNextPage: docs.length > first };
    },

    /**
     * Monthly visit coverage per 小区 of a city or district, lowest rate first (then id), keeping
     * rates below `below`: one aggregation (grouping, rate, filter, sort, page and count). With
     * `suppressSmall` (callers without individual-level access) the 小区 whose rate privacy.ts
     * suppresses (1-4 registered or 1-4 visited) are dropped in the pipeline, before the rate is
     * compared or ranked: a threshold or a rank would reveal the hidden rate.
     */
    async coverage(level: 'CITY' | 'DISTRICT', code: string, below: number, skip: number, limit: number, suppressSmall = true) {
      const field = levelField(level);
      const since = rangeStart('LAST_30D', clock())!;
      const stages: PipelineStage[] = [
        { $match: { [field]: code, status: 'ACTIVE' } },
        { $group: { _id: { c: '$communityId', v: { $gte: ['$lastVisitedAt', since] } }, n: { $sum: 1 } } },
        { $group: { _id: '$_id.c', registered: { $sum: '$n' }, visitedLast30d: { $sum: { $cond: ['$_id.v', '$n', 0] } } } },
        ...(suppressSmall
          ? [{ $match: { registered: { $gte: SUPPRESSION_THRESHOLD }, $or: [{ visitedLast30d: 0 }, { visitedLast30d: { $gte: SUPPRESSION_THRESHOLD } }] } }]
          : []),
        { $addFields: { rate: { $divide: ['$visitedLast30d', '$registered'] } } },
        { $match: { rate: { $lt: below } } },
        { $sort: { rate: 1, _id: 1 } },
        {
          $facet: {
            rows: [{ $skip: skip }, { $limit: limit + 1 }, { $project: { _id: 0, communityId: '$_id', registered: 1, visitedLast30d: 1 } }],
            total: [{ $count: 'n' }],
          },
        },
      ];
      const [out] = await m.Resident.aggregate<{ rows: CoverageRow[]; total: { n: number }[] }>(stages);
      const rows = out?.rows ?? [];
      return { rows: rows.slice(0, limit), hasNextPage: rows.length > limit, totalCount: out?.total[0]?.n ?? 0 };
    },
  };
}
export type Repository = ReturnType<typeof createRepository>;
