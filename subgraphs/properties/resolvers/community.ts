import type { BuildingResolvers, CommunityResolvers } from '../__generated__/resolvers-types';
import { badInput } from '../../../lib/errors';
import { communityMonths } from '../stats/read';
import { checkMonths, checkPeriod, trendMonths } from './query';
import { selectsField } from '../../../lib/selection';

export const Community: CommunityResolvers = {
  __resolveReference: (ref, { loaders }) => loaders.community.load(ref.id),
  id: (c) => c._id,
  aliases: (c) => c.aliases ?? [],
  city: async (c, _a, { loaders }) => (await loaders.area.load(c.cityCode))!,
  district: async (c, _a, { loaders }) => (await loaders.area.load(c.districtCode))!,
  street: (c, _a, { loaders }) => (c.streetCode ? loaders.area.load(c.streetCode) : null),
  neighborhood: (c, _a, { loaders }) => (c.neighborhoodCode ? loaders.area.load(c.neighborhoodCode) : null),
  location: (c) => (c.location?.lat != null && c.location.lng != null ? { lat: c.location.lat, lng: c.location.lng, datum: c.location.datum ?? 'WGS84' } : null),
  residentCountApprox: (c) => c.residentCountApprox ?? false,
  commendationBannerCountApprox: (c) => c.commendationBannerCountApprox ?? false,
  currentContract: (c, _a, { loaders }, info) => {
    // The 小区 row names its current company: when the query asks for the contract's company, its row
    // is read in the same database command as the contract instead of one round trip later (the
    // company resolver then finds it in the loader; a contract naming another company still reads its own).
    if (c.currentCompanyUscc && selectsField(info, 'company')) loaders.company.load(c.currentCompanyUscc).catch(() => undefined);
    return loaders.currentContract.load(c._id);
  },
  buildings: (c, _a, { loaders }) => loaders.buildingsByCommunity.load(c._id),
  feeCollection: async (c, { period }, { loaders }) => {
    const p = checkPeriod(period);
    return p ? loaders.feeInPeriod.load({ id: c._id, period: p }) : loaders.latestFee.load(c._id);
  },
  feeHistory: async (c, { last }, { loaders }) => {
    const n = last ?? 12;
    if (n < 0 || n > 120) throw badInput('last', 'must be between 0 and 120');
    return (await loaders.feesByCommunity.load(c._id)).slice(0, n);
  },
  latestSatisfaction: (c, _a, { loaders }) => loaders.latestSurvey.load(c._id),
  // A 小区's own rows are few (one fee row and a few surveys a month at most): its months are summed
  // from them, through the loaders its profile already uses, with the rollups' arithmetic.
  propertyTrend: async (c, { months }, { loaders, now }) => {
    const list = trendMonths(now, checkMonths(months));
    const [fees, surveys] = await Promise.all([loaders.feesByCommunity.load(c._id), loaders.surveysByCommunity.load(c._id)]);
    return communityMonths(list, fees, surveys);
  },
  synthetic: (c) => c.synthetic === true,
};

export const Building: BuildingResolvers = {
  __resolveReference: (ref, { loaders }) => loaders.building.load(ref.id),
  id: (b) => b._id,
  community: async (b, _a, { loaders }) => (await loaders.community.load(b.communityId))!,
};
