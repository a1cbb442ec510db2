import type { CareTeamResolvers, MealProgramResolvers, ServiceProviderResolvers } from '../__generated__/resolvers-types';

const communityRefs = (ids: readonly string[] | null | undefined) => (ids ?? []).map((id) => ({ id }));
const companyRef = (uscc: string | null | undefined) => (uscc ? { uscc } : null);

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
};

export const ServiceProvider: ServiceProviderResolvers = {
  __resolveReference: (ref, { loaders }) => loaders.provider.load(ref.id),
  id: (p) => p._id,
  servesCommunities: (p) => communityRefs(p.communityIds),
  broughtInByCompany: (p) => companyRef(p.broughtInByUscc),
};
