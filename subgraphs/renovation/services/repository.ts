/**
 * Read-side data access of the renovation subgraph: lists and single records from the raw rows.
 * Every function is a batch: it takes many keys and answers with one database command, so
 * DataLoaders in the context can sit in front of it. Statistics (summaries, area statistics, gap
 * counts, trends) read the rollups instead (stats/read.ts).
 */
import { now as clockNow } from '../../../lib/clock';
import type { FacilityDoc, Models, ProjectDoc } from '../models';
import { lateFilter } from './lateness';

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
  return {
    now: clock,
    projectsById: (ids: readonly string[]) => m.Project.find({ _id: { $in: ids } }).lean<ProjectDoc[]>(),
    projectsByCommunity: (ids: readonly string[]) =>
      m.Project.find({ communityIds: { $in: ids } }).sort({ planYear: -1, _id: 1 }).lean<ProjectDoc[]>(),
    facilitiesByCommunity: (ids: readonly string[]) =>
      m.Facility.find({ communityId: { $in: ids } }).sort({ communityId: 1, type: 1, buildingId: 1 }).lean<FacilityDoc[]>(),

    /** One page of projects by id, plus the total count. */
    async projectPage(filter: ProjectFilter, first: number, after: string | null, now = clock()) {
      const q = projectQuery(filter, now);
      const pageQuery = after ? { $and: [q, { _id: { $gt: after } }] } : q;
      const [docs, totalCount] = await Promise.all([
        m.Project.find(pageQuery).sort({ _id: 1 }).limit(first + 1).lean<ProjectDoc[]>(),
        m.Project.countDocuments(q),
      ]);
      return { docs: docs.slice(0, first), hasNextPage: docs.length > first, totalCount };
    },

    /** One page of facility rows by id, plus the total count. */
    async facilityPage(filter: FacilityFilter, first: number, after: string | null) {
      const q = facilityQuery(filter);
      const pageQuery = after ? { $and: [q, { _id: { $gt: after } }] } : q;
      const [docs, totalCount] = await Promise.all([
        m.Facility.find(pageQuery).sort({ _id: 1 }).limit(first + 1).lean<FacilityDoc[]>(),
        m.Facility.countDocuments(q),
      ]);
      return { docs: docs.slice(0, first), hasNextPage: docs.length > first, totalCount };
    },
  };
}
export type Repository = ReturnType<typeof createRepository>;
