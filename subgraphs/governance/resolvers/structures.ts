import type {
  CommitteeResolvers,
  CommunityActivityResolvers,
  JointMeetingResolvers,
  PartyAllianceResolvers,
  PartyOrganizationResolvers,
  SubsidyPolicyResolvers,
  TypicalCaseDesignationResolvers,
} from '../__generated__/resolvers-types';
import { daysBefore } from '../../../lib/clock';
import { DEFAULT_MEETINGS_PER_MONTH } from '../services/evaluation';
import { maskPersonalData } from '../services/open311';

const ref = (id: string) => ({ id });

export const Committee: CommitteeResolvers = {
  __resolveReference: (r, { loaders }) => loaders.committee.load(r.id),
  id: (c) => c._id,
  community: (c) => ref(c.communityId),
  type: (c) => c.type as never,
  status: (c) => c.status as never,
  meetingsLast12m: (c, _a, { now }) => (c.meetingDates ?? []).filter((d) => new Date(d).getTime() >= daysBefore(now, 365).getTime()).length,
  // Only role and affiliation: names, phones and party status stay inside the subgraph.
  roles: (c) => (c.members ?? []).map((m) => ({ role: m.role as never, affiliation: m.affiliation as never })),
  // Each member names its record for the audit log of its @pii fields: committee id and seat.
  members: (c) => (c.members ?? []).map((m, i) => ({ ...m, __recordId: `${c._id}#${i}` })) as never,
};

export const PartyAlliance: PartyAllianceResolvers = {
  __resolveReference: (r, { loaders }) => loaders.alliance.load(r.id),
  id: (a) => a._id,
  model: (a) => a.model as never,
  communities: (a) => (a.communityIds ?? []).map(ref),
  members: (a) => (a.members ?? []).map((m) => ({ orgType: m.orgType as never, orgName: m.orgName ?? null, note: m.note ?? null })),
  requiredMeetingsPerMonth: (a) => a.requiredMeetingsPerMonth ?? DEFAULT_MEETINGS_PER_MONTH,
  cadenceStated: (a) => a.requiredMeetingsPerMonth != null,
};

export const PartyOrganization: PartyOrganizationResolvers = {
  id: (o) => o._id,
  kind: (o) => o.kind as never,
  hostCompany: (o) => (o.hostCompanyUscc ? { uscc: o.hostCompanyUscc } : null),
  communities: (o) => (o.communityIds ?? []).map(ref),
};

export const JointMeeting: JointMeetingResolvers = {
  __resolveReference: (r, { loaders }) => loaders.meeting.load(r.id),
  id: (m) => m._id,
  community: (m) => ref(m.communityId),
  participantOrgTypes: (m) => (m.participantOrgTypes ?? []) as never,
  topics: (m) => (m.topics ?? []) as never,
  // Deprecated: cannot be null, so it cannot be @pii; the text moved to `resolutionTexts`.
  resolutions: () => [],
  // Personal data (@pii in the SDL); masked as a safety net for those who may read it.
  resolutionTexts: (m) => (m.resolutions ?? []).map(maskPersonalData),
  followUpTickets: async (m, _a, { loaders }) =>
    (await loaders.ticket.loadMany(m.followUpTicketIds ?? [])).filter((t): t is NonNullable<typeof t> & object => t != null && !(t instanceof Error)) as never,
};

export const CommunityActivity: CommunityActivityResolvers = {
  id: (a) => a._id,
  community: (a) => ref(a.communityId),
  type: (a) => a.type as never,
};

export const TypicalCaseDesignation: TypicalCaseDesignationResolvers = {
  __resolveReference: (r, { loaders }) => loaders.designation.load(r.id),
  id: (d) => d._id,
  community: (d) => (d.communityId ? ref(d.communityId) : null),
  level: (d) => d.level as never,
};

export const SubsidyPolicy: SubsidyPolicyResolvers = {
  __resolveReference: (r, { loaders }) => loaders.policy.load(r.id),
  id: (p) => p._id,
  issuerLevel: (p) => (p.issuerLevel ?? 'PROVINCE') as never,
  requestedIssuerLevels: (p) => (p.requestedIssuerLevels ?? []) as never,
  domain: (p) => p.domain as never,
  status: (p) => p.status as never,
};
