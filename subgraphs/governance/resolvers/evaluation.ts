import type { EvaluationRubricResolvers, TypicalCaseCandidateResolvers } from '../__generated__/resolvers-types';
import { DIMENSION_LABELS, FIXED_WEIGHTS, INDICATORS } from '../services/rubric';
import type { DimensionScoreRow } from '../services/rubric';
import { redactBreakdown } from '../services/privacy';

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

export const TypicalCaseCandidate: TypicalCaseCandidateResolvers = {
  community: (c) => ({ id: c.evaluation.communityId }),
  beautifulHomeScore: (c) => c.evaluation.score ?? null,
  coverage: (c) => c.evaluation.coverage,
  breakdown: (c, _a, ctx) => redactBreakdown((c.evaluation.breakdown ?? []) as DimensionScoreRow[], ctx),
  evaluatedAt: (c) => c.evaluation.evaluatedAt,
  designations: (c, _a, { loaders }) => loaders.designationsByCommunity.load(c.evaluation.communityId),
};
