/**
 * The read side of the statistics rollups: every statistics field of City, District and Community
 * is answered from a handful of rollup documents per area (one YEAR document per plan year, one GAPS
 * document, one COMMUNITY document per 小区), fetched for all the areas of a request in one query.
 *
 * "Late" depends on the clock: a project is late once its earliest open milestone's planned instant
 * has passed (or when a milestone was done late). The rollups count open projects by the CST day of
 * that instant, so "late as of now" is the done-late count, plus the days before today, plus the
 * projects planned earlier today, which one small indexed query finds exactly.
 */
import type { Collection } from 'mongodb';
import { cstDate, cstDayStart, type MonthWindow } from '../../../lib/clock';
import { FUNDING_TYPES, ITEM_CLASSES, PROJECT_STATUSES, type Models } from '../models';
import type { Counters, RollupDoc } from './model';
import { addCounters, areaKey, gapRows, projectIdOfStatusKey } from './parts';
import { rollupsReady } from './rebuild';
import { roundHalfEven, type GapRow, type LateBuckets, type StatsRow, type SummaryRow, type TrendMonthRow } from './types';

/** Projects planned earlier today, per rollup area (`<LEVEL>|<code>`) and plan year. */
export type TodayCounts = Map<string, Map<number, number>>;

export function createStatsReader(m: Models) {
  const coll = () => m.Rollup.collection as unknown as Collection<RollupDoc>;
  return {
    /** Every rollup document (plan years, gaps, 小区 summary) of many areas, in one query. */
    async docsByArea(areas: readonly string[]): Promise<RollupDoc[]> {
      await rollupsReady(m);
      return coll().find({ area: { $in: [...areas] } }).toArray();
    },

    /**
     * Projects not yet late at the start of today (CST) whose earliest open milestone was planned
     * between then and `now`: the exact part of "late as of now", for many areas in one query.
     */
    async lateToday(areas: readonly string[], now: Date): Promise<TodayCounts> {
      const out: TodayCounts = new Map(areas.map((a) => [a, new Map()]));
      const cities = new Set(areas.map((a) => a.split('|')[1]).map((code) => `${code.slice(0, 4)}00`));
      const rows = await m.Project.find(
        { earliestOpenPlannedAt: { $gte: cstDayStart(now), $lt: now }, hasLateDoneMilestone: { $ne: true }, cityCode: { $in: [...cities] } },
        { cityCode: 1, districtCodes: 1, planYear: 1 },
      ).lean<{ cityCode: string; districtCodes?: string[]; planYear: number }[]>();
      const bump = (area: string, year: number) => {
        const byYear = out.get(area);
        if (byYear) byYear.set(year, (byYear.get(year) ?? 0) + 1);
      };
      for (const r of rows) {
        bump(areaKey('CITY', r.cityCode), r.planYear);
        for (const d of r.districtCodes ?? []) bump(areaKey('DISTRICT', d), r.planYear);
      }
      return out;
    },
  };
}
export type StatsReader = ReturnType<typeof createStatsReader>;

const positive = (n: number | undefined): n is number => (n ?? 0) > 0;

/** Renovation statistics of an area for one plan year (or all) from its YEAR documents; null when no project. */
export function statsFromDocs(level: string, code: string, year: number | null, docs: readonly RollupDoc[]): StatsRow | null {
  const c: Counters = {};
  for (const d of docs) if (d.kind === 'YEAR' && (year == null || d.year === year)) addCounters(c, d.c);
  if (!positive(c.projects)) return null;
  const openByDay: Record<string, number> = {};
  for (const [k, n] of Object.entries(c)) if (k.startsWith('open:')) openByDay[k.slice(5)] = n;
  const late: LateBuckets = { area: areaKey(level, code), year, done: c.lateDone ?? 0, openByDay };
  return {
    code,
    year,
    projects: c.projects,
    projectsWithBudget: c.withBudget ?? 0,
    budgetFen: c.budget ?? 0,
    budgetApprox: positive(c.budgetApprox),
    spentFen: c.spent ?? 0,
    households: c.households ?? 0,
    costPerHouseholdFen: positive(c.cphHouseholds) ? roundHalfEven(c.cphBudget ?? 0, c.cphHouseholds) : null,
    lateProjects: 0,
    late,
    byStatus: PROJECT_STATUSES.filter((s) => positive(c[`status:${s}`])).map((status) => ({ status, count: c[`status:${status}`] })),
    byFundingSource: FUNDING_TYPES.filter((t) => positive(c[`fund:${t}:n`]) || positive(c[`fund:${t}:spends`])).map((type) => ({
      type,
      committedFen: c[`fund:${type}:committed`] ?? 0,
      committedApprox: positive(c[`fund:${type}:approx`]),
      confirmedFen: c[`fund:${type}:confirmed`] ?? 0,
      spentFen: c[`fund:${type}:spent`] ?? 0,
    })),
    byItemClass: ITEM_CLASSES.filter((k) => positive(c[`item:${k}:n`])).map((cls) => ({
      class: cls,
      items: c[`item:${cls}:n`],
      costFen: c[`item:${cls}:cost`] ?? 0,
      costApprox: positive(c[`item:${cls}:approx`]),
    })),
  };
}

/** Late projects as of `now`: done late, or open and planned before now (see the module comment). */
export function lateAsOf(late: LateBuckets, now: Date, today: TodayCounts): number {
  const todayKey = cstDate(now).replace(/-/g, '');
  let n = late.done;
  for (const [day, k] of Object.entries(late.openByDay)) if (day < todayKey) n += k;
  for (const [year, k] of today.get(late.area) ?? []) if (late.year == null || late.year === year) n += k;
  return n;
}

/** A 小区's renovation summary from its COMMUNITY document; null when no project covers it. */
export function summaryFromDoc(communityId: string, doc: RollupDoc | undefined): SummaryRow | null {
  const c = doc?.c ?? {};
  if (!doc || !positive(c.projects)) return null;
  // The latest project: the highest plan year, then the smallest id (as the project list sorts).
  let latest: { year: number; id: string; status: string } | null = null;
  for (const [key, v] of Object.entries(doc.s ?? {})) {
    const bar = v.indexOf('|');
    const year = Number(v.slice(0, bar));
    const id = projectIdOfStatusKey(key);
    if (!latest || year > latest.year || (year === latest.year && id < latest.id)) latest = { year, id, status: v.slice(bar + 1) };
  }
  return {
    communityId,
    projects: c.projects,
    status: latest?.status ?? null,
    latestProjectYear: latest?.year ?? null,
    budgetFen: c.budget ?? 0,
    budgetApprox: positive(c.budgetApprox),
    projectsWithBudget: c.withBudget ?? 0,
    spentFen: c.spent ?? 0,
  };
}

/** MISSING / BROKEN counts per facility type of an area, types in alphabetical order. */
export function gapsFromDoc(code: string, doc: RollupDoc | undefined): GapRow[] {
  const c = doc?.c ?? {};
  const types = new Set(Object.keys(c).map((k) => k.slice(k.indexOf(':') + 1)));
  return [...types]
    .filter((t) => gapRows(c, t) > 0)
    .sort()
    .map((type) => ({ code, type, missing: c[`missing:${type}`] ?? 0, broken: c[`broken:${type}`] ?? 0, communities: c[`communities:${type}`] ?? 0 }));
}

/** The spend of `month` and the budget of its plan year, as kept by one kind of document. */
interface MoneyByMonth {
  spent(month: string): number;
  budget(year: number): { fen: number; approx: boolean };
}

function trend(windows: readonly MonthWindow[], src: MoneyByMonth): TrendMonthRow[] {
  return windows.map(({ month }) => {
    const year = Number(month.slice(0, 4));
    const mm = Number(month.slice(5, 7));
    let ytd = 0;
    for (let i = 1; i <= mm; i++) ytd += src.spent(`${year}-${String(i).padStart(2, '0')}`);
    const budget = src.budget(year);
    return { month, spentFen: src.spent(month), spentYearToDateFen: ytd, budgetFen: budget.fen, budgetApprox: budget.approx };
  });
}

/** Monthly spend and plan-year budget of a City or District from its YEAR documents. */
export function areaTrend(docs: readonly RollupDoc[], windows: readonly MonthWindow[]): TrendMonthRow[] {
  const byYear = new Map<number, Counters>();
  for (const d of docs) if (d.kind === 'YEAR' && d.year != null) byYear.set(d.year, d.c ?? {});
  return trend(windows, {
    spent: (month) => byYear.get(Number(month.slice(0, 4)))?.[`month:${month}`] ?? 0,
    budget: (year) => ({ fen: byYear.get(year)?.budget ?? 0, approx: positive(byYear.get(year)?.budgetApprox) }),
  });
}

/** Monthly spend and plan-year budget of a 小区 from its COMMUNITY document. */
export function communityTrend(doc: RollupDoc | undefined, windows: readonly MonthWindow[]): TrendMonthRow[] {
  const c = doc?.c ?? {};
  return trend(windows, {
    spent: (month) => c[`month:${month}`] ?? 0,
    budget: (year) => ({ fen: c[`budget:${year}`] ?? 0, approx: positive(c[`budgetApprox:${year}`]) }),
  });
}
