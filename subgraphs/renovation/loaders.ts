/**
 * Per-request DataLoaders of the renovation subgraph: every `__resolveReference` and every hop from a
 * list to entities goes through one of these, so N 小区 or N areas cost one query per field.
 */
import { entityLoader, groupLoader, keyedLoader } from '../../lib/loader';
import type { AreaLevel, GapRow, Repository, StatsRow } from './services/repository';

export function createLoaders(repo: Repository) {
  return {
    project: entityLoader((ids) => repo.projectsById(ids), (p) => p._id),
    /** Projects of each 小区, newest plan year first. */
    projectsByCommunity: groupLoader((ids) => repo.projectsByCommunity(ids), (p) => p.communityIds),
    /** The whole inventory of each 小区 (condition filters apply to this small list). */
    facilitiesByCommunity: groupLoader((ids) => repo.facilitiesByCommunity(ids), (f) => f.communityId),
    summary: entityLoader((ids) => repo.summaries(ids), (s) => s.communityId),
    /** Statistics per (level, code, year): one aggregation per (level, year) for all codes. */
    stats: keyedLoader(async (keys: readonly { level: AreaLevel; code: string; year: number | null }[]) => {
      const groups = new Map<string, { level: AreaLevel; year: number | null; codes: string[] }>();
      for (const k of keys) {
        const g = `${k.level}|${k.year ?? ''}`;
        const entry = groups.get(g) ?? { level: k.level, year: k.year, codes: [] };
        entry.codes.push(k.code);
        groups.set(g, entry);
      }
      const found = new Map<string, StatsRow>();
      await Promise.all(
        [...groups.values()].map(async (g) => {
          for (const row of await repo.areaStats(g.level, g.codes, g.year)) found.set(`${g.level}|${g.year ?? ''}|${row.code}`, row);
        }),
      );
      return keys.map((k) => found.get(`${k.level}|${k.year ?? ''}|${k.code}`) ?? null);
    }),
    /** Facility gap counts per (level, code): one aggregation per level for all codes. */
    gaps: keyedLoader(async (keys: readonly { level: AreaLevel; code: string }[]) => {
      const found = new Map<string, GapRow[]>();
      for (const level of ['CITY', 'DISTRICT'] as const) {
        const codes = keys.filter((k) => k.level === level).map((k) => k.code);
        if (!codes.length) continue;
        for (const row of await repo.gapStats(level, codes)) {
          const key = `${level}|${row.code}`;
          found.set(key, [...(found.get(key) ?? []), row]);
        }
      }
      return keys.map((k) => found.get(`${k.level}|${k.code}`) ?? []);
    }),
  };
}
export type Loaders = ReturnType<typeof createLoaders>;
