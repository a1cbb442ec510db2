/**
 * Per-request DataLoaders of the properties subgraph: every `__resolveReference` and every hop from a
 * list to entities goes through one of these, so a list of N 小区 costs one query per field.
 * Statistics read rollup documents by `_id` through one loader (`stats`), so every statistics field
 * of every area in a request (counts, rates, satisfaction, trends, the district ranking) is one query.
 */
import { entityLoader, groupLoader } from '../../lib/loader';
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
    surveysByCommunity: groupLoader((ids) => repo.surveysByCommunity(ids), (s) => s.communityId),
    latestSurvey: entityLoader((ids) => repo.latestSurveys(ids), (s) => s.communityId as string),
    /** Rollup documents by `_id` (stats/model.ts); null when the bucket holds nothing. */
    stats: entityLoader((ids) => stats.docs(ids), (d) => d._id),
  };
}
export type Loaders = ReturnType<typeof createLoaders>;
