import { lastMonthsIncludingCurrent } from '../../../lib/clock';
import { badInput } from '../../../lib/errors';
import type { QueryResolvers } from '../__generated__/resolvers-types';
import { periodDocId, rankDistricts } from '../stats/read';

const MAX_PAGE = 500;
const PERIOD = /^\d{4}(-(0[1-9]|1[0-2]))?$/;
const MAX_MONTHS = 60;

export function checkPeriod(period: string | null | undefined, field = 'period'): string | null {
  if (period == null) return null;
  if (!PERIOD.test(period)) throw badInput(field, `expected YYYY or YYYY-MM, got "${period}"`);
  return period;
}

/** The `months` argument of a trend: 1-60, default 12. */
export function checkMonths(months: number | null | undefined): number {
  const n = months ?? 12;
  if (!Number.isInteger(n) || n < 1 || n > MAX_MONTHS) throw badInput('months', `must be between 1 and ${MAX_MONTHS}`);
  return n;
}

/** The last `n` CST months ending with the current one, oldest first (`YYYY-MM`). */
export const trendMonths = (at: Date, n: number) => lastMonthsIncludingCurrent(at, n).map((w) => w.month);

export const Query: QueryResolvers = {
  city: (_p, { code }, { loaders }) => loaders.area.load(code).then((a) => (a?.level === 'CITY' ? a : null)),
  cities: (_p, _a, { repo }) => repo.cities(),
  district: (_p, { code }, { loaders }) => loaders.area.load(code).then((a) => (a?.level === 'DISTRICT' ? a : null)),
  // The city's districts, then their documents of the period: two queries, a few dozen documents.
  districtFeeRanking: async (_p, { cityCode, period, by }, { loaders }) => {
    const p = checkPeriod(period) as string;
    const districts = (await loaders.areaChildren.load(cityCode)).filter((a) => a.level === 'DISTRICT');
    for (const d of districts) loaders.area.prime(d._id, d);
    const docs = await loaders.stats.loadMany(districts.map((d) => periodDocId('DISTRICT', d._id, p)));
    return rankDistricts(
      districts.map((d, i) => {
        const doc = docs[i];
        if (doc instanceof Error) throw doc;
        return { code: d._id, f: doc?.f };
      }),
      p,
      by ?? 'AMOUNT',
    );
  },
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
