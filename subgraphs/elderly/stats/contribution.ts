/**
 * What one registered resident contributes to the statistics rollups of its 小区, district and city:
 * a pure function of the resident's row and its visits (never of "now"), so the rollups equal their
 * rebuild whenever it runs, and a write changes exactly the difference between the resident's old
 * and new contribution.
 *
 * A contribution is a flat map `field` or `map/key` → count:
 * - active residents (status ACTIVE): `registered`, `livingAlone`, `difficulty`, `highRisk`,
 *   `keyRisk`; `dueDays/<CST day of nextVisitDue>` (no due date: {@link NO_DATE}, counted as overdue
 *   as the database orders null before any date); `lastVisitDays/<CST day of lastVisitedAt>`;
 * - every HOLIDAY visit of the resident, whatever its status: `holidayDays/<CST day>`;
 * - the monthly trend of active residents (months in CST):
 *   - `registeredMonths/<month of registeredAt>`: registered by a month's end = the sum up to it;
 *   - `visitedMonths/<month>` for each month with a contact visit (outcome other than NOT_HOME);
 *   - overdue at a month's end (00:00 CST on the next month's first day): the visit plan then, rebuilt
 *     from the visit history under the resident's current tier: the latest contact before that
 *     instant (of contacts at the same instant, the later due date) plus the tier's interval (24 h
 *     after HOSPITALISED / NEEDS_REFERRAL), or the registration plus the interval before any
 *     contact; overdue when that is before the month's end. From the month of the last contact on,
 *     the answer no longer changes with the month except once, when the last due date passes: so
 *     `overdueMonths/<month>` lists the earlier months that were overdue at their end, and one
 *     `overdueFromMonths/<month>` entry says from which month on the resident is overdue at every
 *     month's end (until a later contact rewrites the contribution).
 */
import { cstDate, cstMonth, monthsBetween, type MonthWindow } from '../../../lib/clock';
import { isContact, isMajorEvent, nextVisitDue, VISIT_INTERVAL_DAYS, type RiskTier } from '../services/risk';

/** Flat counts: `registered` or `dueDays/2026-12-03`. */
export type Counts = Record<string, number>;

export const SCALARS = ['registered', 'livingAlone', 'difficulty', 'highRisk', 'keyRisk'] as const;
export const MAPS = ['dueDays', 'lastVisitDays', 'holidayDays', 'registeredMonths', 'visitedMonths', 'overdueMonths', 'overdueFromMonths', 'communities'] as const;
export type Scalar = (typeof SCALARS)[number];
export type MapName = (typeof MAPS)[number];

/** The due-day key of an active resident without a due date: before every day, so always overdue. */
export const NO_DATE = '0000-00-00';

export interface AreaKeys {
  communityId: string;
  districtCode: string;
  cityCode: string;
}

export interface Contribution {
  area: AreaKeys;
  k: Counts;
}

/** The fields of a resident row a contribution reads. */
export interface ResidentRow {
  _id: string;
  communityId: string;
  districtCode: string;
  cityCode: string;
  status?: string | null;
  livingArrangement?: string | null;
  hasDifficulty?: boolean | null;
  riskTier?: string | null;
  nextVisitDue?: Date | null;
  lastVisitedAt?: Date | null;
  registeredAt?: Date | null;
}

/** The fields of a visit row a contribution reads. */
export interface VisitRow {
  elderId?: string;
  visitedAt: Date;
  outcome: string;
  occasion: string;
}

export const RESIDENT_FIELDS = {
  _id: 1, communityId: 1, districtCode: 1, cityCode: 1, status: 1, livingArrangement: 1, hasDifficulty: 1, riskTier: 1,
  nextVisitDue: 1, lastVisitedAt: 1, registeredAt: 1,
} as const;
export const VISIT_FIELDS = { _id: 0, elderId: 1, visitedAt: 1, outcome: 1, occasion: 1 } as const;

/** The contribution of a resident with its visits; null when it contributes nothing. */
export function contributionOf(r: ResidentRow, visits: readonly VisitRow[]): Contribution | null {
  const k: Counts = {};
  const add = (key: string) => {
    k[key] = (k[key] ?? 0) + 1;
  };
  for (const v of visits) if (v.occasion === 'HOLIDAY') add(`holidayDays/${cstDate(v.visitedAt)}`);

  if (r.status === 'ACTIVE') {
    add('registered');
    if (r.livingArrangement === 'LIVING_ALONE') add('livingAlone');
    if (r.hasDifficulty) add('difficulty');
    if (r.riskTier === 'HIGH') add('highRisk');
    if (r.riskTier === 'KEY') add('keyRisk');
    add(`dueDays/${r.nextVisitDue ? cstDate(r.nextVisitDue) : NO_DATE}`);
    if (r.lastVisitedAt) add(`lastVisitDays/${cstDate(r.lastVisitedAt)}`);
    trend(r, visits, add);
  }
  if (Object.keys(k).length === 0) return null;
  return { area: { communityId: r.communityId, districtCode: r.districtCode, cityCode: r.cityCode }, k };
}

/**
 * The CST months from the month of `from` to the month of instant `to` (lib/clock.ts), memoised:
 * a rebuild asks for the same few thousand spans again and again.
 */
const MONTH_SPANS = new Map<string, MonthWindow[]>();
function monthsFrom(from: Date, to: number): MonthWindow[] {
  const key = `${cstMonth(from)}|${cstMonth(new Date(to))}`;
  let span = MONTH_SPANS.get(key);
  if (!span) {
    if (MONTH_SPANS.size > 50_000) MONTH_SPANS.clear();
    MONTH_SPANS.set(key, (span = monthsBetween(from, new Date(to))));
  }
  return span;
}

/** The monthly trend part (see the file comment); rows without a registration date or tier have none. */
function trend(r: ResidentRow, visits: readonly VisitRow[], add: (key: string) => void): void {
  const tier = r.riskTier as RiskTier;
  if (!r.registeredAt || !VISIT_INTERVAL_DAYS[tier]) return;
  const regMonth = cstMonth(r.registeredAt);
  add(`registeredMonths/${regMonth}`);

  // Contacts by instant, oldest first; of contacts at one instant the later due date counts.
  const byInstant = new Map<number, number>();
  const months = new Set<string>();
  for (const v of visits) {
    if (!isContact(v.outcome)) continue;
    const at = v.visitedAt.getTime();
    const due = nextVisitDue(v.visitedAt, tier, isMajorEvent(v.outcome)).getTime();
    byInstant.set(at, Math.max(byInstant.get(at) ?? -Infinity, due));
    const m = cstMonth(v.visitedAt);
    if (m >= regMonth) months.add(m);
  }
  for (const m of months) add(`visitedMonths/${m}`);
  const contacts = [...byInstant.entries()].sort((a, b) => a[0] - b[0]);
  const regDue = nextVisitDue(r.registeredAt, tier).getTime();

  // Months before the month of the last contact, each judged at its end.
  let from = regMonth;
  if (contacts.length) {
    const last = contacts[contacts.length - 1][0];
    let i = -1;
    for (const w of monthsFrom(r.registeredAt, last)) {
      const end = w.end.getTime();
      if (end > last) break;
      while (i + 1 < contacts.length && contacts[i + 1][0] < end) i++;
      const due = i >= 0 ? contacts[i][1] : regDue;
      if (due < end) add(`overdueMonths/${w.month}`);
    }
    const lastMonth = cstMonth(new Date(last));
    if (lastMonth > from) from = lastMonth;
  }
  // From then on: overdue at the end of every month from the one its last due date falls in.
  const lastDue = contacts.length ? contacts[contacts.length - 1][1] : regDue;
  const dueMonth = cstMonth(new Date(lastDue));
  add(`overdueFromMonths/${dueMonth > from ? dueMonth : from}`);
}

/**
 * The ledger form of a contribution: one string, canonical JSON (keys sorted), so equal
 * contributions have equal strings (the compare-and-set token) and the ledger stays one value per
 * resident. `null` for none.
 */
export function encodeContribution(c: Contribution | null): string | null {
  if (!c) return null;
  const k: Counts = {};
  for (const key of Object.keys(c.k).sort()) k[key] = c.k[key];
  return JSON.stringify({ area: { communityId: c.area.communityId, districtCode: c.area.districtCode, cityCode: c.area.cityCode }, k });
}

export const decodeContribution = (s: string): Contribution => JSON.parse(s) as Contribution;

export type Level = 'COMMUNITY' | 'DISTRICT' | 'CITY';
export const LEVELS: readonly Level[] = ['COMMUNITY', 'DISTRICT', 'CITY'];

/** `_id` of an area's rollup document. */
export const areaId = (level: Level, code: string) => `${level}|${code}`;

/** The identity fields of the three area documents a resident of `area` contributes to. */
export function areaIdents(area: AreaKeys): { _id: string; level: Level; code: string; cityCode: string; districtCode: string | null }[] {
  return [
    { _id: areaId('COMMUNITY', area.communityId), level: 'COMMUNITY', code: area.communityId, cityCode: area.cityCode, districtCode: area.districtCode },
    { _id: areaId('DISTRICT', area.districtCode), level: 'DISTRICT', code: area.districtCode, cityCode: area.cityCode, districtCode: area.districtCode },
    { _id: areaId('CITY', area.cityCode), level: 'CITY', code: area.cityCode, cityCode: area.cityCode, districtCode: null },
  ];
}

/**
 * The coverage entry of a 小区 kept on its district's document (`communities.<id>`), from the 小区's
 * own counters: `registered;day:count;…` (active residents by CST day of the last visit, days
 * ascending), or null when nobody is registered. One string per 小区, so visitCoverage reads a
 * district's 小区 as one small value each.
 */
export function coverageEntry(registered: number | undefined, lastVisitDays: Record<string, number> | undefined): string | null {
  if (!registered) return null;
  const days = Object.entries(lastVisitDays ?? {})
    .filter(([, n]) => n !== 0)
    .sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  return [String(registered), ...days.map(([d, n]) => `${d}:${n}`)].join(';');
}

/** Registered residents of a coverage entry and those last visited on or after `fromDay`. */
export function readCoverageEntry(entry: string, fromDay: string): { registered: number; visitedFrom: number } {
  const parts = entry.split(';');
  let visitedFrom = 0;
  for (let i = 1; i < parts.length; i++) {
    const at = parts[i].indexOf(':');
    if (parts[i].slice(0, at) >= fromDay) visitedFrom += Number(parts[i].slice(at + 1));
  }
  return { registered: Number(parts[0]), visitedFrom };
}

/**
 * The document path of a flat key (`map/key` → `map.key`) and its top-level field. No segment holds
 * a "." or starts with "$": days and months are YYYY-MM(-DD), 小区 ids the properties bureau's `cm_…`.
 */
export const pathOf = (key: string) => key.split('/').join('.');
export const topOf = (key: string) => key.split('/')[0];
