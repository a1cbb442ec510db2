import type { PatrolReportResolvers, PatrolTeamResolvers } from '../__generated__/resolvers-types';
import { hoursBetween } from '../../../lib/clock';
import { maskPersonalData } from '../services/open311';

export const PatrolTeam: PatrolTeamResolvers = {
  __resolveReference: (r, { loaders }) => loaders.patrolTeam.load(r.id),
  id: (t) => t._id,
  community: (t) => ({ id: t.communityId }),
  composition: (t) => (t.composition ?? []) as never,
};

export const PatrolReport: PatrolReportResolvers = {
  __resolveReference: (r, { loaders }) => loaders.patrolReport.load(r.id),
  id: (r) => r._id,
  team: (r, _a, { loaders }) => (r.teamId ? loaders.patrolTeam.load(r.teamId) : null),
  community: (r) => ({ id: r.communityId }),
  issueType: (r) => r.issueType as never,
  // Free text and photos are personal data (@pii in the SDL); text is masked as a safety net.
  description: (r) => (r.description ? maskPersonalData(r.description) : null),
  // Deprecated: cannot be null, so they cannot be @pii; the URLs moved to photoUrls / rectificationPhotoUrls.
  photos: () => [],
  photoUrls: (r) => r.photos ?? [],
  forwardedToCompany: (r) => (r.companyUscc ? { uscc: r.companyUscc } : null),
  status: (r) => (r.rectifiedAt ? 'RECTIFIED' : 'OPEN'),
  rectificationPhotos: () => [],
  rectificationPhotoUrls: (r) => r.rectificationPhotos ?? [],
  rectificationNote: (r) => (r.rectificationNote ? maskPersonalData(r.rectificationNote) : null),
  rectificationLagHours: (r) =>
    r.rectifiedAt ? Math.round(hoursBetween(new Date(r.reportedAt), new Date(r.rectifiedAt)) * 100) / 100 : null,
  linkedTicket: (r, _a, { loaders }) => (r.linkedTicketId ? loaders.ticket.load(r.linkedTicketId) : null),
};
