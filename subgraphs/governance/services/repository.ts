/**
 * Data access of the governance subgraph. Reads are batches (many keys, one database command) so
 * the per-request DataLoaders can sit in front of them; figures (patrol, committee and meeting
 * statistics) are computed by the database with aggregation pipelines. Ticket statistics are read
 * from rollups (stats/); their former aggregation is the reference in stats/reference.ts. Every function
 * returns a real Promise (never a mongoose Query, which runs again each time it is awaited).
 *
 * Percentiles are nearest-rank over `$push` + `$sortArray` (MongoDB 5.2+), not `$percentile`
 * (MongoDB 7.0+): the embedded engine's mingo 7.2.7 `$percentile`/`$median` sort numbers as
 * strings (p50 of [1, 3, 10] comes out as 10).
 */
import { daysBefore } from '../../../lib/clock';
import { unionReaderFor } from '../../../lib/union-reader';
import type {
  ActivityDoc,
  AllianceDoc,
  CommitteeDoc,
  DesignationDoc,
  EvaluationDoc,
  GovCommunityDoc,
  MeetingDoc,
  Models,
  PartyOrgDoc,
  PatrolReportDoc,
  PatrolTeamDoc,
  PolicyDoc,
  RubricDoc,
  TicketDoc,
} from '../models';

export type AreaLevel = 'CITY' | 'DISTRICT';
export type StatsScope = 'CITY' | 'DISTRICT' | 'COMMUNITY' | 'COMPANY';
export type GroupBy = 'SERVICE_CODE' | 'CHANNEL' | 'TYPE';

const areaField = (level: AreaLevel) => (level === 'CITY' ? 'cityCode' : 'districtCode');

export interface TicketFilterInput {
  cityCode?: string | null;
  districtCode?: string | null;
  communityId?: string | null;
  companyUscc?: string | null;
  status?: readonly string[] | null;
  serviceCode?: readonly string[] | null;
  channel?: readonly string[] | null;
  overdue?: boolean | null;
  requestedFrom?: Date | null;
  requestedTo?: Date | null;
}

/** The MongoDB filter of a ticket filter; `overdue` is judged at `now`. */
export function ticketQuery(f: TicketFilterInput, now: Date): Record<string, unknown> {
  const q: Record<string, unknown> = {};
  const and: Record<string, unknown>[] = [];
  if (f.cityCode) q.cityCode = f.cityCode;
  if (f.districtCode) q.districtCode = f.districtCode;
  if (f.communityId) q.communityId = f.communityId;
  if (f.companyUscc) q.companyUscc = f.companyUscc;
  if (f.status?.length) q.status = { $in: [...f.status] };
  if (f.serviceCode?.length) q.serviceCode = { $in: [...f.serviceCode] };
  if (f.channel?.length) q.channel = { $in: [...f.channel] };
  if (f.requestedFrom || f.requestedTo) {
    const r: Record<string, Date> = {};
    if (f.requestedFrom) r.$gte = f.requestedFrom;
    if (f.requestedTo) r.$lte = f.requestedTo;
    q.requestedAt = r;
  }
  if (f.overdue === true) {
    q.open = true;
    q.dueAt = { $lt: now };
  } else if (f.overdue === false) {
    and.push({ $or: [{ open: false }, { dueAt: { $gte: now } }] });
  }
  if (and.length) q.$and = and;
  return q;
}

/** Raw ticket figures of one scope key (and group key when grouped), as the database returns them. */
export interface TicketStatsRaw {
  scope: string;
  group: string | null;
  opened: number;
  /** Opened in the range in 小区 whose household count is known (numerator of perThousandHouseholds). */
  openedKnownHouseholds: number;
  resolved: number;
  backlog: number;
  overdue: number;
  p50Hours: number | null;
  p90Hours: number | null;
  onTime: number;
  reopened: number;
  rated: number;
  satisfied: number;
  dissatisfied: number;
}

/** Households of the register's 小区 per scope key; `unknownIds` are 小区 without a household count. */
export interface HouseholdsRaw {
  scope: string;
  households: number;
  unknownIds: string[];
}

export interface PatrolReportFilterInput {
  cityCode?: string | null;
  districtCode?: string | null;
  communityId?: string | null;
  companyUscc?: string | null;
  status?: 'OPEN' | 'RECTIFIED' | null;
  reportedFrom?: Date | null;
  reportedTo?: Date | null;
}

export interface PatrolStatsRaw {
  scope: string;
  reports: number;
  rectified: number;
  within48h: number;
  p50Hours: number | null;
  p90Hours: number | null;
}

export interface CommitteeStatsRaw {
  code: string;
  communities: number;
  withOwnersCommittee: number;
  withPMC: number;
  none: number;
  active: number;
  expiredTerms: number;
  disclosedLast12m: number;
  avgPartyMemberRatio: number | null;
  /** Committees behind `avgPartyMemberRatio` (those whose ratio is known): small numbers are suppressed. */
  ratioCommittees: number;
}

/**
 * How stored evaluations were computed. Only rows of this basis are ranked: rows written by the
 * former `beautifulHome(persist: true)` query hold figures a caller sent in a representation.
 */
export const EVALUATION_BASIS = 'GOVERNANCE_RECORDS';

const inRange = (field: string, from: Date | null, to: Date) => (from ? { [field]: { $gte: from, $lte: to } } : { [field]: { $ne: null, $lte: to } });
const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/**
 * Nearest-rank percentile of a numeric array expression: element ceil(p·n) (1-based) after an
 * ascending `$sortArray` (MongoDB 5.2+); null when the array is empty.
 */
export function nearestRank(values: unknown, p: number): Record<string, unknown> {
  return {
    $let: {
      vars: { s: { $sortArray: { input: values, sortBy: 1 } } },
      in: {
        $cond: [
          { $gt: [{ $size: '$$s' }, 0] },
          { $arrayElemAt: ['$$s', { $subtract: [{ $max: [{ $ceil: { $multiply: [p, { $size: '$$s' }] } }, 1] }, 1] }] },
          null,
        ],
      },
    },
  };
}

export function createRepository(m: Models) {
  /** Reads of one entity batch issued together leave as one command (lib/union-reader.ts). */
  const reads = unionReaderFor(m.Committee.db);
  return {
    // ---- register and structures --------------------------------------------------------
    /** Upserts register rows by id in one bulk write; other register fields are kept. */
    upsertRegister: async (rows: readonly Record<string, unknown>[]) => {
      if (!rows.length) return;
      await m.Community.bulkWrite(
        rows.map(({ _id, ...set }) => ({ updateOne: { filter: { _id }, update: { $set: set }, upsert: true } })) as never[],
        { ordered: true },
      );
    },
    communitiesById: (ids: readonly string[]) => reads.find<GovCommunityDoc>(m.Community, { _id: { $in: [...ids] } }),
    committeesByCommunity: (ids: readonly string[]) =>
      reads.find<CommitteeDoc>(m.Committee, { communityId: { $in: [...ids] } }, { sort: { communityId: 1, termStart: -1 } }),
    committeesById: (ids: readonly string[]) => m.Committee.find({ _id: { $in: [...ids] } }).lean<CommitteeDoc[]>().exec(),
    alliancesByCommunity: (ids: readonly string[]) => reads.find<AllianceDoc>(m.Alliance, { communityIds: { $in: [...ids] } }, { sort: { _id: 1 } }),
    alliancesById: (ids: readonly string[]) => m.Alliance.find({ _id: { $in: [...ids] } }).lean<AllianceDoc[]>().exec(),
    alliancesInArea: (cityCode: string | null, districtCode: string | null) => {
      const q: Record<string, unknown> = {};
      if (cityCode) q.cityCodes = cityCode;
      if (districtCode) q.districtCodes = districtCode;
      return m.Alliance.find(q).sort({ _id: 1 }).lean<AllianceDoc[]>().exec();
    },
    partyOrgsByCommunity: (ids: readonly string[]) => m.PartyOrg.find({ communityIds: { $in: [...ids] } }).sort({ _id: 1 }).lean<PartyOrgDoc[]>().exec(),
    activitiesByCommunity: (ids: readonly string[]) =>
      m.Activity.find({ communityId: { $in: [...ids] } }).sort({ communityId: 1, date: -1, _id: 1 }).lean<ActivityDoc[]>().exec(),
    designationsByCommunity: (ids: readonly string[]) =>
      reads.find<DesignationDoc>(m.Designation, { communityId: { $in: [...ids] } }, { sort: { year: -1, _id: 1 } }),
    designationsById: (ids: readonly string[]) => m.Designation.find({ _id: { $in: [...ids] } }).lean<DesignationDoc[]>().exec(),
    designations: (cityCode: string | null, level: string | null) => {
      const q: Record<string, unknown> = {};
      if (cityCode) q.cityCode = cityCode;
      if (level) q.level = level;
      return m.Designation.find(q).sort({ cityCode: 1, _id: 1 }).lean<DesignationDoc[]>().exec();
    },
    async designationCounts(codes: readonly string[], level: string | null): Promise<{ code: string; n: number }[]> {
      const match: Record<string, unknown> = { cityCode: { $in: [...codes] }, communityId: { $ne: null } };
      if (level) match.level = level;
      return m.Designation.aggregate<{ code: string; n: number }>([
        { $match: match },
        { $group: { _id: '$cityCode', n: { $sum: 1 } } },
        { $project: { _id: 0, code: '$_id', n: 1 } },
      ]).exec();
    },
    policies: (status: string | null) => m.Policy.find((status ? { status } : {}) as Record<string, unknown>).sort({ _id: 1 }).lean<PolicyDoc[]>().exec(),
    policiesById: (ids: readonly string[]) => m.Policy.find({ _id: { $in: [...ids] } }).lean<PolicyDoc[]>().exec(),

    // ---- joint meetings ------------------------------------------------------------------
    meetingsById: (ids: readonly string[]) => m.Meeting.find({ _id: { $in: [...ids] } }).lean<MeetingDoc[]>().exec(),
    meetingsByCommunity: (ids: readonly string[], from: Date | null) =>
      reads.find<MeetingDoc>(m.Meeting, from ? { communityId: { $in: [...ids] }, heldAt: { $gte: from } } : { communityId: { $in: [...ids] } }, {
        sort: { heldAt: -1, _id: 1 },
      }),
    /** Meetings per 小区 and CST month in [from, to). */
    async meetingMonthCounts(ids: readonly string[], from: Date, to: Date): Promise<{ communityId: string; month: string; n: number }[]> {
      return m.Meeting.aggregate<{ communityId: string; month: string; n: number }>([
        { $match: { communityId: { $in: [...ids] }, heldAt: { $gte: from, $lt: to } } },
        { $group: { _id: { c: '$communityId', m: { $dateToString: { date: '$heldAt', format: '%Y-%m', timezone: '+08:00' } } }, n: { $sum: 1 } } },
        { $project: { _id: 0, communityId: '$_id.c', month: '$_id.m', n: 1 } },
      ]).exec();
    },
    /** Whether each 小区 has any meeting on record at all. */
    async communitiesWithMeetings(ids: readonly string[]): Promise<string[]> {
      const rows = await m.Meeting.aggregate<{ _id: string }>([{ $match: { communityId: { $in: [...ids] } } }, { $group: { _id: '$communityId' } }]).exec();
      return rows.map((r) => r._id);
    },
    /** The raw-row count (the reference of the meeting rollups in the tests; fields read ../stats/areas.ts). */
    async meetingCountsInArea(level: AreaLevel, codes: readonly string[], from: Date): Promise<{ code: string; n: number }[]> {
      const field = areaField(level);
      return m.Meeting.aggregate<{ code: string; n: number }>([
        { $match: { [field]: { $in: [...codes] }, heldAt: { $gte: from } } },
        { $group: { _id: `$${field}`, n: { $sum: 1 } } },
        { $project: { _id: 0, code: '$_id', n: 1 } },
      ]).exec();
    },
    insertMeeting: async (doc: Record<string, unknown>) => {
      await m.Meeting.create(doc);
    },
    meetingById: (id: string) => m.Meeting.findById(id).lean<MeetingDoc>().exec(),

    // ---- committees ----------------------------------------------------------------------
    /** Committee oversight figures per city or district over the 小区 governance knows, from the raw rows (the reference of the committee rollups in the tests; fields read ../stats/areas.ts). */
    async committeeStats(level: AreaLevel, codes: readonly string[], now: Date): Promise<CommitteeStatsRaw[]> {
      const field = areaField(level);
      const yearAgo = daysBefore(now, 365);
      const activeOf = (type: string) => ({
        $size: { $filter: { input: '$cs', as: 'c', cond: { $and: [{ $eq: ['$$c.type', type] }, { $eq: ['$$c.status', 'ACTIVE'] }] } } },
      });
      return m.Community.aggregate<CommitteeStatsRaw>([
        { $match: { [field]: { $in: [...codes] } } },
        { $lookup: { from: 'committees', localField: '_id', foreignField: 'communityId', as: 'cs' } },
        {
          $project: {
            area: `$${field}`,
            oc: activeOf('OWNERS_COMMITTEE'),
            pmc: activeOf('PROPERTY_MANAGEMENT_COMMITTEE'),
            active: { $size: { $filter: { input: '$cs', as: 'c', cond: { $eq: ['$$c.status', 'ACTIVE'] } } } },
            expired: {
              $size: {
                $filter: {
                  input: '$cs',
                  as: 'c',
                  cond: {
                    $or: [
                      { $eq: ['$$c.status', 'EXPIRED'] },
                      { $and: [{ $eq: ['$$c.status', 'ACTIVE'] }, { $ne: [{ $ifNull: ['$$c.termEnd', null] }, null] }, { $lt: ['$$c.termEnd', now] }] },
                    ],
                  },
                },
              },
            },
            disclosed: {
              $size: {
                $filter: {
                  input: '$cs',
                  as: 'c',
                  cond: { $and: [{ $ne: [{ $ifNull: ['$$c.lastDisclosureAt', null] }, null] }, { $gte: ['$$c.lastDisclosureAt', yearAgo] }] },
                },
              },
            },
            ratios: {
              $map: {
                input: { $filter: { input: '$cs', as: 'c', cond: { $ne: [{ $ifNull: ['$$c.partyMemberRatio', null] }, null] } } },
                as: 'c',
                in: '$$c.partyMemberRatio',
              },
            },
          },
        },
        {
          $group: {
            _id: '$area',
            communities: { $sum: 1 },
            withOwnersCommittee: { $sum: { $cond: [{ $gt: ['$oc', 0] }, 1, 0] } },
            withPMC: { $sum: { $cond: [{ $gt: ['$pmc', 0] }, 1, 0] } },
            none: { $sum: { $cond: [{ $eq: [{ $add: ['$oc', '$pmc'] }, 0] }, 1, 0] } },
            active: { $sum: '$active' },
            expiredTerms: { $sum: '$expired' },
            disclosedLast12m: { $sum: '$disclosed' },
            ratios: { $push: '$ratios' },
          },
        },
        {
          $project: {
            _id: 0,
            code: '$_id',
            communities: 1,
            withOwnersCommittee: 1,
            withPMC: 1,
            none: 1,
            active: 1,
            expiredTerms: 1,
            disclosedLast12m: 1,
            ratios: { $reduce: { input: '$ratios', initialValue: [], in: { $concatArrays: ['$$value', '$$this'] } } },
          },
        },
        { $addFields: { avgPartyMemberRatio: { $avg: '$ratios' }, ratioCommittees: { $size: '$ratios' } } },
        { $project: { ratios: 0 } },
      ]).exec();
    },

    // ---- patrols -------------------------------------------------------------------------
    patrolTeamsByCommunity: (ids: readonly string[]) => reads.find<PatrolTeamDoc>(m.PatrolTeam, { communityId: { $in: [...ids] } }, { sort: { _id: 1 } }),
    patrolTeamsById: (ids: readonly string[]) => m.PatrolTeam.find({ _id: { $in: [...ids] } }).lean<PatrolTeamDoc[]>().exec(),
    patrolReportsById: (ids: readonly string[]) => m.PatrolReport.find({ _id: { $in: [...ids] } }).lean<PatrolReportDoc[]>().exec(),
    patrolReportsByCommunity: (ids: readonly string[], from: Date | null, status: 'OPEN' | 'RECTIFIED' | null) => {
      const q: Record<string, unknown> = { communityId: { $in: [...ids] } };
      if (from) q.reportedAt = { $gte: from };
      if (status === 'OPEN') q.rectifiedAt = null;
      if (status === 'RECTIFIED') q.rectifiedAt = { $ne: null };
      return m.PatrolReport.find(q).sort({ reportedAt: -1, _id: 1 }).lean<PatrolReportDoc[]>().exec();
    },
    /** Report counts and rectification lag per 小区 or company over reports in [from, to]. */
    async patrolStats(scope: 'COMMUNITY' | 'COMPANY', codes: readonly string[], from: Date | null, to: Date): Promise<PatrolStatsRaw[]> {
      const field = scope === 'COMMUNITY' ? 'communityId' : 'companyUscc';
      return m.PatrolReport.aggregate<PatrolStatsRaw>([
        { $match: { [field]: { $in: [...codes] }, ...inRange('reportedAt', from, to) } },
        {
          $project: {
            s: `$${field}`,
            rectified: { $cond: [{ $ne: [{ $ifNull: ['$rectifiedAt', null] }, null] }, 1, 0] },
            lag: {
              $cond: [
                { $ne: [{ $ifNull: ['$rectifiedAt', null] }, null] },
                { $divide: [{ $subtract: ['$rectifiedAt', '$reportedAt'] }, 3600000] },
                null,
              ],
            },
          },
        },
        { $sort: { lag: 1 } },
        {
          $group: {
            _id: '$s',
            reports: { $sum: 1 },
            rectified: { $sum: '$rectified' },
            within48h: { $sum: { $cond: [{ $and: [{ $ne: ['$lag', null] }, { $lte: ['$lag', 48] }] }, 1, 0] } },
            lags: { $push: '$lag' },
          },
        },
        { $project: { _id: 0, scope: '$_id', reports: 1, rectified: 1, within48h: 1, lags: { $filter: { input: '$lags', as: 'l', cond: { $ne: ['$$l', null] } } } } },
        { $project: { scope: 1, reports: 1, rectified: 1, within48h: 1, p50Hours: nearestRank('$lags', 0.5), p90Hours: nearestRank('$lags', 0.9) } },
      ])
        .exec()
        .then((rows) => rows.map((r) => ({ ...r, p50Hours: num(r.p50Hours), p90Hours: num(r.p90Hours) })));
    },
    /** One page of patrol reports across 小区, newest first; the cursor is (reportedAt, id). */
    async patrolReportPage(filter: PatrolReportFilterInput, first: number, after: { at: Date; id: string } | null) {
      const q: Record<string, unknown> = {};
      if (filter.cityCode) q.cityCode = filter.cityCode;
      if (filter.districtCode) q.districtCode = filter.districtCode;
      if (filter.communityId) q.communityId = filter.communityId;
      if (filter.companyUscc) q.companyUscc = filter.companyUscc;
      if (filter.status === 'OPEN') q.rectifiedAt = null;
      if (filter.status === 'RECTIFIED') q.rectifiedAt = { $ne: null };
      if (filter.reportedFrom || filter.reportedTo) {
        const r: Record<string, Date> = {};
        if (filter.reportedFrom) r.$gte = filter.reportedFrom;
        if (filter.reportedTo) r.$lte = filter.reportedTo;
        q.reportedAt = r;
      }
      const pageQ = after
        ? { $and: [q, { $or: [{ reportedAt: { $lt: after.at } }, { reportedAt: after.at, _id: { $lt: after.id } }] }] }
        : q;
      const [docs, totalCount] = await Promise.all([
        reads.find<PatrolReportDoc>(m.PatrolReport, pageQ, { sort: { reportedAt: -1, _id: -1 }, limit: first + 1 }),
        reads.count(m.PatrolReport, q),
      ]);
      return { docs: docs.slice(0, first), hasNextPage: docs.length > first, totalCount };
    },
    insertPatrolReport: async (doc: Record<string, unknown>) => {
      await m.PatrolReport.create(doc);
    },
    patrolReportById: (id: string) => m.PatrolReport.findById(id).lean<PatrolReportDoc>().exec(),
    /** Sets the rectification only if none is recorded yet; null when the report was already rectified. */
    setRectified: (id: string, set: Record<string, unknown>) =>
      m.PatrolReport.findOneAndUpdate({ _id: id, rectifiedAt: null }, { $set: set }, { returnDocument: 'after' }).lean<PatrolReportDoc>().exec(),
    setPatrolLinkedTicket: async (id: string, ticketId: string) => {
      await m.PatrolReport.updateOne({ _id: id }, { $set: { linkedTicketId: ticketId } }).exec();
    },

    // ---- tickets -------------------------------------------------------------------------
    ticketsById: (ids: readonly string[]) => reads.find<TicketDoc>(m.Ticket, { _id: { $in: [...ids] } }),
    ticketById: (id: string) => m.Ticket.findById(id).lean<TicketDoc>().exec(),
    ticketByExternalNo: (externalNo: string) => m.Ticket.findOne({ externalNo }).lean<TicketDoc>().exec(),
    insertTicket: async (doc: Record<string, unknown>) => {
      await m.Ticket.create(doc);
    },
    /** Applies a change only if the ticket is still at `seq` (optimistic concurrency); null otherwise. */
    updateTicketIfUnchanged: (id: string, seq: number, set: Record<string, unknown>, note: Record<string, unknown>, inc: Record<string, number> = {}) =>
      m.Ticket.findOneAndUpdate(
        { _id: id, seq },
        { $set: set, $push: { notes: note }, $inc: { seq: 1, ...inc } },
        { returnDocument: 'after' },
      )
        .lean<TicketDoc>()
        .exec(),

    /** One page of tickets, newest first; the cursor is (requestedAt, id). */
    async ticketPage(filter: TicketFilterInput, now: Date, first: number, after: { at: Date; id: string } | null) {
      const q = ticketQuery(filter, now);
      const pageQ = after
        ? { $and: [q, { $or: [{ requestedAt: { $lt: after.at } }, { requestedAt: after.at, _id: { $lt: after.id } }] }] }
        : q;
      const [docs, totalCount] = await Promise.all([
        reads.find<TicketDoc>(m.Ticket, pageQ, { sort: { requestedAt: -1, _id: -1 }, limit: first + 1 }),
        reads.count(m.Ticket, q),
      ]);
      return { docs: docs.slice(0, first), hasNextPage: docs.length > first, totalCount };
    },
    /** Tickets of many 小区 under one filter, newest first (one query; the caller slices per 小区). */
    ticketsByCommunities: (ids: readonly string[], filter: TicketFilterInput, now: Date) =>
      m.Ticket.find({ ...ticketQuery(filter, now), communityId: { $in: [...ids] } })
        .sort({ requestedAt: -1, _id: -1 })
        .lean<TicketDoc[]>()
        .exec(),
    /** Open311 requests of a city in a window, oldest first, one page. */
    open311Page: (q: Record<string, unknown>, skip: number, limit: number) =>
      m.Ticket.find(q).sort({ requestedAt: 1, _id: 1 }).skip(skip).limit(limit).lean<TicketDoc[]>().exec(),

    // ---- rubrics and evaluations -----------------------------------------------------------
    rubrics: () => m.Rubric.find({}).sort({ _id: 1 }).lean<RubricDoc[]>().exec(),
    rubricsById: (ids: readonly string[]) => m.Rubric.find({ _id: { $in: [...ids] } }).lean<RubricDoc[]>().exec(),
    upsertRubric: async (doc: { _id: string; name: string; weights: { dimension: string; weight: number }[] }) => {
      await m.Rubric.replaceOne({ _id: doc._id }, doc, { upsert: true }).exec();
    },
    upsertEvaluations: async (docs: readonly Omit<EvaluationDoc, 'createdAt' | 'updatedAt'>[]) => {
      if (!docs.length) return;
      await m.Evaluation.bulkWrite(docs.map((doc) => ({ replaceOne: { filter: { _id: doc._id }, replacement: doc, upsert: true } })) as never[]);
    },
    /** Ids of the register's 小区 in a city (or one district of it), in id order. */
    communityIdsInArea: async (cityCode: string, districtCode: string | null): Promise<string[]> => {
      const q: Record<string, unknown> = { cityCode };
      if (districtCode) q.districtCode = districtCode;
      const rows = await m.Community.find(q, { _id: 1 }).sort({ _id: 1 }).lean<{ _id: string }[]>().exec();
      return rows.map((r) => r._id);
    },
    /** Stored scores ranked; only those `recordBeautifulHomeScores` computed from governance's own records. */
    /** Stored evaluations ranked by the score the caller may see (`sensitive`: with party membership). */
    candidates: (rubricId: string, cityCode: string, minScore: number, minCoverage: number, excludeIds: readonly string[], limit: number, sensitive: boolean) => {
      const [score, coverage] = sensitive ? ['score', 'coverage'] : ['publicScore', 'publicCoverage'];
      return m.Evaluation.find({
        rubricId,
        cityCode,
        basis: EVALUATION_BASIS,
        [score]: { $ne: null, $gte: minScore },
        [coverage]: { $gte: minCoverage },
        ...(excludeIds.length ? { communityId: { $nin: [...excludeIds] } } : {}),
      })
        .sort({ [score]: -1, communityId: 1 })
        .limit(limit)
        .lean<EvaluationDoc[]>()
        .exec();
    },
  };
}
export type Repository = ReturnType<typeof createRepository>;
