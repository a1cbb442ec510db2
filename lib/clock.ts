/**
 * The product's one clock, and its calendar in China Standard Time (Asia/Shanghai, UTC+8, no
 * daylight saving since 1991).
 *
 * Every service, resolver, seed and synthetic generator asks `now()` here for domain time (deadlines,
 * "last 30 days", overdue flags, "as of" dates). Nothing else in domain code reads the wall clock:
 * `test/federation/clock-guard.test.ts` fails when it does. Measuring elapsed time (logs, timeouts,
 * benchmarks) may keep `performance.now()` / `Date.now()` outside domain code.
 *
 * Production uses the real time. `CLOCK_NOW=2027-02-28T16:30:00Z` (honoured by `npm start`, the
 * seeds and the test run, see lib/config.ts) sets the clock to that instant at start-up and lets it
 * run on from there; `CLOCK_FREEZE=true` stops it there. Tests use {@link setClock} /
 * {@link freezeClock} or pass a clock to a subgraph's context.
 *
 * Month, day and working-day windows are computed here, once, in CST: a month starts at
 * 00:00 CST on its first day (16:00 UTC the day before).
 */

export interface Clock {
  now(): Date;
}

export const TIME_ZONE = 'Asia/Shanghai';
/** UTC+8, all year. */
export const CST_OFFSET_MS = 8 * 3600_000;
export const HOUR_MS = 3600_000;
export const DAY_MS = 24 * HOUR_MS;

/** The real time. The one place in domain code allowed to read the wall clock. */
export const systemClock: Clock = { now: () => new Date() };

/** A clock stopped at `at`. */
export function fixedClock(at: Date | string): Clock {
  const t = toInstant(at).getTime();
  return { now: () => new Date(t) };
}

/** A clock that reads `at` now and runs on in real time from there. */
export function startingClock(at: Date | string): Clock {
  const offset = toInstant(at).getTime() - systemClock.now().getTime();
  return { now: () => new Date(systemClock.now().getTime() + offset) };
}

let current: Clock = systemClock;

/** The current instant of the product's clock. */
export function now(): Date {
  return current.now();
}

/** The product's clock itself (for code that keeps a reference, e.g. a context factory). */
export const clock: Clock = { now: () => current.now() };

/** Installs a clock for the whole process (start-up reads CLOCK_NOW; tests pin a date). */
export function setClock(c: Clock): void {
  current = c;
}

/** Stops the clock at `at` (test helper and `CLOCK_FREEZE`). */
export function freezeClock(at: Date | string): void {
  setClock(fixedClock(at));
}

/** Back to the real time. */
export function resetClock(): void {
  current = systemClock;
}


/**
 * The clock a `CLOCK_NOW` / `CLOCK_FREEZE` setting describes, or null for the real time. The value
 * must be an ISO-8601 instant with a zone (`Z` or `+08:00`): a bare date would be read in
 * whatever zone the machine has.
 */
export function clockFromSetting(value: string | undefined, freeze = false): Clock | null {
  if (value === undefined || value === '') return null;
  const at = parseInstant(value);
  if (!at) throw new RangeError(`CLOCK_NOW: expected an ISO-8601 instant with a zone such as 2027-02-28T16:30:00Z, got "${value}"`);
  return freeze ? fixedClock(at) : startingClock(at);
}

const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;
/** An ISO-8601 instant with an explicit zone, or null. */
export function parseInstant(value: string): Date | null {
  if (!INSTANT.test(value)) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d;
}

function toInstant(at: Date | string): Date {
  if (at instanceof Date) return new Date(at.getTime());
  const d = parseInstant(at);
  if (!d) throw new RangeError(`not an ISO-8601 instant with a zone: "${at}"`);
  return d;
}

// ---------------------------------------------------------------------------------------------
// Calendar in China Standard Time
// ---------------------------------------------------------------------------------------------

/** `YYYY-MM-DD` of an instant in China Standard Time. */
export function cstDate(at: Date): string {
  return new Date(at.getTime() + CST_OFFSET_MS).toISOString().slice(0, 10);
}

/** `YYYY-MM` of an instant in China Standard Time. */
export function cstMonth(at: Date): string {
  return cstDate(at).slice(0, 7);
}

/** Calendar year of an instant in China Standard Time. */
export function cstYear(at: Date): number {
  return Number(cstDate(at).slice(0, 4));
}

/** 00:00 CST of the day `at` falls on, plus `days` days (negative: earlier). */
export function cstDayStart(at: Date, days = 0): Date {
  const d = new Date(`${cstDate(at)}T00:00:00Z`).getTime();
  return new Date(d - CST_OFFSET_MS + days * DAY_MS);
}

/** 00:00 CST on the first of the month `at` falls in, moved by `months` months (negative: earlier). */
export function cstMonthStart(at: Date, months = 0): Date {
  const [y, m] = cstMonth(at).split('-').map(Number);
  return new Date(Date.UTC(y, m - 1 + months, 1) - CST_OFFSET_MS);
}


export interface MonthWindow {
  /** `YYYY-MM` in CST. */
  month: string;
  /** 00:00 CST on the first day (inclusive). */
  start: Date;
  /** 00:00 CST on the first day of the next month (exclusive). */
  end: Date;
}

/** The month window `months` months away from the month of `at` (0 = the month of `at`). */
export function monthWindow(at: Date, months = 0): MonthWindow {
  const start = cstMonthStart(at, months);
  return { month: cstMonth(start), start, end: cstMonthStart(at, months + 1) };
}

/** The last `n` complete calendar months before the current one (CST), oldest first. */
export function lastCompleteMonths(at: Date, n: number): MonthWindow[] {
  const out: MonthWindow[] = [];
  for (let i = n; i >= 1; i--) out.push(monthWindow(at, -i));
  return out;
}

/** The last `n` calendar months ending with the current one (CST), oldest first. */
export function lastMonthsIncludingCurrent(at: Date, n: number): MonthWindow[] {
  const out: MonthWindow[] = [];
  for (let i = n - 1; i >= 0; i--) out.push(monthWindow(at, -i));
  return out;
}

/** The months (CST) from the month of `from` to the month of `to`, both included, oldest first. */
export function monthsBetween(from: Date, to: Date): MonthWindow[] {
  const out: MonthWindow[] = [];
  const last = cstMonth(to);
  for (let i = 0; ; i++) {
    const w = monthWindow(from, i);
    if (w.month > last) break;
    out.push(w);
  }
  return out;
}

export const hoursBetween = (from: Date, to: Date) => (to.getTime() - from.getTime()) / HOUR_MS;
/** The instant `days` days before `at`. */
export const daysBefore = (at: Date, days: number) => new Date(at.getTime() - days * DAY_MS);

/** Rolling ranges that end now. */
export type TimeRange = 'LAST_30D' | 'LAST_90D' | 'LAST_12M' | 'ALL';

/** Start of a range ending at `at`; null for ALL. LAST_12M is 365 days. */
export function rangeStart(range: TimeRange, at: Date): Date | null {
  switch (range) {
    case 'LAST_30D':
      return daysBefore(at, 30);
    case 'LAST_90D':
      return daysBefore(at, 90);
    case 'LAST_12M':
      return daysBefore(at, 365);
    default:
      return null;
  }
}

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

/** Age in whole years reached during the CST calendar year of `at` (age bands use birth years only). */
export const ageInYear = (birthYear: number, at: Date) => cstYear(at) - birthYear;
