import type { CityResolvers, DistrictResolvers, NeighborhoodResolvers, StreetResolvers } from '../__generated__/resolvers-types';
import type { Context } from '../context';
import type { AdminAreaDoc } from '../models';
import { rateSummaryOf, registerOf, satisfactionOf } from '../stats/figures';
import { periodDocId, registerDocId, type PropertyMonthRow } from '../stats/read';
import { rollupId, type StatsLevel } from '../stats/model';
import { checkMonths, checkPeriod, trendMonths } from './query';

/**
 * Statistics of an area, read from its rollup documents (stats/): one `_id` lookup per figure,
 * batched by the request's `stats` loader into one query for every area and field of the request.
 */
function areaAggregates(level: StatsLevel) {
  const register = async (a: AdminAreaDoc, ctx: Context) => registerOf((await ctx.loaders.stats.load(registerDocId(level, a._id)))?.f);
  const period = async (a: AdminAreaDoc, p: string | null, ctx: Context) => (await ctx.loaders.stats.load(periodDocId(level, a._id, p)))?.f;
  return {
    communityCount: async (a: AdminAreaDoc, _args: unknown, ctx: Context) => (await register(a, ctx)).communityCount,
    oldCommunityCount: async (a: AdminAreaDoc, _args: unknown, ctx: Context) => (await register(a, ctx)).oldCommunityCount,
    propertyCoverageRate: async (a: AdminAreaDoc, _args: unknown, ctx: Context) => {
      const c = await register(a, ctx);
      return c.modeKnown > 0 ? c.managed / c.modeKnown : null;
    },
    feeCollection: async (a: AdminAreaDoc, args: { period?: string | null }, ctx: Context) => {
      const p = checkPeriod(args.period);
      return rateSummaryOf(await period(a, p, ctx), p);
    },
    satisfactionAvg: async (a: AdminAreaDoc, args: { period?: string | null }, ctx: Context) => satisfactionOf(await period(a, checkPeriod(args.period), ctx)),
  };
}

/** An area's months, oldest first, from its period documents (absent months are empty). */
function areaTrend(level: StatsLevel) {
  return async (a: AdminAreaDoc, args: { months?: number | null }, ctx: Context): Promise<PropertyMonthRow[]> => {
    const months = trendMonths(ctx.now, checkMonths(args.months));
    const docs = await ctx.loaders.stats.loadMany(months.map((m) => rollupId(level, a._id, m)));
    return months.map((month, i) => {
      const d = docs[i];
      if (d instanceof Error) throw d;
      return { month, f: d?.f ?? {} };
    });
  };
}

export const City: CityResolvers = {
  __resolveReference: (ref, { loaders }) => loaders.area.load(ref.code),
  code: (a) => a._id,
  level: () => 'CITY',
  oldCommunityCutoffYear: (a) => a.oldCommunityCutoffYear ?? 2000,
  districts: (a, _args, { loaders }) => loaders.areaChildren.load(a._id),
  ...areaAggregates('CITY'),
  propertyTrend: areaTrend('CITY'),
};

export const District: DistrictResolvers = {
  __resolveReference: (ref, { loaders }) => loaders.area.load(ref.code),
  code: (a) => a._id,
  level: () => 'DISTRICT',
  city: async (a, _args, { loaders }) => (await loaders.area.load(a.cityCode))!,
  streets: (a, _args, { loaders }) => loaders.areaChildren.load(a._id),
  ...areaAggregates('DISTRICT'),
  propertyTrend: areaTrend('DISTRICT'),
};

export const Street: StreetResolvers = {
  __resolveReference: (ref, { loaders }) => loaders.area.load(ref.code),
  code: (a) => a._id,
  level: () => 'STREET',
  codeVerified: (a) => a.codeVerified ?? true,
  district: async (a, _args, { loaders }) => (await loaders.area.load(a.parentCode ?? ''))!,
  neighborhoods: (a, _args, { loaders }) => loaders.areaChildren.load(a._id),
  ...areaAggregates('STREET'),
};

export const Neighborhood: NeighborhoodResolvers = {
  __resolveReference: (ref, { loaders }) => loaders.area.load(ref.code),
  code: (a) => a._id,
  level: () => 'NEIGHBORHOOD',
  codeVerified: (a) => a.codeVerified ?? true,
  street: (a, _args, { loaders }) => (a.parentCode ? loaders.area.load(a.parentCode) : null),
  communities: (a, _args, { loaders }) => loaders.communitiesByNeighborhood.load(a._id),
};
