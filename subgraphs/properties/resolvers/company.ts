import type {
  DistrictFeeRankResolvers,
  FeeCollectionPeriodResolvers,
  PropertyCompanyResolvers,
  PropertyMonthResolvers,
  RateSummaryResolvers,
  SatisfactionSurveyResolvers,
  ServiceContractResolvers,
} from '../__generated__/resolvers-types';
import { amountRate, clearanceRate, householdRate } from '../services/fees';
import { monthFields } from '../stats/read';

export const PropertyCompany: PropertyCompanyResolvers = {
  __resolveReference: (ref, { loaders }) => loaders.company.load(ref.uscc),
  uscc: (c) => c._id,
  usccVerified: (c) => c.usccVerified ?? false,
  communities: (c, _a, { loaders }) => loaders.communitiesByCompany.load(c._id),
};

export const ServiceContract: ServiceContractResolvers = {
  id: (c) => c._id,
  community: async (c, _a, { loaders }) => (await loaders.community.load(c.communityId))!,
  company: async (c, _a, { loaders }) => (await loaders.company.load(c.companyUscc))!,
  feeStandardYuanPerM2Month: (c) => (c.feeStandardFenPerM2Month == null ? null : c.feeStandardFenPerM2Month / 100),
  serviceItems: (c) => c.serviceItems ?? [],
  inferred: (c) => c.inferred ?? false,
};

export const FeeCollectionPeriod: FeeCollectionPeriodResolvers = {
  id: (f) => f._id,
  community: async (f, _a, { loaders }) => (await loaders.community.load(f.communityId))!,
  householdRate: (f) => householdRate(f),
  amountRate: (f) => amountRate(f),
  clearanceRate: (f) => clearanceRate(f),
  reportedRateIsLowerBound: (f) => f.reportedRateIsLowerBound ?? false,
};

export const RateSummary: RateSummaryResolvers = {
  householdRate: (r) => householdRate(r),
  amountRate: (r) => amountRate(r),
  clearanceRate: (r) => clearanceRate(r),
};

export const DistrictFeeRank: DistrictFeeRankResolvers = {
  district: async (r, _a, { loaders }) => (await loaders.area.load(r.districtCode))!,
  feeCollection: (r) => r.summary,
};

export const SatisfactionSurvey: SatisfactionSurveyResolvers = {
  id: (s) => s._id,
  community: async (s, _a, { loaders }) => (await loaders.community.load(s.communityId))!,
  isLowerBound: (s) => s.isLowerBound ?? false,
};

export const PropertyMonth: PropertyMonthResolvers = {
  communities: (r) => monthFields(r).communities,
  householdRate: (r) => monthFields(r).householdRate,
  amountRate: (r) => monthFields(r).amountRate,
  clearanceRate: (r) => monthFields(r).clearanceRate,
  surveys: (r) => monthFields(r).surveys,
  satisfactionAvg: (r) => monthFields(r).satisfactionAvg,
};
