import type { BuildingResolvers, CommunityResolvers } from '../__generated__/resolvers-types';
import { badInput } from '../../../lib/errors';
import { checkPeriod } from './query';

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
  currentContract: (c, _a, { loaders }) => loaders.currentContract.load(c._id),
  buildings: (c, _a, { loaders }) => loaders.buildingsByCommunity.load(c._id),
  feeCollection: async (c, { period }, { loaders }) => {
    const p = checkPeriod(period);
    const all = await loaders.feesByCommunity.load(c._id);
    return (p ? all.find((f) => f.period === p) : all[0]) ?? null;
  },
  feeHistory: async (c, { last }, { loaders }) => {
    const n = last ?? 12;
    if (n < 0 || n > 120) throw badInput('last', 'must be between 0 and 120');
    return (await loaders.feesByCommunity.load(c._id)).slice(0, n);
  },
  latestSatisfaction: (c, _a, { loaders }) => loaders.latestSurvey.load(c._id),
};

export const Building: BuildingResolvers = {
  __resolveReference: (ref, { loaders }) => loaders.building.load(ref.id),
  id: (b) => b._id,
  community: async (b, _a, { loaders }) => (await loaders.community.load(b.communityId))!,
};
