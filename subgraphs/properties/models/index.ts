/**
 * Mongoose models of the properties subgraph (database `city_properties`). Schemas are inline with
 * `InferSchemaType`; every query shape served has its index declared next to the schema.
 * Money is stored in integer fen (分).
 */
import { Schema, type Connection, type InferSchemaType } from 'mongoose';
import { defineModel } from '../../../lib/db';

const opts = { versionKey: false, timestamps: true } as const;

/** City, district, street and 社区 in one collection, keyed by their statistical codes. */
const adminAreaSchema = new Schema(
  {
    _id: { type: String, required: true },
    name: { type: String, required: true },
    level: { type: String, required: true, enum: ['CITY', 'DISTRICT', 'STREET', 'NEIGHBORHOOD'] },
    parentCode: { type: String, default: null },
    cityCode: { type: String, required: true },
    oldCommunityCutoffYear: { type: Number, default: 2000 },
    campaignPilotYear: { type: Number, default: null },
    /** False while the code is a placeholder (the source does not give it). */
    codeVerified: { type: Boolean, default: true },
  },
  opts,
);
adminAreaSchema.index({ parentCode: 1, _id: 1 });
adminAreaSchema.index({ cityCode: 1, level: 1, _id: 1 });

const communitySchema = new Schema(
  {
    _id: { type: String, required: true },
    name: { type: String, required: true },
    aliases: { type: [String], default: [] },
    cityCode: { type: String, required: true },
    districtCode: { type: String, required: true },
    streetCode: { type: String, default: null },
    neighborhoodCode: { type: String, default: null },
    address: { type: String, default: null },
    location: {
      type: new Schema({ lat: Number, lng: Number, datum: { type: String, enum: ['WGS84', 'GCJ02', 'BD09'] } }, { _id: false }),
      default: null,
    },
    builtYear: { type: Number, default: null },
    builtDecade: { type: Number, default: null },
    /** Derived from builtYear/builtDecade and the city's cutoff when written; null when unknown. */
    isOldCommunity: { type: Boolean, default: null },
    housingType: { type: String, default: null },
    buildingCount: { type: Number, default: null },
    householdCount: { type: Number, default: null },
    residentCount: { type: Number, default: null },
    residentCountApprox: { type: Boolean, default: false },
    floorAreaM2: { type: Number, default: null },
    managementMode: { type: String, default: null },
    /** USCC of the company holding the current contract (denormalised for the company filter). */
    currentCompanyUscc: { type: String, default: null },
    has24hServiceHotline: { type: Boolean, default: null },
    commendationBannerCount: { type: Number, default: null },
    commendationBannerCountApprox: { type: Boolean, default: false },
    servicePromise: { type: String, default: null },
  },
  opts,
);
communitySchema.index({ cityCode: 1, _id: 1 });
communitySchema.index({ districtCode: 1, _id: 1 });
communitySchema.index({ streetCode: 1, _id: 1 });
communitySchema.index({ neighborhoodCode: 1, _id: 1 });
communitySchema.index({ cityCode: 1, isOldCommunity: 1, _id: 1 });
communitySchema.index({ currentCompanyUscc: 1, _id: 1 });

const buildingSchema = new Schema(
  {
    _id: { type: String, required: true },
    communityId: { type: String, required: true },
    number: { type: String, required: true },
    floors: { type: Number, default: null },
    unitCount: { type: Number, default: null },
    hasElevator: { type: Boolean, default: null },
    builtYear: { type: Number, default: null },
  },
  opts,
);
buildingSchema.index({ communityId: 1, number: 1 }, { unique: true });

const companySchema = new Schema(
  {
    _id: { type: String, required: true }, // USCC
    usccVerified: { type: Boolean, default: false },
    name: { type: String, required: true },
    nature: { type: String, default: null },
    parentGroup: { type: String, default: null },
    hasPartyOrganization: { type: Boolean, default: null },
    creditGrade: { type: String, default: null },
    legalRepresentative: { type: String, default: null },
    generalManager: { type: String, default: null },
  },
  opts,
);
companySchema.index({ name: 1 }, { unique: true });

const contractSchema = new Schema(
  {
    _id: { type: String, required: true },
    communityId: { type: String, required: true },
    companyUscc: { type: String, required: true },
    selectionMethod: { type: String, default: null },
    selectionNote: { type: String, default: null },
    startDate: { type: Date, default: null },
    endDate: { type: Date, default: null },
    feeStandardFenPerM2Month: { type: Number, default: null },
    serviceItems: { type: [String], default: [] },
    inferred: { type: Boolean, default: false },
    current: { type: Boolean, default: true },
  },
  opts,
);
contractSchema.index({ communityId: 1, current: 1 });
contractSchema.index({ companyUscc: 1, current: 1 });

const feeSchema = new Schema(
  {
    _id: { type: String, required: true },
    communityId: { type: String, required: true },
    cityCode: { type: String, required: true },
    districtCode: { type: String, required: true },
    period: { type: String, required: true },
    chargeableHouseholds: { type: Number, default: null },
    paidHouseholds: { type: Number, default: null },
    receivableFen: { type: Number, default: null },
    receivedFen: { type: Number, default: null },
    historicalArrearsFen: { type: Number, default: null },
    arrearsRecoveredFen: { type: Number, default: null },
    prepaidFen: { type: Number, default: null },
    reportedRate: { type: Number, default: null },
    reportedRateBasis: { type: String, default: null },
    reportedRateIsLowerBound: { type: Boolean, default: false },
    source: { type: String, default: null },
  },
  opts,
);
feeSchema.index({ communityId: 1, period: -1 }, { unique: true });
feeSchema.index({ cityCode: 1, period: 1 });
feeSchema.index({ districtCode: 1, period: 1 });

const surveySchema = new Schema(
  {
    _id: { type: String, required: true },
    communityId: { type: String, required: true },
    cityCode: { type: String, required: true },
    districtCode: { type: String, required: true },
    period: { type: String, required: true },
    method: { type: String, default: null },
    sampleSize: { type: Number, default: null },
    percent: { type: Number, default: null },
    isLowerBound: { type: Boolean, default: false },
    cityTopPercent: { type: Number, default: null },
    scope: { type: String, default: null },
  },
  opts,
);
surveySchema.index({ communityId: 1, period: -1 });
surveySchema.index({ cityCode: 1, period: 1 });
surveySchema.index({ districtCode: 1, period: 1 });

export type AdminAreaDoc = InferSchemaType<typeof adminAreaSchema> & { _id: string };
export type CommunityDoc = InferSchemaType<typeof communitySchema> & { _id: string };
export type BuildingDoc = InferSchemaType<typeof buildingSchema> & { _id: string };
export type CompanyDoc = InferSchemaType<typeof companySchema> & { _id: string };
export type ContractDoc = InferSchemaType<typeof contractSchema> & { _id: string };
export type FeeDoc = InferSchemaType<typeof feeSchema> & { _id: string };
export type SurveyDoc = InferSchemaType<typeof surveySchema> & { _id: string };

export function registerModels(conn: Connection) {
  return {
    AdminArea: defineModel(conn, 'AdminArea', adminAreaSchema, 'admin_areas'),
    Community: defineModel(conn, 'Community', communitySchema, 'communities'),
    Building: defineModel(conn, 'Building', buildingSchema, 'buildings'),
    Company: defineModel(conn, 'PropertyCompany', companySchema, 'companies'),
    Contract: defineModel(conn, 'ServiceContract', contractSchema, 'contracts'),
    Fee: defineModel(conn, 'FeeCollectionPeriod', feeSchema, 'fee_collection'),
    Survey: defineModel(conn, 'SatisfactionSurvey', surveySchema, 'surveys'),
  };
}
export type Models = ReturnType<typeof registerModels>;
