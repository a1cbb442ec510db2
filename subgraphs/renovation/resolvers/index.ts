import { scalarResolvers } from '../../../lib/scalars';
import type { Resolvers } from '../__generated__/resolvers-types';
import { City, Community, District, FundingTotal, ItemClassTotal, RenovationMonth, RenovationStats, RenovationSummary } from './areas';
import { Facility, FundingSource, Money, ProjectMilestone, RenovationItem, RenovationProject, SpendRecord } from './project';
import { Mutation, Query } from './query';

export const resolvers: Resolvers = {
  ...scalarResolvers,
  Query,
  Mutation,
  City,
  District,
  Community,
  RenovationSummary,
  RenovationStats,
  RenovationMonth,
  FundingTotal,
  ItemClassTotal,
  RenovationProject,
  RenovationItem,
  FundingSource,
  SpendRecord,
  ProjectMilestone,
  Money,
  Facility,
};
