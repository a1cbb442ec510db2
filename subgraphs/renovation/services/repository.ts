/**
 * Read-side data access of the renovation subgraph: lists and single records from the raw rows.
 * Every function is a batch: it takes many keys and answers with one database command, so
 * DataLoaders in the context can sit in front of it. Statistics (summaries, area statistics, gap
 * counts, trends) read the rollups instead (stats/read.ts).
 */
import { now as clockNow } from '../../../lib/clock';
import { unionReaderFor } from '../../../lib/union-reader';
import type { CommunityPlaceDoc, FacilityDoc, Models, ProjectDoc } from '../models';
import { lateFilter } from './lateness';
import { withinCircle, type LngLat } from './nearby';

export type { AreaLevel, AreaRef, CommunityRef } from '../stats/types';

export interface ProjectFilter {
  cityCode?: string | null;
  districtCode?: string | null;
  communityId?: string | null;
  year?: number | null;
  status?: readonly string[] | null;
  sponsor?: string | null;
  lateOnly?: boolean | null;
}
export interface FacilityFilter {
  cityCode?: string | null;
  districtCode?: string | null;
  communityId?: string | null;
  type?: readonly string[] | null;
  condition?: readonly string[] | null;
}

function projectQuery(f: ProjectFilter, now: Date): Record<string, unknown> {
  const q: Record<string, unknown> = {};
  if (f.cityCode) q.cityCode = f.cityCode;
  if (f.districtCode) q.districtCodes = f.districtCode;
  if (f.communityId) q.communityIds = f.communityId;
  if (f.year != null) q.planYear = f.year;
  if (f.status?.length) q.status = { $in: [...f.status] };
  if (f.sponsor) q.sponsor = f.sponsor;
  if (f.lateOnly) Object.assign(q, lateFilter(now));
  return q;
}

function facilityQuery(f: FacilityFilter): Record<string, unknown> {
  const q: Record<string, unknown> = {};
  if (f.cityCode) q.cityCode = f.cityCode;
  if (f.districtCode) q.districtCode = f.districtCode;
  if (f.communityId) q.communityId = f.communityId;
  if (f.type?.length) q.type = { $in: [...f.type] };
  if (f.condition?.length) q.condition = { $in: [...f.condition] };
  return q;
}

/**
 * `clock` gives "now" for the late flags: the product clock (lib/clock.ts) unless a test pins one
 * through the context options.
 */
export function createRepository(m: Models, clock: () => Date = clockNow) {
  /** Reads of one entity batch issued together leave as one command (lib/union-reader.ts). */
  const reads = unionReaderFor(m.Project.db);
  return {
    now: clock,
    projectsById: (ids: readonly string[]) => reads.find<ProjectDoc>(m.Project, { _id: { $in: ids } }),
    projectsByCommunity: (ids: readonly string[]) =>
      reads.find<ProjectDoc>(m.Project, { communityIds: { $in: ids } }, { sort: { planYear: -1, _id: 1 } }),
    facilitiesByCommunity: (ids: readonly string[]) =>
      reads.find<FacilityDoc>(m.Facility, { communityId: { $in: ids } }, { sort: { communityId: 1, type: 1, buildingId: 1 } }),
    /** The facilities of each 小区 in one of `conditions` (e.g. the gaps), in the inventory's order. */
    facilitiesByCommunityIn: (ids: readonly string[], conditions: readonly string[]) =>
      reads.find<FacilityDoc>(m.Facility, { communityId: { $in: ids }, condition: { $in: conditions } }, { sort: { communityId: 1, type: 1, buildingId: 1 } }),
    /** The known locations of 小区 (life circle). */
    communityPlaces: (ids: readonly string[]) => reads.find<CommunityPlaceDoc>(m.CommunityPlace, { _id: { $in: ids } }),
    /** Facilities (of some types, or all) within `metres` of a point: one 2dsphere-indexed read. */
    facilitiesWithin: (centre: LngLat, metres: number, types: readonly string[] | null) =>
      m.Facility.find({ location: withinCircle(centre, metres), ...(types?.length ? { type: { $in: [...types] } } : {}) } as Record<string, unknown>).lean<FacilityDoc[]>(),

    /** One page of projects by id, plus the total count. */
    async projectPage(filter: ProjectFilter, first: number, after: string | null, now = clock()) {
      const q = projectQuery(filter, now);
      const pageQuery = after ? { $and: [q, { _id: { $gt: after } }] } : q;
      const [docs, totalCount] = await Promise.all([
        reads.find<ProjectDoc>(m.Project, pageQuery, { sort: { _id: 1 }, limit: first + 1 }),
        reads.count(m.Project, q),
      ]);
      return { docs: docs.slice(0, first), hasNextPage: docs.length > first, totalCount };
    },

    /** One page of facility rows by id, plus the total count. */
    async facilityPage(filter: FacilityFilter, first: number, after: string | null) {
      const q = facilityQuery(filter);
      const pageQuery = after ? { $and: [q, { _id: { $gt: after } }] } : q;
      const [docs, totalCount] = await Promise.all([
        reads.find<FacilityDoc>(m.Facility, pageQuery, { sort: { _id: 1 }, limit: first + 1 }),
        reads.count(m.Facility, q),
      ]);
      return { docs: docs.slice(0, first), hasNextPage: docs.length > first, totalCount };
    },
  };
}
export type Repository = ReturnType<typeof createRepository>;
