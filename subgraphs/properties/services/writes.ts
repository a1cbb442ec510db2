/**
 * Write paths of the properties subgraph. Every input is validated before anything is written; a
 * problem answers BAD_USER_INPUT naming the field, and nothing is stored. After the raw write (and on
 * an idempotent replay, which may repair an interrupted earlier attempt) the statistics rollups the
 * row falls in are brought up to date before the mutation answers (../stats/write.ts).
 */
import { badInput } from '../../../lib/errors';
import type { Models, FeeDoc, SurveyDoc } from '../models';
import { refusePersonalData } from '../../../lib/personal-data';
import { COMMUNITY_FIELDS, type CommunityRow } from '../stats/figures';
import type { RollupWriter } from '../stats/write';

const PERIOD = /^\d{4}(-(0[1-9]|1[0-2]))?$/;

export interface FeeInput {
  communityId: string;
  period: string;
  chargeableHouseholds?: number | null;
  paidHouseholds?: number | null;
  receivableFen?: number | null;
  receivedFen?: number | null;
  historicalArrearsFen?: number | null;
  arrearsRecoveredFen?: number | null;
  prepaidFen?: number | null;
  reportedRate?: number | null;
  reportedRateBasis?: string | null;
  reportedRateIsLowerBound?: boolean | null;
  source?: string | null;
}

export interface SurveyInput {
  clientKey: string;
  communityId: string;
  period: string;
  method: string;
  sampleSize?: number | null;
  percent?: number | null;
  isLowerBound?: boolean | null;
  cityTopPercent?: number | null;
  scope?: string | null;
}

function nonNegative(input: Record<string, unknown>, fields: string[]) {
  for (const f of fields) {
    const v = input[f];
    if (v != null && (typeof v !== 'number' || !Number.isFinite(v) || v < 0)) throw badInput(`input.${f}`, 'must be zero or more');
  }
}
function inRange(field: string, v: number | null | undefined, lo: number, hi: number) {
  if (v != null && (!Number.isFinite(v) || v < lo || v > hi)) throw badInput(field, `must be between ${lo} and ${hi}`);
}
function text(field: string, v: string | null | undefined, max: number) {
  if (v != null && v.length > max) throw badInput(field, `must be at most ${max} characters`);
}

/** The checks of a fee row that need no database (the 小区 is checked by the caller). */
export function checkFeeInput(input: FeeInput): void {
  if (!PERIOD.test(input.period)) throw badInput('input.period', `expected YYYY or YYYY-MM, got "${input.period}"`);
  nonNegative(input as unknown as Record<string, unknown>, [
    'chargeableHouseholds', 'paidHouseholds', 'receivableFen', 'receivedFen', 'historicalArrearsFen', 'arrearsRecoveredFen', 'prepaidFen',
  ]);
  if (input.paidHouseholds != null && input.chargeableHouseholds != null && input.paidHouseholds > input.chargeableHouseholds) {
    throw badInput('input.paidHouseholds', 'cannot exceed chargeableHouseholds');
  }
  inRange('input.reportedRate', input.reportedRate, 0, 1);
  text('input.source', input.source, 500);
  refusePersonalData('input.source', input.source);
}

/** A fee row's id: one row per 小区 and period. */
export const feeIdOf = (input: { communityId: string; period: string }) => `fee_${input.communityId}_${input.period}`;

/** The stored fields of a checked fee row of the 小区 `c`. */
export function feeDocOf(input: FeeInput, c: CommunityRow) {
  return {
    communityId: input.communityId, cityCode: c.cityCode, districtCode: c.districtCode, period: input.period,
    chargeableHouseholds: input.chargeableHouseholds ?? null, paidHouseholds: input.paidHouseholds ?? null,
    receivableFen: input.receivableFen ?? null, receivedFen: input.receivedFen ?? null,
    historicalArrearsFen: input.historicalArrearsFen ?? null, arrearsRecoveredFen: input.arrearsRecoveredFen ?? null,
    prepaidFen: input.prepaidFen ?? null, reportedRate: input.reportedRate ?? null,
    reportedRateBasis: input.reportedRate == null ? null : (input.reportedRateBasis ?? 'UNKNOWN'),
    reportedRateIsLowerBound: input.reportedRateIsLowerBound ?? false, source: input.source ?? null,
  };
}

export function createWrites(m: Models, rollups: RollupWriter) {
  async function community(id: string) {
    const c = await m.Community.findById(id).select(COMMUNITY_FIELDS).lean<CommunityRow>().exec();
    if (!c) throw badInput('input.communityId', `no 小区 with id "${id}"`);
    return c;
  }
  return {
    async upsertFeeCollection(input: FeeInput): Promise<FeeDoc> {
      checkFeeInput(input);
      const c = await community(input.communityId);
      const written = (await m.Fee.findOneAndUpdate({ _id: feeIdOf(input) }, { $set: feeDocOf(input, c) }, { upsert: true, returnDocument: 'after' }).lean<FeeDoc>().exec())!;
      await rollups.rowWritten(c, written.period);
      return written;
    },

    async recordSurvey(input: SurveyInput): Promise<SurveyDoc> {
      if (input.clientKey.length < 8 || input.clientKey.length > 100) throw badInput('input.clientKey', 'must be 8-100 characters');
      const existing = await m.Survey.findOne({ clientKey: input.clientKey }).lean<SurveyDoc>().exec();
      if (existing) {
        await rollups.rowWritten(existing.communityId, existing.period);
        return existing;
      }
      if (!PERIOD.test(input.period)) throw badInput('input.period', `expected YYYY or YYYY-MM, got "${input.period}"`);
      inRange('input.percent', input.percent, 0, 100);
      inRange('input.cityTopPercent', input.cityTopPercent, 0, 100);
      if (input.sampleSize != null && (!Number.isInteger(input.sampleSize) || input.sampleSize < 1)) throw badInput('input.sampleSize', 'must be 1 or more');
      if (input.percent == null && input.cityTopPercent == null) throw badInput('input.percent', 'give percent or cityTopPercent');
      text('input.scope', input.scope, 200);
      refusePersonalData('input.scope', input.scope);
      const c = await community(input.communityId);
      const doc = {
        _id: `sv_${input.clientKey}`, clientKey: input.clientKey, communityId: input.communityId, cityCode: c.cityCode,
        districtCode: c.districtCode, period: input.period, method: input.method, sampleSize: input.sampleSize ?? null,
        percent: input.percent ?? null, isLowerBound: input.isLowerBound ?? false, cityTopPercent: input.cityTopPercent ?? null,
        scope: input.scope ?? null,
      };
      try {
        await m.Survey.create(doc);
      } catch (e) {
        // A concurrent retry with the same key won the race: answer with its record.
        if ((e as { code?: number }).code !== 11000) throw e;
      }
      const recorded = (await m.Survey.findOne({ clientKey: input.clientKey }).lean<SurveyDoc>().exec())!;
      // A concurrent retry may have won with another payload: refresh what was actually stored.
      await rollups.rowWritten(recorded.communityId === c._id ? c : recorded.communityId, recorded.period);
      return recorded;
    },
  };
}
export type Writes = ReturnType<typeof createWrites>;
