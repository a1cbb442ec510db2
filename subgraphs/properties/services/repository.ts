/**
 * Data access of the properties subgraph. Every function is a batch: it takes many keys and answers
 * with one database command, so DataLoaders in the context can sit in front of it. Raw rows serve
 * lists and single records; area statistics read the rollups (../stats), and their raw-row
 * computation lives on as the tests' reference (../stats/reference.ts).
 */
import { unionReaderFor } from '../../../lib/union-reader';
import type { AdminAreaDoc, BuildingDoc, CommunityDoc, CompanyDoc, ContractDoc, FeeDoc, Models, SurveyDoc } from '../models';

export interface CommunityFilterInput {
  cityCode?: string | null;
  districtCode?: string | null;
  streetCode?: string | null;
  isOldCommunity?: boolean | null;
  managementMode?: readonly string[] | null;
  housingType?: readonly string[] | null;
  companyUscc?: string | null;
}

export function createRepository(m: Models) {
  /** Reads of one entity batch issued together leave as one command (lib/union-reader.ts). */
  const reads = unionReaderFor(m.Community.db);
  return {
    areasByCode: (codes: readonly string[]) => reads.find<AdminAreaDoc>(m.AdminArea, { _id: { $in: codes } }),
    areasByParent: (codes: readonly string[]) => reads.find<AdminAreaDoc>(m.AdminArea, { parentCode: { $in: codes } }, { sort: { _id: 1 } }),
    cities: () => reads.find<AdminAreaDoc>(m.AdminArea, { level: 'CITY' }, { sort: { _id: 1 } }),
    communitiesById: (ids: readonly string[]) => reads.find<CommunityDoc>(m.Community, { _id: { $in: ids } }),
    communitiesByNeighborhood: (codes: readonly string[]) =>
      reads.find<CommunityDoc>(m.Community, { neighborhoodCode: { $in: codes } }, { sort: { _id: 1 } }),
    communitiesByCompany: (usccs: readonly string[]) =>
      reads.find<CommunityDoc>(m.Community, { currentCompanyUscc: { $in: usccs } }, { sort: { _id: 1 } }),
    buildingsByCommunity: (ids: readonly string[]) =>
      reads.find<BuildingDoc>(m.Building, { communityId: { $in: ids } }, { sort: { communityId: 1, number: 1 } }),
    buildingsById: (ids: readonly string[]) => reads.find<BuildingDoc>(m.Building, { _id: { $in: ids } }),
    companiesByUscc: (usccs: readonly string[]) => reads.find<CompanyDoc>(m.Company, { _id: { $in: usccs } }),
    currentContracts: (communityIds: readonly string[]) =>
      reads.find<ContractDoc>(m.Contract, { communityId: { $in: communityIds }, current: true }),
    feesByCommunity: (communityIds: readonly string[]) =>
      reads.find<FeeDoc>(m.Fee, { communityId: { $in: communityIds } }, { sort: { communityId: 1, period: -1 } }),
    /** Each 小区's fee row of its latest period (one row per 小区 and period: a unique index). */
    latestFees: (communityIds: readonly string[]) =>
      reads.aggregate<FeeDoc>(m.Fee, [
        { $match: { communityId: { $in: [...communityIds] } } },
        { $sort: { communityId: 1, period: -1 } },
        { $group: { _id: '$communityId', doc: { $first: '$$ROOT' } } },
        { $replaceRoot: { newRoot: '$doc' } },
      ]),
    /** The fee rows of one period of the 小区 given. */
    feesInPeriod: (communityIds: readonly string[], period: string) =>
      reads.find<FeeDoc>(m.Fee, { communityId: { $in: communityIds }, period }),
    /** All surveys of each 小区 (a few a year), for its monthly trend. */
    surveysByCommunity: (communityIds: readonly string[]) => reads.find<SurveyDoc>(m.Survey, { communityId: { $in: communityIds } }),
    /** Each 小区's latest survey: greatest period, then the latest recorded, then the greatest id. */
    latestSurveys: async (communityIds: readonly string[]) =>
      reads.aggregate<SurveyDoc>(m.Survey, [
        { $match: { communityId: { $in: [...communityIds] } } },
        { $sort: { communityId: 1, period: -1, createdAt: -1, _id: -1 } },
        { $group: { _id: '$communityId', doc: { $first: '$$ROOT' } } },
        { $replaceRoot: { newRoot: '$doc' } },
      ]),

    /** One page of 小区 matching a filter, by id, plus the total count (one command for both). */
    async communityPage(filter: CommunityFilterInput, first: number, after: string | null) {
      const q: Record<string, unknown> = {};
      if (filter.cityCode) q.cityCode = filter.cityCode;
      if (filter.districtCode) q.districtCode = filter.districtCode;
      if (filter.streetCode) q.streetCode = filter.streetCode;
      if (filter.isOldCommunity != null) q.isOldCommunity = filter.isOldCommunity;
      if (filter.managementMode?.length) q.managementMode = { $in: [...filter.managementMode] };
      if (filter.housingType?.length) q.housingType = { $in: [...filter.housingType] };
      if (filter.companyUscc) q.currentCompanyUscc = filter.companyUscc;
      const pageQuery = after ? { ...q, _id: { $gt: after } } : q;
      const [docs, totalCount] = await Promise.all([
        reads.find<CommunityDoc>(m.Community, pageQuery, { sort: { _id: 1 }, limit: first + 1 }),
        reads.count(m.Community, q),
      ]);
      return { docs: docs.slice(0, first), hasNextPage: docs.length > first, totalCount };
    },
  };
}
export type Repository = ReturnType<typeof createRepository>;
