/**
 * Per-request DataLoaders of the properties subgraph: every `__resolveReference` and every hop from a
 * list to entities goes through one of these, so a list of N 小区 costs one query per field.
 */
import { entityLoader, groupLoader, keyedLoader } from '../../lib/loader';
import type { Repository, AreaLevel } from './services/repository';

export function createLoaders(repo: Repository) {
  return {
    area: entityLoader((codes) => repo.areasByCode(codes), (a) => a._id),
    areaChildren: groupLoader((codes) => repo.areasByParent(codes), (a) => a.parentCode ?? ''),
    community: entityLoader((ids) => repo.communitiesById(ids), (c) => c._id),
    communitiesByNeighborhood: groupLoader((codes) => repo.communitiesByNeighborhood(codes), (c) => c.neighborhoodCode ?? ''),
    communitiesByCompany: groupLoader((usccs) => repo.communitiesByCompany(usccs), (c) => c.currentCompanyUscc ?? ''),
    building: entityLoader((ids) => repo.buildingsById(ids), (b) => b._id),
    buildingsByCommunity: groupLoader((ids) => repo.buildingsByCommunity(ids), (b) => b.communityId),
    company: entityLoader((usccs) => repo.companiesByUscc(usccs), (c) => c._id),
    currentContract: entityLoader((ids) => repo.currentContracts(ids), (c) => c.communityId),
    /** All fee periods of each 小区, newest first (one query for the whole list). */
    feesByCommunity: groupLoader((ids) => repo.feesByCommunity(ids), (f) => f.communityId),
    latestSurvey: entityLoader((ids) => repo.latestSurveys(ids), (s) => s.communityId as string),
    areaCounts: areaLoader(repo.areaCounts.bind(repo)),
    feeSummary: keyedLoader(async (keys: readonly { level: AreaLevel; code: string; period: string | null }[]) =>
      batchByArgs(keys, (level, codes, period) => repo.feeSummaries(level, codes, period)),
    ),
    satisfactionAvg: keyedLoader(async (keys: readonly { level: AreaLevel; code: string; period: string | null }[]) =>
      batchByArgs(keys, (level, codes, period) => repo.satisfactionAverages(level, codes, period)),
    ),
  };
}
export type Loaders = ReturnType<typeof createLoaders>;

function areaLoader<R extends { code: string }>(fetch: (level: AreaLevel, codes: readonly string[]) => Promise<R[]>) {
  return keyedLoader(async (keys: readonly { level: AreaLevel; code: string }[]) =>
    batchByArgs(keys.map((k) => ({ ...k, period: null })), (level, codes) => fetch(level, codes)),
  );
}

/** Groups keys by (level, period), runs one query per group, answers in key order (null on miss). */
async function batchByArgs<R extends { code: string }>(
  keys: readonly { level: AreaLevel; code: string; period: string | null }[],
  fetch: (level: AreaLevel, codes: string[], period: string | null) => Promise<R[]>,
): Promise<(R | null)[]> {
  const groups = new Map<string, { level: AreaLevel; period: string | null; codes: string[] }>();
  for (const k of keys) {
    const g = `${k.level}|${k.period ?? ''}`;
    const entry = groups.get(g) ?? { level: k.level, period: k.period, codes: [] };
    entry.codes.push(k.code);
    groups.set(g, entry);
  }
  const results = new Map<string, R>();
  await Promise.all(
    [...groups.values()].map(async (g) => {
      for (const row of await fetch(g.level, g.codes, g.period)) results.set(`${g.level}|${g.period ?? ''}|${row.code}`, row);
    }),
  );
  return keys.map((k) => results.get(`${k.level}|${k.period ?? ''}|${k.code}`) ?? null);
}
