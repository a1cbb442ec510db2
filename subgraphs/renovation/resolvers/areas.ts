import { lastMonthsIncludingCurrent } from '../../../lib/clock';
import { badInput } from '../../../lib/errors';
import type {
  CityResolvers,
  CommunityResolvers,
  DistrictResolvers,
  FundingTotalResolvers,
  ItemClassTotalResolvers,
  RenovationMonthResolvers,
  RenovationStatsResolvers,
  RenovationSummaryResolvers,
} from '../__generated__/resolvers-types';
import type { Context } from '../context';
import { GAP_CONDITIONS } from '../loaders';
import { money, moneyOrZero } from '../services/money';
import { areaKey } from '../stats/parts';
import { areaTrend, communityTrend, gapsFromDoc, lateAsOf, statsFromDocs, summaryFromDoc } from '../stats/read';
import { emptyStats, TREND_MAX_MONTHS, type AreaLevel, type AreaRef, type StatsRow } from '../stats/types';
import { checkYear } from './args';
import { checkMetres } from '../services/nearby';

/** Statistics of one area for one plan year (or all) from its rollups. */
export async function areaStats(level: AreaLevel, code: string, year: number | null, ctx: Context): Promise<StatsRow> {
  const docs = await ctx.loaders.rollups.load(areaKey(level, code));
  return statsFromDocs(level, code, year, docs) ?? emptyStats(code, year);
}

/** The CST months of a trend ending with the request's month; `months` must be 1..60. */
function trendWindows(months: number | null | undefined, ctx: Context) {
  const n = months ?? 12;
  if (!Number.isInteger(n) || n < 1 || n > TREND_MAX_MONTHS) throw badInput('months', `must be a whole number of months between 1 and ${TREND_MAX_MONTHS}`);
  return lastMonthsIncludingCurrent(ctx.now, n);
}

/** Fields that City and District share: statistics read from the area's rollups. */
function areaFields(level: AreaLevel) {
  return {
    // The area itself is owned by properties: the reference is all this subgraph needs.
    __resolveReference: (ref: AreaRef) => ({ code: ref.code }),
    renovationStats: (a: AreaRef, args: { year?: number | null }, ctx: Context) => areaStats(level, a.code, checkYear(args.year), ctx),
    facilityGapStats: async (a: AreaRef, _args: unknown, ctx: Context) => {
      const docs = await ctx.loaders.rollups.load(areaKey(level, a.code));
      return gapsFromDoc(
        a.code,
        docs.find((d) => d.kind === 'GAPS'),
      );
    },
    renovationTrend: async (a: AreaRef, args: { months?: number | null }, ctx: Context) => {
      const windows = trendWindows(args.months, ctx);
      return areaTrend(await ctx.loaders.rollups.load(areaKey(level, a.code)), windows);
    },
  };
}

export const City: CityResolvers = areaFields('CITY');
export const District: DistrictResolvers = areaFields('DISTRICT');

const GAPS: ReadonlySet<string> = new Set(GAP_CONDITIONS);
const communityDoc = async (id: string, ctx: Context) => (await ctx.loaders.rollups.load(areaKey('COMMUNITY', id))).find((d) => d.kind === 'COMMUNITY');

export const Community: CommunityResolvers = {
  __resolveReference: (ref) => ({ id: ref.id }),
  renovationProjects: (c, _a, { loaders }) => loaders.projectsByCommunity.load(c.id),
  renovationSummary: async (c, _a, ctx) => summaryFromDoc(c.id, await communityDoc(c.id, ctx)),
  facilities: async (c, { condition, type }, { loaders }) => {
    // Conditions among the gaps read the gap rows only (the same rows, in the same order, filtered in the database).
    const onlyGaps = !!condition?.length && condition.every((x) => GAPS.has(x));
    const all = await (onlyGaps ? loaders.gapsByCommunity : loaders.facilitiesByCommunity).load(c.id);
    return all.filter((f) => (!condition?.length || (f.condition != null && condition.includes(f.condition))) && (!type?.length || type.includes(f.type)));
  },
  facilityGaps: async (c, _a, { loaders }) => (await loaders.gapsByCommunity.load(c.id)).filter((f) => f.condition != null && GAPS.has(f.condition)),
  renovationTrend: async (c, { months }, ctx) => {
    const windows = trendWindows(months, ctx);
    return communityTrend(await communityDoc(c.id, ctx), windows);
  },
  facilitiesWithin: async (c, { metres, type }, { loaders }) => {
    const key = { id: c.id, metres: checkMetres(metres), types: [...new Set(type ?? [])].sort() };
    return (await loaders.facilitiesNear.load(key)).map((n) => ({ facility: n.facility, distanceM: Math.round(n.distanceM) }));
  },
};

export const RenovationSummary: RenovationSummaryResolvers = {
  status: (s) => (s.status as never) ?? null,
  totalBudget: (s) => moneyOrZero(s.budgetFen, s.budgetApprox),
  spent: (s) => moneyOrZero(s.spentFen),
};

export const RenovationStats: RenovationStatsResolvers = {
  budget: (s) => moneyOrZero(s.budgetFen, s.budgetApprox),
  spent: (s) => moneyOrZero(s.spentFen),
  costPerHousehold: (s) => money(s.costPerHouseholdFen, s.budgetApprox),
  // From rollups: done late + open and planned before today + planned earlier today (exact).
  lateProjects: async (s, _a, ctx) => (s.late ? lateAsOf(s.late, ctx.now, new Map([[s.late.area, await ctx.loaders.lateToday.load(s.late.area)]])) : s.lateProjects),
};

export const RenovationMonth: RenovationMonthResolvers = {
  spent: (m) => moneyOrZero(m.spentFen),
  spentYearToDate: (m) => moneyOrZero(m.spentYearToDateFen),
  budget: (m) => moneyOrZero(m.budgetFen, m.budgetApprox),
};

export const FundingTotal: FundingTotalResolvers = {
  committed: (f) => moneyOrZero(f.committedFen, f.committedApprox),
  confirmed: (f) => moneyOrZero(f.confirmedFen, f.committedApprox),
  spent: (f) => moneyOrZero(f.spentFen),
};

export const ItemClassTotal: ItemClassTotalResolvers = {
  cost: (i) => moneyOrZero(i.costFen, i.costApprox),
};
