/**
 * What one raw row adds to the rollups ("parts"): a map of rollup document id → counters (and, for a
 * 小区's document, the project's status). A full rebuild is the sum of the parts of every row; a
 * write applies parts(new row) − parts(old row). Both go through these functions, so a maintained
 * collection and a rebuilt one cannot drift apart in shape.
 *
 * Dynamic keys (statuses, funding types, days, months) always follow a fixed prefix and a colon, so no
 * key looks like an array index and none contains a dot.
 */
import { cstDate, cstMonth, cstYear } from '../../../lib/clock';
import type { Counters, RollupDoc, RollupKind } from './model';

export interface Part {
  id: string;
  base: Omit<RollupDoc, '_id' | 'c' | 's'>;
  c: Counters;
  s?: Record<string, string>;
}
export type Parts = Map<string, Part>;

/** The fields of a project the rollups read (a lean raw row or a projection of it). */
export interface ProjectLike {
  _id: string;
  cityCode: string;
  districtCodes?: readonly string[] | null;
  communityIds: readonly string[];
  planYear: number;
  status: string;
  budgetFen?: number | null;
  budgetApprox?: boolean | null;
  spentFen?: number | null;
  scope?: { households?: number | null } | null;
  hasLateDoneMilestone?: boolean | null;
  earliestOpenPlannedAt?: Date | null;
  fundingSources?: readonly { type: string; amountFen: number; amountApprox?: boolean | null; confirmed?: boolean | null }[] | null;
  spends?: readonly { type: string; amountFen: number; at?: Date | null }[] | null;
  items?: readonly { class: string; costFen?: number | null; costApprox?: boolean | null }[] | null;
}

/** The fields of a facility row the rollups read. */
export interface FacilityLike {
  communityId: string;
  cityCode: string;
  districtCode: string;
  type: string;
  condition?: string | null;
}

/** The projection that gives {@link ProjectLike} (rebuilds read no more than this). */
export const PROJECT_FIELDS = {
  cityCode: 1,
  districtCodes: 1,
  communityIds: 1,
  planYear: 1,
  status: 1,
  budgetFen: 1,
  budgetApprox: 1,
  spentFen: 1,
  'scope.households': 1,
  hasLateDoneMilestone: 1,
  earliestOpenPlannedAt: 1,
  fundingSources: 1,
  'spends.type': 1,
  'spends.amountFen': 1,
  'spends.at': 1,
  'items.class': 1,
  'items.costFen': 1,
  'items.costApprox': 1,
} as const;
export const FACILITY_FIELDS = { communityId: 1, cityCode: 1, districtCode: 1, type: 1, condition: 1 } as const;

export const GAP_CONDITIONS = ['MISSING', 'BROKEN'] as const;
export const isGap = (condition: string | null | undefined) => condition === 'MISSING' || condition === 'BROKEN';

export const areaKey = (level: string, code: string) => `${level}|${code}`;
export const yearDocId = (level: string, code: string, year: number) => `Y|${level}|${code}|${year}`;
export const communityDocId = (id: string) => `C|${id}`;
export const gapDocId = (level: string, code: string) => `G|${level}|${code}`;
export const memberDocId = (level: string, code: string, communityId: string) => `M|${level}|${code}|${communityId}`;
export const memberArea = (level: string, code: string) => `M|${level}|${code}`;

/** `open:<YYYYMMDD>` key of an instant's CST day. */
export const openKey = (at: Date) => `open:${cstDate(at).replace(/-/g, '')}`;
export const monthKey = (month: string) => `month:${month}`;

function add(c: Counters, key: string, n: number): void {
  if (!n) return;
  const next = (c[key] ?? 0) + n;
  if (next === 0) delete c[key];
  else c[key] = next;
}

/** Adds `from`'s counters into `into` (mutates `into`). */
export function addCounters(into: Counters, from: Counters | null | undefined, sign = 1): Counters {
  if (!from) return into;
  for (const [k, n] of Object.entries(from)) add(into, k, sign * n);
  return into;
}

function partOf(parts: Parts, id: string, kind: RollupKind, area: string, level: string, code: string, year?: number): Part {
  let p = parts.get(id);
  if (!p) {
    p = { id, base: { kind, area, level, code, ...(year === undefined ? {} : { year }) }, c: {} };
    parts.set(id, p);
  }
  return p;
}

const known = (v: number | null | undefined): v is number => v != null;

/** Counters of a project in the plan-year document of each of its areas. */
function planCounters(p: ProjectLike): Counters {
  const c: Counters = {};
  add(c, 'projects', 1);
  const households = p.scope?.households ?? 0;
  if (known(p.budgetFen)) {
    add(c, 'withBudget', 1);
    add(c, 'budget', p.budgetFen);
    if (households > 0) {
      add(c, 'cphBudget', p.budgetFen);
      add(c, 'cphHouseholds', households);
    }
  }
  if (p.budgetApprox === true) add(c, 'budgetApprox', 1);
  add(c, 'spent', p.spentFen ?? 0);
  add(c, 'households', households);
  if (p.hasLateDoneMilestone === true) add(c, 'lateDone', 1);
  else if (p.earliestOpenPlannedAt != null) add(c, openKey(new Date(p.earliestOpenPlannedAt)), 1);
  add(c, `status:${p.status}`, 1);
  for (const f of p.fundingSources ?? []) {
    add(c, `fund:${f.type}:n`, 1);
    add(c, `fund:${f.type}:committed`, f.amountFen);
    if (f.amountApprox === true) add(c, `fund:${f.type}:approx`, 1);
    if (f.confirmed === true) add(c, `fund:${f.type}:confirmed`, f.amountFen);
  }
  for (const s of p.spends ?? []) {
    add(c, `fund:${s.type}:spends`, 1);
    add(c, `fund:${s.type}:spent`, s.amountFen);
  }
  for (const i of p.items ?? []) {
    add(c, `item:${i.class}:n`, 1);
    add(c, `item:${i.class}:cost`, i.costFen ?? 0);
    if (i.costApprox === true) add(c, `item:${i.class}:approx`, 1);
  }
  return c;
}

/** Every rollup counter one project contributes to. */
export function projectParts(p: ProjectLike, parts: Parts = new Map()): Parts {
  const plan = planCounters(p);
  const areas: [string, string][] = [['CITY', p.cityCode], ...(p.districtCodes ?? []).map((d): [string, string] => ['DISTRICT', d])];
  const dated = (p.spends ?? []).filter((s) => s.at != null).map((s) => ({ at: new Date(s.at!), fen: s.amountFen }));
  for (const [level, code] of areas) {
    addCounters(partOf(parts, yearDocId(level, code, p.planYear), 'YEAR', areaKey(level, code), level, code, p.planYear).c, plan);
    for (const s of dated) {
      const y = cstYear(s.at);
      add(partOf(parts, yearDocId(level, code, y), 'YEAR', areaKey(level, code), level, code, y).c, monthKey(cstMonth(s.at)), s.fen);
    }
  }
  for (const id of p.communityIds) {
    const part = partOf(parts, communityDocId(id), 'COMMUNITY', areaKey('COMMUNITY', id), 'COMMUNITY', id);
    const c = part.c;
    add(c, 'projects', 1);
    if (known(p.budgetFen)) {
      add(c, 'withBudget', 1);
      add(c, 'budget', p.budgetFen);
      add(c, `budget:${p.planYear}`, p.budgetFen);
    }
    if (p.budgetApprox === true) {
      add(c, 'budgetApprox', 1);
      add(c, `budgetApprox:${p.planYear}`, 1);
    }
    add(c, 'spent', p.spentFen ?? 0);
    for (const s of dated) add(c, monthKey(cstMonth(s.at)), s.fen);
    part.s = { ...(part.s ?? {}), [statusKey(p._id)]: `${p.planYear}|${p.status}` };
  }
  return parts;
}

/**
 * Project ids are generated (`rp_…`) and hold no dots; a dot would open a sub-document in an
 * update path, so it is replaced all the same.
 */
export const statusKey = (projectId: string) => projectId.replace(/\./g, '\uff0e');
export const projectIdOfStatusKey = (key: string) => key.replace(/\uff0e/g, '.');

/** The gap counters of one facility row (nothing unless it is MISSING or BROKEN). */
export function facilityGapParts(f: FacilityLike): Parts {
  const parts: Parts = new Map();
  if (!isGap(f.condition)) return parts;
  const key = `${f.condition === 'MISSING' ? 'missing' : 'broken'}:${f.type}`;
  for (const [level, code] of [
    ['CITY', f.cityCode],
    ['DISTRICT', f.districtCode],
  ] as const) {
    add(partOf(parts, memberDocId(level, code, f.communityId), 'MEMBER', memberArea(level, code), level, code).c, key, 1);
    add(partOf(parts, gapDocId(level, code), 'GAPS', areaKey(level, code), level, code).c, key, 1);
  }
  return parts;
}

/** Gap rows of one type in a member (or area) document's counters. */
export const gapRows = (c: Counters | null | undefined, type: string) => (c?.[`missing:${type}`] ?? 0) + (c?.[`broken:${type}`] ?? 0);

/** Adds every part of `from` into `into` (a rebuild sums the parts of all rows). */
export function mergeParts(into: Parts, from: Parts): Parts {
  for (const [id, p] of from) {
    const t = into.get(id);
    if (!t) into.set(id, { id, base: p.base, c: { ...p.c }, ...(p.s ? { s: { ...p.s } } : {}) });
    else {
      addCounters(t.c, p.c);
      if (p.s) t.s = { ...(t.s ?? {}), ...p.s };
    }
  }
  return into;
}

/** The stored form of a summed part. */
export const partDoc = (p: Part): RollupDoc => ({ _id: p.id, ...p.base, c: p.c, ...(p.s ? { s: p.s } : {}) });
