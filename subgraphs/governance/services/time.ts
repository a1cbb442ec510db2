/**
 * Time rules of the governance subgraph, all in China Standard Time (UTC+8, no daylight saving):
 * working-day deadlines (12345: 5 working days), query ranges and calendar months.
 */

export const CST_OFFSET_MS = 8 * 3600_000;
const DAY_MS = 24 * 3600_000;

export type TimeRange = 'LAST_30D' | 'LAST_90D' | 'LAST_12M' | 'ALL';

/**
 * Working-day calendar. Weekends are rest days unless listed in `workdays` (调休 make-up days);
 * `holidays` are rest days on weekdays (法定节假日). Dates are `YYYY-MM-DD` in China Standard Time.
 * The State Council publishes each year's list in the preceding December; configure it per
 * deployment (the default calendar knows weekends only).
 */
export interface WorkCalendar {
  holidays?: ReadonlySet<string> | readonly string[];
  workdays?: ReadonlySet<string> | readonly string[];
}

const asSet = (v: ReadonlySet<string> | readonly string[] | undefined): ReadonlySet<string> =>
  v instanceof Set ? v : new Set((v as readonly string[] | undefined) ?? []);

/** `YYYY-MM-DD` of an instant in China Standard Time. */
export function cstDate(at: Date): string {
  return new Date(at.getTime() + CST_OFFSET_MS).toISOString().slice(0, 10);
}

/** `YYYY-MM` of an instant in China Standard Time. */
export function cstMonth(at: Date): string {
  return cstDate(at).slice(0, 7);
}

export function isWorkingDay(date: string, cal: WorkCalendar = {}): boolean {
  if (asSet(cal.workdays).has(date)) return true;
  if (asSet(cal.holidays).has(date)) return false;
  const dow = new Date(`${date}T00:00:00Z`).getUTCDay();
  return dow !== 0 && dow !== 6;
}

/**
 * The deadline `n` working days after `from`: the end (23:59:59.999 CST) of the n-th working day
 * after the day of `from`. A request on Friday with n = 5 is due at the end of the next Friday.
 */
export function addWorkingDays(from: Date, n: number, cal: WorkCalendar = {}): Date {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`working days must be a non-negative integer, got ${n}`);
  let day = new Date(`${cstDate(from)}T00:00:00Z`).getTime();
  let left = n;
  let guard = 0;
  while (left > 0) {
    day += DAY_MS;
    if (isWorkingDay(new Date(day).toISOString().slice(0, 10), cal)) left--;
    if (++guard > 3660) throw new RangeError('working-day calendar has no working days');
  }
  // `day` is midnight UTC of the CST calendar date; its CST end is 24h later minus the offset.
  return new Date(day + DAY_MS - 1 - CST_OFFSET_MS);
}

/** Start of a range ending now; null for ALL. LAST_12M is 365 days. */
export function rangeStart(range: TimeRange, now: Date): Date | null {
  switch (range) {
    case 'LAST_30D':
      return new Date(now.getTime() - 30 * DAY_MS);
    case 'LAST_90D':
      return new Date(now.getTime() - 90 * DAY_MS);
    case 'LAST_12M':
      return new Date(now.getTime() - 365 * DAY_MS);
    default:
      return null;
  }
}

export interface MonthWindow {
  month: string;
  start: Date;
  end: Date;
}

/** The last `n` complete calendar months before the current one (CST), oldest first. */
export function lastCompleteMonths(now: Date, n: number): MonthWindow[] {
  const [y, m] = cstMonth(now).split('-').map(Number);
  const out: MonthWindow[] = [];
  for (let i = n; i >= 1; i--) {
    const startUtc = Date.UTC(y, m - 1 - i, 1) - CST_OFFSET_MS;
    const endUtc = Date.UTC(y, m - i, 1) - CST_OFFSET_MS;
    const month = new Date(startUtc + CST_OFFSET_MS).toISOString().slice(0, 7);
    out.push({ month, start: new Date(startUtc), end: new Date(endUtc) });
  }
  return out;
}

export const hoursBetween = (from: Date, to: Date) => (to.getTime() - from.getTime()) / 3600_000;
