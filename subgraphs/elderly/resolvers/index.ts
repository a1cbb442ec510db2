import { scalarResolvers } from '../../../lib/scalars';
import type { Resolvers } from '../__generated__/resolvers-types';
import { City, Community, District, ElderlyStats } from './areas';
import { CareTeam, MealProgram, ServiceProvider } from './care';
import { Query } from './query';

export const resolvers: Resolvers = {
  DateTime: scalarResolvers.DateTime,
  Query,
  City,
  District,
  Community,
  ElderlyStats,
  CareTeam,
  MealProgram,
  ServiceProvider,
};
