import { scalarResolvers } from '../../../lib/scalars';
import type { Resolvers } from '../__generated__/resolvers-types';
import { City, Community, District, ElderlyStats } from './areas';
import { CareTeam, MealProgram, ServiceProvider } from './care';
import { Query } from './query';
import { ImportMutation } from './import';
import { CommunityVisitCoverage, ElderlyResident, HomeVisit, Mutation, RecordHomeVisitPayload } from './register';

export const resolvers: Resolvers = {
  DateTime: scalarResolvers.DateTime,
  Query,
  Mutation: { ...Mutation, ...ImportMutation },
  City,
  District,
  Community,
  ElderlyStats,
  CareTeam,
  MealProgram,
  ServiceProvider,
  ElderlyResident,
  HomeVisit,
  RecordHomeVisitPayload,
  CommunityVisitCoverage,
};
