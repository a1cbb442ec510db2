/**
 * Mongoose models of the governance subgraph (database `city_governance`). Schemas are inline with
 * `InferSchemaType`; every query shape served has its index declared next to the schema.
 *
 * Personal data (ticket reporters, committee members, patrol members) is stored in sub-documents
 * the GraphQL schema never exposes. Optional fields that take part in partial unique indexes
 * (`externalNo`) default to `undefined`, not null, so they stay out of the index.
 */
import { Schema, type Connection, type InferSchemaType } from 'mongoose';
import { now } from '../../../lib/clock';
import { defineModel } from '../../../lib/db';
import { registerStatsModels } from '../stats/model';

/** createdAt / updatedAt come from the product clock (lib/clock.ts), like every other domain time. */
const opts = { versionKey: false, timestamps: { currentTime: () => now() } } as const;
const sub = { _id: false } as const;

/**
 * Governance's own register of 小区: where each sits (codes copied from the properties register,
 * needed for area figures), the company serving it (tickets are attributed to it), its grid and
 * what its co-governance mechanism covers.
 */
const communitySchema = new Schema(
  {
    _id: { type: String, required: true },
    cityCode: { type: String, required: true },
    districtCode: { type: String, required: true },
    streetCode: { type: String, default: null },
    neighborhoodCode: { type: String, default: null },
    companyUscc: { type: String, default: null },
    /** Households (户) of the 小区, copied from the properties register; null when unknown. */
    householdCount: { type: Number, default: null },
    gridLevel: { type: String, default: null },
    liaisonCadreRole: { type: String, default: null },
    /** 🔒 the liaison cadre in person; never exposed. */
    liaisonCadre: { type: new Schema({ name: String, phone: String }, sub), default: null },
    coGovernanceTopics: { type: [String], default: [] },
    intakePoints: {
      type: [new Schema({ kind: { type: String, required: true }, pilot: { type: Boolean, default: false }, note: String }, sub)],
      default: [],
    },
    source: { type: String, default: null },
    /** Rows written by the synthetic-city generator (replaced on re-seed). */
    synthetic: { type: Boolean, default: false },
  },
  opts,
);
communitySchema.index({ companyUscc: 1 });
communitySchema.index({ cityCode: 1, _id: 1 });
communitySchema.index({ districtCode: 1, _id: 1 });

const memberSchema = new Schema(
  {
    /** 🔒 */
    name: { type: String, default: null },
    /** 🔒 */
    phone: { type: String, default: null },
    /** 🔒 a salted hash, never the raw number. */
    idCardHash: { type: String, default: null },
    role: { type: String, required: true, enum: ['DIRECTOR', 'DEPUTY_DIRECTOR', 'MEMBER', 'SECRETARY'] },
    affiliation: { type: String, required: true, enum: ['OWNER', 'COMMUNITY_CADRE', 'COMMUNITY_POLICE', 'PROPERTY_STAFF', 'STREET_STAFF'] },
    /** 🔒 sensitive (政治面貌); null when unknown. */
    isPartyMember: { type: Boolean, default: null },
    termStart: { type: Date, default: null },
    termEnd: { type: Date, default: null },
  },
  sub,
);

const committeeSchema = new Schema(
  {
    _id: { type: String, required: true },
    communityId: { type: String, required: true },
    cityCode: { type: String, required: true },
    districtCode: { type: String, required: true },
    type: { type: String, required: true, enum: ['OWNERS_COMMITTEE', 'PROPERTY_MANAGEMENT_COMMITTEE'] },
    termNo: { type: Number, default: null },
    termStart: { type: Date, default: null },
    termEnd: { type: Date, default: null },
    status: { type: String, required: true, enum: ['ACTIVE', 'EXPIRED', 'DISSOLVED'] },
    lastDisclosureAt: { type: Date, default: null },
    /** Derived from the members when every member's party status is known; null otherwise. */
    partyMemberRatio: { type: Number, default: null },
    meetingDates: { type: [{ type: Date }], default: [] },
    members: { type: [memberSchema], default: [] },
    source: { type: String, default: null },
    synthetic: { type: Boolean, default: false },
  },
  opts,
);
committeeSchema.index({ communityId: 1, status: 1 });
committeeSchema.index({ cityCode: 1 });
committeeSchema.index({ districtCode: 1 });

const allianceSchema = new Schema(
  {
    _id: { type: String, required: true },
    model: { type: String, required: true, enum: ['RED_PROPERTY', 'JOINT_BUILDING'] },
    communityIds: { type: [String], default: [] },
    cityCodes: { type: [String], default: [] },
    districtCodes: { type: [String], default: [] },
    members: {
      type: [new Schema({ orgType: { type: String, required: true }, orgName: { type: String, default: null }, note: { type: String, default: null } }, sub)],
      default: [],
    },
    establishedAt: { type: Date, default: null },
    /** Null when the source states no cadence: the general rule (1 per month) applies. */
    requiredMeetingsPerMonth: { type: Number, default: null },
    source: { type: String, default: null },
    synthetic: { type: Boolean, default: false },
  },
  opts,
);
allianceSchema.index({ communityIds: 1 });
allianceSchema.index({ cityCodes: 1 });
allianceSchema.index({ districtCodes: 1 });

const partyOrgSchema = new Schema(
  {
    _id: { type: String, required: true },
    kind: { type: String, required: true, enum: ['PROPERTY_COMPANY_PARTY_ORG', 'COMMUNITY_PARTY_BRANCH', 'NEIGHBORHOOD_PARTY_ORG'] },
    name: { type: String, default: null },
    hostCompanyUscc: { type: String, default: null },
    communityIds: { type: [String], default: [] },
    establishedAt: { type: Date, default: null },
    note: { type: String, default: null },
  },
  opts,
);
partyOrgSchema.index({ communityIds: 1 });

const meetingSchema = new Schema(
  {
    _id: { type: String, required: true },
    communityId: { type: String, required: true },
    cityCode: { type: String, required: true },
    districtCode: { type: String, required: true },
    allianceId: { type: String, default: null },
    heldAt: { type: Date, required: true },
    participantOrgTypes: { type: [String], default: [] },
    topics: { type: [String], default: [] },
    resolutions: { type: [String], default: [] },
    followUpTicketIds: { type: [String], default: [] },
    inputHash: { type: String, default: null },
    synthetic: { type: Boolean, default: false },
  },
  opts,
);
meetingSchema.index({ communityId: 1, heldAt: -1 });
meetingSchema.index({ cityCode: 1, heldAt: -1 });
meetingSchema.index({ districtCode: 1, heldAt: -1 });

const noteSchema = new Schema(
  {
    at: { type: Date, required: true },
    type: { type: String, required: true, enum: ['CREATED', 'STATUS_CHANGE', 'COMMENT', 'REOPENED'] },
    from: { type: String, default: null },
    to: { type: String, default: null },
    text: { type: String, default: null },
    actorOrg: { type: String, default: null },
  },
  sub,
);

const ticketSchema = new Schema(
  {
    _id: { type: String, required: true },
    externalNo: { type: String, default: undefined },
    jurisdictionId: { type: String, default: null },
    communityId: { type: String, required: true },
    cityCode: { type: String, required: true },
    districtCode: { type: String, required: true },
    /** The company serving the 小区 when the ticket was opened. */
    companyUscc: { type: String, default: null },
    buildingId: { type: String, default: null },
    channel: { type: String, required: true },
    type: { type: String, required: true },
    serviceCode: { type: String, required: true },
    description: { type: String, required: true },
    status: { type: String, required: true },
    /** Denormalised from status (open311 open|closed) for backlog queries. */
    open: { type: Boolean, required: true },
    agencyResponsible: { type: String, default: null },
    assigneeOrg: { type: String, default: null },
    requestedAt: { type: Date, required: true },
    dispatchedAt: { type: Date, default: null },
    dueAt: { type: Date, required: true },
    resolvedAt: { type: Date, default: null },
    returnVisitAt: { type: Date, default: null },
    evaluatedAt: { type: Date, default: null },
    /** Time of the latest status change (moves may not go back in time). */
    lastTransitionAt: { type: Date, required: true },
    satisfaction: { type: String, default: null },
    /** The first real rating (not UNREACHABLE); never cleared, so a reopen cannot erase a 不满意. */
    firstSatisfaction: { type: String, default: null },
    reopenCount: { type: Number, default: 0 },
    /** Optimistic-concurrency counter, bumped by every write. */
    seq: { type: Number, default: 0 },
    location: { type: new Schema({ lat: Number, lng: Number, datum: { type: String, enum: ['WGS84', 'GCJ02', 'BD09'] } }, sub), default: null },
    addressString: { type: String, default: null },
    mediaUrls: { type: [String], default: [] },
    /** 🔒 kept for the return visit (回访); never exposed. */
    reporter: {
      type: new Schema({ firstName: String, lastName: String, phone: String, email: String, anonymous: { type: Boolean, default: false } }, sub),
      default: null,
    },
    notes: { type: [noteSchema], default: [] },
    /** Hash of the creating input, to tell an idempotent replay from a clashing clientKey. */
    inputHash: { type: String, default: null },
    synthetic: { type: Boolean, default: false },
  },
  opts,
);
ticketSchema.index({ externalNo: 1 }, { unique: true, partialFilterExpression: { externalNo: { $type: 'string' } } });
ticketSchema.index({ communityId: 1, requestedAt: -1 });
ticketSchema.index({ cityCode: 1, requestedAt: -1 });
ticketSchema.index({ districtCode: 1, requestedAt: -1 });
ticketSchema.index({ companyUscc: 1, requestedAt: -1 });
ticketSchema.index({ cityCode: 1, resolvedAt: -1 });
ticketSchema.index({ cityCode: 1, open: 1, dueAt: 1 });
ticketSchema.index({ requestedAt: -1, _id: -1 });
// Statistics (stats/read.ts): the exact looks at the edges of a range take a day or a month of
// tickets by resolution time and open tickets by deadline, whatever the area.
ticketSchema.index({ resolvedAt: 1 });
ticketSchema.index({ dueAt: 1 });

const patrolTeamSchema = new Schema(
  {
    _id: { type: String, required: true },
    communityId: { type: String, required: true },
    name: { type: String, required: true },
    memberCount: { type: Number, required: true },
    composition: { type: [String], default: [] },
    practice: { type: String, default: null },
    /** 🔒 */
    members: { type: [new Schema({ name: String, phone: String }, sub)], default: [] },
    source: { type: String, default: null },
    synthetic: { type: Boolean, default: false },
  },
  opts,
);
patrolTeamSchema.index({ communityId: 1 });

const patrolReportSchema = new Schema(
  {
    _id: { type: String, required: true },
    teamId: { type: String, default: null },
    communityId: { type: String, required: true },
    cityCode: { type: String, required: true },
    districtCode: { type: String, required: true },
    issueType: { type: String, required: true },
    description: { type: String, default: null },
    photos: { type: [String], default: [] },
    reportedAt: { type: Date, required: true },
    companyUscc: { type: String, default: null },
    forwardedAt: { type: Date, default: null },
    rectifiedAt: { type: Date, default: null },
    rectificationPhotos: { type: [String], default: [] },
    rectificationNote: { type: String, default: null },
    linkedTicketId: { type: String, default: null },
    /** 🔒 which patrol member reported it. */
    reporterRef: { type: String, default: null },
    inputHash: { type: String, default: null },
    synthetic: { type: Boolean, default: false },
  },
  opts,
);
patrolReportSchema.index({ communityId: 1, reportedAt: -1 });
patrolReportSchema.index({ companyUscc: 1, reportedAt: -1 });
patrolReportSchema.index({ districtCode: 1, reportedAt: -1 });
patrolReportSchema.index({ cityCode: 1, reportedAt: -1 });
patrolReportSchema.index({ reportedAt: -1, _id: -1 });

const activitySchema = new Schema(
  {
    _id: { type: String, required: true },
    communityId: { type: String, required: true },
    type: { type: String, required: true },
    organizers: { type: [String], default: [] },
    date: { type: Date, default: null },
    participantCount: { type: Number, default: null },
    source: { type: String, default: null },
    synthetic: { type: Boolean, default: false },
  },
  opts,
);
activitySchema.index({ communityId: 1, date: -1 });

const designationSchema = new Schema(
  {
    _id: { type: String, required: true },
    communityId: { type: String, default: null },
    cityCode: { type: String, required: true },
    program: { type: String, required: true },
    level: { type: String, required: true, enum: ['NATIONAL_TYPICAL_CASE', 'PROVINCIAL', 'MUNICIPAL_BEAUTIFUL_HOME', 'CANDIDATE'] },
    issuer: { type: String, default: null },
    announcedAt: { type: Date, default: null },
    year: { type: Number, default: null },
    targetCount: { type: Number, default: null },
    note: { type: String, default: null },
  },
  opts,
);
designationSchema.index({ communityId: 1 });
designationSchema.index({ cityCode: 1, level: 1 });

const policySchema = new Schema(
  {
    _id: { type: String, required: true },
    issuerLevel: { type: String, default: null },
    requestedIssuerLevels: { type: [String], default: [] },
    domain: { type: String, required: true },
    title: { type: String, required: true },
    proposedBy: { type: String, default: null },
    cityCode: { type: String, default: null },
    effectiveFrom: { type: Date, default: null },
    amountRule: { type: String, default: null },
    status: { type: String, required: true, enum: ['PROPOSED', 'IN_FORCE', 'EXPIRED'] },
    source: { type: String, default: null },
  },
  opts,
);
policySchema.index({ status: 1 });

const rubricSchema = new Schema(
  {
    _id: { type: String, required: true },
    name: { type: String, required: true },
    weights: { type: [new Schema({ dimension: { type: String, required: true }, weight: { type: Number, required: true } }, sub)], default: [] },
  },
  opts,
);

/** A materialised 美好家园 evaluation (one per rubric and 小区), ranked by typicalCaseCandidates. */
const evaluationSchema = new Schema(
  {
    _id: { type: String, required: true },
    rubricId: { type: String, required: true },
    communityId: { type: String, required: true },
    cityCode: { type: String, default: null },
    score: { type: Number, default: null },
    coverage: { type: Number, required: true },
    /**
     * The score and coverage without the indicators only `governance:sensitive` may see (party
     * membership): what other callers are shown and ranked by (services/privacy.ts).
     */
    publicScore: { type: Number, default: null },
    publicCoverage: { type: Number, default: null },
    breakdown: { type: Schema.Types.Mixed, default: [] },
    evaluatedAt: { type: Date, required: true },
    /**
     * What the score was computed from: GOVERNANCE_RECORDS (recordBeautifulHomeScores). Null on
     * rows the former `beautifulHome(persist: true)` query wrote from caller-sent figures; never ranked.
     */
    basis: { type: String, default: null },
  },
  opts,
);
evaluationSchema.index({ rubricId: 1, cityCode: 1, basis: 1, score: -1 });
evaluationSchema.index({ rubricId: 1, cityCode: 1, basis: 1, publicScore: -1 });

export type GovCommunityDoc = InferSchemaType<typeof communitySchema> & { _id: string };
export type CommitteeDoc = InferSchemaType<typeof committeeSchema> & { _id: string };
export type AllianceDoc = InferSchemaType<typeof allianceSchema> & { _id: string };
export type PartyOrgDoc = InferSchemaType<typeof partyOrgSchema> & { _id: string };
export type MeetingDoc = InferSchemaType<typeof meetingSchema> & { _id: string };
export type TicketDoc = InferSchemaType<typeof ticketSchema> & { _id: string; externalNo?: string | null };
export type TicketNoteDoc = InferSchemaType<typeof noteSchema>;
export type PatrolTeamDoc = InferSchemaType<typeof patrolTeamSchema> & { _id: string };
export type PatrolReportDoc = InferSchemaType<typeof patrolReportSchema> & { _id: string };
export type ActivityDoc = InferSchemaType<typeof activitySchema> & { _id: string };
export type DesignationDoc = InferSchemaType<typeof designationSchema> & { _id: string };
export type PolicyDoc = InferSchemaType<typeof policySchema> & { _id: string };
export type RubricDoc = InferSchemaType<typeof rubricSchema> & { _id: string };
export type EvaluationDoc = InferSchemaType<typeof evaluationSchema> & { _id: string };

/** Parent object of governance's fields on entities owned elsewhere (only the key, plus @requires fields). */
export interface CommunityRef {
  id: string;
  feeCollection?: { amountRate?: number | null } | null;
  latestSatisfaction?: { percent?: number | null } | null;
  elderlyStats?: { monthlyVisitRate?: number | null } | null;
  renovationSummary?: { status?: string | null } | null;
}
export interface AreaRef {
  code: string;
}
export interface CompanyRef {
  uscc: string;
}
export interface BuildingRef {
  id: string;
}

export function registerModels(conn: Connection) {
  return {
    Community: defineModel(conn, 'GovCommunity', communitySchema, 'communities'),
    Committee: defineModel(conn, 'Committee', committeeSchema, 'committees'),
    Alliance: defineModel(conn, 'PartyAlliance', allianceSchema, 'party_alliances'),
    PartyOrg: defineModel(conn, 'PartyOrganization', partyOrgSchema, 'party_organizations'),
    Meeting: defineModel(conn, 'JointMeeting', meetingSchema, 'joint_meetings'),
    Ticket: defineModel(conn, 'ServiceTicket', ticketSchema, 'service_tickets'),
    PatrolTeam: defineModel(conn, 'PatrolTeam', patrolTeamSchema, 'patrol_teams'),
    PatrolReport: defineModel(conn, 'PatrolReport', patrolReportSchema, 'patrol_reports'),
    Activity: defineModel(conn, 'CommunityActivity', activitySchema, 'activities'),
    Designation: defineModel(conn, 'TypicalCaseDesignation', designationSchema, 'designations'),
    Policy: defineModel(conn, 'SubsidyPolicy', policySchema, 'subsidy_policies'),
    Rubric: defineModel(conn, 'EvaluationRubric', rubricSchema, 'rubrics'),
    Evaluation: defineModel(conn, 'BeautifulHomeEvaluation', evaluationSchema, 'evaluations'),
    // Statistics rollups (stats/model.ts).
    ...registerStatsModels(conn),
  };
}
export type Models = ReturnType<typeof registerModels>;
