import { badInput } from '../../../lib/errors';
import { auditImport } from '../../../lib/import/batch';
import type { MutationResolvers, QueryResolvers } from '../__generated__/resolvers-types';
import { areaStats } from './areas';
import { checkCity, checkDistrict, checkSize, checkYear, connection, decodeCursor } from './args';

export const Query: QueryResolvers = {
  renovationProjects: async (_p, args, { repo, loaders }) => {
    const cityCode = checkCity(args.cityCode)!;
    const limit = checkSize(args.limit, 500, 2000, 'limit');
    const page = await repo.projectPage(
      {
        cityCode,
        districtCode: checkDistrict(args.districtCode, cityCode),
        year: checkYear(args.year),
        status: args.status,
        lateOnly: args.lateOnly,
      },
      limit,
      null,
    );
    for (const d of page.docs) loaders.project.prime(d._id, d);
    return page.docs;
  },
  renovationProjectPage: async (_p, { filter, first, after }, { repo, loaders }) => {
    const cityCode = checkCity(filter.cityCode, 'filter.cityCode');
    const page = await repo.projectPage(
      {
        ...filter,
        cityCode,
        districtCode: checkDistrict(filter.districtCode, cityCode, 'filter.districtCode'),
        year: checkYear(filter.year, 'filter.year'),
      },
      checkSize(first, 50, 500, 'first'),
      decodeCursor(after),
    );
    for (const d of page.docs) loaders.project.prime(d._id, d);
    return connection(page);
  },
  renovationProject: (_p, { id }, { loaders }) => loaders.project.load(id),
  renovationStats: async (_p, args, ctx) => {
    const cityCode = checkCity(args.cityCode)!;
    const districtCode = checkDistrict(args.districtCode, cityCode);
    const year = checkYear(args.year);
    return districtCode ? areaStats('DISTRICT', districtCode, year, ctx) : areaStats('CITY', cityCode, year, ctx);
  },
  facilityInventory: async (_p, { filter, first, after }, { repo }) => {
    if (!filter.cityCode && !filter.districtCode && !filter.communityId) {
      throw badInput('filter', 'give cityCode, districtCode or communityId');
    }
    const cityCode = checkCity(filter.cityCode, 'filter.cityCode');
    const page = await repo.facilityPage(
      { ...filter, cityCode, districtCode: checkDistrict(filter.districtCode, cityCode, 'filter.districtCode') },
      checkSize(first, 50, 500, 'first'),
      decodeCursor(after),
    );
    return connection(page);
  },
};

export const Mutation: MutationResolvers = {
  createRenovationProject: (_p, { input }, { writes }) => writes.createProject(input),
  recordMilestone: (_p, { input }, { writes }) => writes.recordMilestone(input),
  recordSpend: (_p, { input }, { writes }) => writes.recordSpend(input),
  recordAcceptance: (_p, { input }, { writes }) => writes.recordAcceptance(input),
  upsertFundingSource: (_p, { input }, { writes }) => writes.upsertFundingSource(input),
  advanceProjectStatus: (_p, { input }, { writes }) => writes.advanceProjectStatus(input),
  upsertFacility: (_p, { input }, { writes }) => writes.upsertFacility(input),
  importRenovationProjects: async (_p, { rows, dryRun }, ctx) => {
    const result = await ctx.imports.importProjects(rows, dryRun ?? false);
    auditImport(ctx, 'renovationProjects', result);
    return result;
  },
};
