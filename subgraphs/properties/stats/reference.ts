/**
 * The raw-row computation of every statistic (what the subgraph answered before the rollups),
 * kept as the reference the tests compare the rollups with. Statistics resolvers never call it:
 * each of these rescans the raw rows of the areas asked for.
 */
import type { PipelineStage } from 'mongoose';
import type { Models } from '../models';
import { amountRate, clearanceRate, householdRate, rankByRate, type DistrictFeeRankRow, type FeeRateKind, type RateSummaryRow } from '../services/fees';

export type ReferenceLevel = 'CITY' | 'DISTRICT' | 'STREET';

export interface AreaCounts {
  code: string;
  communityCount: number;
  oldCommunityCount: number;
  managed: number;
  modeKnown: number;
}

export interface ReferenceMonth {
  month: string;
  communities: number;
  householdRate: number | null;
  amountRate: number | null;
  clearanceRate: number | null;
  surveys: number;
  satisfactionAvg: number | null;
}

const sum = <T>(rows: readonly T[], key: keyof T) => rows.reduce((s, r) => s + ((r[key] as number | null) ?? 0), 0);
const registerField = (level: ReferenceLevel) => (level === 'CITY' ? 'cityCode' : level === 'DISTRICT' ? 'districtCode' : 'streetCode');

export function createReference(m: Models) {
  /**
   * Fee rows and surveys carry their 小区's city and district: grouped by that field. A street's
   * rows are those of the 小区 registered in it: grouped by 小区 in the database, then added up per
   * street here.
   */
  async function perArea<T extends { code: string }>(
    level: ReferenceLevel,
    codes: readonly string[],
    run: (match: Record<string, unknown>, groupKey: string) => Promise<T[]>,
    combine: (code: string, rows: T[]) => T,
  ): Promise<T[]> {
    if (level !== 'STREET') {
      const field = registerField(level);
      return run({ [field]: { $in: [...codes] } }, `$${field}`);
    }
    const register = await m.Community.find({ streetCode: { $in: [...codes] } }).select({ _id: 1, streetCode: 1 }).lean();
    const streetOf = new Map(register.map((r) => [r._id, r.streetCode as string]));
    const perCommunity = await run({ communityId: { $in: register.map((r) => r._id) } }, '$communityId');
    return codes.flatMap((code) => {
      const rows = perCommunity.filter((r) => streetOf.get(r.code) === code);
      return rows.length ? [combine(code, rows)] : [];
    });
  }

  const reference = {
    /** Community, old-community and managed counts per area, in one aggregation. */
    async areaCounts(level: ReferenceLevel, codes: readonly string[]): Promise<AreaCounts[]> {
      const field = registerField(level);
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

    /** Fee figures summed per area for a period; with no period, each 小区's latest period counts. */
    async feeSummaries(level: ReferenceLevel, codes: readonly string[], period: string | null): Promise<(RateSummaryRow & { code: string })[]> {
      return perArea(
        level,
        codes,
        (match, groupKey) => {
          const stages: PipelineStage[] = [{ $match: period ? { ...match, period } : match }];
          if (!period) {
            stages.push({ $sort: { communityId: 1, period: -1 } }, { $group: { _id: '$communityId', doc: { $first: '$$ROOT' } } }, { $replaceRoot: { newRoot: '$doc' } });
          }
          stages.push(
            {
              $group: {
                _id: groupKey,
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
        (code, rows) => ({
          code,
          period: period ?? null,
          communities: sum(rows, 'communities'),
          chargeableHouseholds: sum(rows, 'chargeableHouseholds'),
          paidHouseholds: sum(rows, 'paidHouseholds'),
          receivableFen: sum(rows, 'receivableFen'),
          receivedFen: sum(rows, 'receivedFen'),
          historicalArrearsFen: sum(rows, 'historicalArrearsFen'),
          arrearsRecoveredFen: sum(rows, 'arrearsRecoveredFen'),
        }),
      );
    },

    /**
     * Mean survey percent per area over the surveys that give one: of the period, or each 小区's
     * latest (greatest period, then the latest recorded, then the greatest id).
     */
    async satisfactionAverages(level: ReferenceLevel, codes: readonly string[], period: string | null): Promise<{ code: string; avg: number | null; n: number }[]> {
      return perArea(
        level,
        codes,
        (match, groupKey) => {
          const stages: PipelineStage[] = [{ $match: period ? { ...match, period, percent: { $ne: null } } : { ...match, percent: { $ne: null } } }];
          if (!period) {
            stages.push(
              { $sort: { communityId: 1, period: -1, createdAt: -1, _id: -1 } },
              { $group: { _id: '$communityId', doc: { $first: '$$ROOT' } } },
              { $replaceRoot: { newRoot: '$doc' } },
            );
          }
          stages.push({ $group: { _id: groupKey, avg: { $avg: '$percent' }, n: { $sum: 1 } } }, { $project: { _id: 0, code: '$_id', avg: 1, n: 1 } });
          return m.Survey.aggregate(stages);
        },
        (code, rows) => {
          const n = sum(rows, 'n');
          return { code, n, avg: rows.reduce((s, r) => s + (r.avg ?? 0) * r.n, 0) / n };
        },
      );
    },

    /** Districts of a city ranked by one fee rate in a period. */
    async districtFeeRanking(cityCode: string, period: string, by: FeeRateKind): Promise<DistrictFeeRankRow[]> {
      const districts = await m.AdminArea.find({ parentCode: cityCode, level: 'DISTRICT' }).select({ _id: 1 }).lean();
      return rankByRate(await reference.feeSummaries('DISTRICT', districts.map((d) => d._id), period), by);
    },

    /** Areas' months (fee rows and surveys whose period is the month), by area code. */
    async areaTrends(level: ReferenceLevel, codes: readonly string[], months: readonly string[]): Promise<Map<string, ReferenceMonth[]>> {
      const perMonth = await Promise.all(
        months.map(async (month) => {
          const [fees, sats] = await Promise.all([reference.feeSummaries(level, codes, month), reference.satisfactionAverages(level, codes, month)]);
          return { fees, sats };
        }),
      );
      return new Map(
        codes.map((code) => [
          code,
          months.map((month, i) => monthOf(month, perMonth[i].fees.find((r) => r.code === code) ?? null, perMonth[i].sats.find((r) => r.code === code) ?? null)),
        ]),
      );
    },

    /** A 小区's months from its own rows. */
    async communityTrend(communityId: string, months: readonly string[]): Promise<ReferenceMonth[]> {
      const [fees, sats] = await Promise.all([
        m.Fee.find({ communityId, period: { $in: [...months] } }).lean(),
        m.Survey.aggregate<{ _id: string; avg: number; n: number }>([
          { $match: { communityId, period: { $in: [...months] }, percent: { $ne: null } } },
          { $group: { _id: '$period', avg: { $avg: '$percent' }, n: { $sum: 1 } } },
        ]),
      ]);
      return months.map((month) => {
        const f = fees.find((r) => r.period === month);
        const s = sats.find((r) => r._id === month);
        const summary: RateSummaryRow | null = f
          ? {
              period: month, communities: 1, chargeableHouseholds: f.chargeableHouseholds ?? 0, paidHouseholds: f.paidHouseholds ?? 0,
              receivableFen: f.receivableFen ?? 0, receivedFen: f.receivedFen ?? 0, historicalArrearsFen: f.historicalArrearsFen ?? 0,
              arrearsRecoveredFen: f.arrearsRecoveredFen ?? 0,
            }
          : null;
        return monthOf(month, summary, s ? { avg: s.avg, n: s.n } : null);
      });
    },
  };
  return reference;
}
export type Reference = ReturnType<typeof createReference>;

function monthOf(month: string, fee: RateSummaryRow | null, sat: { avg: number | null; n: number } | null): ReferenceMonth {
  return {
    month,
    communities: fee?.communities ?? 0,
    householdRate: fee ? householdRate(fee) : null,
    amountRate: fee ? amountRate(fee) : null,
    clearanceRate: fee ? clearanceRate(fee) : null,
    surveys: sat?.n ?? 0,
    satisfactionAvg: sat?.avg ?? null,
  };
}
