/**
 * Which rollup documents and which raw rows make up a range ending now (CST calendar, lib/clock.ts).
 * Rolling ranges are not aligned to days or months: the partial day at the start and today up to now
 * are read from raw rows (small indexed queries), whole days from day documents, whole months from
 * month documents. Levels without day documents read the partial months at both ends from raw rows.
 */
import { cstDate, cstDayStart, cstMonth, cstMonthStart, DAY_MS } from '../../../lib/clock';

export interface Interval {
  from: Date;
  to: Date;
  /** Whether `to` itself is in (ranges end at now inclusive; edges before a bucket exclude it). */
  incl: boolean;
}

export interface Cover {
  raw: Interval[];
  /** Day documents (`YYYY-MM-DD`). */
  days: Set<string>;
  /** Whether a month document (`YYYY-MM`) is in. */
  months: (month: string) => boolean;
}

/** CST days in [a, b) (both at 00:00 CST). */
function daysIn(a: Date, b: Date, out: Set<string>): void {
  for (let t = a.getTime(); t < b.getTime(); t += DAY_MS) out.add(cstDate(new Date(t)));
}

/** The cover of [from, now] (from null: everything up to now). */
export function coverOf(from: Date | null, now: Date, withDays: boolean): Cover {
  const T0 = cstDayStart(now);
  const M0 = cstMonthStart(now);
  const cur = cstMonth(now);
  const days = new Set<string>();
  const none = () => false;
  const edge = withDays ? T0 : M0;
  if (from && from.getTime() >= edge.getTime()) return { raw: [{ from, to: now, incl: true }], days, months: none };
  const raw: Interval[] = [{ from: edge, to: now, incl: true }];
  if (!withDays) {
    if (!from) return { raw, days, months: (p) => p < cur };
    let first = from;
    if (cstMonthStart(from).getTime() !== from.getTime()) {
      first = cstMonthStart(from, 1);
      raw.push({ from, to: first, incl: false });
    }
    const fm = cstMonth(first);
    return { raw, days, months: first.getTime() < M0.getTime() ? (p) => p >= fm && p < cur : none };
  }
  if (!from) {
    daysIn(M0, T0, days);
    return { raw, days, months: (p) => p < cur };
  }
  let a = from;
  if (cstDayStart(from).getTime() !== from.getTime()) {
    a = cstDayStart(from, 1);
    raw.push({ from, to: a, incl: false });
  }
  if (a.getTime() >= T0.getTime()) return { raw, days, months: none };
  if (a.getTime() >= M0.getTime()) {
    daysIn(a, T0, days);
    return { raw, days, months: none };
  }
  let first = a;
  if (cstMonthStart(a).getTime() !== a.getTime()) {
    first = cstMonthStart(a, 1);
    daysIn(a, first, days);
  }
  daysIn(M0, T0, days);
  const fm = cstMonth(first);
  return { raw, days, months: first.getTime() < M0.getTime() ? (p) => p >= fm && p < cur : none };
}

/**
 * Deadlines before now (overdue): month documents before the current month (the caller), day
 * documents of the current month before today, and raw open rows due from then until now.
 */
export function dueCoverOf(now: Date, withDays: boolean): { days: Set<string>; raw: Interval } {
  const T0 = cstDayStart(now);
  const M0 = cstMonthStart(now);
  const days = new Set<string>();
  if (!withDays) return { days, raw: { from: M0, to: now, incl: false } };
  daysIn(M0, T0, days);
  return { days, raw: { from: T0, to: now, incl: false } };
}
