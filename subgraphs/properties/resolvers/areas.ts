import type { CityResolvers, DistrictResolvers, NeighborhoodResolvers, StreetResolvers } from '../__generated__/resolvers-types';
import type { Context } from '../context';
import type { AdminAreaDoc } from '../models';
import { checkPeriod } from './query';

type AreaLevel = 'CITY' | 'DISTRICT';

/** Fields shared by City and District: counts and rates computed by the database per area. */
function areaAggregates(level: AreaLevel) {
  const counts = (a: AdminAreaDoc, ctx: Context) => ctx.loaders.areaCounts.load({ level, code: a._id });
  return {
    communityCount: async (a: AdminAreaDoc, _args: unknown, ctx: Context) => (await counts(a, ctx))?.communityCount ?? 0,
    oldCommunityCount: async (a: AdminAreaDoc, _args: unknown, ctx: Context) => (await counts(a, ctx))?.oldCommunityCount ?? 0,
    propertyCoverageRate: async (a: AdminAreaDoc, _args: unknown, ctx: Context) => {
      const c = await counts(a, ctx);
      return c && c.modeKnown > 0 ? c.managed / c.modeKnown : null;
    },
    feeCollection: (a: AdminAreaDoc, args: { period?: string | null }, ctx: Context) =>
      ctx.loaders.feeSummary.load({ level, code: a._id, period: checkPeriod(args.period) }),
    satisfactionAvg: async (a: AdminAreaDoc, args: { period?: string | null }, ctx: Context) =>
      (await ctx.loaders.satisfactionAvg.load({ level, code: a._id, period: checkPeriod(args.period) }))?.avg ?? null,
  };
}

export const City: CityResolvers = {
  __resolveReference: (ref, { loaders }) => loaders.area.load(ref.code),
  code: (a) => a._id,
  level: () => 'CITY',
  oldCommunityCutoffYear: (a) => a.oldCommunityCutoffYear ?? 2000,
  districts: (a, _args, { loaders }) => loaders.areaChildren.load(a._id),
  ...areaAggregates('CITY'),
};

export const District: DistrictResolvers = {
  __resolveReference: (ref, { loaders }) => loaders.area.load(ref.code),
  code: (a) => a._id,
  level: () => 'DISTRICT',
  city: async (a, _args, { loaders }) => (await loaders.area.load(a.cityCode))!,
  streets: (a, _args, { loaders }) => loaders.areaChildren.load(a._id),
  ...areaAggregates('DISTRICT'),
};

export const Street: StreetResolvers = {
  __resolveReference: (ref, { loaders }) => loaders.area.load(ref.code),
  code: (a) => a._id,
  level: () => 'STREET',
  codeVerified: (a) => a.codeVerified ?? true,
  district: async (a, _args, { loaders }) => (await loaders.area.load(a.parentCode ?? ''))!,
  neighborhoods: (a, _args, { loaders }) => loaders.areaChildren.load(a._id),
};

export const Neighborhood: NeighborhoodResolvers = {
  __resolveReference: (ref, { loaders }) => loaders.area.load(ref.code),
  code: (a) => a._id,
  level: () => 'NEIGHBORHOOD',
  codeVerified: (a) => a.codeVerified ?? true,
  street: (a, _args, { loaders }) => (a.parentCode ? loaders.area.load(a.parentCode) : null),
  communities: (a, _args, { loaders }) => loaders.communitiesByNeighborhood.load(a._id),
};
