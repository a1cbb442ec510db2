import { auditFinish, auditImport } from '../../../lib/import/batch';
import type { MutationResolvers } from '../__generated__/resolvers-types';

export const Mutation: MutationResolvers = {
  upsertFeeCollection: (_p, { input }, { writes }) => writes.upsertFeeCollection(input),
  recordSatisfactionSurvey: (_p, { input }, { writes }) => writes.recordSurvey(input),
  importCommunities: async (_p, { rows, dryRun, deferStatistics }, ctx) => {
    const result = await ctx.imports.importCommunities(rows, dryRun ?? false, deferStatistics ?? false);
    auditImport(ctx, 'communities', result);
    return result;
  },
  importFeeCollections: async (_p, { rows, dryRun, deferStatistics }, ctx) => {
    const result = await ctx.imports.importFees(rows, dryRun ?? false, deferStatistics ?? false);
    auditImport(ctx, 'feeCollections', result);
    return result;
  },
  importBuildings: async (_p, { rows, dryRun }, ctx) => {
    const result = await ctx.imports.importBuildings(rows, dryRun ?? false);
    auditImport(ctx, 'buildings', result);
    return result;
  },
  finishPropertiesImport: async (_p, _a, ctx) => {
    const done = await ctx.imports.finishImport();
    auditFinish(ctx, 'properties', done);
    return done;
  },
};
