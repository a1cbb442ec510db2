/**
 * Data access of the properties subgraph. Every function is a batch: it takes many keys and answers
 * with one database command, so DataLoaders in the context can sit in front of it. Raw rows serve
 * lists and single records; area statistics read the rollups (../stats), and their raw-row
 * computation lives on as the tests' reference (../stats/reference.ts).
 */
import type { AdminAreaDoc, CommunityDoc, Models, SurveyDoc } from '../models';

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
  return {
    areasByCode: (codes: readonly string[]) => m.AdminArea.find({ _id: { $in: codes } }).lean<AdminAreaDoc[]>().exec(),
    areasByParent: (codes: readonly string[]) =>
      m.AdminArea.find({ parentCode: { $in: codes } }).sort({ _id: 1 }).lean<AdminAreaDoc[]>().exec(),
    cities: () => m.AdminArea.find({ level: 'CITY' }).sort({ _id: 1 }).lean<AdminAreaDoc[]>().exec(),
    communitiesById: (ids: readonly string[]) => m.Community.find({ _id: { $in: ids } }).lean<CommunityDoc[]>().exec(),
    communitiesByNeighborhood: (codes: readonly string[]) =>
      m.Community.find({ neighborhoodCode: { $in: codes } }).sort({ _id: 1 }).lean<CommunityDoc[]>().exec(),
    communitiesByCompany: (usccs: readonly string[]) =>
      m.Community.find({ currentCompanyUscc: { $in: usccs } }).sort({ _id: 1 }).lean<CommunityDoc[]>().exec(),
    buildingsByCommunity: (ids: readonly string[]) =>
      m.Building.find({ communityId: { $in: ids } }).sort({ communityId: 1, number: 1 }).lean().exec(),
    buildingsById: (ids: readonly string[]) => m.Building.find({ _id: { $in: ids } }).lean().exec(),
    companiesByUscc: (usccs: readonly string[]) => m.Company.find({ _id: { $in: usccs } }).lean().exec(),
    currentContracts: (communityIds: readonly string[]) =>
      m.Contract.find({ communityId: { $in: communityIds }, current: true }).lean().exec(),
    feesByCommunity: (communityIds: readonly string[]) =>
      m.Fee.find({ communityId: { $in: communityIds } }).sort({ communityId: 1, period: -1 }).lean().exec(),
    /** All surveys of each 小区 (a few a year), for its monthly trend. */
    surveysByCommunity: (communityIds: readonly string[]) =>
      m.Survey.find({ communityId: { $in: communityIds } }).lean<SurveyDoc[]>().exec(),
    /** Each 小区's latest survey: greatest period, then the latest recorded, then the greatest id. */
    latestSurveys: async (communityIds: readonly string[]) =>
      m.Survey.aggregate([
        { $match: { communityId: { $in: [...communityIds] } } },
        { $sort: { communityId: 1, period: -1, createdAt: -1, _id: -1 } },
        { $group: { _id: '$communityId', doc: { $first: '$$ROOT' } } },
        { $replaceRoot: { newRoot: '$doc' } },
      ]),

    /** One page of 小区 matching a filter, by id, plus the total count. */
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
        m.Community.find(pageQuery).sort({ _id: 1 }).limit(first + 1).lean<CommunityDoc[]>().exec(),
        m.Community.countDocuments(q),
      ]);
      return { docs: docs.slice(0, first), hasNextPage: docs.length > first, totalCount };
    },
  };
}
export type Repository = ReturnType<typeof createRepository>;
