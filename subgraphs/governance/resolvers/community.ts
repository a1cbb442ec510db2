import type { CommunityResolvers } from '../__generated__/resolvers-types';
import { rangeStart } from '../../../lib/clock';
import { badInput } from '../../../lib/errors';
import { coGovernanceTopics, compliance, currentCommittee, evaluateCommunity } from '../services/evaluation';
import { redactEvaluation } from '../services/privacy';
import { checkFirst, ticketFilter } from './query';
import { checkTrendMonths } from './trend';

/** CoGovernanceTopic values in schema order. */
export const CO_GOVERNANCE_TOPICS = [
  'ILLEGAL_CONSTRUCTION',
  'DOG',
  'WASTE_SORTING',
  'CORRIDOR_CLUTTER',
  'CLUTTER',
  'PUBLIC_SECURITY',
  'HEATING',
  'FIRE_SAFETY',
  'DRYING_AREA',
  'EV_CHARGING',
  'SANITATION',
  'FACILITY_RENOVATION',
] as const;

export const Community: CommunityResolvers = {
  // Governance extends every 小区: the reference (with any @requires fields) is the parent itself.
  __resolveReference: (ref) => ref,
  id: (c) => c.id,
  committee: async (c, _a, { loaders }) => currentCommittee(await loaders.committeesByCommunity.load(c.id)),
  partyAlliance: async (c, _a, { loaders }) => (await loaders.alliancesByCommunity.load(c.id))[0] ?? null,
  partyOrganizations: (c, _a, { loaders }) => loaders.partyOrgsByCommunity.load(c.id),
  jointMeetings: (c, { range }, { loaders }) => loaders.meetingsByCommunity.load({ code: c.id, range }),
  jointMeetingsLast3m: async (c, _a, { loaders }) =>
    (await loaders.meetingMonths.load({ code: c.id, months: 3 })).months.reduce((n, m) => n + m.held, 0),
  meetsCadence: async (c, { perMonth, months }, ctx) => (await compliance(ctx, c.id, perMonth, months))?.meetsCadence ?? null,
  jointMeetingCompliance: (c, { perMonth, months }, ctx) => compliance(ctx, c.id, perMonth, months),
  patrolTeams: (c, _a, { loaders }) => loaders.patrolTeamsByCommunity.load(c.id),
  patrolReports: (c, { range }, { loaders }) => loaders.patrolReportsByCommunity.load({ code: c.id, range, status: null }),
  patrolStats: (c, { range }, { loaders }) => loaders.patrolStats.load({ code: c.id, scope: 'COMMUNITY', range }),
  activities: async (c, { range }, { loaders, now }) => {
    const all = await loaders.activitiesByCommunity.load(c.id);
    const from = rangeStart(range, now);
    return from ? all.filter((a) => a.date != null && new Date(a.date).getTime() >= from.getTime()) : all;
  },
  designations: (c, _a, { loaders }) => loaders.designationsByCommunity.load(c.id),
  gridLevel: async (c, _a, { loaders }) => (await loaders.register.load(c.id))?.gridLevel ?? null,
  liaisonCadreRole: async (c, _a, { loaders }) => (await loaders.register.load(c.id))?.liaisonCadreRole ?? null,
  liaisonCadre: async (c, _a, { loaders }) => (await loaders.register.load(c.id))?.liaisonCadre ?? null,
  coGovernanceTopics: (c, _a, ctx) => coGovernanceTopics(ctx, c.id, CO_GOVERNANCE_TOPICS) as never,
  intakePoints: async (c, _a, { loaders }) =>
    ((await loaders.register.load(c.id))?.intakePoints ?? []).map((p) => ({ kind: p.kind as never, pilot: p.pilot ?? false, note: p.note ?? null })),
  tickets: (c, { filter, first }, { loaders }) => {
    const n = checkFirst(first, 200);
    if (filter?.communityId && filter.communityId !== c.id) throw badInput('filter.communityId', 'conflicts with the 小区 the field is on');
    return loaders.ticketsByCommunity.load({ code: c.id, filter: ticketFilter({ ...filter, communityId: null }), first: n });
  },
  ticketStats: (c, { range, groupBy }, { loaders }) => loaders.ticketStats.load({ code: c.id, scope: 'COMMUNITY', range, groupBy: groupBy ?? null }),
  ticketTrend: (c, { months }, { loaders }) => loaders.ticketTrend.load({ code: c.id, scope: 'COMMUNITY', months: checkTrendMonths(months) }),
  beautifulHomeScore: async (c, { rubricId }, ctx) => redactEvaluation(await evaluateCommunity(ctx, c, rubricId, CO_GOVERNANCE_TOPICS), ctx).score,
  // A query never writes: the figures of the representation come from whoever calls `_entities`.
  beautifulHome: async (c, { rubricId, persist }, ctx) => {
    if (persist) throw badInput('persist', 'a query does not store scores; run the mutation recordBeautifulHomeScores (scope governance:write)');
    return redactEvaluation(await evaluateCommunity(ctx, c, rubricId, CO_GOVERNANCE_TOPICS), ctx);
  },
};
