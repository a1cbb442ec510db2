/** The register import mutation (services/import.ts): thin, plus its audit record. */
import { auditImport } from '../../../lib/import/batch';
import type { MutationResolvers } from '../__generated__/resolvers-types';
import { importResidents } from '../services/import';

export const ImportMutation: Pick<MutationResolvers, 'importElderlyResidents'> = {
  importElderlyResidents: async (_p, { rows, dryRun }, ctx) => {
    const result = await importResidents(ctx.repo, rows, dryRun ?? false);
    auditImport(ctx, 'elderlyResidents', result);
    return result;
  },
};
