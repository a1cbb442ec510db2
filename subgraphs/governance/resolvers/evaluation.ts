import type { EvaluationRubricResolvers, TypicalCaseCandidateResolvers } from '../__generated__/resolvers-types';
import { DIMENSION_LABELS, FIXED_WEIGHTS, INDICATORS } from '../services/rubric';
import type { DimensionScoreRow } from '../services/rubric';
import { redactEvaluation } from '../services/privacy';
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

const shown = (c: CandidateRow, ctx: Parameters<typeof redactEvaluation>[1]) =>
  redactEvaluation({ score: c.evaluation.score ?? null, coverage: c.evaluation.coverage ?? 0, breakdown: (c.evaluation.breakdown ?? []) as DimensionScoreRow[] }, ctx);

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
