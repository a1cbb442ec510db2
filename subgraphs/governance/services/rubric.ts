/**
 * The 美好家园 evaluation rubric and scoring.
 *
 * The reference standard (美好家园小区参考标准; docs/domain.md, "Rules behind the workflows") verifies
 * two weights: 党建引领机制完善 20% and 业委会/物管会运行规范 20%. They are fixed. The rest of the standard was not retrievable, so the
 * other three dimensions (service quality, resident participation, environment and safety) are
 * configurable; the default gives each 20% [E].
 *
 * Each dimension averages its indicators that have evidence (0-100). A dimension without any
 * evidence is left out and the total is renormalised over the rest; `coverage` reports the share of
 * weight that had evidence, so sparse records cannot pass silently as a high score.
 */
import { daysBefore } from '../../../lib/clock';
import { badInput } from '../../../lib/errors';

export const DIMENSIONS = ['PARTY_LEADERSHIP', 'COMMITTEE_GOVERNANCE', 'SERVICE_QUALITY', 'RESIDENT_PARTICIPATION', 'ENVIRONMENT_SAFETY'] as const;
export type Dimension = (typeof DIMENSIONS)[number];

export const FIXED_WEIGHTS: Readonly<Partial<Record<Dimension, number>>> = { PARTY_LEADERSHIP: 0.2, COMMITTEE_GOVERNANCE: 0.2 };

export const DIMENSION_LABELS: Readonly<Record<Dimension, string>> = {
  PARTY_LEADERSHIP: '党建引领机制完善',
  COMMITTEE_GOVERNANCE: '业委会/物管会运行规范',
  SERVICE_QUALITY: '物业服务规范与质量',
  RESIDENT_PARTICIPATION: '居民参与共建共治共享、为群众办实事',
  ENVIRONMENT_SAFETY: '环境宜居与安全',
};

/** Indicators per dimension, with the subgraph that owns the evidence. */
export const INDICATORS: Readonly<Record<Dimension, readonly { key: string; source: string }[]>> = {
  PARTY_LEADERSHIP: [
    { key: 'partyOrganization', source: 'governance' },
    { key: 'partyAlliance', source: 'governance' },
    { key: 'jointMeetingCadence', source: 'governance' },
  ],
  COMMITTEE_GOVERNANCE: [
    { key: 'committeeInPlace', source: 'governance' },
    { key: 'disclosureWithin12m', source: 'governance' },
    { key: 'partyMemberRatio', source: 'governance' },
    { key: 'committeeMeetingsLast12m', source: 'governance' },
  ],
  SERVICE_QUALITY: [
    { key: 'feeAmountRate', source: 'properties' },
    { key: 'satisfactionPercent', source: 'properties' },
    { key: 'ticketSatisfiedRate', source: 'governance' },
    { key: 'ticketOnTimeRate', source: 'governance' },
  ],
  RESIDENT_PARTICIPATION: [
    { key: 'patrolTeam', source: 'governance' },
    { key: 'activities', source: 'governance' },
    { key: 'elderlyMonthlyVisitRate', source: 'elderly' },
  ],
  ENVIRONMENT_SAFETY: [
    { key: 'renovationStatus', source: 'renovation' },
    { key: 'patrolRectifiedWithin48h', source: 'governance' },
    { key: 'coGovernedSafetyTopics', source: 'governance' },
  ],
};

export interface RubricDef {
  id: string;
  name: string;
  isDefault: boolean;
  weights: { dimension: Dimension; weight: number }[];
}

export const DEFAULT_RUBRIC_ID = 'rb_default';

export const DEFAULT_RUBRIC: RubricDef = {
  id: DEFAULT_RUBRIC_ID,
  name: '美好家园参考标准（党建引领20%、业委会/物管会20%为核实权重，其余为估计）',
  isDefault: true,
  weights: DIMENSIONS.map((dimension) => ({ dimension, weight: 0.2 })),
};

const EPS = 1e-9;

/** Validates a rubric input; BAD_USER_INPUT naming the offending dimension or argument. */
export function validateRubric(input: { id: string; name: string; weights: readonly { dimension: string; weight: number }[] }): RubricDef {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(input.id)) throw badInput('id', 'use 1-64 letters, digits, _ or -');
  if (input.id === DEFAULT_RUBRIC_ID) throw badInput('id', `${DEFAULT_RUBRIC_ID} is the built-in rubric and cannot be replaced`);
  const name = input.name.trim();
  if (!name || name.length > 200) throw badInput('name', 'must be 1-200 characters');
  const seen = new Map<Dimension, number>();
  for (const w of input.weights) {
    const d = w.dimension as Dimension;
    if (!DIMENSIONS.includes(d)) throw badInput('weights', `unknown dimension ${w.dimension}`);
    if (seen.has(d)) throw badInput('weights', `dimension ${d} is given twice`);
    if (!Number.isFinite(w.weight) || w.weight < 0 || w.weight > 1) throw badInput('weights', `${d}: weight must be between 0 and 1`);
    seen.set(d, w.weight);
  }
  for (const [d, fixed] of Object.entries(FIXED_WEIGHTS) as [Dimension, number][]) {
    const w = seen.get(d);
    if (w === undefined) throw badInput('weights', `${d} must be given with its fixed weight ${fixed}`);
    if (Math.abs(w - fixed) > EPS) throw badInput('weights', `${d} has the verified fixed weight ${fixed}; got ${w}`);
  }
  const sum = [...seen.values()].reduce((a, b) => a + b, 0);
  if (Math.abs(sum - 1) > 1e-6) throw badInput('weights', `weights must sum to 1; they sum to ${Math.round(sum * 1e6) / 1e6}`);
  return { id: input.id, name, isDefault: false, weights: DIMENSIONS.filter((d) => seen.has(d)).map((d) => ({ dimension: d, weight: seen.get(d)! })) };
}

// ---- evidence and scoring --------------------------------------------------------------------

/** Everything the score reads: governance's own records plus the @requires fields. */
export interface Evidence {
  // governance
  hasPartyOrganization: boolean;
  hasAlliance: boolean;
  /** Compliant months / months over the last 3 complete months; null when no meeting is recorded or no cadence applies. */
  jointMeetingComplianceShare: number | null;
  committee: { active: boolean; termExpired: boolean; lastDisclosureAt: Date | null; partyMemberRatio: number | null; meetingsLast12m: number } | null;
  ticketSatisfiedRate: number | null;
  ticketOnTimeRate: number | null;
  hasPatrolTeam: boolean;
  activityCount: number;
  patrolRectifiedWithin48hRate: number | null;
  coGovernanceTopics: readonly string[];
  // other subgraphs (@requires)
  feeAmountRate: number | null;
  satisfactionPercent: number | null;
  elderlyMonthlyVisitRate: number | null;
  renovationStatus: string | null;
}

const RENOVATION_STATUS_SCORE: Readonly<Record<string, number>> = {
  ACCEPTED: 100,
  LONG_TERM_MGMT: 100,
  COMPLETED: 90,
  UNDER_CONSTRUCTION: 60,
  TENDERING: 40,
  APPROVED: 40,
  PLANNED: 30,
  RESERVE: 20,
};

const SAFETY_TOPICS = new Set(['FIRE_SAFETY', 'PUBLIC_SECURITY', 'ILLEGAL_CONSTRUCTION', 'EV_CHARGING', 'HEATING', 'CORRIDOR_CLUTTER']);

const clamp = (v: number) => Math.max(0, Math.min(100, v));
const pct = (rate: number | null | undefined) => (rate == null || !Number.isFinite(rate) ? null : clamp(rate * 100));
const bool = (b: boolean) => (b ? 100 : 0);

export function indicatorValues(e: Evidence, now: Date): Record<string, { value: number | null; score: number | null }> {
  const c = e.committee;
  const yearAgo = daysBefore(now, 365).getTime();
  const safetyTopics = e.coGovernanceTopics.filter((t) => SAFETY_TOPICS.has(t)).length;
  return {
    partyOrganization: { value: Number(e.hasPartyOrganization), score: bool(e.hasPartyOrganization) },
    partyAlliance: { value: Number(e.hasAlliance), score: bool(e.hasAlliance) },
    jointMeetingCadence: { value: e.jointMeetingComplianceShare, score: pct(e.jointMeetingComplianceShare) },
    committeeInPlace: c ? { value: c.active ? (c.termExpired ? 0.5 : 1) : 0, score: c.active ? (c.termExpired ? 50 : 100) : 0 } : { value: 0, score: 0 },
    disclosureWithin12m:
      c?.lastDisclosureAt != null
        ? { value: Number(c.lastDisclosureAt.getTime() >= yearAgo), score: bool(c.lastDisclosureAt.getTime() >= yearAgo) }
        : { value: null, score: null },
    // 党员占比较高: full marks from one half up [E].
    partyMemberRatio: c?.partyMemberRatio != null ? { value: c.partyMemberRatio, score: clamp((c.partyMemberRatio / 0.5) * 100) } : { value: null, score: null },
    // Regular meetings: quarterly or more gives full marks [E]; no records is no evidence.
    committeeMeetingsLast12m: c && c.meetingsLast12m > 0 ? { value: c.meetingsLast12m, score: clamp(c.meetingsLast12m * 25) } : { value: null, score: null },
    feeAmountRate: { value: e.feeAmountRate, score: pct(e.feeAmountRate) },
    satisfactionPercent: { value: e.satisfactionPercent, score: e.satisfactionPercent == null ? null : clamp(e.satisfactionPercent) },
    ticketSatisfiedRate: { value: e.ticketSatisfiedRate, score: pct(e.ticketSatisfiedRate) },
    ticketOnTimeRate: { value: e.ticketOnTimeRate, score: pct(e.ticketOnTimeRate) },
    patrolTeam: { value: Number(e.hasPatrolTeam), score: bool(e.hasPatrolTeam) },
    // Activities on record: four or more give full marks [E].
    activities: { value: e.activityCount, score: clamp(e.activityCount * 25) },
    elderlyMonthlyVisitRate: { value: e.elderlyMonthlyVisitRate, score: pct(e.elderlyMonthlyVisitRate) },
    renovationStatus:
      e.renovationStatus != null ? { value: null, score: RENOVATION_STATUS_SCORE[e.renovationStatus] ?? null } : { value: null, score: null },
    patrolRectifiedWithin48h: { value: e.patrolRectifiedWithin48hRate, score: pct(e.patrolRectifiedWithin48hRate) },
    coGovernedSafetyTopics: { value: safetyTopics, score: clamp(safetyTopics * 50) },
  };
}

export interface DimensionScoreRow {
  dimension: Dimension;
  label: string;
  weight: number;
  score: number | null;
  indicators: { key: string; value: number | null; score: number | null; source: string }[];
}

export interface EvaluationRow {
  rubricId: string;
  score: number | null;
  coverage: number;
  breakdown: DimensionScoreRow[];
  evaluatedAt: Date;
}

const round2 = (v: number) => Math.round(v * 100) / 100;

/**
 * Dimension scores (mean of the indicators with evidence), the weighted total over the dimensions
 * with a score, and the weight they cover: the one scoring rule, for a fresh evaluation and for one
 * re-scored without the indicators a caller may not see.
 */
export function scoreBreakdown(dimensions: readonly Omit<DimensionScoreRow, 'score'>[]): { score: number | null; coverage: number; breakdown: DimensionScoreRow[] } {
  const breakdown: DimensionScoreRow[] = dimensions.map((d) => {
    const scored = d.indicators.filter((i) => i.score != null).map((i) => i.score as number);
    const score = scored.length ? round2(scored.reduce((a, b) => a + b, 0) / scored.length) : null;
    return { ...d, score };
  });
  let weighted = 0;
  let coverage = 0;
  for (const d of breakdown) {
    if (d.score == null || d.weight === 0) continue;
    weighted += d.weight * d.score;
    coverage += d.weight;
  }
  return { score: coverage > 0 ? round2(weighted / coverage) : null, coverage: round2(coverage * 1e4) / 1e4, breakdown };
}

export function evaluate(rubric: RubricDef, e: Evidence, now: Date): EvaluationRow {
  const values = indicatorValues(e, now);
  const scored = scoreBreakdown(
    rubric.weights.map(({ dimension, weight }) => ({
      dimension,
      label: DIMENSION_LABELS[dimension],
      weight,
      indicators: INDICATORS[dimension].map(({ key, source }) => ({ key, source, ...values[key] })),
    })),
  );
  return { rubricId: rubric.id, ...scored, evaluatedAt: now };
}
