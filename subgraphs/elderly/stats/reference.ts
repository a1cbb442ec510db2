/**
 * The statistics computed straight from the raw rows, as the subgraph answered before the rollups:
 * the reference the rollups are tested against (test/rollups.test.ts). Statistics resolvers never
 * call this module: every query here scans the register or the visits of the whole area.
 */
import type { PipelineStage } from 'mongoose';
import { lastMonthsIncludingCurrent, monthWindow, rangeStart } from '../../../lib/clock';
import type { Models } from '../models';
import type { RawElderlyStats } from '../services/privacy';
import { isContact, isMajorEvent, nextVisitDue, VISIT_INTERVAL_DAYS, type RiskTier } from '../services/risk';
import type { RawVisitMonth } from './figures';
import { levelField, type CoverageRow, type StatsLevel } from './read';

/**
 * The register figures, computed by the database in one `$group` over plain fields: the group key
 * is (area, living arrangement, tier, has a difficulty flag, overdue, visited in 30 days), so the
 * engine evaluates two date comparisons per resident and no conditional sums; the few group rows
 * per area (at most 96) are then folded into the figures.
 */
function statsPipeline(field: string, match: Record<string, unknown>, now: Date): PipelineStage[] {
  const since = rangeStart('LAST_30D', now)!;
  return [
    { $match: match },
    {
      $group: {
        _id: {
          code: `$${field}`,
          la: '$livingArrangement',
          tier: '$riskTier',
          d: '$hasDifficulty',
          // Active residents always have a due date (registration sets one).
          o: { $lt: ['$nextVisitDue', now] },
          v: { $gte: ['$lastVisitedAt', since] },
        },
        n: { $sum: 1 },
      },
    },
  ];
}

interface StatsGroupRow {
  _id: { code: string; la: string; tier: string; d: boolean | null; o: boolean; v: boolean };
  n: number;
}

function foldStats(rows: StatsGroupRow[]): (RawElderlyStats & { code: string })[] {
  const byCode = new Map<string, RawElderlyStats & { code: string }>();
  for (const { _id: k, n } of rows) {
    let s = byCode.get(k.code);
    if (!s) byCode.set(k.code, (s = { code: k.code, registered: 0, livingAlone: 0, difficulty: 0, highRisk: 0, keyRisk: 0, visitedLast30d: 0, overdueVisits: 0 }));
    s.registered += n;
    if (k.la === 'LIVING_ALONE') s.livingAlone += n;
    if (k.d) s.difficulty += n;
    if (k.tier === 'HIGH') s.highRisk += n;
    if (k.tier === 'KEY') s.keyRisk += n;
    if (k.v) s.visitedLast30d += n;
    if (k.o) s.overdueVisits += n;
  }
  return [...byCode.values()];
}

/** Register figures per 小区, district or city over the active register; areas without residents are absent. */
export async function referenceElderlyStats(m: Models, level: StatsLevel, codes: readonly string[], now: Date): Promise<(RawElderlyStats & { code: string })[]> {
  const field = levelField(level);
  return foldStats(await m.Resident.aggregate<StatsGroupRow>(statsPipeline(field, { [field]: { $in: [...codes] }, status: 'ACTIVE' }, now)));
}

/** Holiday visits (节假日探视) in the last 12 months per 小区, district or city. */
export async function referenceHolidayVisits(m: Models, level: StatsLevel, codes: readonly string[], now: Date): Promise<{ code: string; count: number }[]> {
  const field = levelField(level);
  const since = rangeStart('LAST_12M', now)!;
  return m.HomeVisit.aggregate([
    { $match: { [field]: { $in: [...codes] }, occasion: 'HOLIDAY', visitedAt: { $gte: since } } },
    { $group: { _id: `$${field}`, count: { $sum: 1 } } },
    { $project: { _id: 0, code: '$_id', count: 1 } },
  ]);
}

/**
 * Monthly visit coverage per 小区 of a city or district, lowest rate first (then id), keeping rates
 * below `below`, in one aggregation over the register (grouping, rate, filter, sort, page, count);
 * the 小区 of `hidden` (those whose rate the disclosure pattern suppresses) are dropped before ranking.
 */
export async function referenceCoverage(m: Models, level: 'CITY' | 'DISTRICT', code: string, below: number, skip: number, limit: number, hidden: readonly string[] | null, now: Date) {
  const field = levelField(level);
  const since = rangeStart('LAST_30D', now)!;
  const stages: PipelineStage[] = [
    { $match: { [field]: code, status: 'ACTIVE' } },
    { $group: { _id: { c: '$communityId', v: { $gte: ['$lastVisitedAt', since] } }, n: { $sum: 1 } } },
    { $group: { _id: '$_id.c', registered: { $sum: '$n' }, visitedLast30d: { $sum: { $cond: ['$_id.v', '$n', 0] } } } },
    ...(hidden ? [{ $match: { _id: { $nin: [...hidden] } } }] : []),
    { $addFields: { rate: { $divide: ['$visitedLast30d', '$registered'] } } },
    { $match: { rate: { $lt: below } } },
    { $sort: { rate: 1, _id: 1 } },
    {
      $facet: {
        rows: [{ $skip: skip }, { $limit: limit + 1 }, { $project: { _id: 0, communityId: '$_id', registered: 1, visitedLast30d: 1 } }],
        total: [{ $count: 'n' }],
      },
    },
  ];
  const [out] = await m.Resident.aggregate<{ rows: CoverageRow[]; total: { n: number }[] }>(stages);
  const rows = out?.rows ?? [];
  return { rows: rows.slice(0, limit), hasNextPage: rows.length > limit, totalCount: out?.total[0]?.n ?? 0 };
}

/**
 * The visit trend of areas from the raw rows (all active residents and their visits read once),
 * month by month: active residents registered by the month's end; of them, those with a contact
 * visit in the month; overdue at the month's end by the visit plan rebuilt from the visits before
 * it (the current month: `nextVisitDue` before now, as overdueVisits). Keyed `<LEVEL>|<code>`.
 */
export async function referenceTrends(
  m: Models,
  areas: readonly { level: StatsLevel; code: string }[],
  months: number,
  now: Date,
): Promise<Map<string, RawVisitMonth[]>> {
  const residents = await m.Resident.find({ status: 'ACTIVE' }).lean();
  const visits = await m.HomeVisit.find({}, { elderId: 1, visitedAt: 1, outcome: 1 }).lean();
  const contacts = new Map<string, { at: number; outcome: string }[]>();
  for (const v of visits) {
    if (!isContact(v.outcome)) continue;
    const list = contacts.get(v.elderId) ?? [];
    list.push({ at: new Date(v.visitedAt).getTime(), outcome: v.outcome });
    contacts.set(v.elderId, list);
  }
  const windows = lastMonthsIncludingCurrent(now, months);
  const current = monthWindow(now).month;
  const out = new Map<string, RawVisitMonth[]>();
  for (const area of areas) {
    const field = levelField(area.level) as 'cityCode' | 'districtCode' | 'communityId';
    const own = residents.filter((r) => r[field] === area.code);
    out.set(`${area.level}|${area.code}`, windows.map(({ month, start, end }) => {
      let registered = 0;
      let visited = 0;
      let overdue = 0;
      for (const r of own) {
        const tier = r.riskTier as RiskTier;
        if (month === current && !(r.nextVisitDue && r.nextVisitDue >= now)) overdue++;
        if (!r.registeredAt || !VISIT_INTERVAL_DAYS[tier] || !(r.registeredAt < end)) continue;
        registered++;
        const mine = contacts.get(r._id) ?? [];
        if (mine.some((c) => c.at >= start.getTime() && c.at < end.getTime())) visited++;
        if (month === current) continue;
        // The plan at the month's end: the latest contact before it (the later due date of a tie).
        const before = mine.filter((c) => c.at < end.getTime());
        const latest = Math.max(...before.map((c) => c.at));
        const due = before.length
          ? Math.max(...before.filter((c) => c.at === latest).map((c) => nextVisitDue(new Date(c.at), tier, isMajorEvent(c.outcome)).getTime()))
          : nextVisitDue(r.registeredAt, tier).getTime();
        if (due < end.getTime()) overdue++;
      }
      return { month, registered, visited, overdue };
    }));
  }
  return out;
}
