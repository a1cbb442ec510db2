import type {
  CityResolvers,
  CommunityResolvers,
  DistrictResolvers,
  FundingTotalResolvers,
  ItemClassTotalResolvers,
  RenovationStatsResolvers,
  RenovationSummaryResolvers,
} from '../__generated__/resolvers-types';
import type { Context } from '../context';
import { money, moneyOrZero } from '../services/money';
import { emptyStats, type AreaLevel, type AreaRef } from '../services/repository';
import { checkYear } from './args';

/** Fields that City and District share: statistics computed by the database per area. */
function areaFields(level: AreaLevel) {
  return {
    // The area itself is owned by properties: the reference is all this subgraph needs.
    __resolveReference: (ref: AreaRef) => ({ code: ref.code }),
    renovationStats: async (a: AreaRef, args: { year?: number | null }, ctx: Context) => {
      const year = checkYear(args.year);
      return (await ctx.loaders.stats.load({ level, code: a.code, year })) ?? emptyStats(a.code, year);
    },
    facilityGapStats: (a: AreaRef, _args: unknown, ctx: Context) => ctx.loaders.gaps.load({ level, code: a.code }),
  };
}

export const City: CityResolvers = areaFields('CITY');
export const District: DistrictResolvers = areaFields('DISTRICT');

const GAPS = new Set(['MISSING', 'BROKEN']);

export const Community: CommunityResolvers = {
  __resolveReference: (ref) => ({ id: ref.id }),
  renovationProjects: (c, _a, { loaders }) => loaders.projectsByCommunity.load(c.id),
  renovationSummary: (c, _a, { loaders }) => loaders.summary.load(c.id),
  facilities: async (c, { condition, type }, { loaders }) => {
    const all = await loaders.facilitiesByCommunity.load(c.id);
    return all.filter((f) => (!condition?.length || (f.condition != null && condition.includes(f.condition))) && (!type?.length || type.includes(f.type)));
  },
  facilityGaps: async (c, _a, { loaders }) => (await loaders.facilitiesByCommunity.load(c.id)).filter((f) => f.condition != null && GAPS.has(f.condition)),
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
};

export const FundingTotal: FundingTotalResolvers = {
  committed: (f) => moneyOrZero(f.committedFen, f.committedApprox),
  confirmed: (f) => moneyOrZero(f.confirmedFen, f.committedApprox),
  spent: (f) => moneyOrZero(f.spentFen),
};

export const ItemClassTotal: ItemClassTotalResolvers = {
  cost: (i) => moneyOrZero(i.costFen, i.costApprox),
};
