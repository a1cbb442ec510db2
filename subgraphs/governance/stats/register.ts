/**
 * Household figures of governance's 小区 register per area (`register_stats`), the denominator of
 * `TicketStats.perThousandHouseholds`: per area the 小区 count, the sum of the known household counts
 * and the ids of the 小区 whose count is unknown (left out of the rate, and their tickets out of its
 * numerator). The same rule as the raw-row reference: a count is known when it is positive.
 */
import { householdsKnown, type RegisterRow } from './tickets';

export const REGISTER_LEVELS = ['ALL', 'CITY', 'DISTRICT', 'COMPANY'] as const;
export type RegisterLevel = (typeof REGISTER_LEVELS)[number];

export interface RegisterStatsDoc {
  _id: string;
  L: RegisterLevel;
  code: string;
  n: number;
  hh: number;
  unk: string[];
}

/** The register documents of every area the rows are in (each area complete only if all its rows are given). */
export function registerDocsFor(rows: Iterable<RegisterRow>): Map<string, RegisterStatsDoc> {
  const out = new Map<string, RegisterStatsDoc>();
  const add = (L: RegisterLevel, code: string | null | undefined, r: RegisterRow) => {
    if (code == null) return;
    const id = `${L}|${code}`;
    let d = out.get(id);
    if (!d) out.set(id, (d = { _id: id, L, code, n: 0, hh: 0, unk: [] }));
    d.n++;
    if (householdsKnown(r)) d.hh += r.householdCount as number;
    else d.unk.push(r._id);
  };
  for (const r of rows) {
    add('ALL', '*', r);
    add('CITY', r.cityCode, r);
    add('DISTRICT', r.districtCode, r);
    add('COMPANY', r.companyUscc, r);
  }
  for (const d of out.values()) d.unk.sort();
  return out;
}
