import { badInput } from '../../../lib/errors';
import type { CityResolvers, CommunityResolvers, DistrictResolvers, ElderlyStatsResolvers, VisitMonth } from '../__generated__/resolvers-types';
import type { Context } from '../context';
import { statsKey, type StatsKey } from '../loaders';
import { MONTHLY_VISIT_RATE_TARGET } from '../services/risk';
import { checkMetres } from '../services/lifecircle';
import { suppressCount, suppressRate } from '../services/privacy';
import { holidayOf, overdueOf, trendOf, visitedOf, type AreaDoc } from '../stats';

/*
 * Statistics of an area come from its rollup document (one batched read per request) and, for the
 * figures with a rolling window, one small count of the rows of the window's edge day (stats/),
 * asked only of areas whose bucket of that day is not empty (batched per level).
 * The disclosure rule (services/privacy.ts) is applied per figure for this caller.
 */
const areaDoc = (key: StatsKey, ctx: Context): Promise<AreaDoc | null> => ctx.loaders.statsArea.load(key);

async function registered(key: StatsKey, ctx: Context): Promise<number> {
  return (await areaDoc(key, ctx))?.registered ?? 0;
}
/** The edge day's rows are counted only when the area's bucket of that day holds any. */
const edge = (bucket: Record<string, number> | undefined, day: string, load: () => Promise<number>) => (bucket?.[day] ? load() : 0);

// The edge count is asked for together with the area document (one command for both, through
// the union reader) and used only when the area's bucket of that day holds any.
async function visitedLast30d(key: StatsKey, ctx: Context): Promise<number> {
  const [doc, before] = await Promise.all([areaDoc(key, ctx), ctx.loaders.visitedBefore30.load(key)]);
  const w = ctx.loaders.windows;
  return visitedOf(doc, await edge(doc?.lastVisitDays, w.since30Day, async () => before), w);
}
async function overdueVisits(key: StatsKey, ctx: Context): Promise<number> {
  const [doc, due] = await Promise.all([areaDoc(key, ctx), ctx.loaders.dueToday.load(key)]);
  const w = ctx.loaders.windows;
  return overdueOf(doc, await edge(doc?.dueDays, w.today, async () => due), w);
}

const counter =
  (k: 'registered' | 'livingAlone' | 'difficulty' | 'highRisk' | 'keyRisk') =>
  async (key: StatsKey, _args: unknown, ctx: Context) =>
    suppressCount((await areaDoc(key, ctx))?.[k] ?? 0, ctx);

/** ElderlyStats is resolved lazily from its area key: only the requested figures are read. */
export const ElderlyStats: ElderlyStatsResolvers = {
  registered: counter('registered'),
  livingAlone: counter('livingAlone'),
  difficulty: counter('difficulty'),
  highRisk: counter('highRisk'),
  keyRisk: counter('keyRisk'),
  visitedLast30d: async (key, _a, ctx) => suppressCount(await visitedLast30d(key, ctx), ctx),
  monthlyVisitRate: async (key, _a, ctx) => {
    const [visited, total] = await Promise.all([visitedLast30d(key, ctx), registered(key, ctx)]);
    return suppressRate(visited, total, ctx);
  },
  overdueVisits: async (key, _a, ctx) => suppressCount(await overdueVisits(key, ctx), ctx),
  monthlyVisitRateTarget: () => MONTHLY_VISIT_RATE_TARGET,
  holidayVisitsLast12m: async (key, _a, ctx) => {
    const doc = await areaDoc(key, ctx);
    const w = ctx.loaders.windows;
    return suppressCount(holidayOf(doc, await edge(doc?.holidayDays, w.since365Day, () => ctx.loaders.holidayBefore365.load(key)), w), ctx);
  },
};

export const MAX_TREND_MONTHS = 60;

/** The visit trend of an area (VisitMonth), disclosure rule applied. */
async function visitTrend(key: StatsKey, months: number | null | undefined, ctx: Context): Promise<VisitMonth[]> {
  const n = months ?? 12;
  if (!Number.isInteger(n) || n < 1 || n > MAX_TREND_MONTHS) throw badInput('months', `must be between 1 and ${MAX_TREND_MONTHS}`);
  const [doc, overdueNow] = await Promise.all([areaDoc(key, ctx), overdueVisits(key, ctx)]);
  // (overdueVisits reads the same document through the loader: one read.)
  return trendOf(doc, overdueNow, ctx.loaders.windows, n).map((m) => ({
    month: m.month,
    registered: suppressCount(m.registered, ctx),
    visited: suppressCount(m.visited, ctx),
    visitCoverage: suppressRate(m.visited, m.registered, ctx),
    overdue: suppressCount(m.overdue, ctx),
  }));
}

export const City: CityResolvers = {
  __resolveReference: (ref) => ({ code: ref.code }),
  elderlyStats: (c) => statsKey('CITY', c.code),
  visitTrend: (c, { months }, ctx) => visitTrend(statsKey('CITY', c.code), months, ctx),
};

export const District: DistrictResolvers = {
  __resolveReference: (ref) => ({ code: ref.code }),
  elderlyStats: (d) => statsKey('DISTRICT', d.code),
  visitTrend: (d, { months }, ctx) => visitTrend(statsKey('DISTRICT', d.code), months, ctx),
  lifeCircleCoverage: async (d, { metres }, { loaders }) => {
    const r = await loaders.lifeCircle.load({ code: d.code, metres: checkMetres(metres) });
    return { ...r, share: r.communitiesWithLocation ? r.covered / r.communitiesWithLocation : null };
  },
};

export const Community: CommunityResolvers = {
  __resolveReference: (ref) => ({ id: ref.id }),
  elderlyStats: (c) => statsKey('COMMUNITY', c.id),
  visitTrend: (c, { months }, ctx) => visitTrend(statsKey('COMMUNITY', c.id), months, ctx),
  careTeams: (c, _a, { loaders }) => loaders.careTeamsByCommunity.load(c.id),
  mealPrograms: (c, _a, { loaders }) => loaders.mealProgramsByCommunity.load(c.id),
  serviceProviders: (c, _a, { loaders }) => loaders.providersByCommunity.load(c.id),
  mealProgramsWithin: async (c, { metres }, { loaders }) =>
    (await loaders.mealProgramsNear.load({ id: c.id, metres: checkMetres(metres) })).map((n) => ({ mealProgram: n.item, distanceM: Math.round(n.distanceM) })),
  careFacilitiesWithin: async (c, { metres }, { loaders }) =>
    (await loaders.providersNear.load({ id: c.id, metres: checkMetres(metres) })).map((n) => ({ serviceProvider: n.item, distanceM: Math.round(n.distanceM) })),
};
