/**
 * The statistics as of an instant, from an area's rollup document and the few raw rows of the CST
 * day at each window's edge (the "edges", read by ./read.ts with small indexed queries):
 * - overdueVisits = active residents due on days before today + those due today before now;
 * - visitedLast30d = residents last visited on the window's first day or later − those of that
 *   first day visited before the window opens (now − 30 days);
 * - holidayVisitsLast12m likewise over 365 days;
 * - the monthly trend (see ./contribution.ts), the current month's overdue being overdueVisits.
 * All windows in China Standard Time via lib/clock.ts.
 */
import { cstDate, cstDayStart, lastMonthsIncludingCurrent, monthWindow, rangeStart } from '../../../lib/clock';
import type { RawElderlyStats } from '../services/privacy';
import type { AreaDoc } from './rebuild';

/** The instants a request's statistics are computed at. */
export interface Windows {
  now: Date;
  /** 00:00 CST today: due-day buckets before it are overdue. */
  today: string;
  todayStart: Date;
  /** Start of the last 30 days and of its CST day. */
  since30: Date;
  since30Day: string;
  since30DayStart: Date;
  /** Start of the last 12 months (365 days) and of its CST day. */
  since365: Date;
  since365Day: string;
  since365DayStart: Date;
}

export function windowsAt(now: Date): Windows {
  const since30 = rangeStart('LAST_30D', now)!;
  const since365 = rangeStart('LAST_12M', now)!;
  return {
    now,
    today: cstDate(now),
    todayStart: cstDayStart(now),
    since30,
    since30Day: cstDate(since30),
    since30DayStart: cstDayStart(since30),
    since365,
    since365Day: cstDate(since365),
    since365DayStart: cstDayStart(since365),
  };
}

const sumBefore = (map: Record<string, number> | undefined, day: string) => {
  let n = 0;
  for (const [k, v] of Object.entries(map ?? {})) if (k < day) n += v;
  return n;
};
const sumFrom = (map: Record<string, number> | undefined, day: string) => {
  let n = 0;
  for (const [k, v] of Object.entries(map ?? {})) if (k >= day) n += v;
  return n;
};

/** Edge counts of one area: rows of a window's first (or today's) CST day on the far side of it. */
export interface Edges {
  /** Active residents due today before now. */
  dueToday: number;
  /** Active residents last visited on the 30-day window's first day, before it opens. */
  visitedBefore30: number;
}

export const overdueOf = (doc: AreaDoc | null, dueToday: number, w: Windows) => sumBefore(doc?.dueDays, w.today) + dueToday;
export const visitedOf = (doc: AreaDoc | null, visitedBefore: number, w: Windows) => sumFrom(doc?.lastVisitDays, w.since30Day) - visitedBefore;
export const holidayOf = (doc: AreaDoc | null, holidayBefore: number, w: Windows) => sumFrom(doc?.holidayDays, w.since365Day) - holidayBefore;

export function rawStatsOf(doc: AreaDoc | null, edges: Edges, w: Windows): RawElderlyStats {
  return {
    registered: doc?.registered ?? 0,
    livingAlone: doc?.livingAlone ?? 0,
    difficulty: doc?.difficulty ?? 0,
    highRisk: doc?.highRisk ?? 0,
    keyRisk: doc?.keyRisk ?? 0,
    visitedLast30d: visitedOf(doc, edges.visitedBefore30, w),
    overdueVisits: overdueOf(doc, edges.dueToday, w),
  };
}

/** One month of the visit trend, before disclosure control. */
export interface RawVisitMonth {
  month: string;
  registered: number;
  visited: number;
  overdue: number;
}

/** The month names of a trend, computed once per instant and length (a snapshot asks for thousands of 小区 at once). */
let trendMonthsMemo: { at: number; n: number; windows: { month: string }[]; current: string } | null = null;
function trendMonths(at: Date, n: number): { windows: { month: string }[]; current: string } {
  if (trendMonthsMemo?.at === at.getTime() && trendMonthsMemo.n === n) return trendMonthsMemo;
  const windows = lastMonthsIncludingCurrent(at, n).map(({ month }) => ({ month }));
  trendMonthsMemo = { at: at.getTime(), n, windows, current: monthWindow(at).month };
  return trendMonthsMemo;
}

/**
 * The last `months` CST months ending with the current one, oldest first, one entry per month:
 * registered by the month's end, visited in it, overdue at its end (the current month: now).
 */
export function trendOf(doc: AreaDoc | null, overdueNow: number, w: Windows, months: number): RawVisitMonth[] {
  const { windows, current } = trendMonths(w.now, months);
  const first = windows[0].month;
  // Running sums of the months before the first one shown.
  let registered = sumBefore(doc?.registeredMonths, first);
  let overdueFrom = sumBefore(doc?.overdueFromMonths, first);
  return windows.map(({ month }) => {
    registered += doc?.registeredMonths?.[month] ?? 0;
    overdueFrom += doc?.overdueFromMonths?.[month] ?? 0;
    return {
      month,
      registered,
      visited: doc?.visitedMonths?.[month] ?? 0,
      overdue: month === current ? overdueNow : (doc?.overdueMonths?.[month] ?? 0) + overdueFrom,
    };
  });
}
