/**
 * The raw-row computation of ticket statistics, as the subgraph answered before the rollups
 * (./read.ts): one aggregation over the tickets (and one over the register for households) per
 * request. Kept as the reference the tests compare the rollups with; no resolver calls it.
 *
 * Percentiles are nearest-rank over `$push` + `$sortArray` of the exact hours (the rollups give the
 * same percentile floored to the hour).
 */
import type { PipelineStage } from 'mongoose';
import { cstMonth, lastMonthsIncludingCurrent, rangeStart, type TimeRange } from '../../../lib/clock';
import { nearestRankOf } from '../../../lib/rollup';
import type { Models, TicketDoc } from '../models';
import { isOpen } from '../services/lifecycle';
import { nearestRank, type GroupBy, type HouseholdsRaw, type StatsScope, type TicketStatsRaw } from '../services/repository';
import { toTicketStats, type TicketStatsRow } from '../services/stats';
import type { TicketMonthRow, TicketScopeInput } from './read';

const SCOPE_FIELD: Readonly<Record<StatsScope, string>> = {
  CITY: 'cityCode',
  DISTRICT: 'districtCode',
  COMMUNITY: 'communityId',
  COMPANY: 'companyUscc',
};
const GROUP_FIELD: Readonly<Record<GroupBy, string>> = { SERVICE_CODE: 'serviceCode', CHANNEL: 'channel', TYPE: 'type' };
const RATED = ['SATISFIED', 'BASICALLY_SATISFIED', 'DISSATISFIED'];
const inRange = (field: string, from: Date | null, to: Date) => (from ? { [field]: { $gte: from, $lte: to } } : { [field]: { $ne: null, $lte: to } });
const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/**
 * Households per scope key over governance's register (one aggregation): the sum of the known
 * household counts and the ids of the 小区 whose count is unknown (left out of the rate). `scope`
 * null means one bucket ("all") over `extraMatch` (fields of the register: cityCode,
 * districtCode, _id, companyUscc).
 */
export async function referenceHouseholds(m: Models, scope: StatsScope | null, codes: readonly string[], extraMatch: Record<string, unknown> = {}): Promise<HouseholdsRaw[]> {
  const field = scope ? (scope === 'COMMUNITY' ? '_id' : SCOPE_FIELD[scope]) : null;
  const match = field ? { ...extraMatch, [field]: { $in: [...codes] } } : extraMatch;
  const known = { $gt: [{ $ifNull: ['$householdCount', 0] }, 0] };
  return m.Community.aggregate<HouseholdsRaw>([
    { $match: match },
    {
      $group: {
        _id: field ? `$${field}` : { $literal: 'all' },
        households: { $sum: { $cond: [known, '$householdCount', 0] } },
        unknownIds: { $push: { $cond: [known, null, '$_id'] } },
      },
    },
    { $project: { _id: 0, scope: '$_id', households: 1, unknownIds: { $filter: { input: '$unknownIds', as: 'i', cond: { $ne: ['$$i', null] } } } } },
  ]).exec();
}

/**
 * Ticket figures per scope key (and per group when `groupBy` is set), in one aggregation:
 * opened in range, resolved in range (with percentiles and outcome counts) and open now.
 * `scope` null means one bucket ("all") over `extraMatch`.
 */
export async function referenceTicketStats(
  m: Models,
  scope: StatsScope | null,
  codes: readonly string[],
  extraMatch: Record<string, unknown>,
  from: Date | null,
  to: Date,
  now: Date,
  groupBy: GroupBy | null,
  /** 小区 left out of `openedKnownHouseholds` (their household count is unknown). */
  unknownHouseholdIds: readonly string[] = [],
): Promise<TicketStatsRaw[]> {
  const field = scope ? SCOPE_FIELD[scope] : null;
  const s = field ? `$${field}` : { $literal: 'all' };
  const g = groupBy ? `$${GROUP_FIELD[groupBy]}` : { $literal: null };
  const base = field ? { ...extraMatch, [field]: { $in: [...codes] } } : extraMatch;
  const resolvedRows = (key: Record<string, unknown>): PipelineStage.FacetPipelineStage[] => [
    { $match: inRange('resolvedAt', from, to) },
    {
      $project: {
        s,
        g,
        hours: { $divide: [{ $subtract: ['$resolvedAt', '$requestedAt'] }, 3600000] },
        onTime: { $cond: [{ $lte: ['$resolvedAt', '$dueAt'] }, 1, 0] },
        reopened: { $cond: [{ $gt: ['$reopenCount', 0] }, 1, 0] },
        // The first rating counts (see firstSatisfaction): a reopen cannot erase a 不满意.
        rated: { $cond: [{ $in: ['$firstSatisfaction', RATED] }, 1, 0] },
        satisfied: { $cond: [{ $in: ['$firstSatisfaction', ['SATISFIED', 'BASICALLY_SATISFIED']] }, 1, 0] },
        dissatisfied: { $cond: [{ $eq: ['$firstSatisfaction', 'DISSATISFIED'] }, 1, 0] },
      },
    },
    { $sort: { hours: 1 } },
    {
      $group: {
        _id: key,
        n: { $sum: 1 },
        hours: { $push: '$hours' },
        onTime: { $sum: '$onTime' },
        reopened: { $sum: '$reopened' },
        rated: { $sum: '$rated' },
        satisfied: { $sum: '$satisfied' },
        dissatisfied: { $sum: '$dissatisfied' },
      },
    },
    {
      $project: {
        n: 1,
        onTime: 1,
        reopened: 1,
        rated: 1,
        satisfied: 1,
        dissatisfied: 1,
        p50: nearestRank('$hours', 0.5),
        p90: nearestRank('$hours', 0.9),
      },
    },
  ];
  const facets: Record<string, PipelineStage.FacetPipelineStage[]> = {
    opened: [
      { $match: inRange('requestedAt', from, to) },
      {
        $group: {
          _id: { s, g },
          n: { $sum: 1 },
          known: { $sum: { $cond: [{ $in: ['$communityId', [...unknownHouseholdIds]] }, 0, 1] } },
        },
      },
    ],
    resolved: resolvedRows({ s: '$s', g: '$g' }),
    backlog: [
      { $match: { open: true } },
      { $group: { _id: { s, g }, n: { $sum: 1 }, overdue: { $sum: { $cond: [{ $lt: ['$dueAt', now] }, 1, 0] } } } },
    ],
  };
  // Totals over groups: counts add up, percentiles do not, so resolved totals get their own facet.
  if (groupBy) facets.resolvedTotal = resolvedRows({ s: '$s', g: { $literal: null } });
  const [out] = await m.Ticket.aggregate<Record<string, { _id: { s: string; g: string | null }; [k: string]: unknown }[]>>([
    { $match: base },
    { $facet: facets },
  ]).exec();

  const rows = new Map<string, TicketStatsRaw>();
  const row = (sk: string, gk: string | null) => {
    const k = `${sk}\u0000${gk ?? ''}`;
    let r = rows.get(k);
    if (!r) {
      r = { scope: sk, group: gk, opened: 0, openedKnownHouseholds: 0, resolved: 0, backlog: 0, overdue: 0, p50Hours: null, p90Hours: null, onTime: 0, reopened: 0, rated: 0, satisfied: 0, dissatisfied: 0 };
      rows.set(k, r);
    }
    return r;
  };
  const addResolved = (r: TicketStatsRaw, x: Record<string, unknown>) => {
    r.resolved = x.n as number;
    r.p50Hours = num(x.p50);
    r.p90Hours = num(x.p90);
    r.onTime = x.onTime as number;
    r.reopened = x.reopened as number;
    r.rated = x.rated as number;
    r.satisfied = x.satisfied as number;
    r.dissatisfied = x.dissatisfied as number;
  };
  for (const x of out?.opened ?? []) {
    const r = row(x._id.s, x._id.g);
    r.opened = x.n as number;
    r.openedKnownHouseholds = x.known as number;
    if (groupBy) {
      const t = row(x._id.s, null);
      t.opened += x.n as number;
      t.openedKnownHouseholds += x.known as number;
    }
  }
  for (const x of out?.backlog ?? []) {
    const r = row(x._id.s, x._id.g);
    r.backlog = x.n as number;
    r.overdue = x.overdue as number;
    if (groupBy) {
      const t = row(x._id.s, null);
      t.backlog += x.n as number;
      t.overdue += x.overdue as number;
    }
  }
  for (const x of out?.resolved ?? []) addResolved(row(x._id.s, x._id.g), x);
  for (const x of out?.resolvedTotal ?? []) addResolved(row(x._id.s, null), x);
  return [...rows.values()];
}

/** Options of the reference answers: `floorHours` floors the percentiles to the hour, as the rollups give them. */
export interface ReferenceOptions {
  floorHours?: boolean;
}
const floorRow = (r: TicketStatsRaw): TicketStatsRaw => ({
  ...r,
  p50Hours: r.p50Hours == null ? null : Math.floor(r.p50Hours),
  p90Hours: r.p90Hours == null ? null : Math.floor(r.p90Hours),
});

/** The reference answer of `City/District/Community/PropertyCompany.ticketStats` for one code. */
export async function referenceTicketStatsOf(
  m: Models,
  scope: StatsScope,
  code: string,
  range: TimeRange,
  groupBy: GroupBy | null,
  now: Date,
  opts: ReferenceOptions = {},
): Promise<TicketStatsRow> {
  const from = rangeStart(range, now);
  const hh = await referenceHouseholds(m, scope, [code]);
  const rows = await referenceTicketStats(m, scope, [code], {}, from, now, now, groupBy, hh.flatMap((h) => h.unknownIds));
  return toTicketStats(opts.floorHours ? rows.map(floorRow) : rows, range, from, now, groupBy != null, hh.find((h) => h.scope === code)?.households ?? null);
}

/** The reference answer of `Query.ticketStats(scope, range, groupBy)`. */
export async function referenceTicketStatsForScope(
  m: Models,
  scope: TicketScopeInput | null | undefined,
  range: TimeRange,
  groupBy: GroupBy | null,
  now: Date,
  opts: ReferenceOptions = {},
): Promise<TicketStatsRow> {
  const match: Record<string, unknown> = {};
  if (scope?.cityCode) match.cityCode = scope.cityCode;
  if (scope?.districtCode) match.districtCode = scope.districtCode;
  if (scope?.communityId) match.communityId = scope.communityId;
  if (scope?.companyUscc) match.companyUscc = scope.companyUscc;
  const from = rangeStart(range, now);
  const { communityId, ...area } = match;
  const [hh] = await referenceHouseholds(m, null, [], communityId ? { ...area, _id: communityId } : area);
  const rows = await referenceTicketStats(m, null, [], match, from, now, now, groupBy, hh?.unknownIds ?? []);
  return toTicketStats(opts.floorHours ? rows.map(floorRow) : rows, range, from, now, groupBy != null, hh?.households ?? null);
}

/**
 * The reference monthly series of the tickets matching `match` (ticket fields): per CST month of
 * the last `months` ending with the current one, tickets opened and resolved in the month, the hours
 * to resolve (nearest rank, floored to the hour), on-time and satisfied rates, and the backlog at the
 * month's end: tickets requested before it whose status moves before it leave them open.
 */
export async function referenceTicketTrend(m: Models, match: Record<string, unknown>, months: number, now: Date): Promise<TicketMonthRow[]> {
  const tickets = await m.Ticket.find(match).lean<TicketDoc[]>().exec();
  return lastMonthsIncludingCurrent(now, months).map((w) => {
    const inMonth = (d: Date | null | undefined) => d != null && cstMonth(new Date(d)) === w.month;
    const resolved = tickets.filter((t) => inMonth(t.resolvedAt));
    const hours = resolved.map((t) => Math.floor((new Date(t.resolvedAt!).getTime() - new Date(t.requestedAt).getTime()) / 3600_000));
    const rated = resolved.filter((t) => RATED.includes(t.firstSatisfaction ?? ''));
    const end = w.end.getTime();
    const backlog = tickets.filter((t) => {
      if (new Date(t.requestedAt).getTime() >= end) return false;
      let open = true;
      for (const n of t.notes ?? []) {
        if (n.type === 'CREATED' || n.type === 'COMMENT' || !n.to || new Date(n.at).getTime() >= end) continue;
        open = isOpen(n.to);
      }
      return open;
    }).length;
    return {
      month: w.month,
      opened: tickets.filter((t) => inMonth(t.requestedAt)).length,
      resolved: resolved.length,
      backlog,
      medianHoursToResolve: nearestRankOf(hours, 0.5),
      p90HoursToResolve: nearestRankOf(hours, 0.9),
      onTimeRate: resolved.length ? resolved.filter((t) => new Date(t.resolvedAt!).getTime() <= new Date(t.dueAt).getTime()).length / resolved.length : null,
      satisfiedRate: rated.length ? rated.filter((t) => t.firstSatisfaction !== 'DISSATISFIED').length / rated.length : null,
    };
  });
}
