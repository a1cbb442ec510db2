import { scalarResolvers } from '../../../lib/scalars';
import type { Resolvers } from '../__generated__/resolvers-types';
import { City, District, PropertyCompany } from './areas';
import { Community } from './community';
import { EvaluationRubric, TypicalCaseCandidate } from './evaluation';
import { Mutation } from './mutation';
import { PatrolReport, PatrolTeam } from './patrol';
import { Query } from './query';
import { Committee, CommunityActivity, JointMeeting, PartyAlliance, PartyOrganization, SubsidyPolicy, TypicalCaseDesignation } from './structures';
import { ServiceTicket, TicketNote } from './tickets';

export const resolvers: Resolvers = {
  DateTime: scalarResolvers.DateTime,
  Query,
  Mutation,
  City,
  District,
  PropertyCompany,
  Community,
  Committee,
  PartyAlliance,
  PartyOrganization,
  JointMeeting,
  CommunityActivity,
  TypicalCaseDesignation,
  SubsidyPolicy,
  ServiceTicket,
  TicketNote,
  PatrolTeam,
  PatrolReport,
  EvaluationRubric,
  TypicalCaseCandidate,
};
