/**
 * Synthetic renovation data for the synthetic-city generator (docs/domain.md, "The synthetic city"),
 * deterministic from a seed and an as-of instant: every 小区 draws from its own stream of
 * lib/random.ts (`streamFor(seed, id)`), so the result does not depend on chunking or order. Rows are
 * flagged `synthetic: true`; a run first deletes every synthetic row (of any 小区: a smaller city or
 * none at all leaves no orphans), then inserts chunk by chunk, so a rerun with the same input writes
 * the same rows without duplicates. Bulk rows leave out fields that hold their model default (null,
 * false, []), which the engine stores faster. The statistics rollups are rebuilt at the end.
 *
 * Dates are relative to the as-of (default: the product clock's `now()` when the generator runs,
 * lib/clock.ts), so statuses, spend to date, late milestones and recent inspections exist whatever
 * the date. Calendar dates are days in China Standard Time.
 *
 * - Old 小区: a project with probability 0.25 in each plan year from 5 calendar years before the
 *   as-of year up to the as-of year itself (the current year's projects are work in progress);
 *   budget ≈ households × ¥2.7万 × lognormal; funding mix central 35% / local 35% / residents 5% /
 *   utilities 10% / property company 5% / other 10%, plus ~3% projects fully funded by the property
 *   company (like 新海花园). Funding of the last two plan years is confirmed with p = 0.7.
 * - 6 milestones per project planned through its plan year (handover in February of the next);
 *   15% late by 31-120 days; a milestone is done when its actual date is on or before the as-of;
 *   status follows the milestones done; acceptance PASSED 90% / RECTIFY 10%.
 * - 8-19 facility rows per 小区; old 小区 start with 30% AGING/BROKEN/MISSING; items of completed
 *   projects flip to GOOD (conditionBefore keeps the earlier state); last inspected within the 12
 *   months before the as-of.
 * - Locations (WGS84, never GCJ-02): each 小区 with a location in the skeleton (inside its
 *   district) is recorded with it, and each of its facilities lies 10-250 m from it in a random
 *   direction. They draw from the 小区's own `:facility-location` stream, so they change none of
 *   the other rows.
 */
import type { Connection } from 'mongoose';
import { CST_OFFSET_MS, cstDayStart, cstYear, DAY_MS, now } from '../../lib/clock';
import { streamFor, type Rng } from '../../lib/random';
import { FACILITY_TYPES, registerModels } from './models';
import { lateIndexFields } from './services/lateness';
import { offsetPoint } from './services/nearby';
import { rebuildModels } from './stats/rebuild';

export interface SyntheticCommunity {
  id: string;
  cityCode: string;
  districtCode: string;
  isOld: boolean;
  householdCount: number;
  residentCount: number;
  builtYear: number;
  managementMode: string;
  /** WGS84 location of the 小区 (inside its district); none: no location is recorded. */
  lat?: number;
  lng?: number;
}

export interface SyntheticOptions {
  /** The instant statuses, spend and lateness are derived as of; default: the product clock's `now()`. */
  asOf?: Date;
  /** Progress lines of the closing rollup rebuild. */
  progress?: (line: string) => void;
}

/** Plan years with projects: this many calendar years before the as-of year, plus the as-of year. */
export const SYNTHETIC_PAST_YEARS = 5;

/** The article's real 小区 keep their own facts: the generator never writes rows for them. */
const REAL = new Set(['cm_320104_0001', 'cm_320113_0001', 'cm_320706_0001', 'cm_320706_0002']);
const CHUNK = 1000;

/** 00:00 China Standard Time on a calendar day (month 1-12; days past the month's end roll over). */
const cstDay = (y: number, m: number, d: number) => new Date(Date.UTC(y, m - 1, d) - CST_OFFSET_MS);

const BASIC = ['ROOF_WATERPROOF', 'FACADE', 'PIPELINE', 'SECONDARY_WATER', 'GAS', 'DRAINAGE', 'STREETLIGHT', 'ROAD_SURFACE', 'FIRE_EQUIPMENT', 'SECURITY_CAMERAS'];
const IMPROVEMENT = ['ELEVATOR', 'PARKING_SPACE', 'EBIKE_CHARGER', 'EV_CHARGER', 'FITNESS_EQUIPMENT', 'HEALTH_TRAIL', 'CHILDREN_PLAYGROUND', 'DRYING_AREA'];
const UPGRADE = ['ELDERLY_ROOM', 'CANTEEN', 'PARTY_ACTIVITY_ROOM'];
const FACILITY_SET = new Set<string>(FACILITY_TYPES);
const MIX: [string, number][] = [
  ['CENTRAL_SUBSIDY', 0.35],
  ['LOCAL_FISCAL', 0.35],
  ['RESIDENT_CONTRIBUTION', 0.05],
  ['UTILITY_COMPANY', 0.1],
  ['PROPERTY_COMPANY', 0.05],
];
const OTHER_FUNDING = ['SOCIAL_CAPITAL', 'MAINTENANCE_FUND', 'ORIGINAL_PROPERTY_UNIT', 'SPECIAL_BOND'];
const STATUS_BY_DONE: Record<string, string> = {
  RESIDENT_CONSULTATION: 'APPROVED',
  DESIGN: 'TENDERING',
  START: 'UNDER_CONSTRUCTION',
  COMPLETION: 'COMPLETED',
  ACCEPTANCE: 'ACCEPTED',
  HANDOVER: 'LONG_TERM_MGMT',
};

function quantityOf(r: Rng, type: string, households: number): number {
  const buildings = Math.max(1, Math.round(households / 42));
  switch (type) {
    case 'ELEVATOR':
      return r.int(1, Math.max(1, Math.round(buildings * 0.5)));
    case 'STREETLIGHT':
      return Math.max(4, Math.round(households / 15));
    case 'PARKING_SPACE':
      return Math.max(5, Math.round(households * (0.2 + r.next() * 0.4)));
    case 'EBIKE_CHARGER':
      return Math.max(2, Math.round(households / 40));
    case 'EV_CHARGER':
      return r.int(1, 10);
    case 'FIRE_EQUIPMENT':
      return buildings * r.int(2, 6);
    case 'ROAD_SURFACE':
      return Math.round(households * 6); // m²
    default:
      return r.int(1, 3);
  }
}

function projectsFor(c: SyntheticCommunity, r: Rng, asOf: Date) {
  const projects: Record<string, unknown>[] = [];
  const upgraded = new Map<string, { projectId: string; year: number }>();
  if (!c.isOld) return { projects, upgraded };
  const households = Math.max(1, c.householdCount);
  const asOfYear = cstYear(asOf);
  for (let year = asOfYear - SYNTHETIC_PAST_YEARS; year <= asOfYear; year++) {
    if (r.next() >= 0.25) continue;
    const _id = `rp_syn_${c.id}_${year}`;
    const companyFunded = r.next() < 0.03;
    const budgetFen = Math.round(households * 27_000 * Math.exp(0.35 * r.normal())) * 100;
    // Funding sources: the mix, or the property company alone.
    let fundingSources: { type: string; amountFen: number; amountApprox: boolean; confirmed: boolean }[];
    const confirmed = year <= asOfYear - 2 || r.next() < 0.7;
    if (companyFunded) fundingSources = [{ type: 'PROPERTY_COMPANY', amountFen: budgetFen, amountApprox: false, confirmed: true }];
    else {
      const parts: [string, number][] = [...MIX, [r.pick(OTHER_FUNDING), 0.1]];
      let rest = budgetFen;
      fundingSources = parts.map(([type, share], i) => {
        const amountFen = i === parts.length - 1 ? rest : Math.round((budgetFen * share) / 100) * 100;
        rest -= amountFen;
        return { type, amountFen, amountApprox: false, confirmed: type === 'CENTRAL_SUBSIDY' || type === 'LOCAL_FISCAL' ? confirmed : r.next() < 0.8 };
      });
    }
    // Items: 2-4 基础类, 1-3 完善类, 0-1 提升类, costs sharing the budget.
    const chosen = [
      ...r.shuffled(BASIC).slice(0, r.int(2, 4)).map((t) => ['BASIC', t]),
      ...r.shuffled(IMPROVEMENT).slice(0, r.int(1, 3)).map((t) => ['IMPROVEMENT', t]),
      ...(r.next() < 0.4 ? [['UPGRADE', r.pick(UPGRADE)]] : []),
    ];
    const weights = chosen.map(() => 0.5 + r.next());
    const wsum = weights.reduce((a, b) => a + b, 0);
    const items = chosen.map(([cls, itemType], i) => ({
      class: cls,
      itemType,
      quantity: FACILITY_SET.has(itemType) ? quantityOf(r, itemType, households) : null,
      unit: FACILITY_SET.has(itemType) ? (itemType === 'ROAD_SURFACE' ? 'm2' : '个') : null,
      costFen: Math.round((budgetFen * weights[i]) / wsum / 100) * 100,
      costApprox: false,
    }));
    // Milestones through the plan year; 15% late by 31-120 days.
    const plan: [string, Date][] = [
      ['RESIDENT_CONSULTATION', cstDay(year, 1, r.int(5, 28))],
      ['DESIGN', cstDay(year, 3, r.int(1, 28))],
      ['START', cstDay(year, r.int(4, 5), r.int(1, 28))],
      ['COMPLETION', cstDay(year, r.int(10, 11), r.int(1, 28))],
      ['ACCEPTANCE', cstDay(year, 12, r.int(1, 20))],
      ['HANDOVER', cstDay(year + 1, 2, r.int(1, 28))],
    ];
    let acceptance: Record<string, unknown> | null = null;
    let status = 'PLANNED';
    let blocked = false;
    let shift = 0;
    const milestones = plan.map(([type, plannedAt]) => {
      const late = r.next() < 0.15;
      shift += late ? r.int(31, 120) : 0;
      const actual = new Date(plannedAt.getTime() + (shift - (late ? 0 : r.int(0, 10))) * DAY_MS);
      let actualAt: Date | null = !blocked && actual <= asOf ? actual : null;
      if (type === 'ACCEPTANCE' && actualAt) {
        const passed = r.next() < 0.9;
        acceptance = {
          at: actualAt,
          result: passed ? 'PASSED' : 'RECTIFY',
          residentSatisfaction: Math.round((0.85 + r.next() * 0.14) * 100) / 100,
          inspectorsOrgs: ['住建局', '街道办事处', '监理单位'],
        };
        if (!passed) actualAt = null; // rectification first: acceptance not done
      }
      if (actualAt) status = STATUS_BY_DONE[type];
      else blocked = true;
      return { type, plannedAt, actualAt, done: actualAt != null };
    });
    // Spend follows progress.
    const spentShare =
      status === 'UNDER_CONSTRUCTION' ? 0.3 + r.next() * 0.4 : status === 'COMPLETED' ? 0.9 + r.next() * 0.1 : status === 'ACCEPTED' || status === 'LONG_TERM_MGMT' ? 1 : 0;
    const spendAt = milestones.find((m) => m.type === 'START')?.actualAt ?? null;
    const spends = spentShare > 0 ? fundingSources.map((f) => ({ type: f.type, amountFen: Math.round((f.amountFen * spentShare) / 100) * 100, amountApprox: false, at: spendAt, note: null, clientKey: null })) : [];
    projects.push({
      _id,
      name: `${c.id} 老旧小区改造 (${year})`,
      communityIds: [c.id],
      cityCode: c.cityCode,
      districtCodes: [c.districtCode],
      planYear: year,
      batch: `${year}年第${r.int(1, 2)}批`,
      sponsor: companyFunded ? 'PROPERTY_COMPANY' : 'GOVERNMENT',
      sponsorCompanyUscc: null,
      status,
      scope: { buildings: Math.max(1, Math.round(households / 42)), households, floorAreaM2: households * 75 },
      items,
      budgetFen,
      budgetApprox: false,
      fundingSources,
      spends,
      spentFen: spends.length ? spends.reduce((s, x) => s + x.amountFen, 0) : null,
      milestones,
      ...lateIndexFields(milestones),
      acceptance,
      contractor: { name: `合成建设工程有限公司${r.int(1, 50)}`, uscc: null },
      source: 'synthetic',
      synthetic: true,
      createdAt: asOf,
      updatedAt: asOf,
    });
    if (status === 'COMPLETED' || status === 'ACCEPTED' || status === 'LONG_TERM_MGMT') {
      for (const it of items) if (FACILITY_SET.has(it.itemType)) upgraded.set(it.itemType, { projectId: _id, year });
    }
  }
  return { projects, upgraded };
}

function facilitiesFor(c: SyntheticCommunity, r: Rng, upgraded: Map<string, { projectId: string; year: number }>, asOf: Date) {
  const households = Math.max(1, c.householdCount);
  const types = new Set(r.shuffled(FACILITY_TYPES).slice(0, r.int(8, FACILITY_TYPES.length)));
  for (const t of upgraded.keys()) types.add(t as (typeof FACILITY_TYPES)[number]);
  return [...types].map((type) => {
    const x = r.next();
    const initial = c.isOld ? (x < 0.15 ? 'AGING' : x < 0.25 ? 'BROKEN' : x < 0.3 ? 'MISSING' : 'GOOD') : x < 0.05 ? 'AGING' : 'GOOD';
    const up = upgraded.get(type);
    const condition = up ? 'GOOD' : initial;
    const before = up ? (initial === 'GOOD' ? 'AGING' : initial) : null;
    return {
      _id: `fa_${c.id}_${type}`,
      communityId: c.id,
      cityCode: c.cityCode,
      districtCode: c.districtCode,
      buildingId: null,
      type,
      quantity: condition === 'MISSING' ? 0 : quantityOf(r, type, households),
      quantityApprox: false,
      condition,
      conditionBefore: before,
      history: up && before ? [{ condition: before, at: null, beforeYear: up.year, note: null }] : [],
      installedAt: null,
      installedYear: up ? up.year : c.builtYear || null,
      sourceProjectId: up?.projectId ?? null,
      costFen: null,
      costApprox: false,
      maintainerUscc: null,
      lastInspectedAt: cstDayStart(asOf, -r.int(1, 364)), // within LAST_12M of the as-of
      note: null,
      synthetic: true,
      createdAt: asOf,
      updatedAt: asOf,
    };
  });
}

/** Drops null, false and empty-array fields (the models' defaults) to keep bulk rows small. */
function compact(doc: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(doc)) {
    if (v === null || v === false || (Array.isArray(v) && v.length === 0)) continue;
    out[k] = v;
  }
  return out;
}

/**
 * Replaces the synthetic renovation rows with those of the given 小区 (none: the synthetic city is
 * removed), chunk by chunk (bounded memory), rebuilds the statistics rollups and returns the number
 * of raw documents written.
 */
export async function seedSynthetic(conn: Connection, communities: SyntheticCommunity[], seed: number, opts: SyntheticOptions = {}): Promise<number> {
  const asOf = opts.asOf ?? now();
  const m = registerModels(conn);
  await m.Project.init();
  await m.Facility.init();
  await m.Rollup.init();
  const projects = m.Project.collection;
  const facilities = m.Facility.collection;
  // Every synthetic row goes first, whichever 小区 it belongs to; demo and written rows stay.
  await projects.deleteMany({ synthetic: true });
  await facilities.deleteMany({ synthetic: true });
  await m.CommunityPlace.init();
  const places = m.CommunityPlace.collection;
  await places.deleteMany({ synthetic: true });
  let written = 0;
  for (let i = 0; i < communities.length; i += CHUNK) {
    const chunk = communities.slice(i, i + CHUNK).filter((c) => !REAL.has(c.id));
    if (!chunk.length) continue;
    const p: Record<string, unknown>[] = [];
    const f: Record<string, unknown>[] = [];
    const pl: Record<string, unknown>[] = [];
    for (const c of chunk) {
      const r = streamFor(seed, c.id);
      const { projects: cp, upgraded } = projectsFor(c, r, asOf);
      p.push(...cp);
      const rows = facilitiesFor(c, r, upgraded, asOf);
      if (typeof c.lat === 'number' && typeof c.lng === 'number') {
        const at: [number, number] = [c.lng, c.lat];
        const geo = streamFor(seed, `${c.id}:facility-location`);
        pl.push({ _id: c.id, cityCode: c.cityCode, districtCode: c.districtCode, location: { type: 'Point', coordinates: at }, synthetic: true, createdAt: asOf, updatedAt: asOf });
        for (const row of rows) Object.assign(row, { location: offsetPoint(at, geo.int(10, 250), geo.next() * 2 * Math.PI) });
      }
      f.push(...rows);
    }
    if (p.length) await projects.insertMany(p.map(compact) as never[], { ordered: false });
    if (f.length) await facilities.insertMany(f.map(compact) as never[], { ordered: false });
    if (pl.length) await places.insertMany(pl as never[], { ordered: false });
    written += p.length + f.length + pl.length;
  }
  await rebuildModels(m, opts.progress);
  return written;
}
