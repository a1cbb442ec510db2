import type { EvaluationRubricResolvers, TypicalCaseCandidateResolvers } from '../__generated__/resolvers-types';
import { DIMENSION_LABELS, FIXED_WEIGHTS, INDICATORS } from '../services/rubric';
import type { DimensionScoreRow } from '../services/rubric';
import { redactEvaluation, type ScoredEvaluation } from '../services/privacy';
import type { CandidateRow } from '../services/evaluation';

export const EvaluationRubric: EvaluationRubricResolvers = {
  dimensions: (r) =>
    r.weights.map(({ dimension, weight }) => ({
      dimension,
      label: DIMENSION_LABELS[dimension],
      weight,
      fixed: FIXED_WEIGHTS[dimension] !== undefined,
      indicators: INDICATORS[dimension].map((i) => `${i.key} (${i.source})`),
    })),
};

/** The candidate's evaluation as the caller may see it, computed once per candidate and request. */
const shownOf = new WeakMap<CandidateRow, ReturnType<typeof redactEvaluation<ScoredEvaluation>>>();
const shown = (c: CandidateRow, ctx: Parameters<typeof redactEvaluation>[1]) => {
  let row = shownOf.get(c);
  if (!row) {
    row = redactEvaluation<ScoredEvaluation>({ score: c.evaluation.score ?? null, coverage: c.evaluation.coverage ?? 0, breakdown: (c.evaluation.breakdown ?? []) as DimensionScoreRow[] }, ctx);
    shownOf.set(c, row);
  }
  return row;
};

export const TypicalCaseCandidate: TypicalCaseCandidateResolvers = {
  community: (c) => ({ id: c.evaluation.communityId }),
  // Score, coverage and breakdown as the caller may see them (re-scored without party membership
  // for callers who may not read it).
  beautifulHomeScore: (c, _a, ctx) => shown(c, ctx).score,
  coverage: (c, _a, ctx) => shown(c, ctx).coverage,
  breakdown: (c, _a, ctx) => [...shown(c, ctx).breakdown],
  evaluatedAt: (c) => c.evaluation.evaluatedAt,
  designations: (c, _a, { loaders }) => loaders.designationsByCommunity.load(c.evaluation.communityId),
};
