/**
 * Data access of the elderly subgraph. Every read is a batch: many keys, one database command, so
 * the per-request DataLoaders sit in front of it. Statistics are read from the rollups (../stats);
 * raw rows serve lists and single records. Pages are keyset pages over indexed sort keys.
 */
import type { RowFilter } from '../../../lib/auth/directives';
import { now as clockNow } from '../../../lib/clock';
import { unionReaderFor } from '../../../lib/union-reader';
import type { CareTeamDoc, CommunityRefDoc, HomeVisitDoc, MealProgramDoc, Models, ResidentDoc, ServiceProviderDoc } from '../models';
import { createStatsReader } from '../stats/read';

export type { StatsLevel, CoverageRow } from '../stats/read';

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
  /** Reads of one entity batch issued together leave as one command (lib/union-reader.ts). */
  const reads = unionReaderFor(m.Resident.db);
  return {
    models: m,
    now: clock,
    /** Statistics rollups (../stats): batched reads of the area documents and their edge days. */
    stats: createStatsReader(m),

    communityRefs: (ids: readonly string[]) => reads.find<CommunityRefDoc>(m.CommunityRef, { _id: { $in: ids } }),
    /** 小区 of the districts that have a known location (life circle). */
    locatedCommunityRefsOfDistricts: (codes: readonly string[]) =>
      m.CommunityRef.find({ districtCode: { $in: codes }, location: { $exists: true } }).lean<CommunityRefDoc[]>().exec(),
    /** Meal programmes / care facilities located in a box (degrees): one 2dsphere-indexed read. */
    mealProgramsInBox: (box: [[number, number], [number, number]]) =>
      m.MealProgram.find({ location: { $geoWithin: { $box: box } } }).lean<MealProgramDoc[]>().exec(),
    providersInBox: (box: [[number, number], [number, number]]) =>
      m.ServiceProvider.find({ location: { $geoWithin: { $box: box } } }).lean<ServiceProviderDoc[]>().exec(),
    careTeamsById: (ids: readonly string[]) => reads.find<CareTeamDoc>(m.CareTeam, { _id: { $in: ids } }),
    careTeamsByCommunity: (ids: readonly string[]) =>
      reads.find<CareTeamDoc>(m.CareTeam, { communityIds: { $in: ids } }, { sort: { _id: 1 } }),
    mealProgramsById: (ids: readonly string[]) => reads.find<MealProgramDoc>(m.MealProgram, { _id: { $in: ids } }),
    mealProgramsByCommunity: (ids: readonly string[]) =>
      reads.find<MealProgramDoc>(m.MealProgram, { communityIds: { $in: ids } }, { sort: { _id: 1 } }),
    mealProgramsByCity: (cityCodes: readonly string[]) =>
      reads.find<MealProgramDoc>(m.MealProgram, { cityCodes: { $in: cityCodes } }, { sort: { _id: 1 } }),
    mealProgramsOfType: (cityCode: string, type: string) =>
      m.MealProgram.find({ cityCodes: cityCode, type: type as MealProgramDoc['type'] }).sort({ _id: 1 }).lean<MealProgramDoc[]>().exec(),
    providersById: (ids: readonly string[]) => reads.find<ServiceProviderDoc>(m.ServiceProvider, { _id: { $in: ids } }),
    providersByCommunity: (ids: readonly string[]) =>
      reads.find<ServiceProviderDoc>(m.ServiceProvider, { communityIds: { $in: ids } }, { sort: { _id: 1 } }),
    providersByCity: (cityCode: string, type: string | null) =>
      m.ServiceProvider.find(type ? { cityCodes: cityCode, type: type as ServiceProviderDoc['type'] } : { cityCodes: cityCode }).sort({ _id: 1 }).lean<ServiceProviderDoc[]>().exec(),
    residentsById: (ids: readonly string[]) => reads.find<ResidentDoc>(m.Resident, { _id: { $in: ids } }),
    residentByClientKey: (clientKey: string) => m.Resident.findOne({ clientKey }).lean<ResidentDoc>().exec(),
    visitByClientKey: (clientKey: string) => m.HomeVisit.findOne({ clientKey }).lean<HomeVisitDoc>().exec(),

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

  };
}
export type Repository = ReturnType<typeof createRepository>;
