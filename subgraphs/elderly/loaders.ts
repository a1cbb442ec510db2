/**
 * Per-request DataLoaders of the elderly subgraph: every `__resolveReference` and every hop from a
 * list to entities goes through one of these, so N 小区 cost one database command per field.
 */
import { entityLoader, groupLoader, keyedLoader } from '../../lib/loader';
import { EMPTY_RAW_STATS, type RawElderlyStats } from './services/privacy';
import type { Repository, StatsLevel } from './services/repository';

export interface StatsKey {
  level: StatsLevel;
  code: string;
}

/** The cache key of a StatsKey (property order matters for the JSON form). */
export const statsKey = (level: StatsLevel, code: string): StatsKey => ({ level, code });

export function createLoaders(repo: Repository) {
  return {
    careTeam: entityLoader((ids) => repo.careTeamsById(ids), (t) => t._id),
    careTeamsByCommunity: groupLoader((ids) => repo.careTeamsByCommunity(ids), (t) => t.communityIds ?? []),
    mealProgram: entityLoader((ids) => repo.mealProgramsById(ids), (p) => p._id),
    mealProgramsByCommunity: groupLoader((ids) => repo.mealProgramsByCommunity(ids), (p) => p.communityIds ?? []),
    mealProgramsByCity: groupLoader((codes) => repo.mealProgramsByCity(codes), (p) => p.cityCodes ?? []),
    provider: entityLoader((ids) => repo.providersById(ids), (p) => p._id),
    providersByCommunity: groupLoader((ids) => repo.providersByCommunity(ids), (p) => p.communityIds ?? []),
    resident: entityLoader((ids) => repo.residentsById(ids), (r) => r._id),
    /** Raw register figures per area; areas without residents get zeros. */
    stats: keyedLoader(async (keys: readonly StatsKey[]) =>
      byLevel(keys, (level, codes) => repo.elderlyStats(level, codes), (row): RawElderlyStats => row, EMPTY_RAW_STATS),
    ),
    holidayVisits: keyedLoader(async (keys: readonly StatsKey[]) =>
      byLevel(keys, (level, codes) => repo.holidayVisits(level, codes), (row) => row.count, 0),
    ),
  };
}
export type Loaders = ReturnType<typeof createLoaders>;

/** Groups keys by level, runs one query per level, answers in key order with a default on miss. */
async function byLevel<R extends { code: string }, V>(
  keys: readonly StatsKey[],
  fetch: (level: StatsLevel, codes: string[]) => Promise<R[]>,
  value: (row: R) => V,
  missing: V,
): Promise<V[]> {
  const groups = new Map<StatsLevel, string[]>();
  for (const k of keys) groups.set(k.level, [...(groups.get(k.level) ?? []), k.code]);
  const results = new Map<string, V>();
  await Promise.all(
    [...groups.entries()].map(async ([level, codes]) => {
      for (const row of await fetch(level, codes)) results.set(`${level}|${row.code}`, value(row));
    }),
  );
  return keys.map((k) => results.get(`${k.level}|${k.code}`) ?? missing);
}
