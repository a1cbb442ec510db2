import type {
  CommunityVisitCoverageResolvers,
  ElderlyResidentResolvers,
  HomeVisitResolvers,
  MutationResolvers,
  RecordHomeVisitPayloadResolvers,
} from '../__generated__/resolvers-types';
import type { AuthContext } from '../../../lib/auth/context';
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

/** The caller's own team when it is a care team (writes go in its name). */
const careTeamOf = (auth: AuthContext) => (auth.role === 'CARE_TEAM' ? (auth.area.team ?? null) : null);

export const Mutation: MutationResolvers = {
  registerElderlyResident: (_p, { input }, { repo, auth }) => registerResident(repo, { ...input, callerTeamId: careTeamOf(auth) }),
  recordHomeVisit: (_p, args, { repo, auth }) => recordVisit(repo, { ...args, callerTeamId: careTeamOf(auth) }),
  overrideRiskTier: (_p, { elderId, tier, reason }, { repo }) => overrideTier(repo, elderId, tier, reason),
  updateElderlyCircumstances: (_p, { input }, { repo }) => updateCircumstances(repo, input),
};
