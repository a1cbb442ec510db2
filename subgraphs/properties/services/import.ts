/**
 * Spreadsheet imports of the properties subgraph (docs/import.md): the 小区 register with each
 * 小区's current service contract, and fee-collection periods. Every row is validated on its own
 * (fee rows with the checks of `upsertFeeCollection`, ./writes.ts); a rejected row writes nothing.
 * Accepted rows are compared with what is stored (unchanged rows are not written), written, and the
 * statistics rollups they touch are brought up to date by the same rollup writer the mutations use
 * (../stats/write.ts), before the call answers.
 *
 * Deferred statistics (the import client's default): a call with `deferStatistics` records what its
 * rows touch in `import_pending_stats` (before its raw writes) instead of refreshing, and
 * `finishPropertiesImport` refreshes the union of every pending record once, then removes the records it
 * served. The register figures of an area are then recomputed once per import instead of once per
 * batch (which grows with the register). A client that dies between batches leaves its records
 * behind: the statistics lag until the next `finishImport` (any import's: it serves every pending
 * record) or `npm run stats:rebuild`; `finishImport` answers how many records it served.
 * Buildings are not part of any statistic.
 */
import { randomUUID } from 'node:crypto';
import type { Collection } from 'mongodb';
import { cstYear, now } from '../../../lib/clock';
import { badInput } from '../../../lib/errors';
import { accepted, changedFields, checkBatch, duplicateKeys, rejected, summarise, validateRow, type ImportResult, type RowVerdict } from '../../../lib/import/batch';
import { refusePersonalData } from '../../../lib/personal-data';
import type { AdminAreaDoc, BuildingDoc, CommunityDoc, CompanyDoc, ContractDoc, FeeDoc, Models } from '../models';
import { cellCode, cellOf, COMMUNITY_FIELDS, type CellKey, type CommunityRow } from '../stats/figures';
import { LATEST, REGISTER } from '../stats/model';
import type { RefreshTarget, RollupWriter } from '../stats/write';
import { checkFeeInput, feeDocOf, feeIdOf, type FeeInput } from './writes';

export const HOUSING_TYPES = ['COMMERCIAL', 'RESETTLEMENT', 'REFORM_HOUSING', 'AFFORDABLE', 'MIXED'] as const;
export const MANAGEMENT_MODES = ['MARKET', 'CUSTODIAL_PUBLIC_WELFARE', 'STREET_FALLBACK', 'SELF_MANAGED', 'NONE'] as const;
export const SELECTION_METHODS = ['PUBLIC_TENDER', 'OWNERS_COMMITTEE_RECRUITMENT', 'STREET_CUSTODY', 'PRELIMINARY', 'NEGOTIATED'] as const;
export const REPORTED_RATE_BASES = ['HOUSEHOLD', 'AMOUNT', 'UNKNOWN'] as const;

/** Ids per read when the end of an import reads what its batches wrote. */
const READ_GROUP = 1000;
const COMMUNITY_ID = /^cm_(\d{6})_[A-Za-z0-9]{1,30}$/;
const USCC = /^[0-9A-Z]{18}$/;

export interface CommunityImportRow {
  row: number;
  id?: string | null;
  name?: string | null;
  district?: string | null;
  street?: string | null;
  neighborhood?: string | null;
  address?: string | null;
  builtYear?: number | null;
  housingType?: string | null;
  buildingCount?: number | null;
  householdCount?: number | null;
  residentCount?: number | null;
  floorAreaM2?: number | null;
  managementMode?: string | null;
  servicePromise?: string | null;
  companyName?: string | null;
  companyUscc?: string | null;
  selectionMethod?: string | null;
  contractStart?: Date | string | null;
  contractEnd?: Date | string | null;
  feeStandardYuanPerM2Month?: number | null;
}

/** One building (楼栋) of a 小区: natural key 小区编码 + 楼栋号. */
export interface BuildingImportRow {
  row: number;
  communityId?: string | null;
  number?: string | null;
  floors?: number | null;
  unitCount?: number | null;
  hasElevator?: boolean | null;
  builtYear?: number | null;
}

/** A building number as stored and compared: trimmed, inner runs of spaces as one. */
export const buildingNumber = (v: string) => v.trim().replace(/\s+/g, ' ');
const buildingKey = (communityId: string, number: string) => `${communityId}|${number}`;

export type FeeImportRow = { row: number } & { [K in keyof FeeInput]?: FeeInput[K] | null };

function required<T>(field: string, v: T | null | undefined): T {
  if (v == null || (typeof v === 'string' && v.trim() === '')) throw badInput(field, 'is required');
  return v;
}
function oneOf(field: string, v: string | null | undefined, allowed: readonly string[]): string | null {
  if (v == null) return null;
  if (!allowed.includes(v)) throw badInput(field, `unknown value "${v}"; allowed: ${allowed.join(', ')}`);
  return v;
}
function count(field: string, v: number | null | undefined, max: number): number | null {
  if (v == null) return null;
  if (!Number.isInteger(v) || v < 0 || v > max) throw badInput(field, `must be between 0 and ${max}`);
  return v;
}
function publicText(field: string, v: string | null | undefined, max: number): string | null {
  if (v == null) return null;
  const t = v.trim();
  if (!t) return null;
  if (t.length > max) throw badInput(field, `must be at most ${max} characters`);
  return refusePersonalData(field, t);
}
function date(field: string, v: Date | string | null | undefined): Date | null {
  if (v == null) return null;
  const d = v instanceof Date ? v : new Date(v);
  if (Number.isNaN(d.getTime())) throw badInput(field, 'not a valid date-time');
  if (d.getUTCFullYear() < 1950 || d.getUTCFullYear() > 2100) throw badInput(field, 'must be between 1950 and 2100');
  return d;
}

/** Admin areas of the register, for resolving 所在区/街道/社区 given by code or by name. */
class Areas {
  private readonly byId = new Map<string, AdminAreaDoc>();
  constructor(rows: AdminAreaDoc[]) {
    for (const r of rows) this.byId.set(r._id, r);
  }
  get(id: string) {
    return this.byId.get(id);
  }
  find(level: string, value: string, parent: string | null): AdminAreaDoc | undefined {
    const v = value.trim();
    const hit = this.byId.get(v);
    if (hit && hit.level === level && (parent == null || hit.parentCode === parent)) return hit;
    for (const a of this.byId.values()) if (a.level === level && a.name === v && (parent == null || a.parentCode === parent)) return a;
    return undefined;
  }
}

interface PlannedCommunity {
  row: number;
  id: string;
  set: Record<string, unknown>;
  contract: { uscc: string; set: Record<string, unknown> } | null;
  company: { uscc: string; name: string } | null;
}

export function createImports(m: Models, rollups: RollupWriter) {
  /**
   * After 小区 rows were written: what `rollups.communitiesWritten` brings up to date (register,
   * LATEST and every period of their rows, in their cells and the cells they left), except the
   * LATEST document of a new 小区 without fee rows or surveys: its figures are empty, and an empty
   * document is one the rebuild does not write either (a 小区 written by this import cannot have
   * rows yet, since fee rows and surveys need the 小区 first). Skipping them keeps a 40,000-row
   * import from recomputing 40,000 empty documents.
   */
  async function communitiesTarget(ids: string[], formerCells: CellKey[], existed: ReadonlySet<string>): Promise<RefreshTarget> {
    const rows: CommunityRow[] = [];
    const latest = new Set<string>(existed);
    const periods = new Set<string>();
    // In groups of READ_GROUP ids: a query's cost on the embedded engine grows with the length of
    // its $in list times the documents it matches (the end of an import reads 40,000 at once).
    for (let i = 0; i < ids.length; i += READ_GROUP) {
      const group = ids.slice(i, i + READ_GROUP);
      const filter = { communityId: { $in: group } };
      const [r, feeIds, surveyIds, feePeriods, surveyPeriods] = await Promise.all([
        m.Community.collection.find({ _id: { $in: group } } as never, { projection: COMMUNITY_FIELDS }).toArray() as unknown as Promise<CommunityRow[]>,
        m.Fee.collection.distinct('communityId', filter),
        m.Survey.collection.distinct('communityId', filter),
        m.Fee.collection.distinct('period', filter),
        m.Survey.collection.distinct('period', filter),
      ]);
      rows.push(...r);
      for (const id of [...feeIds, ...surveyIds] as string[]) latest.add(id);
      for (const p of [...feePeriods, ...surveyPeriods] as string[]) periods.add(p);
    }
    const buckets = [REGISTER, LATEST, ...periods];
    const cells = new Map<string, CellKey>();
    for (const c of [...rows.map(cellOf), ...formerCells]) cells.set(cellCode(c), c);
    return { communities: rows.filter((r) => latest.has(r._id)), cells: [...cells.values()].map((cell) => ({ cell, buckets })) };
  }

  /** What fee rows of these 小区 in these periods touch: their LATEST and period buckets, up the hierarchy (as `rowWritten`). */
  function feesTarget(touched: Iterable<{ c: CommunityRow; periods: Iterable<string> }>): RefreshTarget {
    const communities = new Map<string, CommunityRow>();
    const cells = new Map<string, { cell: CellKey; buckets: Set<string> }>();
    for (const { c, periods } of touched) {
      communities.set(c._id, c);
      const cell = cellOf(c);
      const e = cells.get(cellCode(cell)) ?? { cell, buckets: new Set([LATEST]) };
      for (const p of periods) e.buckets.add(p);
      cells.set(cellCode(cell), e);
    }
    return { communities: [...communities.values()], cells: [...cells.values()].map((e) => ({ cell: e.cell, buckets: [...e.buckets] })) };
  }

  /** One target serving several: 小区 by id, cells by code with the union of their buckets. */
  function mergeTargets(targets: readonly RefreshTarget[]): RefreshTarget {
    const communities = new Map<string, CommunityRow>();
    const cells = new Map<string, { cell: CellKey; buckets: Set<string> }>();
    for (const t of targets) {
      for (const c of t.communities) communities.set(c._id, c);
      for (const { cell, buckets } of t.cells) {
        const e = cells.get(cellCode(cell)) ?? { cell, buckets: new Set<string>() };
        for (const b of buckets) e.buckets.add(b);
        cells.set(cellCode(cell), e);
      }
    }
    return { communities: [...communities.values()], cells: [...cells.values()].map((e) => ({ cell: e.cell, buckets: [...e.buckets] })) };
  }

  // ---- deferred statistics (see the head of this file) ------------------------------------------
  interface PendingDoc {
    _id: string;
    kind: 'communities' | 'fees';
    at: Date;
    /** 小区 written (communities) or whose fee rows were written (fees). */
    ids: string[];
    /** communities: those that existed before the call; the cells they were in. */
    existed?: string[];
    formerCells?: CellKey[];
    /** fees: the periods written, per 小区 (parallel to `ids`). */
    periods?: string[][];
  }
  const pending = () => m.Rollup.db.collection('import_pending_stats') as unknown as Collection<PendingDoc>;
  /** Records what a deferred call is about to write; written before the raw writes, so a crash cannot lose it. */
  async function recordPending(doc: Omit<PendingDoc, '_id' | 'at'>) {
    await pending().insertOne({ _id: randomUUID(), at: now(), ...doc });
  }

  /**
   * Refreshes the statistics of every pending record once (the union of what they touch), then
   * removes the records it served. Idempotent: a second call finds nothing to do; records written
   * meanwhile wait for the next call.
   */
  async function finishImport(): Promise<{ batches: number; records: number; areas: number }> {
    const docs = await pending().find({}).toArray();
    if (!docs.length) return { batches: 0, records: 0, areas: 0 };
    const targets: RefreshTarget[] = [];
    const written = docs.filter((d) => d.kind === 'communities');
    if (written.length) {
      const ids = [...new Set(written.flatMap((d) => d.ids))];
      const former = new Map<string, CellKey>();
      for (const d of written) for (const c of d.formerCells ?? []) former.set(cellCode(c), c);
      targets.push(await communitiesTarget(ids, [...former.values()], new Set(written.flatMap((d) => d.existed ?? []))));
    }
    const feeDocs = docs.filter((d) => d.kind === 'fees');
    if (feeDocs.length) {
      const periodsOf = new Map<string, Set<string>>();
      for (const d of feeDocs) d.ids.forEach((id, i) => { const s = periodsOf.get(id) ?? new Set<string>(); for (const p of d.periods?.[i] ?? []) s.add(p); periodsOf.set(id, s); });
      const rows: CommunityRow[] = [];
      const ids = [...periodsOf.keys()];
      for (let i = 0; i < ids.length; i += READ_GROUP) {
        rows.push(...((await m.Community.collection.find({ _id: { $in: ids.slice(i, i + READ_GROUP) } } as never, { projection: COMMUNITY_FIELDS }).toArray()) as unknown as CommunityRow[]));
      }
      targets.push(feesTarget(rows.map((c) => ({ c, periods: periodsOf.get(c._id) ?? [] }))));
    }
    const target = mergeTargets(targets);
    await rollups.refresh(target);
    await pending().deleteMany({ _id: { $in: docs.map((d) => d._id) } });
    return { batches: docs.length, records: new Set(docs.flatMap((d) => d.ids)).size, areas: target.cells.length };
  }

  async function importCommunities(rows: readonly CommunityImportRow[], dryRun: boolean, deferStatistics = false): Promise<ImportResult> {
    checkBatch(rows);
    const verdicts: RowVerdict[] = [];
    const dups = duplicateKeys(rows, (r) => r.id?.trim() || null, 'id');
    const ids = [...new Set(rows.map((r) => r.id?.trim()).filter((x): x is string => !!x))];
    const usccs = [...new Set(rows.map((r) => r.companyUscc?.trim()).filter((x): x is string => !!x))];
    const names = [...new Set(rows.map((r) => r.companyName?.trim()).filter((x): x is string => !!x))];
    const [areaRows, existing, currents, companies] = await Promise.all([
      m.AdminArea.find({}).lean<AdminAreaDoc[]>().exec(),
      m.Community.find({ _id: { $in: ids } }).lean<CommunityDoc[]>().exec(),
      m.Contract.find({ communityId: { $in: ids }, current: true }).lean<ContractDoc[]>().exec(),
      m.Company.find({ $or: [{ _id: { $in: usccs } }, { name: { $in: names } }] }).lean<CompanyDoc[]>().exec(),
    ]);
    const areas = new Areas(areaRows);
    const stored = new Map(existing.map((c) => [c._id, c]));
    const currentOf = new Map(currents.map((c) => [c.communityId, c]));
    const companyByUscc = new Map(companies.map((c) => [c._id, c.name]));
    const companyByName = new Map(companies.map((c) => [c.name, c._id]));
    const thisYear = cstYear(now());
    const plans: PlannedCommunity[] = [];

    for (const r of rows) {
      const dup = dups.get(r.row);
      if (dup) {
        verdicts.push(dup);
        continue;
      }
      const key = r.id?.trim() || null;
      const checked = await validateRow(r.row, key, () => {
        const id = required('id', key);
        const idMatch = COMMUNITY_ID.exec(id);
        if (!idMatch) throw badInput('id', 'expected cm_<district code>_<suffix> (letters and digits), e.g. cm_320104_0001');
        const name = publicText('name', required('name', r.name), 100)!;
        const district = areas.find('DISTRICT', required('district', r.district), null);
        if (!district) throw badInput('district', `unknown district "${r.district}"`);
        if (idMatch[1] !== district._id) throw badInput('id', `does not match 所在区 ${district._id}`);
        const street = r.street?.trim() ? areas.find('STREET', r.street, district._id) : null;
        if (r.street?.trim() && !street) throw badInput('street', `unknown street "${r.street}" in district ${district._id}`);
        let neighborhood: AdminAreaDoc | null | undefined = null;
        if (r.neighborhood?.trim()) {
          neighborhood = areas.find('NEIGHBORHOOD', r.neighborhood, street?._id ?? null);
          if (!neighborhood || (!street && areas.get(neighborhood.parentCode ?? '')?.parentCode !== district._id)) {
            throw badInput('neighborhood', `unknown neighbourhood "${r.neighborhood}" in street ${street?._id ?? '(any)'}`);
          }
        }
        if (r.builtYear != null && (!Number.isInteger(r.builtYear) || r.builtYear < 1900 || r.builtYear > thisYear)) throw badInput('builtYear', `must be between 1900 and ${thisYear}`);
        const city = areas.get(district.cityCode);
        const set: Record<string, unknown> = { name, cityCode: district.cityCode, districtCode: district._id };
        const put = (k: string, v: unknown) => {
          if (v != null) set[k] = v;
        };
        put('streetCode', street?._id ?? (neighborhood ? neighborhood.parentCode : null));
        put('neighborhoodCode', neighborhood?._id);
        put('address', publicText('address', r.address, 200));
        if (r.builtYear != null) {
          set.builtYear = r.builtYear;
          set.builtDecade = Math.floor(r.builtYear / 10) * 10;
          set.isOldCommunity = r.builtYear <= (city?.oldCommunityCutoffYear ?? 2000);
        }
        put('housingType', oneOf('housingType', r.housingType, HOUSING_TYPES));
        put('buildingCount', count('buildingCount', r.buildingCount, 10_000));
        put('householdCount', count('householdCount', r.householdCount, 100_000));
        put('residentCount', count('residentCount', r.residentCount, 500_000));
        if (r.floorAreaM2 != null && (!Number.isFinite(r.floorAreaM2) || r.floorAreaM2 < 0 || r.floorAreaM2 > 100_000_000)) throw badInput('floorAreaM2', 'must be between 0 and 100000000');
        put('floorAreaM2', r.floorAreaM2);
        put('managementMode', oneOf('managementMode', r.managementMode, MANAGEMENT_MODES));
        put('servicePromise', publicText('servicePromise', r.servicePromise, 500));

        const companyName = publicText('companyName', r.companyName, 200);
        const uscc = r.companyUscc?.trim() || null;
        let contract: PlannedCommunity['contract'] = null;
        let company: PlannedCommunity['company'] = null;
        if (companyName && !uscc) throw badInput('companyUscc', 'give companyUscc with companyName');
        const selectionMethod = oneOf('selectionMethod', r.selectionMethod, SELECTION_METHODS);
        const start = date('contractStart', r.contractStart);
        const end = date('contractEnd', r.contractEnd);
        if (start && end && end < start) throw badInput('contractEnd', 'contractEnd must not be before contractStart');
        const fee = r.feeStandardYuanPerM2Month;
        if (fee != null && (!Number.isFinite(fee) || fee < 0 || fee > 100)) throw badInput('feeStandardYuanPerM2Month', 'must be between 0 and 100');
        if (uscc) {
          if (!USCC.test(uscc)) throw badInput('companyUscc', 'must be an 18-character 统一社会信用代码 (digits and capital letters)');
          const knownName = companyByUscc.get(uscc);
          if (knownName != null && companyName && knownName !== companyName) throw badInput('companyUscc', `USCC ${uscc} belongs to "${knownName}"`);
          if (companyName && companyByName.has(companyName) && companyByName.get(companyName) !== uscc) {
            throw badInput('companyName', `company name "${companyName}" belongs to USCC ${companyByName.get(companyName)}`);
          }
          if (knownName == null) company = { uscc, name: required('companyName', companyName) };
          const cset: Record<string, unknown> = { communityId: id, companyUscc: uscc, current: true };
          if (selectionMethod) cset.selectionMethod = selectionMethod;
          if (start) cset.startDate = start;
          if (end) cset.endDate = end;
          if (fee != null) cset.feeStandardFenPerM2Month = Math.round(fee * 100);
          contract = { uscc, set: cset };
          set.currentCompanyUscc = uscc;
        } else if (selectionMethod || start || end || fee != null) {
          throw badInput('companyUscc', 'is required');
        }
        return { row: r.row, id, set, contract, company } satisfies PlannedCommunity;
      });
      if (!checked.ok) {
        verdicts.push(checked.verdict);
        continue;
      }
      const p = checked.value;
      // Companies named in this call count for the next rows (one name, one USCC).
      if (p.company) {
        companyByUscc.set(p.company.uscc, p.company.name);
        companyByName.set(p.company.name, p.company.uscc);
      }
      plans.push(p);
    }

    // Compare with what is stored; write only what changes.
    const contractIds = plans.filter((p) => p.contract).map((p) => `ct_${p.id}_${p.contract!.uscc}`);
    const storedContracts = new Map(
      (await m.Contract.find({ _id: { $in: contractIds } }).lean<ContractDoc[]>().exec()).map((c) => [c._id, c]),
    );
    const communityOps: Parameters<typeof m.Community.bulkWrite>[0] = [];
    const contractOps: Parameters<typeof m.Contract.bulkWrite>[0] = [];
    const companyDocs: Record<string, unknown>[] = [];
    const newCommunities: Record<string, unknown>[] = [];
    const newContracts: Record<string, unknown>[] = [];
    const written: string[] = [];
    const formerCells: CellKey[] = [];
    const at = now();
    for (const p of plans) {
      const before = stored.get(p.id);
      const changes = changedFields(before as unknown as Record<string, unknown>, p.set);
      let contractChanged = false;
      if (p.contract) {
        const cid = `ct_${p.id}_${p.contract.uscc}`;
        const prev = currentOf.get(p.id);
        contractChanged = changedFields(storedContracts.get(cid) as unknown as Record<string, unknown>, p.contract.set).length > 0;
        if (prev && prev._id !== cid) {
          contractChanged = true;
          contractOps.push({ updateOne: { filter: { _id: prev._id }, update: { $set: { current: false, updatedAt: at } } } });
        }
        if (contractChanged && storedContracts.has(cid)) {
          contractOps.push({ updateOne: { filter: { _id: cid }, update: { $set: { ...p.contract.set, updatedAt: at } } } });
        } else if (contractChanged) {
          newContracts.push({ _id: cid, inferred: false, serviceItems: [], ...p.contract.set, createdAt: at, updatedAt: at });
        }
      }
      if (p.company) companyDocs.push({ _id: p.company.uscc, name: p.company.name, usccVerified: true, createdAt: at, updatedAt: at });
      if (!before) {
        verdicts.push(accepted(p.row, p.id, 'INSERTED'));
      } else if (changes.length || contractChanged || p.company) {
        verdicts.push(accepted(p.row, p.id, 'UPDATED'));
      } else {
        verdicts.push(accepted(p.row, p.id, 'UNCHANGED'));
        continue;
      }
      if (before) formerCells.push(cellOf(before));
      if (before) communityOps.push({ updateOne: { filter: { _id: p.id }, update: { $set: { ...p.set, updatedAt: at } } } });
      else newCommunities.push({ _id: p.id, aliases: [], residentCountApprox: false, commendationBannerCountApprox: false, ...p.set, createdAt: at, updatedAt: at });
      written.push(p.id);
    }
    if (!dryRun && written.length) {
      const existed = written.filter((id) => stored.has(id));
      if (deferStatistics) await recordPending({ kind: 'communities', ids: written, existed, formerCells });
      if (companyDocs.length) {
        try {
          await m.Company.collection.insertMany(companyDocs as never[], { ordered: false });
        } catch (e) {
          // A concurrent batch of the same file created some of them first: fine when each exists.
          if ((e as { code?: number }).code !== 11000) throw e;
          const usccs = companyDocs.map((c) => c._id as string);
          const found = await m.Company.countDocuments({ _id: { $in: usccs } });
          if (found !== usccs.length) throw e;
        }
      }
      if (contractOps.length) await m.Contract.bulkWrite(contractOps, { ordered: true });
      if (newContracts.length) await m.Contract.collection.insertMany(newContracts as never[], { ordered: false });
      if (communityOps.length) await m.Community.bulkWrite(communityOps, { ordered: false });
      if (newCommunities.length) await m.Community.collection.insertMany(newCommunities as never[], { ordered: false });
      if (!deferStatistics) await rollups.refresh(await communitiesTarget(written, formerCells, new Set(existed)));
    }
    return summarise(verdicts, dryRun);
  }

  async function importFees(rows: readonly FeeImportRow[], dryRun: boolean, deferStatistics = false): Promise<ImportResult> {
    checkBatch(rows);
    const verdicts: RowVerdict[] = [];
    const keyOf = (r: FeeImportRow) => (r.communityId && r.period ? `${r.communityId}|${r.period}` : null);
    const dups = duplicateKeys(rows, keyOf, 'period');
    const ids = [...new Set(rows.map((r) => r.communityId).filter((x): x is string => !!x))];
    const communities = new Map(
      (await m.Community.find({ _id: { $in: ids } }).select(COMMUNITY_FIELDS).lean<CommunityRow[]>().exec()).map((c) => [c._id, c]),
    );
    const planned: { row: number; key: string; id: string; doc: ReturnType<typeof feeDocOf>; c: CommunityRow }[] = [];
    for (const r of rows) {
      const dup = dups.get(r.row);
      if (dup) {
        verdicts.push(dup);
        continue;
      }
      const key = keyOf(r);
      const checked = await validateRow(r.row, key, () => {
        const input = { ...r, communityId: required('input.communityId', r.communityId), period: required('input.period', r.period) } as FeeInput;
        oneOf('input.reportedRateBasis', r.reportedRateBasis, REPORTED_RATE_BASES);
        checkFeeInput(input);
        const c = communities.get(input.communityId);
        if (!c) throw badInput('input.communityId', `no 小区 with id "${input.communityId}"`);
        return { row: r.row, key: key!, id: feeIdOf(input), doc: feeDocOf(input, c), c };
      });
      if (checked.ok) planned.push(checked.value);
      else verdicts.push(checked.verdict);
    }
    const stored = new Map((await m.Fee.find({ _id: { $in: planned.map((p) => p.id) } }).lean<FeeDoc[]>().exec()).map((f) => [f._id, f]));
    const ops: Parameters<typeof m.Fee.bulkWrite>[0] = [];
    const touched = new Map<string, { c: CommunityRow; periods: Set<string> }>();
    const at = now();
    for (const p of planned) {
      const before = stored.get(p.id);
      if (before && !changedFields(before as unknown as Record<string, unknown>, p.doc).length) {
        verdicts.push(accepted(p.row, p.key, 'UNCHANGED'));
        continue;
      }
      verdicts.push(accepted(p.row, p.key, before ? 'UPDATED' : 'INSERTED'));
      ops.push({ updateOne: { filter: { _id: p.id }, update: { $set: { ...p.doc, updatedAt: at }, $setOnInsert: { createdAt: at } }, upsert: true } });
      const t = touched.get(p.c._id) ?? { c: p.c, periods: new Set<string>() };
      t.periods.add(p.doc.period);
      touched.set(p.c._id, t);
    }
    if (!dryRun && ops.length) {
      const list = [...touched.values()];
      if (deferStatistics) await recordPending({ kind: 'fees', ids: list.map((t) => t.c._id), periods: list.map((t) => [...t.periods]) });
      await m.Fee.bulkWrite(ops, { ordered: false });
      // The buckets the rows fall in (their periods and LATEST), up the hierarchy: as `rowWritten`.
      if (!deferStatistics) await rollups.refresh(feesTarget(list));
    }
    return summarise(verdicts, dryRun);
  }

  /**
   * Buildings of the register (楼栋), upsert by 小区 + building number. The 小区 must exist (import
   * the register first); a blank cell leaves the stored value as it is. Buildings are not part of
   * any statistic, so nothing is refreshed; `buildingCount` of the 小区 stays the register's figure.
   */
  async function importBuildings(rows: readonly BuildingImportRow[], dryRun: boolean): Promise<ImportResult> {
    checkBatch(rows);
    const verdicts: RowVerdict[] = [];
    const keyOf = (r: BuildingImportRow) => (r.communityId?.trim() && r.number?.trim() ? buildingKey(r.communityId.trim(), buildingNumber(r.number)) : null);
    const dups = duplicateKeys(rows, keyOf, 'number');
    const ids = [...new Set(rows.map((r) => r.communityId?.trim()).filter((x): x is string => !!x))];
    const [known, existing] = await Promise.all([
      m.Community.find({ _id: { $in: ids } }).select({ _id: 1, builtYear: 1 }).lean<{ _id: string }[]>().exec(),
      m.Building.find({ communityId: { $in: ids } }).lean<BuildingDoc[]>().exec(),
    ]);
    const communities = new Set(known.map((c) => c._id));
    const stored = new Map(existing.map((b) => [buildingKey(b.communityId, b.number), b]));
    const thisYear = cstYear(now());
    const ops: Parameters<typeof m.Building.bulkWrite>[0] = [];
    const inserts: Record<string, unknown>[] = [];
    const at = now();
    for (const r of rows) {
      const dup = dups.get(r.row);
      if (dup) {
        verdicts.push(dup);
        continue;
      }
      const key = keyOf(r);
      const checked = await validateRow(r.row, key, () => {
        const communityId = required('communityId', r.communityId?.trim() || null);
        if (!communities.has(communityId)) throw badInput('communityId', `no 小区 with id "${communityId}" (import the register first)`);
        const number = buildingNumber(publicText('number', required('number', r.number), 20)!);
        const set: Record<string, unknown> = { communityId, number };
        if (r.floors != null) {
          if (!Number.isInteger(r.floors) || r.floors < 1 || r.floors > 200) throw badInput('floors', 'must be between 1 and 200');
          set.floors = r.floors;
        }
        const units = count('unitCount', r.unitCount, 100);
        if (units != null) set.unitCount = units;
        if (r.hasElevator != null) set.hasElevator = r.hasElevator;
        if (r.builtYear != null) {
          if (!Number.isInteger(r.builtYear) || r.builtYear < 1900 || r.builtYear > thisYear) throw badInput('builtYear', `must be between 1900 and ${thisYear}`);
          set.builtYear = r.builtYear;
        }
        return set;
      });
      if (!checked.ok) {
        verdicts.push(checked.verdict);
        continue;
      }
      const set = checked.value;
      const before = stored.get(key!);
      if (!before) {
        verdicts.push(accepted(r.row, key, 'INSERTED'));
        inserts.push({ _id: `bd_${set.communityId}_${set.number}`, floors: null, unitCount: null, hasElevator: null, builtYear: null, ...set, createdAt: at, updatedAt: at });
      } else if (changedFields(before as unknown as Record<string, unknown>, set).length) {
        verdicts.push(accepted(r.row, key, 'UPDATED'));
        ops.push({ updateOne: { filter: { _id: before._id }, update: { $set: { ...set, updatedAt: at } } } });
      } else {
        verdicts.push(accepted(r.row, key, 'UNCHANGED'));
      }
    }
    if (!dryRun) {
      if (ops.length) await m.Building.bulkWrite(ops, { ordered: false });
      if (inserts.length) await m.Building.collection.insertMany(inserts as never[], { ordered: false });
    }
    return summarise(verdicts, dryRun);
  }

  return { importCommunities, importFees, importBuildings, finishImport };
}
export type Imports = ReturnType<typeof createImports>;
