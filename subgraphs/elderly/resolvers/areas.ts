import type { CityResolvers, CommunityResolvers, DistrictResolvers, ElderlyStatsResolvers } from '../__generated__/resolvers-types';
import type { Context } from '../context';
import type { StatsKey } from '../loaders';
import { MONTHLY_VISIT_RATE_TARGET } from '../services/risk';
import { exposeElderlyStats, suppressCount, type ExposedElderlyStats } from '../services/privacy';

/** Loads the raw figures of an area and applies the disclosure rule for this caller. */
async function exposed(key: StatsKey, ctx: Context): Promise<ExposedElderlyStats> {
  return exposeElderlyStats(await ctx.loaders.stats.load(key), ctx);
}
const field =
  <K extends keyof ExposedElderlyStats>(k: K) =>
  async (key: StatsKey, _args: unknown, ctx: Context) =>
    (await exposed(key, ctx))[k];

/** ElderlyStats is resolved lazily from its area key: only the requested figures are computed. */
export const ElderlyStats: ElderlyStatsResolvers = {
  registered: field('registered'),
  livingAlone: field('livingAlone'),
  difficulty: field('difficulty'),
  highRisk: field('highRisk'),
  keyRisk: field('keyRisk'),
  visitedLast30d: field('visitedLast30d'),
  monthlyVisitRate: field('monthlyVisitRate'),
  overdueVisits: field('overdueVisits'),
  monthlyVisitRateTarget: () => MONTHLY_VISIT_RATE_TARGET,
  holidayVisitsLast12m: async (key, _args, ctx) => suppressCount(await ctx.loaders.holidayVisits.load(key), ctx),
};

export const City: CityResolvers = {
  __resolveReference: (ref) => ({ code: ref.code }),
  elderlyStats: (c) => ({ level: 'CITY', code: c.code }),
};

export const District: DistrictResolvers = {
  __resolveReference: (ref) => ({ code: ref.code }),
  elderlyStats: (d) => ({ level: 'DISTRICT', code: d.code }),
};

export const Community: CommunityResolvers = {
  __resolveReference: (ref) => ({ id: ref.id }),
  elderlyStats: (c) => ({ level: 'COMMUNITY', code: c.id }),
  careTeams: (c, _a, { loaders }) => loaders.careTeamsByCommunity.load(c.id),
  mealPrograms: (c, _a, { loaders }) => loaders.mealProgramsByCommunity.load(c.id),
  serviceProviders: (c, _a, { loaders }) => loaders.providersByCommunity.load(c.id),
};
