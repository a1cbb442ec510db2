/**
 * Reads of the statistics rollups: documents by `_id`, many at once (one command per batch; the
 * per-request DataLoader in ../loaders.ts gathers every statistics field of every area of a request
 * into one batch), and the shapes the resolvers answer with.
 */
import type { Collection } from 'mongodb';
import { householdRate, amountRate, clearanceRate, rankByRate, type DistrictFeeRankRow, type FeeRateKind } from '../services/fees';
import type { Models } from '../models';
import { periodFigures, rateSummaryOf, satisfactionOf, type FeeRow, type SurveyRow } from './figures';
import { LATEST, REGISTER, rollupId, type Figures, type RollupDoc, type StatsLevel } from './model';

/** One month of a trend: the month and its figures (what PropertyMonth resolves from). */
export interface PropertyMonthRow {
  month: string;
  f: Figures;
}

export function createStatsReader(m: Models) {
  const rollups = m.Rollup.collection as unknown as Collection<RollupDoc>;
  return {
    /** Rollup documents by `_id` (emptied documents come back with `f: {}`, i.e. as zeros). */
    docs: (ids: readonly string[]) => rollups.find({ _id: { $in: [...ids] } }, { projection: { f: 1 } }).toArray() as Promise<Pick<RollupDoc, '_id' | 'f'>[]>,
  };
}
export type StatsReader = ReturnType<typeof createStatsReader>;

/** `_id` of the document holding an area's figures for a period (LATEST when none) or its register. */
export const periodDocId = (level: StatsLevel, code: string, period: string | null) => rollupId(level, code, period ?? LATEST);
export const registerDocId = (level: StatsLevel, code: string) => rollupId(level, code, REGISTER);

/** PropertyMonth fields from a month's figures. */
export function monthFields(row: PropertyMonthRow) {
  const summary = rateSummaryOf(row.f, row.month);
  return {
    communities: summary?.communities ?? 0,
    householdRate: summary ? householdRate(summary) : null,
    amountRate: summary ? amountRate(summary) : null,
    clearanceRate: summary ? clearanceRate(summary) : null,
    surveys: row.f.surveys ?? 0,
    satisfactionAvg: satisfactionOf(row.f),
  };
}

/** A 小区's months from its own rows (its fee row and surveys of each month). */
export function communityMonths(months: readonly string[], fees: readonly FeeRow[], surveys: readonly SurveyRow[]): PropertyMonthRow[] {
  return months.map((month) => ({
    month,
    f: periodFigures(
      fees.filter((r) => r.period === month),
      surveys.filter((s) => s.period === month),
    ),
  }));
}

/** Districts ranked by one rate from their period documents (districts without fee rows left out). */
export function rankDistricts(docs: readonly { code: string; f: Figures | undefined }[], period: string, by: FeeRateKind): DistrictFeeRankRow[] {
  const rows = docs.flatMap((d) => {
    const summary = rateSummaryOf(d.f, period);
    return summary ? [{ ...summary, code: d.code }] : [];
  });
  return rankByRate(rows, by);
}
