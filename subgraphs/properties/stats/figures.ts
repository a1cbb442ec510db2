/**
 * Pure arithmetic of the rollups: the figures of raw rows and the sum of child documents. The write
 * path and the rebuild both compute every document with these functions, from the same inputs in the
 * same order (`_id` order), so a maintained document equals the rebuilt one exactly.
 */
import type { RateSummaryRow } from '../services/fees';
import { FEE_KEYS, REGISTER_KEYS, SURVEY_KEYS, type FigureKey, type Figures } from './model';

/** The register codes that place a 小区 in the rollups. */
export interface CellKey {
  cityCode: string;
  districtCode: string;
  streetCode: string | null;
}
export const cellCode = (c: CellKey) => `${c.cityCode}/${c.districtCode}/${c.streetCode ?? '-'}`;
export const pairCode = (c: { cityCode: string; districtCode: string }) => `${c.cityCode}/${c.districtCode}`;
export const cellOf = (c: { cityCode: string; districtCode: string; streetCode?: string | null }): CellKey => ({
  cityCode: c.cityCode,
  districtCode: c.districtCode,
  streetCode: c.streetCode ?? null,
});

export interface CommunityRow {
  _id: string;
  cityCode: string;
  districtCode: string;
  streetCode?: string | null;
  isOldCommunity?: boolean | null;
  managementMode?: string | null;
  currentCompanyUscc?: string | null;
}
export interface FeeRow {
  _id: string;
  communityId: string;
  period: string;
  chargeableHouseholds?: number | null;
  paidHouseholds?: number | null;
  receivableFen?: number | null;
  receivedFen?: number | null;
  historicalArrearsFen?: number | null;
  arrearsRecoveredFen?: number | null;
}
export interface SurveyRow {
  _id: string;
  communityId: string;
  period: string;
  percent?: number | null;
  createdAt?: Date | null;
}

/** Projections of the raw rows the rollups read. */
export const COMMUNITY_FIELDS = { cityCode: 1, districtCode: 1, streetCode: 1, isOldCommunity: 1, managementMode: 1, currentCompanyUscc: 1 } as const;
export const FEE_FIELDS = {
  communityId: 1, period: 1, chargeableHouseholds: 1, paidHouseholds: 1, receivableFen: 1, receivedFen: 1, historicalArrearsFen: 1, arrearsRecoveredFen: 1,
} as const;
export const SURVEY_FIELDS = { communityId: 1, period: 1, percent: 1, createdAt: 1 } as const;

const ALL_KEYS: readonly FigureKey[] = [...REGISTER_KEYS, ...FEE_KEYS, ...SURVEY_KEYS];

/** Code-unit order of `_id`s (the same in the write path and the rebuild). */
export const byId = (a: { _id: string }, b: { _id: string }) => (a._id < b._id ? -1 : a._id > b._id ? 1 : 0);

function sparse(dense: Record<FigureKey, number>): Figures {
  const out: Figures = {};
  for (const k of ALL_KEYS) if (dense[k] !== 0) out[k] = dense[k];
  return out;
}
const zeros = (): Record<FigureKey, number> => Object.fromEntries(ALL_KEYS.map((k) => [k, 0])) as Record<FigureKey, number>;

export const isEmpty = (f: Figures | null | undefined) => !f || Object.keys(f).length === 0;

/**
 * A 小区 has a property-management arrangement (有物业) when its mode is recorded and is not NONE, or
 * when the mode is not recorded but a current contract shows a company serves it; it is known when
 * either is recorded.
 */
export function registerFigures(rows: readonly CommunityRow[]): Figures {
  const d = zeros();
  for (const c of rows) {
    const mode = c.managementMode ?? null;
    const uscc = c.currentCompanyUscc ?? null;
    d.n += 1;
    if (c.isOldCommunity === true) d.old += 1;
    if (mode !== null || uscc !== null) d.known += 1;
    if ((mode !== null && mode !== 'NONE') || (mode === null && uscc !== null)) d.managed += 1;
  }
  return sparse(d);
}

/** Fee rows summed (unknown figures count as 0; every row counts as one 小区-period). */
export function feeFigures(rows: readonly FeeRow[], into = zeros()): Record<FigureKey, number> {
  for (const r of rows) {
    into.fees += 1;
    into.chargeable += r.chargeableHouseholds ?? 0;
    into.paid += r.paidHouseholds ?? 0;
    into.receivable += r.receivableFen ?? 0;
    into.received += r.receivedFen ?? 0;
    into.arrears += r.historicalArrearsFen ?? 0;
    into.recovered += r.arrearsRecoveredFen ?? 0;
  }
  return into;
}

/** Surveys that give a percent, summed in `_id` order. */
export function surveyFigures(rows: readonly SurveyRow[], into = zeros()): Record<FigureKey, number> {
  for (const s of [...rows].sort(byId)) {
    if (typeof s.percent !== 'number') continue;
    into.surveys += 1;
    into.percentSum += s.percent;
  }
  return into;
}

/** Figures of a period bucket of some 小区: their fee rows and surveys of the period. */
export const periodFigures = (fees: readonly FeeRow[], surveys: readonly SurveyRow[]): Figures =>
  sparse(surveyFigures(surveys, feeFigures(fees)));

/** Children summed in `_id` order. */
export function sumFigures(children: readonly { _id: string; f: Figures }[]): Figures {
  const d = zeros();
  for (const c of [...children].sort(byId)) for (const [k, v] of Object.entries(c.f ?? {})) d[k as FigureKey] += v as number;
  return sparse(d);
}

/** The 小区's latest fee row: the greatest period (string order, as the database sorts). */
export function latestFee(rows: readonly FeeRow[]): FeeRow | null {
  let best: FeeRow | null = null;
  for (const r of rows) if (!best || r.period > best.period || (r.period === best.period && r._id > best._id)) best = r;
  return best;
}

const time = (d: Date | null | undefined) => (d instanceof Date ? d.getTime() : d == null ? -Infinity : new Date(d).getTime());
/**
 * Order of "latest survey": greatest period, then the latest recorded (a row without a record time
 * is older than any with one), then the greatest id. Negative when `a` is later than `b`.
 */
export function laterSurveyFirst(a: SurveyRow, b: SurveyRow): number {
  if (a.period !== b.period) return a.period > b.period ? -1 : 1;
  const ta = time(a.createdAt);
  const tb = time(b.createdAt);
  if (ta !== tb) return ta > tb ? -1 : 1;
  return a._id > b._id ? -1 : a._id < b._id ? 1 : 0;
}

/** The 小区's latest survey that gives a percent (see {@link laterSurveyFirst}). */
export function latestSurveyWithPercent(rows: readonly SurveyRow[]): SurveyRow | null {
  const withPercent = rows.filter((s) => typeof s.percent === 'number');
  return withPercent.length ? [...withPercent].sort(laterSurveyFirst)[0] : null;
}

/** Figures of one 小区's LATEST bucket. */
export function communityLatestFigures(fees: readonly FeeRow[], surveys: readonly SurveyRow[]): Figures {
  const fee = latestFee(fees);
  const survey = latestSurveyWithPercent(surveys);
  return periodFigures(fee ? [fee] : [], survey ? [survey] : []);
}

// ---- Reading figures back --------------------------------------------------------------------

const get = (f: Figures | null | undefined, k: FigureKey) => f?.[k] ?? 0;

/** The RateSummary of a bucket; null when it holds no fee row (as the raw aggregation answers). */
export function rateSummaryOf(f: Figures | null | undefined, period: string | null): RateSummaryRow | null {
  if (get(f, 'fees') === 0) return null;
  return {
    period,
    communities: get(f, 'fees'),
    chargeableHouseholds: get(f, 'chargeable'),
    paidHouseholds: get(f, 'paid'),
    receivableFen: get(f, 'receivable'),
    receivedFen: get(f, 'received'),
    historicalArrearsFen: get(f, 'arrears'),
    arrearsRecoveredFen: get(f, 'recovered'),
  };
}

/** Mean survey percent of a bucket; null without surveys. */
export const satisfactionOf = (f: Figures | null | undefined): number | null =>
  get(f, 'surveys') === 0 ? null : get(f, 'percentSum') / get(f, 'surveys');

export interface RegisterCounts {
  communityCount: number;
  oldCommunityCount: number;
  managed: number;
  modeKnown: number;
}
export const registerOf = (f: Figures | null | undefined): RegisterCounts => ({
  communityCount: get(f, 'n'),
  oldCommunityCount: get(f, 'old'),
  managed: get(f, 'managed'),
  modeKnown: get(f, 'known'),
});
