/**
 * The 12345 closed loop (国办发〔2020〕53号): 受理→派单→办理→回复→督办→办结→回访→评价, as an explicit
 * transition table plus the guards each move needs. Pure functions: the repository applies the
 * resulting change atomically (conditional on the status it was computed from).
 */
import { GraphQLError } from 'graphql';
import { addWorkingDays, type WorkCalendar } from '../../../lib/clock';
import { badInput, ErrorCode } from '../../../lib/errors';

export const TICKET_STATUSES = [
  'RECEIVED',
  'DISPATCHED',
  'IN_PROGRESS',
  'REPLIED',
  'SUPERVISING',
  'RESOLVED',
  'RETURN_VISITED',
  'EVALUATED',
  'RETURNED',
  'DEFERRED',
  'CANCELLED',
] as const;
export type TicketStatus = (typeof TICKET_STATUSES)[number];
export type Satisfaction = 'SATISFIED' | 'BASICALLY_SATISFIED' | 'DISSATISFIED' | 'UNREACHABLE';

/**
 * Which status may follow which. Moving back to DISPATCHED from RESOLVED, RETURN_VISITED or
 * EVALUATED is a reopen (重办): it counts in `reopenCount` and restarts the deadline.
 */
export const TRANSITIONS: Readonly<Record<TicketStatus, readonly TicketStatus[]>> = {
  RECEIVED: ['DISPATCHED', 'REPLIED', 'CANCELLED'], // 派单; 直接答复 (e.g. a 咨询 answered by the centre)
  DISPATCHED: ['IN_PROGRESS', 'RETURNED', 'SUPERVISING', 'CANCELLED'],
  RETURNED: ['DISPATCHED', 'CANCELLED'], // 退单 → 重新派单
  IN_PROGRESS: ['REPLIED', 'DEFERRED', 'SUPERVISING'],
  DEFERRED: ['IN_PROGRESS', 'REPLIED', 'SUPERVISING'],
  REPLIED: ['SUPERVISING', 'RESOLVED'],
  SUPERVISING: ['IN_PROGRESS', 'REPLIED', 'RESOLVED'],
  RESOLVED: ['RETURN_VISITED', 'DISPATCHED'],
  RETURN_VISITED: ['EVALUATED', 'DISPATCHED'],
  EVALUATED: ['DISPATCHED'], // only when the evaluation was 不满意
  CANCELLED: [],
};

export const CLOSED_STATUSES: ReadonlySet<TicketStatus> = new Set(['RESOLVED', 'RETURN_VISITED', 'EVALUATED', 'CANCELLED']);
export const isOpen = (s: string) => !CLOSED_STATUSES.has(s as TicketStatus);
export const open311StatusOf = (s: string): 'open' | 'closed' => (isOpen(s) ? 'open' : 'closed');
const REOPEN_FROM: ReadonlySet<TicketStatus> = new Set(['RESOLVED', 'RETURN_VISITED', 'EVALUATED']);

/** 12345 deadline for 一般诉求: 5 working days. */
export const DUE_WORKING_DAYS = 5;
export const DEFAULT_DEFER_WORKING_DAYS = 5;
export const MAX_DEFER_WORKING_DAYS = 30;

export function allowedTransitions(from: string): readonly TicketStatus[] {
  return TRANSITIONS[from as TicketStatus] ?? [];
}

export interface TicketState {
  status: string;
  satisfaction?: string | null;
  firstSatisfaction?: string | null;
  assigneeOrg?: string | null;
  dueAt: Date;
  requestedAt: Date;
  lastTransitionAt: Date;
}

export interface TransitionRequest {
  to: TicketStatus;
  note?: string | null;
  actorOrg?: string | null;
  assigneeOrg?: string | null;
  satisfaction?: Satisfaction | null;
  deferWorkingDays?: number | null;
}

export interface TransitionChange {
  set: Record<string, unknown>;
  reopen: boolean;
  note: { at: Date; type: 'STATUS_CHANGE' | 'REOPENED'; from: string; to: string; text: string | null; actorOrg: string | null };
}

function illegal(from: string, to: string): GraphQLError {
  const allowed = allowedTransitions(from);
  const list = allowed.length ? allowed.join(', ') : 'nothing (terminal status)';
  return new GraphQLError(`to: illegal ticket transition from ${from} to ${to}; from ${from} a ticket may move to ${list}`, {
    extensions: { code: ErrorCode.BAD_USER_INPUT, field: 'to', from, to, allowed: [...allowed] },
  });
}

const trimmed = (s: string | null | undefined) => (s == null ? null : s.trim() || null);

/**
 * Checks a move against the table and its guards and returns the fields to set. Throws
 * BAD_USER_INPUT naming from/to for a move the table does not allow, and naming the argument for a
 * missing or misplaced one.
 */
export function planTransition(t: TicketState, req: TransitionRequest, at: Date, cal: WorkCalendar = {}): TransitionChange {
  const from = t.status;
  const to = req.to;
  if (!allowedTransitions(from).includes(to)) throw illegal(from, to);
  const note = trimmed(req.note);
  const reopen = to === 'DISPATCHED' && REOPEN_FROM.has(from as TicketStatus);
  const set: Record<string, unknown> = { status: to, open: isOpen(to), lastTransitionAt: at };

  if (req.satisfaction != null && to !== 'RETURN_VISITED' && to !== 'EVALUATED') {
    throw badInput('satisfaction', 'is recorded only when moving to RETURN_VISITED or EVALUATED');
  }
  if (req.deferWorkingDays != null && to !== 'DEFERRED') throw badInput('deferWorkingDays', 'applies only when moving to DEFERRED');
  if (req.assigneeOrg != null && to !== 'DISPATCHED') throw badInput('assigneeOrg', 'applies only when moving to DISPATCHED');

  switch (to) {
    case 'DISPATCHED': {
      const assignee = trimmed(req.assigneeOrg) ?? (reopen ? (t.assigneeOrg ?? null) : null);
      if (!assignee) throw badInput('assigneeOrg', `is required to dispatch a ticket (from ${from})`);
      if (from === 'RETURNED' && assignee === t.assigneeOrg) {
        throw badInput('assigneeOrg', `the ticket was returned by ${assignee}; dispatch it to another organisation`);
      }
      if (reopen) {
        if (from === 'EVALUATED' && t.satisfaction !== 'DISSATISFIED') {
          throw badInput('to', `a ticket evaluated ${t.satisfaction ?? 'without a rating'} cannot be reopened; open a new ticket instead`);
        }
        if (!note) throw badInput('note', 'a reason is required to reopen a ticket (重办)');
        Object.assign(set, {
          resolvedAt: null,
          returnVisitAt: null,
          evaluatedAt: null,
          satisfaction: null,
          dueAt: addWorkingDays(at, DUE_WORKING_DAYS, cal),
        });
      }
      Object.assign(set, { assigneeOrg: assignee, dispatchedAt: at });
      break;
    }
    case 'RETURNED':
      if (!note) throw badInput('note', 'a reason is required to return a ticket (退单理由)');
      break;
    case 'CANCELLED':
      if (!note) throw badInput('note', 'a reason is required to cancel a ticket');
      break;
    case 'DEFERRED': {
      const days = req.deferWorkingDays ?? DEFAULT_DEFER_WORKING_DAYS;
      if (!Number.isInteger(days) || days < 1 || days > MAX_DEFER_WORKING_DAYS) {
        throw badInput('deferWorkingDays', `must be an integer between 1 and ${MAX_DEFER_WORKING_DAYS}`);
      }
      if (!note) throw badInput('note', 'a reason is required to defer a ticket (延期理由)');
      set.dueAt = addWorkingDays(t.dueAt, days, cal);
      break;
    }
    case 'RESOLVED':
      set.resolvedAt = at;
      break;
    case 'RETURN_VISITED':
      set.returnVisitAt = at;
      if (req.satisfaction != null) set.satisfaction = req.satisfaction;
      break;
    case 'EVALUATED': {
      const s = req.satisfaction ?? (t.satisfaction as Satisfaction | null | undefined) ?? null;
      if (!s || s === 'UNREACHABLE') {
        throw badInput('satisfaction', 'an evaluation needs SATISFIED, BASICALLY_SATISFIED or DISSATISFIED');
      }
      Object.assign(set, { satisfaction: s, evaluatedAt: at });
      break;
    }
    default:
      break;
  }
  // Statistics count the first real rating: reopening a ticket cannot erase a 不满意.
  const rated = set.satisfaction as string | null | undefined;
  if (rated && rated !== 'UNREACHABLE' && !t.firstSatisfaction) set.firstSatisfaction = rated;
  return {
    set,
    reopen,
    note: { at, type: reopen ? 'REOPENED' : 'STATUS_CHANGE', from, to, text: note, actorOrg: trimmed(req.actorOrg) },
  };
}
