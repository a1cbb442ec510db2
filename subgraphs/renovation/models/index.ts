/**
 * Mongoose models of the renovation subgraph (database `city_renovation`). Schemas are inline with
 * `InferSchemaType`; every query shape served has its index declared next to the schema.
 * Money is stored in integer fen (分). The subgraph cannot read the properties database, so the keys
 * its aggregates group by (cityCode, districtCodes, communityIds) are denormalised onto each row.
 */
import { Schema, type Connection, type InferSchemaType } from 'mongoose';
import { now } from '../../../lib/clock';
import { defineModel } from '../../../lib/db';
import { registerRollupModel } from '../stats/model';

/** createdAt / updatedAt come from the product clock (lib/clock.ts), like every other domain time. */
const opts = { versionKey: false, timestamps: { currentTime: () => now() } } as const;
const sub = { _id: false } as const;

export const PROJECT_STATUSES = [
  'RESERVE',
  'PLANNED',
  'APPROVED',
  'TENDERING',
  'UNDER_CONSTRUCTION',
  'COMPLETED',
  'ACCEPTED',
  'LONG_TERM_MGMT',
] as const;
export const SPONSORS = ['GOVERNMENT', 'PROPERTY_COMPANY', 'OWNERS', 'MIXED'] as const;
export const FUNDING_TYPES = [
  'CENTRAL_SUBSIDY',
  'LOCAL_FISCAL',
  'SPECIAL_BOND',
  'RESIDENT_CONTRIBUTION',
  'PROPERTY_COMPANY',
  'UTILITY_COMPANY',
  'ORIGINAL_PROPERTY_UNIT',
  'MAINTENANCE_FUND',
  'HOUSING_FUND',
  'SOCIAL_CAPITAL',
  'BANK_LOAN',
] as const;
export const ITEM_CLASSES = ['BASIC', 'IMPROVEMENT', 'UPGRADE'] as const;
export const FACILITY_TYPES = [
  'ELEVATOR',
  'STREETLIGHT',
  'ROAD_SURFACE',
  'RUBBER_TRACK',
  'HEALTH_TRAIL',
  'BASKETBALL_COURT',
  'FITNESS_EQUIPMENT',
  'CHILDREN_PLAYGROUND',
  'DRYING_AREA',
  'CENTRAL_HEATING',
  'FIRE_EQUIPMENT',
  'EBIKE_CHARGER',
  'EV_CHARGER',
  'PARKING_SPACE',
  'SWEEPER_MACHINE',
  'WASTE_STATION',
  'ELDERLY_ROOM',
  'CANTEEN',
  'PARTY_ACTIVITY_ROOM',
] as const;
export const ITEM_TYPES = [...FACILITY_TYPES, 'ROOF_WATERPROOF', 'FACADE', 'PIPELINE', 'SECONDARY_WATER', 'GAS', 'DRAINAGE', 'SECURITY_CAMERAS'] as const;
export const CONDITIONS = ['GOOD', 'AGING', 'BROKEN', 'MISSING'] as const;
export const MILESTONE_TYPES = ['RESIDENT_CONSULTATION', 'DESIGN', 'START', 'COMPLETION', 'ACCEPTANCE', 'HANDOVER'] as const;
export const ACCEPTANCE_RESULTS = ['PASSED', 'RECTIFY', 'FAILED'] as const;

const itemSchema = new Schema(
  {
    class: { type: String, required: true, enum: ITEM_CLASSES },
    itemType: { type: String, required: true, enum: ITEM_TYPES },
    quantity: { type: Number, default: null },
    unit: { type: String, default: null },
    costFen: { type: Number, default: null },
    costApprox: { type: Boolean, default: false },
  },
  sub,
);

const fundingSchema = new Schema(
  {
    type: { type: String, required: true, enum: FUNDING_TYPES },
    amountFen: { type: Number, required: true },
    amountApprox: { type: Boolean, default: false },
    confirmed: { type: Boolean, default: false },
  },
  sub,
);

/** Spend ledger entry (append-only); `clientKey` makes a retried spend count once. */
const spendSchema = new Schema(
  {
    type: { type: String, required: true, enum: FUNDING_TYPES },
    amountFen: { type: Number, required: true },
    amountApprox: { type: Boolean, default: false },
    at: { type: Date, default: null },
    note: { type: String, default: null },
    clientKey: { type: String, default: null },
  },
  sub,
);

const milestoneSchema = new Schema(
  {
    type: { type: String, required: true, enum: MILESTONE_TYPES },
    plannedAt: { type: Date, default: null },
    actualAt: { type: Date, default: null },
    /** Done even when the date is unknown (e.g. the article says the works are finished). */
    done: { type: Boolean, default: false },
  },
  sub,
);

const projectSchema = new Schema(
  {
    _id: { type: String, required: true },
    /** Idempotency key of the create that made this project (absent for seeded rows). */
    clientKey: { type: String },
    name: { type: String, required: true },
    communityIds: { type: [String], required: true },
    cityCode: { type: String, required: true },
    districtCodes: { type: [String], default: [] },
    planYear: { type: Number, required: true },
    batch: { type: String, default: null },
    sponsor: { type: String, enum: [...SPONSORS, null], default: null },
    sponsorCompanyUscc: { type: String, default: null },
    status: { type: String, required: true, enum: PROJECT_STATUSES },
    scope: {
      type: new Schema({ buildings: Number, households: Number, floorAreaM2: Number }, sub),
      default: null,
    },
    items: { type: [itemSchema], default: [] },
    budgetFen: { type: Number, default: null },
    budgetApprox: { type: Boolean, default: false },
    fundingSources: { type: [fundingSchema], default: [] },
    spends: { type: [spendSchema], default: [] },
    /** Sum of `spends` (kept with the same atomic update); null while no spend is recorded. */
    spentFen: { type: Number, default: null },
    milestones: { type: [milestoneSchema], default: [] },
    /** Derived on write: some milestone was done after its planned date. */
    hasLateDoneMilestone: { type: Boolean, default: false },
    /** Derived on write: earliest planned date among milestones not done (late once it passes). */
    earliestOpenPlannedAt: { type: Date, default: null },
    acceptance: {
      type: new Schema(
        {
          at: { type: Date, default: null },
          result: { type: String, enum: ACCEPTANCE_RESULTS, required: true },
          residentSatisfaction: { type: Number, default: null },
          inspectorsOrgs: { type: [String], default: [] },
        },
        sub,
      ),
      default: null,
    },
    contractor: { type: new Schema({ name: { type: String, required: true }, uscc: { type: String, default: null } }, sub), default: null },
    source: { type: String, default: null },
    synthetic: { type: Boolean, default: false },
    /** Revision, bumped by every read-modify-write (optimistic concurrency). */
    rev: { type: Number },
  },
  opts,
);
projectSchema.index({ clientKey: 1 }, { unique: true, partialFilterExpression: { clientKey: { $type: 'string' } } });
projectSchema.index({ communityIds: 1, planYear: -1 });
projectSchema.index({ cityCode: 1, planYear: 1, _id: 1 });
projectSchema.index({ cityCode: 1, status: 1, _id: 1 });
projectSchema.index({ cityCode: 1, sponsor: 1, _id: 1 });
projectSchema.index({ districtCodes: 1, planYear: 1, _id: 1 });
projectSchema.index({ cityCode: 1, hasLateDoneMilestone: 1, _id: 1 });
projectSchema.index({ cityCode: 1, earliestOpenPlannedAt: 1 });
/** Year statistics of the raw-row reference: the embedded engine picks the narrowest leading-field index. */
projectSchema.index({ planYear: 1, cityCode: 1 });
/** "Late as of now": the projects whose earliest open milestone is planned earlier today (stats/read.ts). */
projectSchema.index({ earliestOpenPlannedAt: 1, cityCode: 1 });

const historySchema = new Schema(
  {
    condition: { type: String, required: true, enum: CONDITIONS },
    at: { type: Date, default: null },
    beforeYear: { type: Number, default: null },
    note: { type: String, default: null },
  },
  sub,
);

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
  sub,
);
const location = { type: pointSchema, default: undefined };

/**
 * The 小区 whose location the renovation office knows (the centre of the life-circle questions
 * about its facilities). Written by the seeds (demo and synthetic); a 小区 not listed here has no
 * known location, and its life-circle answers are empty.
 */
const communityPlaceSchema = new Schema(
  {
    _id: { type: String, required: true },
    cityCode: { type: String, required: true },
    districtCode: { type: String, required: true },
    /** Approximate location of the 小区 (WGS84). */
    location: { type: pointSchema, required: true },
    synthetic: { type: Boolean, default: false },
  },
  opts,
);
communityPlaceSchema.index({ synthetic: 1 });

const facilitySchema = new Schema(
  {
    _id: { type: String, required: true },
    communityId: { type: String, required: true },
    cityCode: { type: String, required: true },
    districtCode: { type: String, required: true },
    buildingId: { type: String, default: null },
    type: { type: String, required: true, enum: FACILITY_TYPES },
    quantity: { type: Number, default: null },
    quantityApprox: { type: Boolean, default: false },
    /** Null when the source does not say what state the facility is in now. */
    condition: { type: String, enum: [...CONDITIONS, null], default: null },
    conditionBefore: { type: String, enum: [...CONDITIONS, null], default: null },
    history: { type: [historySchema], default: [] },
    installedAt: { type: Date, default: null },
    installedYear: { type: Number, default: null },
    sourceProjectId: { type: String, default: null },
    costFen: { type: Number, default: null },
    costApprox: { type: Boolean, default: false },
    maintainerUscc: { type: String, default: null },
    lastInspectedAt: { type: Date, default: null },
    note: { type: String, default: null },
    /** Where the facility is (WGS84), on the 小区's shared grounds; absent when unknown. */
    location,
    synthetic: { type: Boolean, default: false },
    /** Revision, bumped by every read-modify-write (optimistic concurrency). */
    rev: { type: Number },
  },
  opts,
);
facilitySchema.index({ communityId: 1, buildingId: 1, type: 1 }, { unique: true });
facilitySchema.index({ cityCode: 1, condition: 1, type: 1, _id: 1 });
facilitySchema.index({ districtCode: 1, condition: 1, type: 1, _id: 1 });
facilitySchema.index({ cityCode: 1, type: 1, _id: 1 });
facilitySchema.index({ sourceProjectId: 1 });
/** Rollup rebuild: only the MISSING / BROKEN rows count (stats/rebuild.ts). */
facilitySchema.index({ condition: 1, type: 1 });
/** Life circle: facilities within a radius of a 小区 (`$geoWithin: {$centerSphere}`). */
facilitySchema.index({ location: '2dsphere' });

export type ItemDoc = InferSchemaType<typeof itemSchema>;
export type FundingSourceDoc = InferSchemaType<typeof fundingSchema>;
export type SpendDoc = InferSchemaType<typeof spendSchema>;
export type MilestoneDoc = InferSchemaType<typeof milestoneSchema>;
export type HistoryDoc = InferSchemaType<typeof historySchema>;
export type ProjectDoc = InferSchemaType<typeof projectSchema> & { _id: string };
export type FacilityDoc = InferSchemaType<typeof facilitySchema> & { _id: string };
export type CommunityPlaceDoc = InferSchemaType<typeof communityPlaceSchema> & { _id: string };

export function registerModels(conn: Connection) {
  return {
    Project: defineModel(conn, 'RenovationProject', projectSchema, 'renovation_projects'),
    Facility: defineModel(conn, 'Facility', facilitySchema, 'facilities'),
    CommunityPlace: defineModel(conn, 'CommunityPlace', communityPlaceSchema, 'community_places'),
    /** Statistics rollups (stats/model.ts). */
    Rollup: registerRollupModel(conn),
  };
}
export type Models = ReturnType<typeof registerModels>;

/** A funding source with the spend recorded against its type (resolved from the project). */
export type FundingSourceView = FundingSourceDoc & { spentFen: number };
