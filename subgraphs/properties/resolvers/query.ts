import { badInput } from '../../../lib/errors';
import type { QueryResolvers } from '../__generated__/resolvers-types';

const MAX_PAGE = 500;
const PERIOD = /^\d{4}(-(0[1-9]|1[0-2]))?$/;

export function checkPeriod(period: string | null | undefined, field = 'period'): string | null {
  if (period == null) return null;
  if (!PERIOD.test(period)) throw badInput(field, `expected YYYY or YYYY-MM, got "${period}"`);
  return period;
}

export const Query: QueryResolvers = {
  city: (_p, { code }, { loaders }) => loaders.area.load(code).then((a) => (a?.level === 'CITY' ? a : null)),
  cities: (_p, _a, { repo }) => repo.cities(),
  district: (_p, { code }, { loaders }) => loaders.area.load(code).then((a) => (a?.level === 'DISTRICT' ? a : null)),
  districtFeeRanking: (_p, { cityCode, period, by }, { repo }) =>
    repo.districtFeeRanking(cityCode, checkPeriod(period) as string, by ?? 'AMOUNT'),
  community: (_p, { id }, { loaders }) => loaders.community.load(id),
  communities: async (_p, { filter, first, after }, { repo, loaders }) => {
    const size = first ?? 50;
    if (size < 0 || size > MAX_PAGE) throw badInput('first', `must be between 0 and ${MAX_PAGE}`);
    const cursor = after ? Buffer.from(after, 'base64url').toString('utf8') : null;
    const page = await repo.communityPage(filter ?? {}, size, cursor);
    for (const d of page.docs) loaders.community.prime(d._id, d);
    return {
      edges: page.docs.map((node) => ({ cursor: Buffer.from(node._id, 'utf8').toString('base64url'), node })),
      pageInfo: {
        hasNextPage: page.hasNextPage,
        endCursor: page.docs.length ? Buffer.from(page.docs[page.docs.length - 1]._id, 'utf8').toString('base64url') : null,
      },
      totalCount: page.totalCount,
    };
  },
  propertyCompany: (_p, { uscc }, { loaders }) => loaders.company.load(uscc),
};
