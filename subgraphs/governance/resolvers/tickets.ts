import type { ServiceTicketResolvers, TicketNoteResolvers } from '../__generated__/resolvers-types';
import { hoursBetween } from '../../../lib/clock';
import { allowedTransitions, isOpen, open311StatusOf } from '../services/lifecycle';
import { latestNoteText, maskPersonalData, serviceName, toOpen311 } from '../services/open311';

/** What the deprecated `ServiceTicket.description` answers (the text is `text`, personal data). */
export const DESCRIPTION_PLACEHOLDER = '[已隐去：见 text 字段]';

export const ServiceTicket: ServiceTicketResolvers = {
  __resolveReference: (r, { loaders }) => loaders.ticket.load(r.id),
  id: (t) => t._id,
  externalNo: (t) => t.externalNo ?? null,
  community: (t) => ({ id: t.communityId }),
  building: (t) => (t.buildingId ? { id: t.buildingId } : null),
  channel: (t) => t.channel as never,
  type: (t) => t.type as never,
  serviceCode: (t) => t.serviceCode as never,
  serviceName: (t) => serviceName(t.serviceCode),
  // Deprecated: cannot be null, so it cannot be @pii; the text moved to `text`.
  description: () => DESCRIPTION_PLACEHOLDER,
  // Personal data (@pii in the SDL); masked as a safety net for those who may read it.
  text: (t) => maskPersonalData(t.description),
  status: (t) => t.status as never,
  open311Status: (t) => open311StatusOf(t.status),
  statusNotes: (t) => latestNoteText(t),
  company: (t) => (t.companyUscc ? { uscc: t.companyUscc } : null),
  // Organisation names typed by staff: public, with any phone, ID number or name in them masked.
  assigneeOrg: (t) => (t.assigneeOrg ? maskPersonalData(t.assigneeOrg) : null),
  updatedAt: (t) => (t as { updatedAt?: Date }).updatedAt ?? t.lastTransitionAt,
  isOverdue: (t, _a, { now }) => isOpen(t.status) && new Date(t.dueAt).getTime() < now.getTime(),
  resolvedLate: (t) => (t.resolvedAt ? new Date(t.resolvedAt).getTime() > new Date(t.dueAt).getTime() : null),
  hoursToResolve: (t) => (t.resolvedAt ? Math.round(hoursBetween(new Date(t.requestedAt), new Date(t.resolvedAt)) * 100) / 100 : null),
  satisfaction: (t) => (t.satisfaction ?? null) as never,
  reopenCount: (t) => t.reopenCount ?? 0,
  location: (t) =>
    t.location?.lat != null && t.location.lng != null ? { lat: t.location.lat, lng: t.location.lng, datum: (t.location.datum ?? 'WGS84') as never } : null,
  mediaUrls: () => [],
  media: (t) => t.mediaUrls ?? [],
  reporterAnonymous: (t) => t.reporter?.anonymous ?? false,
  // Each note carries its ticket's id and area: its `text` is @pii with a @rowScope.
  notes: (t) => (t.notes ?? []).map((n) => ({ ...n, __recordId: t._id, communityId: t.communityId, districtCode: t.districtCode, companyUscc: t.companyUscc ?? null })),
  allowedTransitions: (t) => [...allowedTransitions(t.status)],
  open311: (t) => toOpen311(t),
};

export const TicketNote: TicketNoteResolvers = {
  type: (n) => n.type as never,
  text: (n) => (n.text ? maskPersonalData(n.text) : null),
  actorOrg: (n) => (n.actorOrg ? maskPersonalData(n.actorOrg) : null),
  from: (n) => (n.from ?? null) as never,
  to: (n) => (n.to ?? null) as never,
};
