/**
 * Per-request DataLoaders of the properties subgraph: every `__resolveReference` and every hop from a
 * list to entities goes through one of these, so a list of N 小区 costs one query per field.
 * Statistics read rollup documents by `_id` through one loader (`stats`), so every statistics field
 * of every area in a request (counts, rates, satisfaction, trends, the district ranking) is one query.
 */
import { entityLoader, groupLoader, keyedLoader } from '../../lib/loader';
import type { FeeDoc } from './models';
import type { Repository } from './services/repository';
import type { StatsReader } from './stats';

export function createLoaders(repo: Repository, stats: StatsReader) {
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
    /** Each 小区's latest fee row (a list asking for one figure per 小区 reads one row each, not its history). */
    latestFee: entityLoader((ids) => repo.latestFees(ids), (f) => f.communityId),
    /** The fee row of a 小区 in one period: one query per period asked for in the request. */
    feeInPeriod: keyedLoader<{ id: string; period: string }, FeeDoc | null>(async (keys) => {
      const byPeriod = new Map<string, string[]>();
      for (const k of keys) {
        const ids = byPeriod.get(k.period);
        if (ids) ids.push(k.id);
        else byPeriod.set(k.period, [k.id]);
      }
      const found = new Map<string, FeeDoc>();
      await Promise.all(
        [...byPeriod].map(async ([period, ids]) => {
          for (const f of await repo.feesInPeriod(ids, period)) found.set(`${f.period}\n${f.communityId}`, f);
        }),
      );
      return keys.map((k) => found.get(`${k.period}\n${k.id}`) ?? null);
    }),
    surveysByCommunity: groupLoader((ids) => repo.surveysByCommunity(ids), (s) => s.communityId),
    latestSurvey: entityLoader((ids) => repo.latestSurveys(ids), (s) => s.communityId as string),
    /** Rollup documents by `_id` (stats/model.ts); null when the bucket holds nothing. */
    stats: entityLoader((ids) => stats.docs(ids), (d) => d._id),
  };
}
export type Loaders = ReturnType<typeof createLoaders>;
