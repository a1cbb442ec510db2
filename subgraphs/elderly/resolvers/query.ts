import { badInput } from '../../../lib/errors';
import type { QueryResolvers } from '../__generated__/resolvers-types';
import type { Context } from '../context';
import { statsKey } from '../loaders';
import { cityDisclosureFor } from '../services/disclosure';
import { areaId } from '../stats/contribution';

const AREA_CODE = /^\d{6}$/;
const MAX_PAGE = 500;

export function checkAreaCode(code: string, field: string): string {
  if (!AREA_CODE.test(code)) throw badInput(field, `expected a 6-digit GB/T 2260 code, got "${code}"`);
  return code;
}

export function checkFirst(first: number | null | undefined, fallback: number, field = 'first'): number {
  const n = first ?? fallback;
  if (!Number.isInteger(n) || n < 1 || n > MAX_PAGE) throw badInput(field, `must be between 1 and ${MAX_PAGE}`);
  return n;
}

const encode = (s: string) => Buffer.from(s, 'utf8').toString('base64url');
function decode(cursor: string, field = 'after'): string {
  const s = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!s || encode(s) !== cursor.replace(/=+$/, '')) throw badInput(field, 'not a cursor returned by this list');
  return s;
}

function checkDate(value: Date | string | null | undefined, field: string): Date | null {
  if (value == null) return null;
  const d = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(d.getTime())) throw badInput(field, 'not a valid date-time');
  return d;
}

/**
 * For a caller without individual-level access: whether a 小区's monthly visit rate is suppressed in
 * its city's disclosure pattern (services/disclosure.ts); every 小区 when the area has no figures.
 */
async function suppressedRates(level: 'CITY' | 'DISTRICT', code: string, ctx: Context): Promise<(communityId: string) => boolean> {
  const doc = await ctx.loaders.statsArea.load(statsKey(level, code));
  if (!doc) return () => true;
  const { current } = await cityDisclosureFor(ctx, level === 'CITY' ? code : doc.cityCode);
  return (communityId) => {
    const id = areaId('COMMUNITY', communityId);
    return current.suppressed(id, 'registered') || current.suppressed(id, 'visitedLast30d');
  };
}

export const Query: QueryResolvers = {
  mealPrograms: (_p, { cityCode, type }, { loaders, repo }) =>
    type ? repo.mealProgramsOfType(checkAreaCode(cityCode, 'cityCode'), type) : loaders.mealProgramsByCity.load(checkAreaCode(cityCode, 'cityCode')),
  serviceProviders: (_p, { cityCode, type }, { repo }) => repo.providersByCity(checkAreaCode(cityCode, 'cityCode'), type ?? null),
  careTeam: (_p, { id }, { loaders }) => loaders.careTeam.load(id),

  elderlyDue: async (_p, { communityId, before, riskTier, first }, { repo, loaders, rowFilter }) => {
    const limit = checkFirst(first, 100);
    const docs = await repo.dueResidents(communityId, checkDate(before, 'before') ?? repo.now(), riskTier ?? null, limit, rowFilter('ElderlyResident'));
    for (const d of docs) loaders.resident.prime(d._id, d);
    return docs;
  },
  elderlyResident: (_p, { id }, { loaders }) => loaders.resident.load(id),
  elderlyResidents: async (_p, { filter, first, after }, { repo, loaders, rowFilter }) => {
    const size = checkFirst(first, 50);
    const page = await repo.residentPage(filter, size, after ? decode(after) : null, rowFilter('ElderlyResident'));
    for (const d of page.docs) loaders.resident.prime(d._id, d);
    return {
      edges: page.docs.map((node) => ({ cursor: encode(node._id), node })),
      pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.docs.length ? encode(page.docs[page.docs.length - 1]._id) : null },
      totalCount: page.totalCount,
    };
  },
  homeVisits: async (_p, { filter, first, after }, { repo, rowFilter }) => {
    const size = checkFirst(first, 50);
    if (!filter.communityId && !filter.elderId) throw badInput('filter.communityId', 'one of communityId or elderId is required');
    const from = checkDate(filter.from, 'filter.from');
    const to = checkDate(filter.to, 'filter.to');
    if (from && to && from >= to) throw badInput('filter.to', 'must be after filter.from');
    let cursor: { at: Date; id: string } | null = null;
    if (after) {
      const [at, id] = decode(after).split('|');
      const d = new Date(at);
      if (!id || Number.isNaN(d.getTime())) throw badInput('after', 'not a cursor returned by this list');
      cursor = { at: d, id };
    }
    const page = await repo.visitPage({ ...filter, from, to }, size, cursor, rowFilter('HomeVisit'));
    const cursorOf = (v: { visitedAt: Date; _id: string }) => encode(`${new Date(v.visitedAt).toISOString()}|${v._id}`);
    return {
      edges: page.docs.map((node) => ({ cursor: cursorOf(node), node })),
      pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.docs.length ? cursorOf(page.docs[page.docs.length - 1]) : null },
    };
  },
  visitCoverage: async (_p, { cityCode, districtCode, below, first, after }, ctx) => {
    const { repo, loaders, individualAccess } = ctx;
    if ((cityCode == null) === (districtCode == null)) throw badInput('cityCode', 'give exactly one of cityCode or districtCode');
    const level = cityCode != null ? 'CITY' : 'DISTRICT';
    const code = checkAreaCode((cityCode ?? districtCode)!, cityCode != null ? 'cityCode' : 'districtCode');
    const threshold = below ?? 1;
    if (!(threshold > 0 && threshold <= 1)) throw badInput('below', 'must be a rate in (0, 1]');
    const size = checkFirst(first, 50);
    let skip = 0;
    if (after) {
      skip = Number(decode(after));
      if (!Number.isInteger(skip) || skip < 1) throw badInput('after', 'not a cursor returned by this list');
    }
    // Suppressed rates are neither filtered nor ranked for callers without individual-level access.
    const page = await repo.stats.coverage(level, code, threshold, skip, size, individualAccess ? null : await suppressedRates(level, code, ctx), loaders.windows);
    // elderlyStats of the page's rows: one batched read of their rollups through the stats loaders.
    return {
      edges: page.rows.map((node, i) => ({ cursor: encode(String(skip + i + 1)), node })),
      pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.rows.length ? encode(String(skip + page.rows.length)) : null },
      totalCount: page.totalCount,
    };
  },
};
