/**
 * Mongoose models of the elderly subgraph (database `city_elderly`). Schemas are inline with
 * `InferSchemaType`; every query shape served has its index declared next to the schema.
 *
 * The register (老年人台账) is personal and sensitive data under PIPL. Its PII fields (name, phone,
 * idCardHash, emergency contact, room, health notes) live only here, for synthetic data, and are not
 * exposed by the GraphQL schema until the authorization layer exists. Documents carry the
 * denormalised keys (communityId, districtCode, cityCode) the aggregates group by, because this
 * subgraph cannot read the properties database.
 */
import { Schema, type Connection, type InferSchemaType } from 'mongoose';
import { now } from '../../../lib/clock';
import { defineModel } from '../../../lib/db';
import { registerStatsModels } from '../stats/model';

/** createdAt / updatedAt come from the product clock (lib/clock.ts), like every other domain time. */
const opts = { versionKey: false, timestamps: { currentTime: () => now() } } as const;

export const LIVING_ARRANGEMENTS = ['LIVING_ALONE', 'EMPTY_NEST', 'LEFT_BEHIND', 'WITH_FAMILY'] as const;
export const DIFFICULTY_FLAGS = [
  'LOW_INCOME_SUBSISTENCE',
  'EXTREME_POVERTY',
  'DISABLED',
  'SEMI_DISABLED',
  'DEMENTIA',
  'SEVERE_DISABILITY',
  'FAMILY_PLANNING_SPECIAL',
  'ADVANCED_AGE',
  'CHRONIC_HIGH_RISK',
] as const;
export const RISK_TIERS = ['HIGH', 'KEY', 'GENERAL'] as const;
export const AGE_BANDS = ['AGE_60_69', 'AGE_70_79', 'AGE_80_89', 'AGE_90_PLUS'] as const;
export const VISIT_MODES = [
  'IN_PERSON',
  'PHONE_VIDEO',
  'THIRD_PARTY',
  'PARTY_VOLUNTEER_PAIRING',
  'NEIGHBOR_MUTUAL_AID',
  'SMART_ALERT',
  'HOTLINE_EMERGENCY',
] as const;
export const VISIT_OCCASIONS = ['ROUTINE', 'HOLIDAY', 'POST_EVENT_24H', 'EMERGENCY'] as const;
export const VISIT_OUTCOMES = ['OK', 'NEEDS_REFERRAL', 'HOSPITALISED', 'NOT_HOME', 'DECEASED'] as const;
export const RESIDENT_STATUSES = ['ACTIVE', 'DECEASED', 'MOVED_OUT'] as const;

/**
 * A WGS84 point (GPS, EPSG:4326) as GeoJSON, longitude first. Never GCJ-02: coordinates taken from
 * Chinese web maps (高德 / 腾讯 use GCJ-02, 百度 BD-09) are converted before they are stored. Absent
 * when unknown (2dsphere indexes skip documents without the field).
 */
const pointSchema = new Schema(
  {
    type: { type: String, enum: ['Point'], required: true },
    coordinates: { type: [Number], required: true },
  },
  { _id: false },
);
const location = { type: pointSchema, default: undefined };

/**
 * The 小区 this subgraph knows, with the area codes its aggregates group by. Written by the seeds
 * (demo and synthetic); a registration for a 小区 not listed here is refused.
 */
const communityRefSchema = new Schema(
  {
    _id: { type: String, required: true },
    cityCode: { type: String, required: true },
    districtCode: { type: String, required: true },
    /** Approximate location of the 小区 (WGS84), for the 15-minute life circle. */
    location,
    synthetic: { type: Boolean, default: false },
  },
  opts,
);
communityRefSchema.index({ cityCode: 1, _id: 1 });
communityRefSchema.index({ districtCode: 1, _id: 1 });
communityRefSchema.index({ location: '2dsphere' });

const emergencyContactSchema = new Schema(
  { name: String, relation: String, phone: String },
  { _id: false },
);

/** 老年人台账: one registered older resident (pseudonymous id). */
const residentSchema = new Schema(
  {
    _id: { type: String, required: true },
    communityId: { type: String, required: true },
    districtCode: { type: String, required: true },
    cityCode: { type: String, required: true },
    buildingRef: { type: String, default: null },
    // ---- PII (not exposed until the authorization layer) ----
    roomRef: { type: String, default: null },
    name: { type: String, default: null },
    phone: { type: String, default: null },
    idCardHash: { type: String, default: null },
    emergencyContact: { type: emergencyContactSchema, default: null },
    healthNotes: { type: String, default: null },
    birthYear: { type: Number, default: null },
    // ---- circumstances ----
    gender: { type: String, enum: ['FEMALE', 'MALE', null], default: null },
    /** Age band at registration (kept current from birthYear when that is known). */
    ageBand: { type: String, enum: AGE_BANDS, required: true },
    livingArrangement: { type: String, enum: LIVING_ARRANGEMENTS, required: true },
    difficultyFlags: { type: [String], enum: DIFFICULTY_FLAGS, default: [] },
    /** difficultyFlags is not empty (kept by every write, so aggregates group on a plain field). */
    hasDifficulty: { type: Boolean, default: false },
    // ---- visit plan ----
    /** Tier given by the rule (services/risk.ts). */
    derivedRiskTier: { type: String, enum: RISK_TIERS, required: true },
    /** Tier set by a care worker, overriding the rule; null when the rule applies. */
    riskTierOverride: { type: String, enum: [...RISK_TIERS, null], default: null },
    riskTierOverrideReason: { type: String, default: null },
    /** Effective tier (override ?? derived), stored so the worklist and stats can filter on it. */
    riskTier: { type: String, enum: RISK_TIERS, required: true },
    visitIntervalDays: { type: Number, required: true },
    lastVisitedAt: { type: Date, default: null },
    nextVisitDue: { type: Date, default: null },
    // ---- consent and provenance ----
    status: { type: String, enum: RESIDENT_STATUSES, default: 'ACTIVE' },
    registeredAt: { type: Date, required: true },
    consentRecordedAt: { type: Date, default: null },
    registeredByTeamId: { type: String, default: null },
    clientKey: { type: String, default: null },
    synthetic: { type: Boolean, default: false },
  },
  opts,
);
// Aggregates per 小区 (prefix), worklist (due visits of one 小区, soonest first) and overdue filter.
residentSchema.index({ communityId: 1, status: 1, nextVisitDue: 1, _id: 1 });
// Aggregates per district / city over the active register (the raw-row reference, stats/reference.ts).
residentSchema.index({ districtCode: 1, status: 1 });
residentSchema.index({ cityCode: 1, status: 1 });
// Statistics rollups (stats/): the rows of the one CST day at a bucket's edge (due today before now;
// last visited on the 30-day window's first day before it opens), any area: the day's range first.
residentSchema.index({ nextVisitDue: 1 });
residentSchema.index({ lastVisitedAt: 1 });
// Register list of a 小区, paged by id, with its filters.
residentSchema.index({ communityId: 1, status: 1, _id: 1 });
residentSchema.index({ communityId: 1, riskTier: 1, _id: 1 });
residentSchema.index({ communityId: 1, livingArrangement: 1, _id: 1 });
residentSchema.index({ clientKey: 1 }, { unique: true, partialFilterExpression: { clientKey: { $type: 'string' } } });

/** 居家养老服务队伍. */
const careTeamSchema = new Schema(
  {
    _id: { type: String, required: true },
    name: { type: String, required: true },
    communityIds: { type: [String], default: [] },
    cityCodes: { type: [String], default: [] },
    operatorType: { type: String, enum: ['PROPERTY_COMPANY', 'NEIGHBORHOOD', 'SOCIAL_ORG', null], default: null },
    operatorUscc: { type: String, default: null },
    operatorName: { type: String, default: null },
    memberCount: { type: Number, default: null },
    /** PII: member names and phones (not exposed). */
    members: { type: [new Schema({ name: String, phone: String, role: String }, { _id: false })], default: [] },
    keepsRegister: { type: Boolean, default: null },
    holidayVisits: { type: Boolean, default: null },
    practice: { type: String, default: null },
    source: { type: String, default: null },
    synthetic: { type: Boolean, default: false },
  },
  opts,
);
careTeamSchema.index({ communityIds: 1 });

/** One home visit (探访) of a registered resident. */
const homeVisitSchema = new Schema(
  {
    _id: { type: String, required: true },
    elderId: { type: String, required: true },
    teamId: { type: String, default: null },
    communityId: { type: String, required: true },
    districtCode: { type: String, required: true },
    cityCode: { type: String, required: true },
    visitedAt: { type: Date, required: true },
    mode: { type: String, enum: VISIT_MODES, required: true },
    occasion: { type: String, enum: VISIT_OCCASIONS, required: true },
    outcome: { type: String, enum: VISIT_OUTCOMES, required: true },
    /** PII (health findings): not exposed. */
    findings: { type: String, default: null },
    referralTicketId: { type: String, default: null },
    clientKey: { type: String, default: null },
    synthetic: { type: Boolean, default: false },
  },
  opts,
);
homeVisitSchema.index({ elderId: 1, visitedAt: -1, _id: -1 });
homeVisitSchema.index({ communityId: 1, visitedAt: -1, _id: -1 });
homeVisitSchema.index({ communityId: 1, occasion: 1, visitedAt: -1, _id: -1 });
homeVisitSchema.index({ communityId: 1, mode: 1, visitedAt: -1, _id: -1 });
homeVisitSchema.index({ districtCode: 1, occasion: 1, visitedAt: -1 });
homeVisitSchema.index({ cityCode: 1, occasion: 1, visitedAt: -1 });
// Statistics rollups (stats/): holiday visits of the 12-month window's first day before it opens.
homeVisitSchema.index({ visitedAt: 1 });
homeVisitSchema.index({ clientKey: 1 }, { unique: true, partialFilterExpression: { clientKey: { $type: 'string' } } });

/** 助餐: a canteen, love table, meal point or delivery serving one or more 小区. */
const mealProgramSchema = new Schema(
  {
    _id: { type: String, required: true },
    type: { type: String, enum: ['ELDERLY_CANTEEN', 'LOVE_TABLE', 'MEAL_POINT', 'HOME_DELIVERY'], required: true },
    name: { type: String, required: true },
    venue: { type: String, default: null },
    operatorUscc: { type: String, default: null },
    operatorName: { type: String, default: null },
    communityIds: { type: [String], default: [] },
    cityCodes: { type: [String], default: [] },
    eligibility: { type: [String], default: [] },
    beneficiaryCount: { type: Number, default: null },
    mealsPerDay: { type: Number, default: null },
    subsidyPolicyId: { type: String, default: null },
    /** Where the meals are served (WGS84); absent for delivery-only programmes or when unknown. */
    location,
    source: { type: String, default: null },
    synthetic: { type: Boolean, default: false },
  },
  opts,
);
// Meal programmes within N metres of a 小区 (the life circle).
mealProgramSchema.index({ location: '2dsphere' });
mealProgramSchema.index({ cityCodes: 1, _id: 1 });
mealProgramSchema.index({ cityCodes: 1, type: 1, _id: 1 });
mealProgramSchema.index({ communityIds: 1 });

/** Health centres, home-care centres, nursing homes and day care serving 小区. */
const serviceProviderSchema = new Schema(
  {
    _id: { type: String, required: true },
    type: { type: String, enum: ['HEALTH_CENTER', 'HOME_CARE_CENTER', 'NURSING_HOME', 'DAY_CARE'], required: true },
    name: { type: String, default: null },
    distanceM: { type: Number, default: null },
    communityIds: { type: [String], default: [] },
    cityCodes: { type: [String], default: [] },
    broughtInBy: { type: String, default: null },
    broughtInByUscc: { type: String, default: null },
    /** Location of the facility (WGS84); absent when unknown. */
    location,
    source: { type: String, default: null },
    synthetic: { type: Boolean, default: false },
  },
  opts,
);
serviceProviderSchema.index({ location: '2dsphere' });
serviceProviderSchema.index({ communityIds: 1 });
serviceProviderSchema.index({ cityCodes: 1, _id: 1 });
serviceProviderSchema.index({ cityCodes: 1, type: 1, _id: 1 });

export type CommunityRefDoc = InferSchemaType<typeof communityRefSchema> & { _id: string };
export type ResidentDoc = InferSchemaType<typeof residentSchema> & { _id: string };
export type CareTeamDoc = InferSchemaType<typeof careTeamSchema> & { _id: string };
export type HomeVisitDoc = InferSchemaType<typeof homeVisitSchema> & { _id: string };
export type MealProgramDoc = InferSchemaType<typeof mealProgramSchema> & { _id: string };
export type ServiceProviderDoc = InferSchemaType<typeof serviceProviderSchema> & { _id: string };

/** Entities owned elsewhere are referenced by key only. */
export interface CommunityRef {
  id: string;
}
export interface AreaRef {
  code: string;
}
export interface CompanyRef {
  uscc: string;
}
export interface PolicyRef {
  id: string;
}

export function registerModels(conn: Connection) {
  return {
    CommunityRef: defineModel(conn, 'ElderlyCommunityRef', communityRefSchema, 'community_refs'),
    Resident: defineModel(conn, 'ElderlyResident', residentSchema, 'elderly_residents'),
    CareTeam: defineModel(conn, 'CareTeam', careTeamSchema, 'care_teams'),
    HomeVisit: defineModel(conn, 'HomeVisit', homeVisitSchema, 'home_visits'),
    MealProgram: defineModel(conn, 'MealProgram', mealProgramSchema, 'meal_programs'),
    ServiceProvider: defineModel(conn, 'ServiceProvider', serviceProviderSchema, 'service_providers'),
    ...registerStatsModels(conn),
  };
}
export type Models = ReturnType<typeof registerModels>;
