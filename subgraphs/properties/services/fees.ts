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

export type FeeRateKind = 'HOUSEHOLD' | 'AMOUNT' | 'CLEARANCE';
export const rateOf = (by: FeeRateKind) => (by === 'HOUSEHOLD' ? householdRate : by === 'CLEARANCE' ? clearanceRate : amountRate);

/** Areas ranked by one rate, best first (a null rate last), ties by code. */
export function rankByRate(rows: readonly (RateSummaryRow & { code: string })[], by: FeeRateKind): DistrictFeeRankRow[] {
  const rate = rateOf(by);
  const scored = rows.map((r) => ({ row: r, value: rate(r) }));
  scored.sort((a, b) => (b.value ?? -1) - (a.value ?? -1) || a.row.code.localeCompare(b.row.code));
  return scored.map((s, i) => ({ rank: i + 1, districtCode: s.row.code, summary: s.row }));
}
