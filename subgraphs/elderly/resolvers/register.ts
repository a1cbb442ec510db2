import type {
  CommunityVisitCoverageResolvers,
  ElderlyResidentResolvers,
  HomeVisitResolvers,
  MutationResolvers,
  RecordHomeVisitPayloadResolvers,
} from '../__generated__/resolvers-types';
import { statsKey } from '../loaders';
import { overrideTier, recordVisit, registerResident, updateCircumstances } from '../services/register';

export const ElderlyResident: ElderlyResidentResolvers = {
  id: (r) => r._id,
  community: (r) => ({ id: r.communityId }),
  riskTierOverridden: (r) => r.riskTierOverride != null,
  status: (r) => r.status ?? 'ACTIVE',
  registeredBy: (r, _a, { loaders }) => (r.registeredByTeamId ? loaders.careTeam.load(r.registeredByTeamId) : null),
};

export const HomeVisit: HomeVisitResolvers = {
  id: (v) => v._id,
  elder: async (v, _a, { loaders }) => (await loaders.resident.load(v.elderId))!,
  team: (v, _a, { loaders }) => (v.teamId ? loaders.careTeam.load(v.teamId) : null),
  community: (v) => ({ id: v.communityId }),
};

export const RecordHomeVisitPayload: RecordHomeVisitPayloadResolvers = {};

export const CommunityVisitCoverage: CommunityVisitCoverageResolvers = {
  community: (row) => ({ id: row.communityId }),
  elderlyStats: (row) => statsKey('COMMUNITY', row.communityId),
};

export const Mutation: MutationResolvers = {
  registerElderlyResident: (_p, { input }, { repo }) => registerResident(repo, input),
  recordHomeVisit: (_p, args, { repo, auth }) => recordVisit(repo, { ...args, callerTeamId: auth.role === 'CARE_TEAM' ? auth.area.team : null }),
  overrideRiskTier: (_p, { elderId, tier, reason }, { repo }) => overrideTier(repo, elderId, tier, reason),
  updateElderlyCircumstances: (_p, { input }, { repo }) => updateCircumstances(repo, input),
};
