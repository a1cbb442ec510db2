import type { MutationResolvers } from '../__generated__/resolvers-types';

export const Mutation: MutationResolvers = {
  upsertFeeCollection: (_p, { input }, { writes }) => writes.upsertFeeCollection(input),
  recordSatisfactionSurvey: (_p, { input }, { writes }) => writes.recordSurvey(input),
};
