/**
 * Per-request DataLoaders of the elderly subgraph: every `__resolveReference` and every hop from a
 * list to entities goes through one of these, so N 小区 cost one database command per field.
 * Statistics read the rollups (./stats): one command for the area documents of every area the
 * request asks about (any level), and one per level for each edge-day count a requested figure
 * needs. One instant per request: every figure of a response is computed as of the same `now`.
 */
import { entityLoader, groupLoader, keyedLoader } from '../../lib/loader';
import { areaId } from './stats/contribution';
import { windowsAt, type AreaDoc, type StatsLevel, type Windows } from './stats';
import type { Repository } from './services/repository';
import { boxAround, pointOf, withinEach, type LngLat } from './services/lifecircle';
import type { MealProgramDoc, ServiceProviderDoc } from './models';

export interface NearKey {
  id: string;
  metres: number;
}
export interface LifeCircleKey {
  code: string;
  metres: number;
}
export interface Nearby<T> {
  item: T;
  distanceM: number;
}
export interface LifeCircle {
  metres: number;
  communitiesWithLocation: number;
  covered: number;
}

/** Group keys by their radius: one batch of reads per radius. */
function byMetres<K extends { metres: number }>(keys: readonly K[]): Map<number, K[]> {
  const out = new Map<number, K[]>();
  for (const k of keys) (out.get(k.metres) ?? out.set(k.metres, []).get(k.metres)!).push(k);
  return out;
}

export interface StatsKey {
  level: StatsLevel;
  code: string;
}

/** The cache key of a StatsKey (property order matters for the JSON form). */
export const statsKey = (level: StatsLevel, code: string): StatsKey => ({ level, code });

export function createLoaders(repo: Repository) {
  const windows: Windows = windowsAt(repo.now());
  /** Both resident edge counts of an area (overdue today, visited on the 30-day edge): one query per level. */
  const residentEdges = keyedLoader(async (keys: readonly StatsKey[]) => {
    const groups = new Map<StatsLevel, string[]>();
    for (const k of keys) groups.set(k.level, [...(groups.get(k.level) ?? []), k.code]);
    const results = new Map<string, { dueToday: number; visitedBefore30: number }>();
    await Promise.all(
      [...groups.entries()].map(async ([level, codes]) => {
        for (const [code, e] of await repo.stats.residentEdges(level, codes, windows)) results.set(areaId(level, code), e);
      }),
    );
    return keys.map((k) => results.get(areaId(k.level, k.code)) ?? { dueToday: 0, visitedBefore30: 0 });
  });
  /** An edge-day count per area: one query per level for the batch; areas without rows get 0. */
  const edgeLoader = (count: (level: StatsLevel, codes: readonly string[], w: Windows) => Promise<Map<string, number>>) =>
    keyedLoader(async (keys: readonly StatsKey[]) => {
      const groups = new Map<StatsLevel, string[]>();
      for (const k of keys) groups.set(k.level, [...(groups.get(k.level) ?? []), k.code]);
      const results = new Map<string, number>();
      await Promise.all(
        [...groups.entries()].map(async ([level, codes]) => {
          for (const [code, n] of await count(level, codes, windows)) results.set(areaId(level, code), n);
        }),
      );
      return keys.map((k) => results.get(areaId(k.level, k.code)) ?? 0);
    });

  /** Facilities within the radius of each 小区: one read of the 小区, one geo read of the candidates. */
  const nearLoader = <T extends { _id: string; location?: unknown }>(inBox: (box: [LngLat, LngLat]) => Promise<T[]>) =>
    keyedLoader<NearKey, Nearby<T>[]>(async (keys) => {
      const refs = new Map((await repo.communityRefs([...new Set(keys.map((k) => k.id))])).map((r) => [r._id, r]));
      const results = new Map<NearKey, Nearby<T>[]>();
      for (const [metres, group] of byMetres(keys)) {
        const centres = group.map((k) => pointOf(refs.get(k.id) as never));
        const located = centres.filter((c): c is LngLat => c !== null);
        const candidates = located.length ? await inBox(boxAround(located, metres)) : [];
        withinEach(centres, candidates as never[], metres).forEach((rows, i) => results.set(group[i], rows as Nearby<T>[]));
      }
      return keys.map((k) => results.get(k) ?? []);
    });

  return {
    mealProgramsNear: nearLoader<MealProgramDoc>((box) => repo.mealProgramsInBox(box)),
    providersNear: nearLoader<ServiceProviderDoc>((box) => repo.providersInBox(box)),
    /** Share of a district's located 小区 with a meal programme within the radius. */
    lifeCircle: keyedLoader<LifeCircleKey, LifeCircle>(async (keys) => {
      const refs = await repo.locatedCommunityRefsOfDistricts([...new Set(keys.map((k) => k.code))]);
      const results = new Map<LifeCircleKey, LifeCircle>();
      for (const [metres, group] of byMetres(keys)) {
        const codes = new Set(group.map((k) => k.code));
        const mine = refs.filter((r) => codes.has(r.districtCode));
        const centres = mine.map((r) => pointOf(r as never));
        const located = centres.filter((c): c is LngLat => c !== null);
        const programs = located.length ? await repo.mealProgramsInBox(boxAround(located, metres)) : [];
        const near = withinEach(centres, programs as never[], metres);
        for (const k of group) {
          let n = 0;
          let covered = 0;
          mine.forEach((r, i) => {
            if (r.districtCode !== k.code || !centres[i]) return;
            n++;
            if (near[i].length > 0) covered++;
          });
          results.set(k, { metres, communitiesWithLocation: n, covered });
        }
      }
      return keys.map((k) => results.get(k)!);
    }),
    careTeam: entityLoader((ids) => repo.careTeamsById(ids), (t) => t._id),
    careTeamsByCommunity: groupLoader((ids) => repo.careTeamsByCommunity(ids), (t) => t.communityIds ?? []),
    mealProgram: entityLoader((ids) => repo.mealProgramsById(ids), (p) => p._id),
    mealProgramsByCommunity: groupLoader((ids) => repo.mealProgramsByCommunity(ids), (p) => p.communityIds ?? []),
    mealProgramsByCity: groupLoader((codes) => repo.mealProgramsByCity(codes), (p) => p.cityCodes ?? []),
    provider: entityLoader((ids) => repo.providersById(ids), (p) => p._id),
    providersByCommunity: groupLoader((ids) => repo.providersByCommunity(ids), (p) => p.communityIds ?? []),
    resident: entityLoader((ids) => repo.residentsById(ids), (r) => r._id),
    /** The instants of this request's statistics. */
    windows,
    /** Rollup documents of areas of any level in one query; null for an area nobody contributes to. */
    statsArea: keyedLoader<StatsKey, AreaDoc | null>(async (keys) => {
      const docs = await repo.stats.areas(keys);
      return keys.map((k) => docs.get(areaId(k.level, k.code)) ?? null);
    }),
    dueToday: { load: (key: StatsKey) => residentEdges.load(key).then((e) => e.dueToday) },
    visitedBefore30: { load: (key: StatsKey) => residentEdges.load(key).then((e) => e.visitedBefore30) },
    holidayBefore365: edgeLoader(repo.stats.holidayBefore365),
  };
}
export type Loaders = ReturnType<typeof createLoaders>;
