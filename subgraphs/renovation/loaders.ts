/**
 * Per-request DataLoaders of the renovation subgraph: every `__resolveReference` and every hop from a
 * list to entities goes through one of these, so N 小区 or N areas cost one query per field, and all
 * the statistics fields of a request (City, District and Community alike) share one rollup query.
 */
import DataLoader from 'dataloader';
import { entityLoader, groupLoader } from '../../lib/loader';
import type { RollupDoc } from './stats/model';
import type { StatsReader } from './stats/read';
import type { Repository } from './services/repository';

/**
 * `now` is the request's instant (one per request, from the context's clock), so the rollup buckets
 * and the exact look at today's projects agree on the day.
 */
export function createLoaders(repo: Repository, stats: StatsReader, now: Date) {
  return {
    project: entityLoader((ids) => repo.projectsById(ids), (p) => p._id),
    /** Projects of each 小区, newest plan year first. */
    projectsByCommunity: groupLoader((ids) => repo.projectsByCommunity(ids), (p) => p.communityIds),
    /** The whole inventory of each 小区 (condition filters apply to this small list). */
    facilitiesByCommunity: groupLoader((ids) => repo.facilitiesByCommunity(ids), (f) => f.communityId),
    /** Rollup documents of each area (`CITY|code`, `DISTRICT|code`, `COMMUNITY|id`): one query per batch. */
    rollups: groupLoader<RollupDoc>((areas) => stats.docsByArea(areas), (d) => d.area ?? ''),
    /** Projects planned earlier today, per area and plan year (the exact part of "late as of now"). */
    lateToday: new DataLoader<string, Map<number, number>>(async (areas) => {
      const counts = await stats.lateToday(areas, now);
      return areas.map((a) => counts.get(a) ?? new Map<number, number>());
    }),
  };
}
export type Loaders = ReturnType<typeof createLoaders>;
