import type { CityResolvers, DistrictResolvers, PropertyCompanyResolvers, TicketGroupBy, TimeRange } from '../__generated__/resolvers-types';
import type { Context } from '../context';
import type { AreaRef } from '../models';
import { exposeCommitteeStats } from '../services/privacy';
import { checkTrendMonths } from './trend';

/** Governance's figures on City and District: committees, meetings, designations and tickets per area. */
function areaFields(level: 'CITY' | 'DISTRICT') {
  return {
    committeeStats: async (a: AreaRef, _args: unknown, ctx: Context) => exposeCommitteeStats(await ctx.loaders.committeeStats.load({ code: a.code, level }), ctx),
    jointMeetingsLast90d: (a: AreaRef, _args: unknown, ctx: Context) => ctx.loaders.meetingsLast90dInArea.load({ code: a.code, level }),
    ticketStats: (a: AreaRef, args: { range: TimeRange; groupBy?: TicketGroupBy | null }, ctx: Context) =>
      ctx.loaders.ticketStats.load({ code: a.code, scope: level, range: args.range, groupBy: args.groupBy ?? null }),
    ticketTrend: (a: AreaRef, args: { months?: number | null }, ctx: Context) =>
      ctx.loaders.ticketTrend.load({ code: a.code, scope: level, months: checkTrendMonths(args.months) }),
  };
}

export const City: CityResolvers = {
  __resolveReference: (ref) => ({ code: ref.code }),
  ...areaFields('CITY'),
  designationCount: (a, { level }, { loaders }) => loaders.designationCount.load({ code: a.code, level: level ?? null }),
};

export const District: DistrictResolvers = {
  __resolveReference: (ref) => ({ code: ref.code }),
  ...areaFields('DISTRICT'),
};

export const PropertyCompany: PropertyCompanyResolvers = {
  __resolveReference: (ref) => ({ uscc: ref.uscc }),
  ticketStats: (c, { range, groupBy }, { loaders }) => loaders.ticketStats.load({ code: c.uscc, scope: 'COMPANY', range, groupBy: groupBy ?? null }),
  patrolStats: (c, { range }, { loaders }) => loaders.patrolStats.load({ code: c.uscc, scope: 'COMPANY', range }),
};
