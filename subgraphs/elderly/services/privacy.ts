/**
 * Statistical disclosure control for aggregates over individuals (PIPL; docs/domain.md, "Bureaus
 * and entities"), for callers without individual-level access:
 *
 *  - primary suppression: counts of 0–4 people are suppressed (null), zeros included (a "0" next to
 *    a null would tell that the null is 1–4);
 *  - secondary (complementary) suppression across the 小区 → district → city hierarchy and the
 *    cross-tabulations (risk tier, living alone, difficulty, visited, overdue), so no suppressed
 *    figure can be recovered from its parent and siblings: ./disclosure.ts, by lib/disclosure.ts,
 *    for a whole city at once;
 *  - a rate is suppressed whenever its numerator or denominator is.
 *
 * `suppressCount`/`suppressRate` are the primary rule alone (a single figure with no published
 * relatives); the area statistics go through ./disclosure.ts. The access flag comes from the
 * request context. Callers with individual-level access see exact figures.
 */
export const SUPPRESSION_THRESHOLD = 5;

/** The longest visitTrend window (months), which the per-month patterns are computed over. */
export const MAX_TREND_MONTHS_FOR_PATTERN = 60;

export interface Access {
  individualAccess: boolean;
}

export function suppressCount(n: number | null | undefined, access: Access): number | null {
  if (n == null) return null;
  if (access.individualAccess) return n;
  return n < SUPPRESSION_THRESHOLD ? null : n;
}

/** numerator/denominator, null when the denominator is 0 or either count is suppressed. */
export function suppressRate(numerator: number, denominator: number, access: Access): number | null {
  if (denominator === 0) return null;
  if (suppressCount(numerator, access) == null || suppressCount(denominator, access) == null) return null;
  return numerator / denominator;
}

/** Raw figures computed by the database for one area. */
export interface RawElderlyStats {
  registered: number;
  livingAlone: number;
  difficulty: number;
  highRisk: number;
  keyRisk: number;
  visitedLast30d: number;
  overdueVisits: number;
}

export interface ExposedElderlyStats {
  registered: number | null;
  livingAlone: number | null;
  difficulty: number | null;
  highRisk: number | null;
  keyRisk: number | null;
  visitedLast30d: number | null;
  monthlyVisitRate: number | null;
  overdueVisits: number | null;
}

export function exposeElderlyStats(raw: RawElderlyStats, access: Access): ExposedElderlyStats {
  return {
    registered: suppressCount(raw.registered, access),
    livingAlone: suppressCount(raw.livingAlone, access),
    difficulty: suppressCount(raw.difficulty, access),
    highRisk: suppressCount(raw.highRisk, access),
    keyRisk: suppressCount(raw.keyRisk, access),
    visitedLast30d: suppressCount(raw.visitedLast30d, access),
    monthlyVisitRate: suppressRate(raw.visitedLast30d, raw.registered, access),
    overdueVisits: suppressCount(raw.overdueVisits, access),
  };
}

export const EMPTY_RAW_STATS: RawElderlyStats = { registered: 0, livingAlone: 0, difficulty: 0, highRisk: 0, keyRisk: 0, visitedLast30d: 0, overdueVisits: 0 };
