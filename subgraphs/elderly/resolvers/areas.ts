import { badInput } from '../../../lib/errors';
import type { CityResolvers, CommunityResolvers, DistrictResolvers, ElderlyStatsResolvers, VisitMonth } from '../__generated__/resolvers-types';
import type { Context } from '../context';
import { statsKey, type StatsKey } from '../loaders';
import { MONTHLY_VISIT_RATE_TARGET } from '../services/risk';
import { checkMetres } from '../services/lifecircle';
import { MAX_TREND_MONTHS_FOR_PATTERN } from '../services/privacy';
import { cityDisclosureFor } from '../services/disclosure';
import { holidayOf, overdueOf, trendOf, visitedOf, type AreaDoc } from '../stats';
import { areaId } from '../stats/contribution';

/*
 * Statistics of an area come from its rollup document (one batched read per request) and, for the
 * figures with a rolling window, one small count of the rows of the window's edge day (stats/),
 * asked only of areas whose bucket of that day is not empty (batched per level).
 * Callers with individual-level access get these exact figures. Everyone else gets the figures of
 * the city's disclosure snapshot (services/disclosure.ts): the whole 小区 → district → city
 * hierarchy suppressed at once (primary and complementary suppression), computed once per rollup
 * version of the city; a request reads only the version stamp.
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

/** The city snapshot holding an area, or null when the area has no figures (all zero: suppressed). */
async function snapshotOf(key: StatsKey, ctx: Context) {
  // A city's version stamp is read with its own document (one command); a district or 小区 names
  // its city in its document, so its stamp is read right after.
  const [doc, cityOwn] = await Promise.all([areaDoc(key, ctx), key.level === 'CITY' ? cityDisclosureFor(ctx, key.code) : null]);
  if (!doc) return null;
  return { d: cityOwn ?? (await cityDisclosureFor(ctx, doc.cityCode)), id: areaId(key.level, key.code) };
}

/** A figure as published to a caller without individual-level access (null when suppressed). */
export async function publishedFigure(key: StatsKey, variable: string, ctx: Context): Promise<number | null> {
  const s = await snapshotOf(key, ctx);
  if (!s || s.d.current.suppressed(s.id, variable)) return null;
  return s.d.current.values(s.id)![variable];
}

type Figure = 'registered' | 'livingAlone' | 'difficulty' | 'highRisk' | 'keyRisk' | 'visitedLast30d' | 'overdueVisits' | 'holidayVisitsLast12m';
const figure =
  (k: Figure, exact: (key: StatsKey, ctx: Context) => Promise<number>) =>
  async (key: StatsKey, _args: unknown, ctx: Context) =>
    ctx.individualAccess ? exact(key, ctx) : publishedFigure(key, k, ctx);
const scalar = (k: 'registered' | 'livingAlone' | 'difficulty' | 'highRisk' | 'keyRisk') => figure(k, async (key, ctx) => (await areaDoc(key, ctx))?.[k] ?? 0);

async function holidayVisits(key: StatsKey, ctx: Context): Promise<number> {
  const doc = await areaDoc(key, ctx);
  const w = ctx.loaders.windows;
  return holidayOf(doc, await edge(doc?.holidayDays, w.since365Day, () => ctx.loaders.holidayBefore365.load(key)), w);
}

/** ElderlyStats is resolved lazily from its area key: only the requested figures are read. */
export const ElderlyStats: ElderlyStatsResolvers = {
  registered: scalar('registered'),
  livingAlone: scalar('livingAlone'),
  difficulty: scalar('difficulty'),
  highRisk: scalar('highRisk'),
  keyRisk: scalar('keyRisk'),
  visitedLast30d: figure('visitedLast30d', visitedLast30d),
  monthlyVisitRate: async (key, _a, ctx) => {
    const [visited, total] = ctx.individualAccess
      ? await Promise.all([visitedLast30d(key, ctx), registered(key, ctx)])
      : await Promise.all([publishedFigure(key, 'visitedLast30d', ctx), publishedFigure(key, 'registered', ctx)]);
    return visited == null || !total ? null : visited / total;
  },
  overdueVisits: figure('overdueVisits', overdueVisits),
  monthlyVisitRateTarget: () => MONTHLY_VISIT_RATE_TARGET,
  holidayVisitsLast12m: figure('holidayVisitsLast12m', holidayVisits),
};

export const MAX_TREND_MONTHS = MAX_TREND_MONTHS_FOR_PATTERN;

/** The visit trend of an area (VisitMonth), disclosure rule applied. */
async function visitTrend(key: StatsKey, months: number | null | undefined, ctx: Context): Promise<VisitMonth[]> {
  const n = months ?? 12;
  if (!Number.isInteger(n) || n < 1 || n > MAX_TREND_MONTHS) throw badInput('months', `must be between 1 and ${MAX_TREND_MONTHS}`);
  if (!ctx.individualAccess) {
    const s = await snapshotOf(key, ctx);
    return s ? s.d.trend(s.id, n) : trendOf(null, 0, ctx.loaders.windows, n).map((m) => ({ month: m.month, registered: null, visited: null, visitCoverage: null, overdue: null }));
  }
  const [doc, overdueNow] = await Promise.all([areaDoc(key, ctx), overdueVisits(key, ctx)]);
  // (overdueVisits reads the same document through the loader: one read.)
  return trendOf(doc, overdueNow, ctx.loaders.windows, n).map((m) => ({
    month: m.month,
    registered: m.registered,
    visited: m.visited,
    visitCoverage: m.registered ? m.visited / m.registered : null,
    overdue: m.overdue,
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
