import { auditImport } from '../../../lib/import/batch';
import type { MutationResolvers } from '../__generated__/resolvers-types';
import { recordScores } from '../services/evaluation';
import { CO_GOVERNANCE_TOPICS } from './community';
import type { CreateTicketInput, JointMeetingInput, PatrolReportInput, RectificationInput, TransitionInput } from '../services/commands';

/** Mutations are thin: input → command → result (validation and idempotency live in the commands). */
export const Mutation: MutationResolvers = {
  createServiceTicket: (_p, { input }, { commands, now }) => commands.createServiceTicket(input as CreateTicketInput, now),
  transitionTicket: (_p, { input }, { commands, now }) => commands.transitionTicket(input as TransitionInput, now),
  addTicketNote: (_p, { id, text, actorOrg }, { commands, now }) => commands.addTicketNote(id, text, actorOrg, now),
  recordPatrolReport: (_p, { input }, { commands, now }) => commands.recordPatrolReport(input as PatrolReportInput, now),
  recordRectification: (_p, { input }, { commands, now }) => commands.recordRectification(input as RectificationInput, now),
  recordJointMeeting: (_p, { input }, { commands, now }) => commands.recordJointMeeting(input as JointMeetingInput, now),
  upsertEvaluationRubric: (_p, { input }, { commands }) => commands.upsertEvaluationRubric(input),
  syncCommunityRegister: (_p, { input }, { commands }) => commands.syncCommunityRegister(input),
  recordBeautifulHomeScores: (_p, args, ctx) => recordScores(ctx, args, CO_GOVERNANCE_TOPICS),
  importCommittees: async (_p, { rows, dryRun }, ctx) => {
    const result = await ctx.imports.importCommittees(rows, dryRun ?? false);
    auditImport(ctx, 'committees', result);
    return result;
  },
};
