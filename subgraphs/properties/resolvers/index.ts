import { scalarResolvers } from '../../../lib/scalars';
import type { Resolvers } from '../__generated__/resolvers-types';
import { City, District, Neighborhood, Street } from './areas';
import { Building, Community } from './community';
import { DistrictFeeRank, FeeCollectionPeriod, PropertyCompany, PropertyMonth, RateSummary, SatisfactionSurvey, ServiceContract } from './company';
import { Mutation } from './mutation';
import { Query } from './query';

export const resolvers: Resolvers = {
  ...scalarResolvers,
  Query,
  Mutation,
  City,
  District,
  Street,
  Neighborhood,
  Community,
  Building,
  PropertyCompany,
  ServiceContract,
  FeeCollectionPeriod,
  RateSummary,
  DistrictFeeRank,
  PropertyMonth,
  SatisfactionSurvey,
};
