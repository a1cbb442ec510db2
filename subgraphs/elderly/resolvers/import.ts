/** The register import mutation (services/import.ts): thin, plus its audit record. */
import { auditFinish, auditImport } from '../../../lib/import/batch';
import type { MutationResolvers } from '../__generated__/resolvers-types';
import { finishImport, importResidents } from '../services/import';

export const ImportMutation: Pick<MutationResolvers, 'importElderlyResidents' | 'finishElderlyImport'> = {
  importElderlyResidents: async (_p, { rows, dryRun, deferStatistics }, ctx) => {
    const result = await importResidents(ctx.repo, rows, dryRun ?? false, deferStatistics ?? false);
    auditImport(ctx, 'elderlyResidents', result);
    return result;
  },
  finishElderlyImport: async (_p, _a, ctx) => {
    const done = await finishImport(ctx.repo);
    auditFinish(ctx, 'elderly', done);
    return done;
  },
};
