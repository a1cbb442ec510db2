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

export interface StatsKey {
  level: StatsLevel;
  code: string;
}

/** The cache key of a StatsKey (property order matters for the JSON form). */
export const statsKey = (level: StatsLevel, code: string): StatsKey => ({ level, code });

export function createLoaders(repo: Repository) {
  const windows: Windows = windowsAt(repo.now());
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

  return {
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
    dueToday: edgeLoader(repo.stats.dueToday),
    visitedBefore30: edgeLoader(repo.stats.visitedBefore30),
    holidayBefore365: edgeLoader(repo.stats.holidayBefore365),
  };
}
export type Loaders = ReturnType<typeof createLoaders>;
