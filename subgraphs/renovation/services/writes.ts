/**
 * Write paths of the renovation subgraph. Every input is validated before anything is written; a
 * failure is a BAD_USER_INPUT naming the field (unknown ids name their id field). Creates carry an
 * idempotency `clientKey` backed by a unique index: a retried create returns the first result.
 * After each raw write, the statistics rollups are updated in the same request from the old and the
 * new version of the row (stats/rollups.ts); a retried key or a refused input changes nothing.
 */
import { randomUUID } from 'node:crypto';
import { DAY_MS, now } from '../../../lib/clock';
import { badInput } from '../../../lib/errors';
import { PROJECT_STATUSES, type CommunityPlaceDoc, type FacilityDoc, type Models, type ProjectDoc } from '../models';
import { lateIndexFields } from './lateness';
import { distanceM, MAX_LIFE_CIRCLE_METRES, pointIn, pointOf, type GeoPoint } from './nearby';
import { refusePersonalData } from '../../../lib/personal-data';
import { isDuplicateKey } from '../../../lib/db';
import { rollupsReady } from '../stats/rebuild';
import { createRollupWriter, type RollupWriter } from '../stats/rollups';

type Dateish = Date | string | null | undefined;
type MilestoneRow = { type: string; plannedAt: Date | null; actualAt: Date | null; done: boolean };

export interface MoneyIn {
  fen: number;
  approx?: boolean | null;
}

export interface CreateProjectIn {
  clientKey: string;
  name: string;
  cityCode: string;
  communities: readonly { id: string; districtCode: string }[];
  planYear: number;
  batch?: string | null;
  sponsor?: string | null;
  sponsorCompanyUscc?: string | null;
  status?: string | null;
  scope?: { buildings?: number | null; households?: number | null; floorAreaM2?: number | null } | null;
  items?: readonly { class: string; itemType: string; quantity?: number | null; unit?: string | null; cost?: MoneyIn | null }[] | null;
  budget?: MoneyIn | null;
  fundingSources?: readonly { type: string; amount: MoneyIn; confirmed?: boolean | null }[] | null;
  milestones?: readonly { type: string; plannedAt?: Dateish; actualAt?: Dateish }[] | null;
  contractor?: { name: string; uscc?: string | null } | null;
}

export interface MilestoneIn {
  projectId: string;
  type: string;
  plannedAt?: Dateish;
  actualAt?: Dateish;
}

export interface SpendIn {
  projectId: string;
  fundingType: string;
  amount: MoneyIn;
  at?: Dateish;
  note?: string | null;
  clientKey?: string | null;
}

export interface AcceptanceIn {
  projectId: string;
  at: Dateish;
  result: string;
  residentSatisfaction?: number | null;
  inspectorsOrgs: readonly string[];
}

export interface FacilityIn {
  communityId: string;
  districtCode?: string | null;
  type: string;
  buildingId?: string | null;
  quantity?: number | null;
  quantityApprox?: boolean | null;
  condition?: string | null;
  installedAt?: Dateish;
  installedYear?: number | null;
  sourceProjectId?: string | null;
  cost?: MoneyIn | null;
  maintainerUscc?: string | null;
  lastInspectedAt?: Dateish;
  note?: string | null;
  /** WGS84; null removes the location. */
  location?: { longitude: number; latitude: number } | null;
}

const CITY = /^\d{4}00$/;
const DISTRICT = /^\d{6}$/;
const USCC = /^[0-9A-Z]{18}$/;
const ID = /^[A-Za-z0-9_.:-]{1,100}$/;
const MIN_YEAR = 1990;
const MAX_YEAR = 2100;
/** A date recorded as done may not lie more than a day in the future (of the product clock). */
const FUTURE_SLACK = DAY_MS;

function text(field: string, v: string | null | undefined, max: number, required = false): string | null {
  if (v == null) {
    if (required) throw badInput(field, 'is required');
    return null;
  }
  const t = v.trim();
  if (!t) {
    if (required) throw badInput(field, 'must not be empty');
    return null;
  }
  if (t.length > max) throw badInput(field, `must be at most ${max} characters`);
  return t;
}

function moneyIn(field: string, m: MoneyIn | null | undefined, positive = false): { fen: number; approx: boolean } | null {
  if (m == null) return null;
  if (!Number.isSafeInteger(m.fen)) throw badInput(`${field}.fen`, 'must be an integer number of fen');
  if (positive ? m.fen <= 0 : m.fen < 0) throw badInput(`${field}.fen`, positive ? 'must be greater than 0' : 'must not be negative');
  return { fen: m.fen, approx: m.approx ?? false };
}

function nonNeg(field: string, v: number | null | undefined, integer = false): number | null {
  if (v == null) return null;
  if (!Number.isFinite(v) || v < 0) throw badInput(field, 'must be a non-negative number');
  if (integer && !Number.isInteger(v)) throw badInput(field, 'must be an integer');
  return v;
}

/** A date-time input; with `notAfter` (now), one that may not lie in the future. */
function date(field: string, v: Dateish, notAfter: Date | null = null): Date | null {
  if (v == null) return null;
  const d = v instanceof Date ? v : new Date(v);
  if (Number.isNaN(d.getTime())) throw badInput(field, 'must be an ISO-8601 date-time');
  const y = d.getUTCFullYear();
  if (y < MIN_YEAR || y > MAX_YEAR) throw badInput(field, `must be between ${MIN_YEAR} and ${MAX_YEAR}`);
  if (notAfter && d.getTime() > notAfter.getTime() + FUTURE_SLACK) throw badInput(field, 'must not be in the future');
  return d;
}

function year(field: string, v: number | null | undefined): number | null {
  if (v == null) return null;
  if (!Number.isInteger(v) || v < MIN_YEAR || v > MAX_YEAR) throw badInput(field, `must be a year between ${MIN_YEAR} and ${MAX_YEAR}`);
  return v;
}

function uscc(field: string, v: string | null | undefined): string | null {
  if (v == null) return null;
  if (!USCC.test(v)) throw badInput(field, 'must be an 18-character 统一社会信用代码 (digits and capital letters)');
  return v;
}

function id(field: string, v: string | null | undefined): string | null {
  if (v == null) return null;
  if (!ID.test(v)) throw badInput(field, 'must be 1-100 letters, digits or _ . : -');
  return v;
}

/** GB/T 2260: a district's city is its first four digits followed by 00. */
export const cityOfDistrict = (districtCode: string) => `${districtCode.slice(0, 4)}00`;

/**
 * Every check of a project create (no write) and the document it would store: used by
 * `createProject` and by the project import (./import.ts), so both follow one set of rules.
 */
export function prepareProject(input: CreateProjectIn, clientKey: string, at: Date) {
  const clock = () => at;
  const name = refusePersonalData('input.name', text('input.name', input.name, 200, true))!;
  if (!CITY.test(input.cityCode)) throw badInput('input.cityCode', 'must be a 6-digit GB/T 2260 city code ending in 00, e.g. 320100');
  if (!input.communities.length) throw badInput('input.communities', 'must name at least one 小区');
  if (input.communities.length > 200) throw badInput('input.communities', 'at most 200 小区 per project');
  const seen = new Set<string>();
  input.communities.forEach((c, i) => {
    id(`input.communities[${i}].id`, c.id);
    if (seen.has(c.id)) throw badInput(`input.communities[${i}].id`, `"${c.id}" is listed twice`);
    seen.add(c.id);
    if (!DISTRICT.test(c.districtCode)) throw badInput(`input.communities[${i}].districtCode`, 'must be a 6-digit GB/T 2260 district code');
    if (cityOfDistrict(c.districtCode) !== input.cityCode || c.districtCode === input.cityCode) {
      throw badInput(`input.communities[${i}].districtCode`, `district ${c.districtCode} is not in city ${input.cityCode}`);
    }
  });
  const planYear = year('input.planYear', input.planYear)!;
  const status = input.status ?? 'PLANNED';
  if (input.sponsorCompanyUscc != null && input.sponsor !== 'PROPERTY_COMPANY' && input.sponsor !== 'MIXED') {
    throw badInput('input.sponsorCompanyUscc', 'only for sponsor PROPERTY_COMPANY or MIXED');
  }
  const sponsorCompanyUscc = uscc('input.sponsorCompanyUscc', input.sponsorCompanyUscc);
  const scope = input.scope
    ? {
        buildings: nonNeg('input.scope.buildings', input.scope.buildings, true),
        households: nonNeg('input.scope.households', input.scope.households, true),
        floorAreaM2: nonNeg('input.scope.floorAreaM2', input.scope.floorAreaM2),
      }
    : null;
  const items = (input.items ?? []).map((it, i) => {
    const cost = moneyIn(`input.items[${i}].cost`, it.cost);
    return {
      class: it.class,
      itemType: it.itemType,
      quantity: nonNeg(`input.items[${i}].quantity`, it.quantity),
      unit: refusePersonalData(`input.items[${i}].unit`, text(`input.items[${i}].unit`, it.unit, 20)),
      costFen: cost?.fen ?? null,
      costApprox: cost?.approx ?? false,
    };
  });
  const budget = moneyIn('input.budget', input.budget);
  const fundingTypes = new Set<string>();
  const fundingSources = (input.fundingSources ?? []).map((f, i) => {
    if (fundingTypes.has(f.type)) throw badInput(`input.fundingSources[${i}].type`, `${f.type} is listed twice; give one amount per type`);
    fundingTypes.add(f.type);
    const amount = moneyIn(`input.fundingSources[${i}].amount`, f.amount)!;
    return { type: f.type, amountFen: amount.fen, amountApprox: amount.approx, confirmed: f.confirmed ?? false };
  });
  const milestoneTypes = new Set<string>();
  const milestones = (input.milestones ?? []).map((ms, i) => {
    if (milestoneTypes.has(ms.type)) throw badInput(`input.milestones[${i}].type`, `${ms.type} is listed twice`);
    milestoneTypes.add(ms.type);
    const actualAt = date(`input.milestones[${i}].actualAt`, ms.actualAt, clock());
    return { type: ms.type, plannedAt: date(`input.milestones[${i}].plannedAt`, ms.plannedAt), actualAt, done: actualAt != null };
  });
  const contractor = input.contractor
    ? { name: refusePersonalData('input.contractor.name', text('input.contractor.name', input.contractor.name, 200, true))!, uscc: uscc('input.contractor.uscc', input.contractor.uscc) }
    : null;
  const batch = refusePersonalData('input.batch', text('input.batch', input.batch, 100));

  const doc = {
    _id: `rp_${input.cityCode}_${planYear}_${randomUUID().replace(/-/g, '').slice(0, 12)}`,
    clientKey,
    name,
    communityIds: input.communities.map((c) => c.id),
    cityCode: input.cityCode,
    districtCodes: [...new Set(input.communities.map((c) => c.districtCode))].sort(),
    planYear,
    batch,
    sponsor: input.sponsor ?? null,
    sponsorCompanyUscc,
    status,
    scope,
    items,
    budgetFen: budget?.fen ?? null,
    budgetApprox: budget?.approx ?? false,
    fundingSources,
    spends: [],
    spentFen: null,
    milestones,
    ...lateIndexFields(milestones),
    acceptance: null,
    contractor,
  };
  return doc;
}

/** Matches the revision that was read (rows written before `rev` existed have none). */
const revGuard = (rev: number | null | undefined) => (rev == null ? { rev: { $exists: false } } : { rev });
const rank = (s: string) => PROJECT_STATUSES.indexOf(s as (typeof PROJECT_STATUSES)[number]);

/**
 * `clock` gives "now" for the "not in the future" checks and the facility history: the product
 * clock (lib/clock.ts) unless a test pins one through the context options.
 */
export function createWrites(m: Models, clock: () => Date = now, rollups: RollupWriter = createRollupWriter(m)) {
  // Rollups never built (a database from before them) are built before the first raw write, so
  // that write is then counted once, by its own update.
  const ready = () => rollupsReady(m);

  async function loadProject(projectId: string): Promise<ProjectDoc> {
    id('input.projectId', projectId);
    const p = await m.Project.findById(projectId).lean<ProjectDoc>();
    if (!p) throw badInput('input.projectId', `no renovation project with id "${projectId}"`);
    return p;
  }

  /**
   * Read-modify-write of one project guarded by its revision `rev` (optimistic concurrency): a concurrent
   * writer makes the guard miss and the change is recomputed from a fresh read.
   */
  async function modifyProject(projectId: string, change: (p: ProjectDoc) => Record<string, unknown>): Promise<ProjectDoc> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const p = await loadProject(projectId);
      const set = change(p);
      const updated = await m.Project.findOneAndUpdate({ _id: p._id, ...revGuard(p.rev) }, { $set: set, $inc: { rev: 1 } }, { returnDocument: 'after' }).lean<ProjectDoc>();
      if (updated) {
        // The revision guard makes `p` exactly the version this write replaced.
        await rollups.project(p, updated);
        return updated;
      }
    }
    throw badInput('input.projectId', 'the project is being changed concurrently; retry');
  }

  return {
    async createProject(input: CreateProjectIn): Promise<ProjectDoc> {
      await ready();
      const clientKey = text('input.clientKey', input.clientKey, 100, true)!;
      const existing = await m.Project.findOne({ clientKey }).lean<ProjectDoc>();
      if (existing) return existing;

      const doc = prepareProject(input, clientKey, clock());
      try {
        await m.Project.create(doc as never);
      } catch (e) {
        // A concurrent retry with the same key won the race: return its result.
        if (isDuplicateKey(e)) {
          const first = await m.Project.findOne({ clientKey }).lean<ProjectDoc>();
          if (first) return first;
        }
        throw e;
      }
      const created = (await m.Project.findById(doc._id).lean<ProjectDoc>())!;
      await rollups.project(null, created);
      return created;
    },

    async recordMilestone(input: MilestoneIn): Promise<ProjectDoc> {
      if (input.plannedAt == null && input.actualAt == null) throw badInput('input.actualAt', 'give plannedAt and/or actualAt');
      const plannedAt = date('input.plannedAt', input.plannedAt);
      const actualAt = date('input.actualAt', input.actualAt, clock());
      await ready();
      return modifyProject(input.projectId, (p) => {
        const milestones: MilestoneRow[] = (p.milestones ?? []).map((x) => ({ type: x.type, plannedAt: x.plannedAt ?? null, actualAt: x.actualAt ?? null, done: x.done ?? false }));
        let ms = milestones.find((x) => x.type === input.type);
        if (!ms) {
          ms = { type: input.type, plannedAt: null, actualAt: null, done: false };
          milestones.push(ms);
        }
        if (plannedAt) ms.plannedAt = plannedAt;
        if (actualAt) {
          ms.actualAt = actualAt;
          ms.done = true;
        }
        const order = ['RESIDENT_CONSULTATION', 'DESIGN', 'START', 'COMPLETION', 'ACCEPTANCE', 'HANDOVER'];
        milestones.sort((a, b) => order.indexOf(a.type) - order.indexOf(b.type));
        // Actual dates advance the status, never move it back.
        const next = actualAt
          ? ({ START: 'UNDER_CONSTRUCTION', COMPLETION: 'COMPLETED', HANDOVER: 'LONG_TERM_MGMT' } as Record<string, string>)[input.type]
          : undefined;
        const status = next && rank(next) > rank(p.status) ? next : p.status;
        return { milestones, status, ...lateIndexFields(milestones) };
      });
    },

    async recordSpend(input: SpendIn): Promise<ProjectDoc> {
      const amount = moneyIn('input.amount', input.amount, true)!;
      const at = date('input.at', input.at, clock());
      const note = text('input.note', input.note, 500);
      const clientKey = text('input.clientKey', input.clientKey, 100);
      await ready();
      const p = await loadProject(input.projectId);
      if (!(p.fundingSources ?? []).some((f) => f.type === input.fundingType)) {
        throw badInput('input.fundingType', `project ${p._id} has no ${input.fundingType} funding source`);
      }
      const entry = { type: input.fundingType, amountFen: amount.fen, amountApprox: amount.approx, at, note, clientKey };
      // One atomic update: the ledger entry and the running total move together; a retried key
      // fails the guard and is not counted twice.
      const filter: Record<string, unknown> = { _id: p._id };
      if (clientKey) filter['spends.clientKey'] = { $ne: clientKey };
      // $inc cannot add to null: a project without spend starts its total at 0 first.
      if (p.spentFen == null) await m.Project.updateOne({ _id: p._id, spentFen: null }, { $set: { spentFen: 0 } });
      const updated = await m.Project.findOneAndUpdate(filter, { $push: { spends: entry }, $inc: { spentFen: amount.fen, rev: 1 } }, { returnDocument: 'after' }).lean<ProjectDoc>();
      if (!updated) return loadProject(p._id); // a retried key: counted once, already
      // The update is atomic: the version before it is this one without its own (last) entry.
      const spends = updated.spends ?? [];
      await rollups.project({ ...updated, spends: spends.slice(0, -1), spentFen: (updated.spentFen ?? 0) - amount.fen }, updated);
      return updated;
    },

    async recordAcceptance(input: AcceptanceIn): Promise<ProjectDoc> {
      const at = date('input.at', input.at, clock());
      if (!at) throw badInput('input.at', 'is required');
      if (input.residentSatisfaction != null && !(input.residentSatisfaction >= 0 && input.residentSatisfaction <= 1)) {
        throw badInput('input.residentSatisfaction', 'must be a share between 0 and 1');
      }
      if (!input.inspectorsOrgs.length) throw badInput('input.inspectorsOrgs', 'name at least one inspecting organisation');
      const inspectorsOrgs = input.inspectorsOrgs.map((o, i) => refusePersonalData(`input.inspectorsOrgs[${i}]`, text(`input.inspectorsOrgs[${i}]`, o, 200, true))!);
      await ready();
      return modifyProject(input.projectId, (p) => {
        const completion = (p.milestones ?? []).find((x) => x.type === 'COMPLETION');
        if (rank(p.status) < rank('COMPLETED') && !(completion && (completion.done || completion.actualAt))) {
          throw badInput('input.projectId', `project ${p._id} is ${p.status}; acceptance needs a completed project`);
        }
        if (completion?.actualAt && at.getTime() < new Date(completion.actualAt).getTime()) {
          throw badInput('input.at', 'acceptance cannot precede completion');
        }
        const milestones: MilestoneRow[] = (p.milestones ?? []).map((x) => ({ type: x.type, plannedAt: x.plannedAt ?? null, actualAt: x.actualAt ?? null, done: x.done ?? false }));
        if (input.result === 'PASSED') {
          const ms = milestones.find((x) => x.type === 'ACCEPTANCE');
          if (ms) Object.assign(ms, { actualAt: at, done: true });
          else milestones.push({ type: 'ACCEPTANCE', plannedAt: null, actualAt: at, done: true });
        }
        const status = input.result === 'PASSED' ? (rank(p.status) < rank('ACCEPTED') ? 'ACCEPTED' : p.status) : rank(p.status) < rank('COMPLETED') ? 'COMPLETED' : p.status;
        return {
          acceptance: { at, result: input.result, residentSatisfaction: input.residentSatisfaction ?? null, inspectorsOrgs },
          milestones,
          status,
          ...lateIndexFields(milestones),
        };
      });
    },

    async upsertFundingSource(input: { projectId: string; type: string; amount: MoneyIn; confirmed: boolean }): Promise<ProjectDoc> {
      const amount = moneyIn('input.amount', input.amount)!;
      await ready();
      return modifyProject(input.projectId, (p) => {
        const spent = (p.spends ?? []).filter((x) => x.type === input.type).reduce((sum, x) => sum + x.amountFen, 0);
        if (amount.fen < spent) throw badInput('input.amount.fen', `${spent} fen is already spent from ${input.type}; the amount cannot be lower`);
        const row = { type: input.type, amountFen: amount.fen, amountApprox: amount.approx, confirmed: input.confirmed };
        const sources = (p.fundingSources ?? []).map((f) => ({ type: f.type as string, amountFen: f.amountFen, amountApprox: f.amountApprox ?? false, confirmed: f.confirmed ?? false }));
        const i = sources.findIndex((f) => f.type === input.type);
        if (i >= 0) sources[i] = row;
        else sources.push(row);
        return { fundingSources: sources };
      });
    },

    async advanceProjectStatus(input: { projectId: string; status: string }): Promise<ProjectDoc> {
      await ready();
      return modifyProject(input.projectId, (p) => {
        if (input.status === p.status) return { status: p.status };
        if (rank(input.status) < rank(p.status)) throw badInput('input.status', `${p._id} is ${p.status}; a status never moves back to ${input.status}`);
        if (input.status === 'COMPLETED') throw badInput('input.status', 'COMPLETED is set by recording the COMPLETION milestone (recordMilestone)');
        if (input.status === 'ACCEPTED') throw badInput('input.status', 'ACCEPTED is set by a PASSED acceptance (recordAcceptance)');
        if (input.status === 'LONG_TERM_MGMT' && p.status !== 'ACCEPTED') throw badInput('input.status', `LONG_TERM_MGMT follows ACCEPTED; ${p._id} is ${p.status}`);
        return { status: input.status };
      });
    },

    async upsertFacility(input: FacilityIn): Promise<FacilityDoc> {
      id('input.communityId', input.communityId);
      const buildingId = id('input.buildingId', input.buildingId);
      if (input.districtCode != null && (!DISTRICT.test(input.districtCode) || input.districtCode.endsWith('00'))) {
        throw badInput('input.districtCode', 'must be a 6-digit GB/T 2260 district code');
      }
      const patch: Record<string, unknown> = {};
      if (input.quantity !== undefined) patch.quantity = nonNeg('input.quantity', input.quantity);
      if (input.quantityApprox != null) patch.quantityApprox = input.quantityApprox;
      if (input.installedAt !== undefined) patch.installedAt = date('input.installedAt', input.installedAt, clock());
      if (input.installedYear !== undefined) patch.installedYear = year('input.installedYear', input.installedYear);
      if (input.cost !== undefined) {
        const cost = moneyIn('input.cost', input.cost);
        patch.costFen = cost?.fen ?? null;
        patch.costApprox = cost?.approx ?? false;
      }
      if (input.maintainerUscc !== undefined) patch.maintainerUscc = uscc('input.maintainerUscc', input.maintainerUscc);
      if (input.lastInspectedAt !== undefined) patch.lastInspectedAt = date('input.lastInspectedAt', input.lastInspectedAt, clock());
      if (input.note !== undefined) patch.note = text('input.note', input.note, 500);
      if (input.sourceProjectId != null) {
        id('input.sourceProjectId', input.sourceProjectId);
        const project = await m.Project.findById(input.sourceProjectId).select({ communityIds: 1 }).lean<Pick<ProjectDoc, '_id' | 'communityIds'>>();
        if (!project) throw badInput('input.sourceProjectId', `no renovation project with id "${input.sourceProjectId}"`);
        if (!project.communityIds.includes(input.communityId)) throw badInput('input.sourceProjectId', `project ${project._id} does not cover ${input.communityId}`);
        patch.sourceProjectId = project._id;
      } else if (input.sourceProjectId === null) patch.sourceProjectId = null;
      // A location is on the 小区's grounds: within the life-circle radius of its known location.
      let location: GeoPoint | null | undefined;
      if (input.location !== undefined) {
        location = input.location === null ? null : pointIn('input.location', input.location);
        const centre = location ? pointOf(await m.CommunityPlace.findById(input.communityId).lean<CommunityPlaceDoc>()) : null;
        const d = centre && location ? distanceM(centre, location.coordinates) : 0;
        if (d > MAX_LIFE_CIRCLE_METRES) {
          throw badInput('input.location', `is ${Math.round(d)} m from ${input.communityId}; a facility of a 小区 lies within ${MAX_LIFE_CIRCLE_METRES} m of it (longitude and latitude swapped?)`);
        }
        if (location) patch.location = location;
      }

      const key: Record<string, unknown> = { communityId: input.communityId, buildingId: buildingId ?? null, type: input.type };
      await ready();
      for (let attempt = 0; attempt < 5; attempt++) {
        const existing = await m.Facility.findOne(key as never).lean<FacilityDoc>();
        if (!existing) {
          // The 小区's district comes from the input or from its other inventory rows.
          let districtCode = input.districtCode ?? null;
          if (!districtCode) {
            const sibling = await m.Facility.findOne({ communityId: input.communityId }).select({ districtCode: 1 }).lean<Pick<FacilityDoc, 'districtCode'>>();
            districtCode = sibling?.districtCode ?? null;
          }
          if (!districtCode) throw badInput('input.districtCode', `is required for the first facility of ${input.communityId}`);
          const doc = {
            _id: `fa_${input.communityId}_${buildingId ? `${buildingId}_` : ''}${input.type}`,
            ...key,
            cityCode: cityOfDistrict(districtCode),
            districtCode,
            condition: input.condition ?? null,
            ...patch,
          };
          try {
            await m.Facility.create(doc as never);
          } catch (e) {
            if (isDuplicateKey(e)) continue; // created concurrently: update it instead
            throw e;
          }
          const created = (await m.Facility.findById(doc._id).lean<FacilityDoc>())!;
          await rollups.facility(null, created);
          return created;
        }
        if (input.districtCode && input.districtCode !== existing.districtCode) {
          throw badInput('input.districtCode', `${input.communityId} is recorded in district ${existing.districtCode}`);
        }
        const set: Record<string, unknown> = { ...patch };
        const update: Record<string, unknown> = { $set: set, $inc: { rev: 1 } };
        if (location === null) update.$unset = { location: 1 };
        if (input.condition !== undefined && input.condition !== existing.condition) {
          set.condition = input.condition ?? null;
          if (existing.condition) {
            set.conditionBefore = existing.condition;
            update.$push = { history: { condition: existing.condition, at: clock(), beforeYear: null, note: null } };
          }
        }
        const updated = await m.Facility.findOneAndUpdate({ _id: existing._id, ...revGuard(existing.rev) }, update, { returnDocument: 'after' }).lean<FacilityDoc>();
        if (updated) {
          await rollups.facility(existing, updated);
          return updated;
        }
      }
      throw badInput('input.communityId', 'the facility is being changed concurrently; retry');
    },
  };
}
export type Writes = ReturnType<typeof createWrites>;
