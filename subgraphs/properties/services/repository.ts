/**
 * Data access of the properties subgraph. Every function is a batch: it takes many keys and answers
 * with one database command, so DataLoaders in the context can sit in front of it. Aggregates are
 * computed by the database.
 */
import type { PipelineStage } from 'mongoose';
import type { AdminAreaDoc, CommunityDoc, Models } from '../models';
import { amountRate, clearanceRate, householdRate, type DistrictFeeRankRow, type RateSummaryRow } from './fees';

export type AreaLevel = 'CITY' | 'DISTRICT';
const areaField = (level: AreaLevel) => (level === 'CITY' ? 'cityCode' : 'districtCode');

export interface AreaCounts {
  code: string;
  communityCount: number;
  oldCommunityCount: number;
  managed: number;
  modeKnown: number;
}

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
    latestSurveys: async (communityIds: readonly string[]) =>
      m.Survey.aggregate([
        { $match: { communityId: { $in: [...communityIds] } } },
        { $sort: { communityId: 1, period: -1 } },
        { $group: { _id: '$communityId', doc: { $first: '$$ROOT' } } },
        { $replaceRoot: { newRoot: '$doc' } },
      ]),

    /** Community, old-community and managed counts per city or district, in one aggregation. */
    async areaCounts(level: AreaLevel, codes: readonly string[]): Promise<AreaCounts[]> {
      const field = areaField(level);
      return m.Community.aggregate<AreaCounts>([
        { $match: { [field]: { $in: [...codes] } } },
        {
          $group: {
            _id: `$${field}`,
            communityCount: { $sum: 1 },
            oldCommunityCount: { $sum: { $cond: [{ $eq: ['$isOldCommunity', true] }, 1, 0] } },
            // Known when the mode is recorded or a current contract shows a company serves it.
            modeKnown: {
              $sum: {
                $cond: [{ $or: [{ $ne: [{ $ifNull: ['$managementMode', null] }, null] }, { $ne: [{ $ifNull: ['$currentCompanyUscc', null] }, null] }] }, 1, 0],
              },
            },
            managed: {
              $sum: {
                $cond: [
                  {
                    $or: [
                      { $and: [{ $ne: [{ $ifNull: ['$managementMode', null] }, null] }, { $ne: ['$managementMode', 'NONE'] }] },
                      { $and: [{ $eq: [{ $ifNull: ['$managementMode', null] }, null] }, { $ne: [{ $ifNull: ['$currentCompanyUscc', null] }, null] }] },
                    ],
                  },
                  1,
                  0,
                ],
              },
            },
          },
        },
        { $project: { _id: 0, code: '$_id', communityCount: 1, oldCommunityCount: 1, modeKnown: 1, managed: 1 } },
      ]);
    },

    /**
     * Fee figures summed per city or district for a period; with no period, each 小区's latest
     * period counts.
     */
    async feeSummaries(level: AreaLevel, codes: readonly string[], period: string | null): Promise<(RateSummaryRow & { code: string })[]> {
      const field = areaField(level);
      const stages: PipelineStage[] = [{ $match: period ? { [field]: { $in: [...codes] }, period } : { [field]: { $in: [...codes] } } }];
      if (!period) {
        stages.push({ $sort: { communityId: 1, period: -1 } }, { $group: { _id: '$communityId', doc: { $first: '$$ROOT' } } }, { $replaceRoot: { newRoot: '$doc' } });
      }
      stages.push(
        {
          $group: {
            _id: `$${field}`,
            communities: { $sum: 1 },
            chargeableHouseholds: { $sum: { $ifNull: ['$chargeableHouseholds', 0] } },
            paidHouseholds: { $sum: { $ifNull: ['$paidHouseholds', 0] } },
            receivableFen: { $sum: { $ifNull: ['$receivableFen', 0] } },
            receivedFen: { $sum: { $ifNull: ['$receivedFen', 0] } },
            historicalArrearsFen: { $sum: { $ifNull: ['$historicalArrearsFen', 0] } },
            arrearsRecoveredFen: { $sum: { $ifNull: ['$arrearsRecoveredFen', 0] } },
          },
        },
        { $addFields: { code: '$_id', period: period ?? null } },
      );
      return m.Fee.aggregate(stages);
    },

    /** Mean survey percent per city or district (latest survey per 小区 when no period). */
    async satisfactionAverages(level: AreaLevel, codes: readonly string[], period: string | null): Promise<{ code: string; avg: number | null }[]> {
      const field = areaField(level);
      const stages: PipelineStage[] = [
        { $match: period ? { [field]: { $in: [...codes] }, period, percent: { $ne: null } } : { [field]: { $in: [...codes] }, percent: { $ne: null } } },
      ];
      if (!period) {
        stages.push({ $sort: { communityId: 1, period: -1 } }, { $group: { _id: '$communityId', doc: { $first: '$$ROOT' } } }, { $replaceRoot: { newRoot: '$doc' } });
      }
      stages.push({ $group: { _id: `$${field}`, avg: { $avg: '$percent' } } }, { $project: { _id: 0, code: '$_id', avg: 1 } });
      return m.Survey.aggregate(stages);
    },

    /** Districts of a city ranked by one fee rate in a period, computed here (the gateway cannot sort). */
    async districtFeeRanking(cityCode: string, period: string, by: 'HOUSEHOLD' | 'AMOUNT' | 'CLEARANCE'): Promise<DistrictFeeRankRow[]> {
      const districts = await m.AdminArea.find({ parentCode: cityCode, level: 'DISTRICT' }).select({ _id: 1 }).lean();
      const rows = await this.feeSummaries('DISTRICT', districts.map((d) => d._id), period);
      const rate = by === 'HOUSEHOLD' ? householdRate : by === 'CLEARANCE' ? clearanceRate : amountRate;
      const scored = rows.map((r) => ({ row: r, value: rate(r) }));
      scored.sort((a, b) => (b.value ?? -1) - (a.value ?? -1) || a.row.code.localeCompare(b.row.code));
      return scored.map((s, i) => ({ rank: i + 1, districtCode: s.row.code, summary: s.row }));
    },

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
