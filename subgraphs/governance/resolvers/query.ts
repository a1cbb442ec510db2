import type { GraphQLError } from 'graphql';
import type { QueryResolvers, TicketFilter } from '../__generated__/resolvers-types';
import { rangeStart } from '../../../lib/clock';
import { badInput } from '../../../lib/errors';
import type { Context } from '../context';
import { DEFAULT_RUBRIC } from '../services/rubric';
import { loadRubric } from '../services/evaluation';
import { mayReadPartyMembership } from '../services/privacy';
import { TICKET_STATUSES, TRANSITIONS } from '../services/lifecycle';
import { jurisdictionCity, SERVICE_CATALOGUE, toOpen311 } from '../services/open311';
import type { TicketFilterInput } from '../services/repository';
import { toTicketStats } from '../services/stats';

const DESIGNATED_LEVELS = ['NATIONAL_TYPICAL_CASE', 'PROVINCIAL', 'MUNICIPAL_BEAUTIFUL_HOME'];
const OPEN311_DEFAULT_WINDOW_MS = 90 * 24 * 3600_000;
const OPEN311_MAX_PAGE_SIZE = 1000;

export function checkFirst(first: number | null | undefined, max: number, field = 'first'): number {
  const n = first ?? 50;
  if (!Number.isInteger(n) || n < 0 || n > max) throw badInput(field, `must be an integer between 0 and ${max}`);
  return n;
}

const asDate = (v: Date | string | null | undefined): Date | null => (v == null ? null : v instanceof Date ? v : new Date(v));

/** The repository's filter from the GraphQL input. */
export function ticketFilter(f: TicketFilter | null | undefined): TicketFilterInput {
  if (!f) return {};
  const from = asDate(f.requestedFrom);
  const to = asDate(f.requestedTo);
  if (from && to && from > to) throw badInput('filter.requestedFrom', 'must not be after requestedTo');
  return { ...f, requestedFrom: from, requestedTo: to };
}

function encodeCursor(at: Date, id: string): string {
  return Buffer.from(JSON.stringify([new Date(at).getTime(), id]), 'utf8').toString('base64url');
}

function decodeCursor(after: string): { at: Date; id: string } {
  try {
    const [ms, id] = JSON.parse(Buffer.from(after, 'base64url').toString('utf8')) as [number, string];
    if (typeof ms !== 'number' || typeof id !== 'string') throw new Error('shape');
    return { at: new Date(ms), id };
  } catch {
    throw badInput('after', 'is not a cursor returned by this field');
  }
}

export const Query: QueryResolvers = {
  designations: (_p, { cityCode, level }, { repo }) => repo.designations(cityCode ?? null, level ?? null),
  subsidyPolicies: (_p, { status }, { repo }) => repo.policies(status ?? null),
  committee: (_p, { id }, { loaders }) => loaders.committee.load(id),
  partyAlliance: (_p, { id }, { loaders }) => loaders.alliance.load(id),
  allianceCommunities: async (_p, { cityCode, districtCode }, { repo, loaders }) => {
    const alliances = await repo.alliancesInArea(cityCode ?? null, districtCode ?? null);
    const ids = [...new Set(alliances.flatMap((a) => a.communityIds ?? []))].sort();
    const regs = await loaders.register.loadMany(ids);
    return ids
      .filter((_id, i) => {
        const r = regs[i];
        if (!r || r instanceof Error) return false;
        return (!cityCode || r.cityCode === cityCode) && (!districtCode || r.districtCode === districtCode);
      })
      .map((id) => ({ id }));
  },

  serviceTicket: async (_p, { id, externalNo }, { loaders, repo }) => {
    if ((id == null) === (externalNo == null)) throw badInput('id', 'give exactly one of id or externalNo');
    return id != null ? loaders.ticket.load(id) : repo.ticketByExternalNo(externalNo as string);
  },
  tickets: async (_p, { filter, first, after }, { repo, loaders, now }) => {
    const n = checkFirst(first, 200);
    const page = await repo.ticketPage(ticketFilter(filter), now, n, after ? decodeCursor(after) : null);
    for (const t of page.docs) loaders.ticket.prime(t._id, t);
    const last = page.docs[page.docs.length - 1];
    return {
      edges: page.docs.map((node) => ({ cursor: encodeCursor(node.requestedAt, node._id), node })),
      pageInfo: { hasNextPage: page.hasNextPage, endCursor: last ? encodeCursor(last.requestedAt, last._id) : null },
      totalCount: page.totalCount,
    };
  },
  ticketStats: async (_p, { scope, range, groupBy }, { stats, now }) => {
    const { rows, households } = await stats.ticketStatsForScope(scope ?? {}, range, groupBy ?? null, now);
    return toTicketStats(rows, range, rangeStart(range, now), now, groupBy != null, households);
  },
  ticketTransitions: () => TICKET_STATUSES.map((from) => ({ from, to: [...TRANSITIONS[from]] })),
  open311Services: (_p, { jurisdictionId }) => {
    if (jurisdictionId != null) jurisdictionCity(jurisdictionId);
    return SERVICE_CATALOGUE.map((s) => ({
      service_code: s.code,
      service_name: s.name,
      description: `${s.group}：${s.name}`,
      metadata: false,
      type: 'realtime',
      keywords: [...s.keywords],
      group: s.group,
    }));
  },
  open311Requests: async (_p, args, { repo, now }) => {
    const cityCode = jurisdictionCity(args.jurisdictionId);
    const page = args.page ?? 1;
    const pageSize = args.pageSize ?? 100;
    if (!Number.isInteger(page) || page < 1) throw badInput('page', 'must be an integer from 1');
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > OPEN311_MAX_PAGE_SIZE) {
      throw badInput('pageSize', `must be an integer between 1 and ${OPEN311_MAX_PAGE_SIZE}`);
    }
    const q: Record<string, unknown> = { cityCode };
    if (args.serviceRequestIds?.length) {
      // Open311: service_request_id overrides every other argument.
      if (args.serviceRequestIds.length > OPEN311_MAX_PAGE_SIZE) throw badInput('serviceRequestIds', `at most ${OPEN311_MAX_PAGE_SIZE}`);
      q._id = { $in: [...args.serviceRequestIds] };
    } else {
      const end = asDate(args.endDate) ?? now;
      const start = asDate(args.startDate) ?? new Date(end.getTime() - OPEN311_DEFAULT_WINDOW_MS);
      if (start > end) throw badInput('startDate', 'must not be after endDate');
      q.requestedAt = { $gte: start, $lte: end };
      if (args.serviceCode?.length) q.serviceCode = { $in: [...args.serviceCode] };
      if (args.status) q.open = args.status === 'open';
    }
    const docs = await repo.open311Page(q, (page - 1) * pageSize, pageSize);
    return docs.map(toOpen311);
  },

  patrolTeam: (_p, { id }, { loaders }) => loaders.patrolTeam.load(id),
  patrolReports: (_p, { communityId, range, status }, { loaders }) =>
    loaders.patrolReportsByCommunity.load({ code: communityId, range, status: status ?? null }),
  patrolReportFeed: async (_p, { filter, first, after }, { repo, loaders }) => {
    const n = checkFirst(first, 200);
    const from = asDate(filter?.reportedFrom);
    const to = asDate(filter?.reportedTo);
    if (from && to && from > to) throw badInput('filter.reportedFrom', 'must not be after reportedTo');
    const page = await repo.patrolReportPage({ ...filter, status: filter?.status ?? null, reportedFrom: from, reportedTo: to }, n, after ? decodeCursor(after) : null);
    for (const r of page.docs) loaders.patrolReport.prime(r._id, r);
    const last = page.docs[page.docs.length - 1];
    return {
      edges: page.docs.map((node) => ({ cursor: encodeCursor(node.reportedAt, node._id), node })),
      pageInfo: { hasNextPage: page.hasNextPage, endCursor: last ? encodeCursor(last.reportedAt, last._id) : null },
      totalCount: page.totalCount,
    };
  },

  evaluationRubrics: async (_p, _a, ctx) => [DEFAULT_RUBRIC, ...(await Promise.all((await ctx.repo.rubrics()).map((r) => loadRubric(ctx, r._id))))],
  evaluationRubric: async (_p, { id }, ctx: Context) => {
    try {
      return await loadRubric(ctx, id);
    } catch (e) {
      if ((e as GraphQLError).extensions?.code === 'NOT_FOUND') return null;
      throw e;
    }
  },
  typicalCaseCandidates: async (_p, args, ctx) => {
    const first = checkFirst(args.first, 500);
    const minScore = args.minScore ?? 0;
    const minCoverage = args.minCoverage ?? 0;
    if (!(minScore >= 0 && minScore <= 100)) throw badInput('minScore', 'must be between 0 and 100');
    if (!(minCoverage >= 0 && minCoverage <= 1)) throw badInput('minCoverage', 'must be between 0 and 1');
    const rubric = await loadRubric(ctx, args.rubricId);
    const exclude =
      args.excludeDesignated === false
        ? []
        : (await ctx.repo.designations(args.cityCode, null))
            .filter((d) => d.communityId && DESIGNATED_LEVELS.includes(d.level))
            .map((d) => d.communityId as string);
    const rows = await ctx.repo.candidates(rubric.id, args.cityCode, minScore, minCoverage, exclude, first, mayReadPartyMembership(ctx));
    return rows.map((evaluation, i) => ({ rank: i + 1, evaluation }));
  },
};
