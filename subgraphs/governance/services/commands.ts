/**
 * The write side of the governance subgraph: ticket intake and moves, patrol reports and
 * rectifications, joint meetings, rubrics. Each command validates its input (errors name the
 * argument), is idempotent when the caller gives a `clientKey`, and writes through the repository.
 * There are no multi-document transactions (the embedded engine reports a standalone server), so
 * multi-step commands are ordered to be safely retried with the same key.
 */
import { createHash, randomBytes } from 'node:crypto';
import { GraphQLError } from 'graphql';
import { addWorkingDays, type WorkCalendar } from '../../../lib/clock';
import { badInput, ErrorCode, notFound } from '../../../lib/errors';
import { refusePersonalData } from '../../../lib/personal-data';

/** NOT_FOUND that also names the argument carrying the unknown id (`extensions.field`). */
function missing(field: string, what: string): GraphQLError {
  const e = notFound(what);
  return new GraphQLError(`${field}: ${e.message}`, { extensions: { ...e.extensions, field } });
}
import type { GovCommunityDoc, PatrolReportDoc, TicketDoc } from '../models';
import { DUE_WORKING_DAYS, planTransition, type Satisfaction, type TicketStatus } from './lifecycle';
import { jurisdictionCity } from './open311';
import type { Repository } from './repository';
import { validateRubric, type RubricDef } from './rubric';
import { isDuplicateKey } from '../../../lib/db';
import type { StatsWriter } from '../stats/write';

export const LIMITS = {
  description: 4000,
  note: 2000,
  clientKey: 128,
  externalNo: 64,
  mediaUrls: 9,
  url: 2048,
  orgName: 200,
  resolutions: 50,
  resolution: 500,
  registerBatch: 1000,
  households: 100_000,
  /** Tolerated clock skew for caller-supplied times. */
  skewMs: 60_000,
} as const;

export interface RegisterCommunityInput {
  id: string;
  cityCode: string;
  districtCode: string;
  streetCode?: string | null;
  neighborhoodCode?: string | null;
  companyUscc?: string | null;
  householdCount?: number | null;
}

function conflict(message: string, extensions: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { code: ErrorCode.CONFLICT, ...extensions } });
}

/** Stable hash of an input object (keys sorted), to tell an idempotent replay from a clash. */
export function inputHash(input: unknown): string {
  const canon = (v: unknown): unknown => {
    if (v instanceof Date) return v.toISOString();
    if (Array.isArray(v)) return v.map(canon);
    if (v && typeof v === 'object') {
      return Object.fromEntries(
        Object.keys(v as object)
          .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
          .sort()
          .map((k) => [k, canon((v as Record<string, unknown>)[k])]),
      );
    }
    return v;
  };
  return createHash('sha256').update(JSON.stringify(canon(input))).digest('hex');
}

const idFor = (prefix: string, clientKey: string | null | undefined, kind: string) =>
  clientKey ? `${prefix}_${createHash('sha256').update(`${kind}:${clientKey}`).digest('hex').slice(0, 24)}` : `${prefix}_${randomBytes(12).toString('hex')}`;


function checkClientKey(k: string | null | undefined): string | null {
  if (k == null) return null;
  if (!/^[\x21-\x7e]{1,128}$/.test(k)) throw badInput('clientKey', `use 1-${LIMITS.clientKey} printable ASCII characters without spaces`);
  return k;
}

function checkText(field: string, v: string | null | undefined, max: number, required = false): string | null {
  const t = v?.trim() ?? '';
  if (!t) {
    if (required) throw badInput(field, 'must not be empty');
    return null;
  }
  if ([...t].length > max) throw badInput(field, `must be at most ${max} characters`);
  return t;
}

function checkUrls(field: string, urls: readonly string[] | null | undefined, min: number): string[] {
  const list = [...(urls ?? [])];
  if (list.length < min) throw badInput(field, `needs at least ${min} URL${min === 1 ? '' : 's'}`);
  if (list.length > LIMITS.mediaUrls) throw badInput(field, `at most ${LIMITS.mediaUrls} URLs`);
  for (const u of list) {
    let ok = false;
    try {
      const parsed = new URL(u);
      ok = (parsed.protocol === 'https:' || parsed.protocol === 'http:') && u.length <= LIMITS.url;
    } catch {
      ok = false;
    }
    if (!ok) throw badInput(field, `"${u.slice(0, 80)}" is not an http(s) URL of at most ${LIMITS.url} characters`);
  }
  return list;
}

function checkPast(field: string, at: Date | null | undefined, now: Date): Date {
  if (at == null) return now;
  const d = at instanceof Date ? at : new Date(at);
  if (Number.isNaN(d.getTime())) throw badInput(field, 'is not a valid date-time');
  if (d.getTime() > now.getTime() + LIMITS.skewMs) throw badInput(field, 'may not lie in the future');
  return d;
}

export interface CreateTicketInput {
  clientKey?: string | null;
  jurisdictionId?: string | null;
  communityId: string;
  buildingId?: string | null;
  serviceCode: string;
  channel: string;
  type?: string | null;
  description: string;
  location?: { lat: number; long: number; datum?: string | null } | null;
  addressString?: string | null;
  mediaUrls?: readonly string[] | null;
  externalNo?: string | null;
  reporter?: { firstName?: string | null; lastName?: string | null; phone?: string | null; email?: string | null; anonymous?: boolean | null } | null;
  requestedAt?: Date | null;
}

export interface TransitionInput {
  id: string;
  to: TicketStatus;
  expectedStatus?: string | null;
  note?: string | null;
  actorOrg?: string | null;
  assigneeOrg?: string | null;
  satisfaction?: Satisfaction | null;
  deferWorkingDays?: number | null;
  at?: Date | null;
}

export interface PatrolReportInput {
  clientKey?: string | null;
  communityId: string;
  teamId?: string | null;
  issueType: string;
  description?: string | null;
  photos: readonly string[];
  reportedAt?: Date | null;
  forwardToCompanyUscc?: string | null;
  escalateToTicket?: boolean | null;
}

export interface RectificationInput {
  reportId: string;
  rectifiedAt?: Date | null;
  photos?: readonly string[] | null;
  note?: string | null;
}

export interface JointMeetingInput {
  clientKey?: string | null;
  communityId: string;
  heldAt: Date;
  participantOrgTypes: readonly string[];
  topics: readonly string[];
  resolutions?: readonly string[] | null;
  followUpTicketIds?: readonly string[] | null;
}

/** Service code a patrol finding becomes when it is escalated to a ticket. */
export const PATROL_SERVICE_CODE: Readonly<Record<string, string>> = {
  ILLEGAL_CONSTRUCTION: 'ILLEGAL_BUILD',
  DOG: 'DOG',
  WASTE_SORTING: 'WASTE',
  GARBAGE_PICKUP_LATE: 'WASTE',
  CORRIDOR_CLUTTER: 'CLUTTER',
  CLUTTER: 'CLUTTER',
  DRYING_AREA: 'CLUTTER',
  PUBLIC_SECURITY: 'SECURITY',
  FIRE_SAFETY: 'SECURITY',
  HEATING: 'HEATING',
  EV_CHARGING: 'EBIKE_CHARGING',
  SANITATION: 'SANITATION',
  GREENERY_MAINTENANCE: 'GREENERY',
  FACILITY_RENOVATION: 'REPAIR',
};

/** What the commands tell the statistics rollups after their raw writes (stats/write.ts). */
export type StatsHooks = Pick<StatsWriter, 'refreshTickets' | 'refreshRegister' | 'refreshMeetings'>;
const NO_STATS: StatsHooks = { refreshTickets: async () => {}, refreshRegister: async () => {}, refreshMeetings: async () => {} };

export function createCommands(repo: Repository, opts: { calendar: WorkCalendar; stats?: StatsHooks }) {
  const cal = opts.calendar;
  const stats = opts.stats ?? NO_STATS;
  /** The ticket after its rollups were brought up to date (also on a replay: it repairs a half-done call). */
  const counted = async <T extends { _id: string }>(t: T): Promise<T> => {
    await stats.refreshTickets([t._id]);
    return t;
  };

  async function registered(communityId: string): Promise<GovCommunityDoc> {
    const c = (await repo.communitiesById([communityId]))[0];
    if (!c) throw missing('communityId', `community ${communityId} in the governance register`);
    return c;
  }

  /** Returns the existing document for a replayed key, or throws CONFLICT when the input differs. */
  function replayOrConflict<T extends { _id: string; inputHash?: string | null }>(existing: T, hash: string, clientKey: string, what: string): T {
    if (existing.inputHash === hash) return existing;
    throw conflict(`clientKey "${clientKey}" was already used for a different ${what} (${existing._id})`, { existingId: existing._id });
  }

  const commands = {
    async createServiceTicket(input: CreateTicketInput, now: Date): Promise<TicketDoc> {
      const clientKey = checkClientKey(input.clientKey);
      const hash = inputHash(input);
      const id = idFor('tk', clientKey, 'ticket');
      if (clientKey) {
        const existing = await repo.ticketById(id);
        if (existing) return counted(replayOrConflict(existing, hash, clientKey, 'ticket'));
      }
      const description = checkText('description', input.description, LIMITS.description, true)!;
      const externalNo = checkText('externalNo', input.externalNo, LIMITS.externalNo);
      // A platform's case number (public), never free text: letters, digits and - _ . / only.
      if (externalNo != null && !/^[A-Za-z0-9][A-Za-z0-9_./-]*$/.test(externalNo)) {
        throw badInput('externalNo', 'expected the 12345 platform\'s case number: letters, digits and - _ . / only');
      }
      const addressString = checkText('addressString', input.addressString, 500);
      const mediaUrls = checkUrls('mediaUrls', input.mediaUrls, 0);
      const requestedAt = checkPast('requestedAt', input.requestedAt, now);
      let location: { lat: number; lng: number; datum: string } | null = null;
      if (input.location) {
        const { lat, long, datum } = input.location;
        if (!(lat >= -90 && lat <= 90)) throw badInput('location.lat', 'must be between -90 and 90');
        if (!(long >= -180 && long <= 180)) throw badInput('location.long', 'must be between -180 and 180');
        location = { lat, lng: long, datum: datum ?? 'WGS84' };
      }
      const community = await registered(input.communityId);
      if (input.jurisdictionId != null && jurisdictionCity(input.jurisdictionId) !== community.cityCode) {
        throw badInput('jurisdictionId', `community ${community._id} is not in jurisdiction "${input.jurisdictionId}"`);
      }
      const r = input.reporter;
      const doc = {
        _id: id,
        ...(externalNo ? { externalNo } : {}),
        jurisdictionId: input.jurisdictionId ?? null,
        communityId: community._id,
        cityCode: community.cityCode,
        districtCode: community.districtCode,
        companyUscc: community.companyUscc ?? null,
        buildingId: input.buildingId ?? null,
        channel: input.channel,
        type: input.type ?? 'COMPLAINT',
        serviceCode: input.serviceCode,
        description,
        status: 'RECEIVED',
        open: true,
        requestedAt,
        dueAt: addWorkingDays(requestedAt, DUE_WORKING_DAYS, cal),
        lastTransitionAt: requestedAt,
        location,
        addressString,
        mediaUrls,
        reporter: r
          ? {
              firstName: checkText('reporter.firstName', r.firstName, 50),
              lastName: checkText('reporter.lastName', r.lastName, 50),
              phone: checkText('reporter.phone', r.phone, 30),
              email: checkText('reporter.email', r.email, 200),
              anonymous: r.anonymous ?? false,
            }
          : null,
        notes: [{ at: requestedAt, type: 'CREATED', from: null, to: 'RECEIVED', text: null, actorOrg: null }],
        inputHash: hash,
      };
      try {
        await repo.insertTicket(doc);
      } catch (e) {
        if (!isDuplicateKey(e)) throw e;
        const existing = await repo.ticketById(id);
        if (existing && clientKey) return counted(replayOrConflict(existing, hash, clientKey, 'ticket'));
        if (externalNo) {
          const other = await repo.ticketByExternalNo(externalNo);
          if (other) throw conflict(`externalNo ${externalNo} already belongs to ticket ${other._id}`, { existingId: other._id });
        }
        throw e;
      }
      return counted((await repo.ticketById(id))!);
    },

    async transitionTicket(input: TransitionInput, now: Date): Promise<TicketDoc> {
      const t = await repo.ticketById(input.id);
      if (!t) throw missing('id', `ticket ${input.id}`);
      if (input.expectedStatus != null && t.status !== input.expectedStatus) {
        throw conflict(`ticket ${t._id} is ${t.status}, not ${input.expectedStatus}; read it again`, { status: t.status });
      }
      const at = checkPast('at', input.at, now);
      if (at.getTime() < new Date(t.lastTransitionAt).getTime()) {
        throw badInput('at', `must not be before the ticket's last move (${new Date(t.lastTransitionAt).toISOString()})`);
      }
      const change = planTransition(
        { status: t.status, satisfaction: t.satisfaction, firstSatisfaction: t.firstSatisfaction, assigneeOrg: t.assigneeOrg, dueAt: t.dueAt, requestedAt: t.requestedAt, lastTransitionAt: t.lastTransitionAt },
        {
          to: input.to,
          note: checkText('note', input.note, LIMITS.note),
          actorOrg: refusePersonalData('actorOrg', checkText('actorOrg', input.actorOrg, LIMITS.orgName)),
          assigneeOrg: input.assigneeOrg == null ? null : refusePersonalData('assigneeOrg', checkText('assigneeOrg', input.assigneeOrg, LIMITS.orgName, true)),
          satisfaction: input.satisfaction ?? null,
          deferWorkingDays: input.deferWorkingDays ?? null,
        },
        at,
        cal,
      );
      const updated = await repo.updateTicketIfUnchanged(t._id, t.seq ?? 0, change.set, change.note, change.reopen ? { reopenCount: 1 } : {});
      if (!updated) {
        const fresh = await repo.ticketById(t._id);
        throw conflict(`ticket ${t._id} changed while it was being moved (now ${fresh?.status ?? 'gone'}); read it again and retry`, {
          status: fresh?.status ?? null,
        });
      }
      return counted(updated);
    },

    async addTicketNote(id: string, text: string, actorOrg: string | null | undefined, now: Date): Promise<TicketDoc> {
      const body = checkText('text', text, LIMITS.note, true)!;
      const org = refusePersonalData('actorOrg', checkText('actorOrg', actorOrg, LIMITS.orgName));
      for (let attempt = 0; attempt < 3; attempt++) {
        const t = await repo.ticketById(id);
        if (!t) throw missing('id', `ticket ${id}`);
        const updated = await repo.updateTicketIfUnchanged(t._id, t.seq ?? 0, {}, { at: now, type: 'COMMENT', from: null, to: null, text: body, actorOrg: org });
        if (updated) return counted(updated);
      }
      throw conflict(`ticket ${id} is being changed by others; retry`);
    },

    async recordPatrolReport(input: PatrolReportInput, now: Date): Promise<PatrolReportDoc> {
      const clientKey = checkClientKey(input.clientKey);
      const hash = inputHash(input);
      const id = idFor('pr', clientKey, 'patrol');
      let report = clientKey ? await repo.patrolReportById(id) : null;
      if (report) report = replayOrConflict(report, hash, clientKey!, 'patrol report');
      else {
        const photos = checkUrls('photos', input.photos, 1);
        const description = checkText('description', input.description, LIMITS.description);
        const reportedAt = checkPast('reportedAt', input.reportedAt, now);
        const community = await registered(input.communityId);
        if (input.teamId != null) {
          const team = (await repo.patrolTeamsById([input.teamId]))[0];
          if (!team) throw missing('teamId', `patrol team ${input.teamId}`);
          if (team.communityId !== community._id) throw badInput('teamId', `team ${team._id} patrols ${team.communityId}, not ${community._id}`);
        }
        const companyUscc = input.forwardToCompanyUscc ?? community.companyUscc ?? null;
        const doc = {
          _id: id,
          teamId: input.teamId ?? null,
          communityId: community._id,
          cityCode: community.cityCode,
          districtCode: community.districtCode,
          issueType: input.issueType,
          description,
          photos,
          reportedAt,
          companyUscc,
          forwardedAt: companyUscc ? reportedAt : null,
          linkedTicketId: input.escalateToTicket ? idFor('tk', `patrol:${id}`, 'ticket') : null,
          inputHash: hash,
        };
        try {
          await repo.insertPatrolReport(doc);
        } catch (e) {
          if (!isDuplicateKey(e) || !clientKey) throw e;
        }
        report = (await repo.patrolReportById(id))!;
        if (clientKey) report = replayOrConflict(report, hash, clientKey, 'patrol report');
      }
      if (input.escalateToTicket) {
        // Idempotent by a key derived from the report: a retried call completes a half-done one.
        await commands.createServiceTicket(
          {
            clientKey: `patrol:${report._id}`,
            communityId: report.communityId,
            serviceCode: PATROL_SERVICE_CODE[report.issueType] ?? 'SANITATION',
            channel: 'PATROL',
            type: 'REQUEST',
            description: report.description ?? `巡查发现问题：${report.issueType}`,
            mediaUrls: report.photos ?? [],
            requestedAt: report.reportedAt,
          },
          now,
        );
      }
      return report;
    },

    async recordRectification(input: RectificationInput, now: Date): Promise<PatrolReportDoc> {
      const report = await repo.patrolReportById(input.reportId);
      if (!report) throw missing('reportId', `patrol report ${input.reportId}`);
      if (report.rectifiedAt) throw conflict(`patrol report ${report._id} was already rectified at ${new Date(report.rectifiedAt).toISOString()}`);
      const rectifiedAt = checkPast('rectifiedAt', input.rectifiedAt, now);
      if (rectifiedAt.getTime() < new Date(report.reportedAt).getTime()) throw badInput('rectifiedAt', 'must not be before the report');
      const photos = checkUrls('photos', input.photos, 0);
      const note = checkText('note', input.note, LIMITS.note);
      const updated = await repo.setRectified(report._id, { rectifiedAt, rectificationPhotos: photos, rectificationNote: note });
      if (!updated) throw conflict(`patrol report ${report._id} was rectified meanwhile`);
      return updated;
    },

    async recordJointMeeting(input: JointMeetingInput, now: Date) {
      const clientKey = checkClientKey(input.clientKey);
      const hash = inputHash(input);
      const id = idFor('jm', clientKey, 'meeting');
      if (clientKey) {
        const existing = await repo.meetingById(id);
        if (existing) return replayOrConflict(existing, hash, clientKey, 'joint meeting');
      }
      const heldAt = checkPast('heldAt', input.heldAt, now);
      const orgs = [...new Set(input.participantOrgTypes)];
      if (orgs.length < 2) throw badInput('participantOrgTypes', 'a joint meeting needs at least two different organisations');
      const topics = [...new Set(input.topics)];
      if (!topics.length) throw badInput('topics', 'give at least one topic');
      const resolutions = (input.resolutions ?? []).map((r, i) => checkText(`resolutions[${i}]`, r, LIMITS.resolution, true)!);
      if (resolutions.length > LIMITS.resolutions) throw badInput('resolutions', `at most ${LIMITS.resolutions}`);
      const community = await registered(input.communityId);
      const followUp = [...new Set(input.followUpTicketIds ?? [])];
      if (followUp.length) {
        const found = await repo.ticketsById(followUp);
        const bad = followUp.filter((tid) => found.find((t) => t._id === tid)?.communityId !== community._id);
        if (bad.length) throw badInput('followUpTicketIds', `not tickets of ${community._id}: ${bad.join(', ')}`);
      }
      const alliance = (await repo.alliancesByCommunity([community._id]))[0];
      const doc = {
        _id: id,
        communityId: community._id,
        cityCode: community.cityCode,
        districtCode: community.districtCode,
        allianceId: alliance?._id ?? null,
        heldAt,
        participantOrgTypes: orgs,
        topics,
        resolutions,
        followUpTicketIds: followUp,
        inputHash: hash,
      };
      try {
        await repo.insertMeeting(doc);
      } catch (e) {
        if (!isDuplicateKey(e) || !clientKey) throw e;
        const existing = await repo.meetingById(id);
        if (!existing) throw e;
        const replay = replayOrConflict(existing, hash, clientKey, 'joint meeting');
        // A replay repairs the day buckets an interrupted first attempt may have left behind.
        await stats.refreshMeetings([existing]);
        return replay;
      }
      await stats.refreshMeetings([doc]);
      return (await repo.meetingById(id))!;
    },

    /** Validates every row first (all or nothing), then upserts them in one bulk write. */
    async syncCommunityRegister(input: readonly RegisterCommunityInput[]): Promise<number> {
      if (input.length < 1 || input.length > LIMITS.registerBatch) throw badInput('input', `give 1-${LIMITS.registerBatch} 小区`);
      const seen = new Set<string>();
      const rows = input.map((c, i) => {
        const f = (k: string) => `input[${i}].${k}`;
        if (!/^[A-Za-z0-9_-]{1,64}$/.test(c.id)) throw badInput(f('id'), 'use 1-64 letters, digits, _ or -');
        if (seen.has(c.id)) throw badInput(f('id'), `${c.id} is given twice`);
        seen.add(c.id);
        if (!/^\d{4}00$/.test(c.cityCode)) throw badInput(f('cityCode'), 'must be a 6-digit GB/T 2260 city code ending in 00');
        if (!/^\d{6}$/.test(c.districtCode) || c.districtCode.slice(0, 4) !== c.cityCode.slice(0, 4) || c.districtCode === c.cityCode) {
          throw badInput(f('districtCode'), `must be a 6-digit GB/T 2260 district code of city ${c.cityCode}`);
        }
        if (c.streetCode != null && !(/^\d{9}$/.test(c.streetCode) && c.streetCode.startsWith(c.districtCode))) {
          throw badInput(f('streetCode'), `must be a 9-digit street code in district ${c.districtCode}`);
        }
        if (c.neighborhoodCode != null && !(/^\d{12}$/.test(c.neighborhoodCode) && c.neighborhoodCode.startsWith(c.streetCode ?? c.districtCode))) {
          throw badInput(f('neighborhoodCode'), `must be a 12-digit 社区 code in ${c.streetCode ?? c.districtCode}`);
        }
        if (c.companyUscc != null && !/^[0-9A-Z]{18}$/.test(c.companyUscc)) throw badInput(f('companyUscc'), 'must be an 18-character USCC (digits and capital letters)');
        if (c.householdCount != null && !(Number.isInteger(c.householdCount) && c.householdCount >= 0 && c.householdCount <= LIMITS.households)) {
          throw badInput(f('householdCount'), `must be an integer between 0 and ${LIMITS.households}`);
        }
        return {
          _id: c.id, cityCode: c.cityCode, districtCode: c.districtCode, streetCode: c.streetCode ?? null, neighborhoodCode: c.neighborhoodCode ?? null,
          companyUscc: c.companyUscc ?? null, householdCount: c.householdCount ?? null,
        };
      });
      const before = await repo.communitiesById(rows.map((r) => r._id));
      await repo.upsertRegister(rows);
      await stats.refreshRegister(before, rows.map((r) => r._id));
      return rows.length;
    },

    async upsertEvaluationRubric(input: { id: string; name: string; weights: readonly { dimension: string; weight: number }[] }): Promise<RubricDef> {
      const rubric = validateRubric(input);
      await repo.upsertRubric({ _id: rubric.id, name: rubric.name, weights: rubric.weights });
      return rubric;
    },
  };
  return commands;
}
export type Commands = ReturnType<typeof createCommands>;
