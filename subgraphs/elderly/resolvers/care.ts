import type { CareTeamResolvers, MealProgramResolvers, ServiceProviderResolvers } from '../__generated__/resolvers-types';
import { pointOf, type Located } from '../services/lifecircle';

const communityRefs = (ids: readonly string[] | null | undefined) => (ids ?? []).map((id) => ({ id }));
const companyRef = (uscc: string | null | undefined) => (uscc ? { uscc } : null);
/** A stored GeoJSON point (WGS84) as GeoPoint. */
const geoPoint = (doc: Located) => {
  const p = pointOf(doc);
  return p ? { longitude: p[0], latitude: p[1] } : null;
};

export const CareTeam: CareTeamResolvers = {
  __resolveReference: (ref, { loaders }) => loaders.careTeam.load(ref.id),
  id: (t) => t._id,
  communities: (t) => communityRefs(t.communityIds),
  operatorCompany: (t) => (t.operatorType === 'PROPERTY_COMPANY' ? companyRef(t.operatorUscc) : null),
};

export const MealProgram: MealProgramResolvers = {
  __resolveReference: (ref, { loaders }) => loaders.mealProgram.load(ref.id),
  id: (p) => p._id,
  operator: (p) => companyRef(p.operatorUscc),
  communitiesServed: (p) => communityRefs(p.communityIds),
  eligibility: (p) => (p.eligibility ?? []) as never,
  subsidyPolicy: (p) => (p.subsidyPolicyId ? { id: p.subsidyPolicyId } : null),
  location: (p) => geoPoint(p as Located),
};

export const ServiceProvider: ServiceProviderResolvers = {
  __resolveReference: (ref, { loaders }) => loaders.provider.load(ref.id),
  id: (p) => p._id,
  servesCommunities: (p) => communityRefs(p.communityIds),
  broughtInByCompany: (p) => companyRef(p.broughtInByUscc),
  location: (p) => geoPoint(p as Located),
};
