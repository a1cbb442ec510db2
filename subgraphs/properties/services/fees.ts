/**
 * Fee-collection arithmetic. Rates are derived from raw figures under their own names (户收费率,
 * 收费率, 清缴率); a zero or unknown denominator gives null, never a division by zero.
 */
export function ratio(numerator: number | null | undefined, denominator: number | null | undefined): number | null {
  if (numerator == null || denominator == null || denominator === 0) return null;
  return numerator / denominator;
}

export interface RawFeeFigures {
  chargeableHouseholds?: number | null;
  paidHouseholds?: number | null;
  receivableFen?: number | null;
  receivedFen?: number | null;
  historicalArrearsFen?: number | null;
  arrearsRecoveredFen?: number | null;
}

export const householdRate = (f: RawFeeFigures) => ratio(f.paidHouseholds, f.chargeableHouseholds);
export const amountRate = (f: RawFeeFigures) => ratio(f.receivedFen, f.receivableFen);
export const clearanceRate = (f: RawFeeFigures) =>
  f.arrearsRecoveredFen == null || f.historicalArrearsFen == null
    ? null
    : ratio(f.arrearsRecoveredFen, f.arrearsRecoveredFen + f.historicalArrearsFen);

/** Fee figures summed by the database over many 小区. */
export interface RateSummaryRow {
  period: string | null;
  communities: number;
  chargeableHouseholds: number;
  paidHouseholds: number;
  receivableFen: number;
  receivedFen: number;
  historicalArrearsFen: number;
  arrearsRecoveredFen: number;
}

export interface DistrictFeeRankRow {
  rank: number;
  districtCode: string;
  summary: RateSummaryRow;
}
