/**
 * Shapes the raw figures the database computes into the GraphQL statistics types. Rates with a
 * zero denominator are null, never NaN or a division by zero.
 */
import type { TimeRange } from '../../../lib/clock';
import type { CommitteeStatsRaw, PatrolStatsRaw, TicketStatsRaw } from './repository';

export function ratio(n: number | null | undefined, d: number | null | undefined): number | null {
  if (n == null || d == null || d === 0) return null;
  return n / d;
}

const round2 = (v: number | null) => (v == null ? null : Math.round(v * 100) / 100);

export interface TicketStatsGroupRow {
  key: string;
  opened: number;
  resolved: number;
  backlog: number;
  overdue: number;
  p50Hours: number | null;
  p90Hours: number | null;
  satisfiedRate: number | null;
  dissatisfiedRate: number | null;
  reopenRate: number | null;
}

export interface TicketStatsRow {
  range: TimeRange;
  from: Date | null;
  to: Date;
  opened: number;
  resolved: number;
  backlog: number;
  overdue: number;
  medianHoursToResolve: number | null;
  p90HoursToResolve: number | null;
  onTimeRate: number | null;
  satisfiedRate: number | null;
  dissatisfiedRate: number | null;
  reopenRate: number | null;
  perThousandHouseholds: number | null;
  households: number | null;
  groups: TicketStatsGroupRow[];
}

const EMPTY: Omit<TicketStatsRaw, 'scope' | 'group'> = {
  opened: 0,
  openedKnownHouseholds: 0,
  resolved: 0,
  backlog: 0,
  overdue: 0,
  p50Hours: null,
  p90Hours: null,
  onTime: 0,
  reopened: 0,
  rated: 0,
  satisfied: 0,
  dissatisfied: 0,
};

/**
 * Builds the stats of one scope key from its raw rows (the total row has group null). `households`
 * is the scope's known household total (null or 0: the rate per 1,000 households is null).
 */
export function toTicketStats(
  rows: readonly TicketStatsRaw[],
  range: TimeRange,
  from: Date | null,
  to: Date,
  grouped: boolean,
  households: number | null = null,
): TicketStatsRow {
  const total = rows.find((r) => r.group === null) ?? { scope: '', group: null, ...EMPTY };
  const groups = grouped
    ? rows
        .filter((r) => r.group !== null)
        .sort((a, b) => (a.group as string).localeCompare(b.group as string))
        .map((r) => ({
          key: r.group as string,
          opened: r.opened,
          resolved: r.resolved,
          backlog: r.backlog,
          overdue: r.overdue,
          p50Hours: round2(r.p50Hours),
          p90Hours: round2(r.p90Hours),
          satisfiedRate: ratio(r.satisfied, r.rated),
          dissatisfiedRate: ratio(r.dissatisfied, r.rated),
          reopenRate: ratio(r.reopened, r.resolved),
        }))
    : [];
  return {
    range,
    from,
    to,
    opened: total.opened,
    resolved: total.resolved,
    backlog: total.backlog,
    overdue: total.overdue,
    medianHoursToResolve: round2(total.p50Hours),
    p90HoursToResolve: round2(total.p90Hours),
    onTimeRate: ratio(total.onTime, total.resolved),
    satisfiedRate: ratio(total.satisfied, total.rated),
    dissatisfiedRate: ratio(total.dissatisfied, total.rated),
    reopenRate: ratio(total.reopened, total.resolved),
    perThousandHouseholds: households ? Math.round((total.openedKnownHouseholds * 1000 * 1000) / households) / 1000 : null,
    households: households || null,
    groups,
  };
}

export interface PatrolStatsRow {
  range: TimeRange;
  reports: number;
  rectified: number;
  open: number;
  medianRectificationLagHours: number | null;
  p90RectificationLagHours: number | null;
  rectifiedWithin48hRate: number | null;
}

export function toPatrolStats(raw: PatrolStatsRaw | undefined, range: TimeRange): PatrolStatsRow {
  const r = raw ?? { scope: '', reports: 0, rectified: 0, within48h: 0, p50Hours: null, p90Hours: null };
  return {
    range,
    reports: r.reports,
    rectified: r.rectified,
    open: r.reports - r.rectified,
    medianRectificationLagHours: round2(r.p50Hours),
    p90RectificationLagHours: round2(r.p90Hours),
    rectifiedWithin48hRate: ratio(r.within48h, r.reports),
  };
}

export function emptyCommitteeStats(code: string): CommitteeStatsRaw {
  return { code, communities: 0, withOwnersCommittee: 0, withPMC: 0, none: 0, active: 0, expiredTerms: 0, disclosedLast12m: 0, avgPartyMemberRatio: null, ratioCommittees: 0 };
}
