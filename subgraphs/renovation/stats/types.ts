/**
 * Row types of the renovation statistics (what the GraphQL statistics types resolve from), shared by
 * the rollup reads (stats/read.ts) and the raw-row reference (stats/reference.ts), which must answer
 * alike.
 */

export type AreaLevel = 'CITY' | 'DISTRICT';
export interface AreaRef {
  code: string;
}
export interface CommunityRef {
  id: string;
}

export interface FundingTotalRow {
  type: string;
  committedFen: number;
  committedApprox: boolean;
  confirmedFen: number;
  spentFen: number;
}
export interface ItemClassRow {
  class: string;
  items: number;
  costFen: number;
  costApprox: boolean;
}
export interface StatusCountRow {
  status: string;
  count: number;
}

/**
 * "Late as of now" from rollup buckets: projects with a milestone done late (`done`), projects whose
 * earliest open milestone is planned on a CST day (`openByDay`, `YYYYMMDD` → projects), and the
 * rollup area whose projects planned for today are looked up exactly at read time.
 */
export interface LateBuckets {
  area: string;
  year: number | null;
  done: number;
  openByDay: Record<string, number>;
}

export interface StatsRow {
  code: string;
  year: number | null;
  projects: number;
  projectsWithBudget: number;
  budgetFen: number;
  budgetApprox: boolean;
  spentFen: number;
  households: number;
  costPerHouseholdFen: number | null;
  /** Known when computed from raw rows; from rollups it is `late` summed as of the request's now. */
  lateProjects: number;
  late?: LateBuckets;
  byStatus: StatusCountRow[];
  byFundingSource: FundingTotalRow[];
  byItemClass: ItemClassRow[];
}
export interface SummaryRow {
  communityId: string;
  projects: number;
  status: string | null;
  latestProjectYear: number | null;
  budgetFen: number;
  budgetApprox: boolean;
  projectsWithBudget: number;
  spentFen: number;
}
export interface GapRow {
  code: string;
  type: string;
  missing: number;
  broken: number;
  communities: number;
}
/** One CST month of a renovation money trend. */
export interface TrendMonthRow {
  /** `YYYY-MM` (CST). */
  month: string;
  /** Spend dated in the month. */
  spentFen: number;
  /** Spend dated from January 1 of the month's year to the end of the month. */
  spentYearToDateFen: number;
  /** Known budgets of the projects whose plan year is the month's calendar year. */
  budgetFen: number;
  budgetApprox: boolean;
}

export const emptyStats = (code: string, year: number | null): StatsRow => ({
  code,
  year,
  projects: 0,
  projectsWithBudget: 0,
  budgetFen: 0,
  budgetApprox: false,
  spentFen: 0,
  households: 0,
  costPerHouseholdFen: null,
  lateProjects: 0,
  byStatus: [],
  byFundingSource: [],
  byItemClass: [],
});

/**
 * `num / den` rounded to a whole number, halves to the even neighbour (MongoDB's `$round`), computed
 * exactly on integers: cost per household = Σ budget fen / Σ households.
 */
export function roundHalfEven(num: number, den: number): number {
  const q = Math.floor(num / den);
  const twice = 2 * (num - q * den);
  if (twice > den) return q + 1;
  if (twice < den) return q;
  return q % 2 === 0 ? q : q + 1;
}

/** Trend length argument: whole months, 1..60. */
export const TREND_MAX_MONTHS = 60;
