/**
 * Data access of the elderly subgraph. Every read is a batch: many keys, one database command, so
 * the per-request DataLoaders sit in front of it. Aggregates are computed by the database.
 */
import type { CareTeamDoc, MealProgramDoc, Models, ServiceProviderDoc } from '../models';
import type { RawElderlyStats } from './privacy';

export type StatsLevel = 'COMMUNITY' | 'DISTRICT' | 'CITY';
const levelField = (level: StatsLevel) => (level === 'CITY' ? 'cityCode' : level === 'DISTRICT' ? 'districtCode' : 'communityId');

const DAY_MS = 24 * 3600 * 1000;

export function createRepository(m: Models, clock: () => Date = () => new Date()) {
  return {
    models: m,
    now: clock,

    careTeamsById: (ids: readonly string[]) => m.CareTeam.find({ _id: { $in: ids } }).lean<CareTeamDoc[]>(),
    careTeamsByCommunity: (ids: readonly string[]) =>
      m.CareTeam.find({ communityIds: { $in: ids } }).sort({ _id: 1 }).lean<CareTeamDoc[]>(),
    mealProgramsById: (ids: readonly string[]) => m.MealProgram.find({ _id: { $in: ids } }).lean<MealProgramDoc[]>(),
    mealProgramsByCommunity: (ids: readonly string[]) =>
      m.MealProgram.find({ communityIds: { $in: ids } }).sort({ _id: 1 }).lean<MealProgramDoc[]>(),
    mealProgramsByCity: (cityCodes: readonly string[]) =>
      m.MealProgram.find({ cityCodes: { $in: cityCodes } }).sort({ _id: 1 }).lean<MealProgramDoc[]>(),
    providersById: (ids: readonly string[]) => m.ServiceProvider.find({ _id: { $in: ids } }).lean<ServiceProviderDoc[]>(),
    providersByCommunity: (ids: readonly string[]) =>
      m.ServiceProvider.find({ communityIds: { $in: ids } }).sort({ _id: 1 }).lean<ServiceProviderDoc[]>(),

    /**
     * Register figures per 小区, district or city in ONE aggregation over the active register:
     * registered, living alone, with a difficulty flag, high-risk tier, visited in the last 30 days,
     * overdue (next visit due before now). Areas without residents are absent (callers use zeros).
     */
    async elderlyStats(level: StatsLevel, codes: readonly string[]): Promise<(RawElderlyStats & { code: string })[]> {
      const field = levelField(level);
      const now = clock();
      const since = new Date(now.getTime() - 30 * DAY_MS);
      return m.Resident.aggregate([
        { $match: { [field]: { $in: [...codes] }, status: 'ACTIVE' } },
        {
          $group: {
            _id: `$${field}`,
            registered: { $sum: 1 },
            livingAlone: { $sum: { $cond: [{ $eq: ['$livingArrangement', 'LIVING_ALONE'] }, 1, 0] } },
            difficulty: { $sum: { $cond: [{ $gt: [{ $size: { $ifNull: ['$difficultyFlags', []] } }, 0] }, 1, 0] } },
            highRisk: { $sum: { $cond: [{ $eq: ['$riskTier', 'HIGH'] }, 1, 0] } },
            visitedLast30d: {
              $sum: { $cond: [{ $and: [{ $ne: [{ $ifNull: ['$lastVisitedAt', null] }, null] }, { $gte: ['$lastVisitedAt', since] }] }, 1, 0] },
            },
            overdueVisits: {
              $sum: { $cond: [{ $and: [{ $ne: [{ $ifNull: ['$nextVisitDue', null] }, null] }, { $lt: ['$nextVisitDue', now] }] }, 1, 0] },
            },
          },
        },
        { $project: { _id: 0, code: '$_id', registered: 1, livingAlone: 1, difficulty: 1, highRisk: 1, visitedLast30d: 1, overdueVisits: 1 } },
      ]);
    },

    /** Holiday visits (节假日探视) in the last 12 months per 小区, district or city: one aggregation. */
    async holidayVisits(level: StatsLevel, codes: readonly string[]): Promise<{ code: string; count: number }[]> {
      const field = levelField(level);
      const since = new Date(clock().getTime() - 365 * DAY_MS);
      return m.HomeVisit.aggregate([
        { $match: { [field]: { $in: [...codes] }, occasion: 'HOLIDAY', visitedAt: { $gte: since } } },
        { $group: { _id: `$${field}`, count: { $sum: 1 } } },
        { $project: { _id: 0, code: '$_id', count: 1 } },
      ]);
    },
  };
}
export type Repository = ReturnType<typeof createRepository>;
