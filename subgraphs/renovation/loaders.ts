/**
 * Per-request DataLoaders of the renovation subgraph: every `__resolveReference` and every hop from a
 * list to entities goes through one of these, so N 小区 or N areas cost one query per field, and all
 * the statistics fields of a request (City, District and Community alike) share one rollup query.
 */
import DataLoader from 'dataloader';
import { entityLoader, groupLoader, keyedLoader } from '../../lib/loader';
import type { FacilityDoc } from './models';
import type { RollupDoc } from './stats/model';
import type { StatsReader } from './stats/read';
import type { Repository } from './services/repository';
import { nearestFirst, pointOf } from './services/nearby';

/** Conditions that make a facility a gap (`Community.facilityGaps`). */
export const GAP_CONDITIONS: readonly string[] = ['MISSING', 'BROKEN'];

/** A life-circle question: facilities (of `types`, sorted; empty: all) within `metres` of a 小区. */
export interface NearKey {
  id: string;
  metres: number;
  types: string[];
}
export interface NearbyFacilityRow {
  facility: FacilityDoc;
  distanceM: number;
}

/**
 * `now` is the request's instant (one per request, from the context's clock), so the rollup buckets
 * and the exact look at today's projects agree on the day.
 */
export function createLoaders(repo: Repository, stats: StatsReader, now: Date) {
  /** Known 小区 locations: one read per batch. */
  const place = entityLoader((ids) => repo.communityPlaces(ids), (p) => p._id);
  return {
    project: entityLoader((ids) => repo.projectsById(ids), (p) => p._id),
    /** Projects of each 小区, newest plan year first. */
    projectsByCommunity: groupLoader((ids) => repo.projectsByCommunity(ids), (p) => p.communityIds),
    /** The whole inventory of each 小区 (condition filters apply to this small list). */
    facilitiesByCommunity: groupLoader((ids) => repo.facilitiesByCommunity(ids), (f) => f.communityId),
    /**
     * The gaps (MISSING or BROKEN facilities) of each 小区, filtered in the database: a list of 小区
     * asking for its gaps reads those rows only, not the whole inventory.
     */
    gapsByCommunity: groupLoader((ids) => repo.facilitiesByCommunityIn(ids, GAP_CONDITIONS), (f) => f.communityId),
    place,
    /**
     * Facilities near each 小区: its location through `place`, then one indexed circle read per
     * distinct question (the reads of a batch run concurrently); nearest first, ties by id.
     */
    facilitiesNear: keyedLoader<NearKey, NearbyFacilityRow[]>(async (keys) => {
      const places = await Promise.all(keys.map((k) => place.load(k.id)));
      return Promise.all(
        keys.map(async (k, i) => {
          const centre = pointOf(places[i]);
          if (!centre) return [];
          const rows = await repo.facilitiesWithin(centre, k.metres, k.types);
          return nearestFirst(centre, rows, k.metres).map((n) => ({ facility: n.item, distanceM: n.distanceM }));
        }),
      );
    }),
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
