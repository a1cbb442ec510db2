/**
 * 探访关爱 visit plan: the risk-tier rule and the visit intervals it implies.
 *
 * Source: 民政部等《关于开展特殊困难老年人探访关爱服务的指导意见》(2022) and a local implementation
 * (docs/domain.md, "Rules behind the workflows"):
 * - HIGH (高风险): 80+ living alone / 空巢 / 留守, or a life-threatening illness → at least weekly;
 * - KEY (重点): 60+ 失能/失智 (incl. 重残), 特困, 计生特殊家庭 → at least monthly;
 * - GENERAL (一般): everyone else on the register → at least quarterly.
 * A major event (hospitalisation, referral) calls for a follow-up within 24 hours.
 */
import { ageInYear, DAY_MS, HOUR_MS, now } from '../../../lib/clock';

export type RiskTier = 'HIGH' | 'KEY' | 'GENERAL';
export type AgeBand = 'AGE_60_69' | 'AGE_70_79' | 'AGE_80_89' | 'AGE_90_PLUS';
export type LivingArrangement = 'LIVING_ALONE' | 'EMPTY_NEST' | 'LEFT_BEHIND' | 'WITH_FAMILY';

export const VISIT_INTERVAL_DAYS: Record<RiskTier, number> = { HIGH: 7, KEY: 30, GENERAL: 90 };
/** Follow-up after a major event (POST_EVENT_24H). */
export const POST_EVENT_FOLLOW_UP_HOURS = 24;

const ALONE: readonly string[] = ['LIVING_ALONE', 'EMPTY_NEST', 'LEFT_BEHIND'];
const KEY_FLAGS: readonly string[] = ['DISABLED', 'SEMI_DISABLED', 'DEMENTIA', 'SEVERE_DISABILITY', 'EXTREME_POVERTY', 'FAMILY_PLANNING_SPECIAL'];

/** The age band of a birth year in the CST calendar year of `at` (default: now, by the product clock). */
export function ageBandOf(birthYear: number, at: Date = now()): AgeBand | null {
  const age = ageInYear(birthYear, at);
  if (age < 60) return null;
  if (age < 70) return 'AGE_60_69';
  if (age < 80) return 'AGE_70_79';
  if (age < 90) return 'AGE_80_89';
  return 'AGE_90_PLUS';
}

export interface RiskInput {
  ageBand: AgeBand;
  livingArrangement: LivingArrangement | string;
  difficultyFlags: readonly string[];
}

export function deriveRiskTier(r: RiskInput): RiskTier {
  const advancedAge = r.ageBand === 'AGE_80_89' || r.ageBand === 'AGE_90_PLUS' || r.difficultyFlags.includes('ADVANCED_AGE');
  if ((advancedAge && ALONE.includes(r.livingArrangement)) || r.difficultyFlags.includes('CHRONIC_HIGH_RISK')) return 'HIGH';
  if (r.difficultyFlags.some((f) => KEY_FLAGS.includes(f))) return 'KEY';
  return 'GENERAL';
}

export const effectiveTier = (derived: RiskTier, override: RiskTier | null | undefined): RiskTier => override ?? derived;

/**
 * When the next visit is due: the last contact (or the registration, before any visit) plus the
 * tier's interval; after a major event, at most 24 hours after that visit.
 */
export function nextVisitDue(from: Date, tier: RiskTier, afterMajorEvent = false): Date {
  const regular = new Date(from.getTime() + VISIT_INTERVAL_DAYS[tier] * DAY_MS);
  if (!afterMajorEvent) return regular;
  const followUp = new Date(from.getTime() + POST_EVENT_FOLLOW_UP_HOURS * HOUR_MS);
  return followUp < regular ? followUp : regular;
}

/** Outcomes that count as contact with the resident (a NOT_HOME attempt does not). */
export const isContact = (outcome: string) => outcome !== 'NOT_HOME';
/** Outcomes that call for a follow-up within 24 hours. */
export const isMajorEvent = (outcome: string) => outcome === 'HOSPITALISED' || outcome === 'NEEDS_REFERRAL';

/** 探访关爱 target: a monthly visit rate of 100% by the end of 2025. */
export const MONTHLY_VISIT_RATE_TARGET = 1.0;
