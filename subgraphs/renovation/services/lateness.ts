/**
 * Milestone lateness. A milestone is late when it was done after its planned date, or when it is not
 * done and its planned date has passed. Done-with-unknown-date and unplanned milestones are never late.
 * "Now" is the product clock (lib/clock.ts) unless the caller passes the instant to judge at.
 */
import { DAY_MS, now } from '../../../lib/clock';

export interface MilestoneLike {
  plannedAt?: Date | null;
  actualAt?: Date | null;
  done?: boolean | null;
}

const time = (d: Date | string | null | undefined) => (d == null ? null : new Date(d).getTime());

export function isDone(m: MilestoneLike): boolean {
  return m.actualAt != null || m.done === true;
}

export function daysLate(m: MilestoneLike, at: Date = now()): number | null {
  const planned = time(m.plannedAt);
  if (planned == null) return null;
  const actual = time(m.actualAt);
  if (actual != null) return actual > planned ? Math.max(1, Math.ceil((actual - planned) / DAY_MS)) : null;
  if (m.done) return null;
  const t = at.getTime();
  return t > planned ? Math.max(1, Math.ceil((t - planned) / DAY_MS)) : null;
}

export const isLate = (m: MilestoneLike, at: Date = now()) => daysLate(m, at) != null;

/**
 * Fields stored on the project so that "late" can be filtered and counted by the database:
 * a late done milestone is permanent; an open one becomes late when `earliestOpenPlannedAt` passes.
 */
export function lateIndexFields(milestones: readonly MilestoneLike[]): { hasLateDoneMilestone: boolean; earliestOpenPlannedAt: Date | null } {
  let hasLate = false;
  let earliest: number | null = null;
  for (const m of milestones) {
    const planned = time(m.plannedAt);
    const actual = time(m.actualAt);
    if (planned != null && actual != null && actual > planned) hasLate = true;
    if (planned != null && !isDone(m) && (earliest == null || planned < earliest)) earliest = planned;
  }
  return { hasLateDoneMilestone: hasLate, earliestOpenPlannedAt: earliest == null ? null : new Date(earliest) };
}

/** Mongo filter: projects with a late milestone as of `now`. */
export function lateFilter(now: Date): Record<string, unknown> {
  return { $or: [{ hasLateDoneMilestone: true }, { earliestOpenPlannedAt: { $ne: null, $lt: now } }] };
}

/** The same rule as an aggregation expression (for counts computed by the database). */
export function lateExpr(now: Date): Record<string, unknown> {
  return {
    $or: [
      { $eq: ['$hasLateDoneMilestone', true] },
      { $and: [{ $ne: [{ $ifNull: ['$earliestOpenPlannedAt', null] }, null] }, { $lt: ['$earliestOpenPlannedAt', now] }] },
    ],
  };
}
