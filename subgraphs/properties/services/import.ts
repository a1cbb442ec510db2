/**
 * Spreadsheet imports of the properties subgraph (docs/import.md): the 小区 register with each
 * 小区's current service contract, and fee-collection periods. Every row is validated on its own
 * (fee rows with the checks of `upsertFeeCollection`, ./writes.ts); a rejected row writes nothing.
 * Accepted rows are compared with what is stored (unchanged rows are not written), written, and the
 * statistics rollups they touch are brought up to date by the same rollup writer the mutations use
 * (../stats/write.ts), before the call answers.
 */
import { cstYear, now } from '../../../lib/clock';
import { badInput } from '../../../lib/errors';
import { accepted, changedFields, checkBatch, duplicateKeys, rejected, summarise, validateRow, type ImportResult, type RowVerdict } from '../../../lib/import/batch';
import { refusePersonalData } from '../../../lib/personal-data';
import type { AdminAreaDoc, CommunityDoc, CompanyDoc, ContractDoc, FeeDoc, Models } from '../models';
import { cellCode, cellOf, COMMUNITY_FIELDS, type CellKey, type CommunityRow } from '../stats/figures';
import { LATEST, REGISTER } from '../stats/model';
import type { RollupWriter } from '../stats/write';
import { checkFeeInput, feeDocOf, feeIdOf, type FeeInput } from './writes';

export const HOUSING_TYPES = ['COMMERCIAL', 'RESETTLEMENT', 'REFORM_HOUSING', 'AFFORDABLE', 'MIXED'] as const;
export const MANAGEMENT_MODES = ['MARKET', 'CUSTODIAL_PUBLIC_WELFARE', 'STREET_FALLBACK', 'SELF_MANAGED', 'NONE'] as const;
export const SELECTION_METHODS = ['PUBLIC_TENDER', 'OWNERS_COMMITTEE_RECRUITMENT', 'STREET_CUSTODY', 'PRELIMINARY', 'NEGOTIATED'] as const;
export const REPORTED_RATE_BASES = ['HOUSEHOLD', 'AMOUNT', 'UNKNOWN'] as const;

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
  async function refreshCommunities(ids: string[], formerCells: CellKey[], existed: ReadonlySet<string>) {
    const filter = { communityId: { $in: ids } };
    const [rows, feeIds, surveyIds, feePeriods, surveyPeriods] = await Promise.all([
      m.Community.collection.find({ _id: { $in: ids } } as never, { projection: COMMUNITY_FIELDS }).toArray() as unknown as Promise<CommunityRow[]>,
      m.Fee.collection.distinct('communityId', filter),
      m.Survey.collection.distinct('communityId', filter),
      m.Fee.collection.distinct('period', filter),
      m.Survey.collection.distinct('period', filter),
    ]);
    const latest = new Set<string>([...existed, ...(feeIds as string[]), ...(surveyIds as string[])]);
    const buckets = [REGISTER, LATEST, ...new Set([...(feePeriods as string[]), ...(surveyPeriods as string[])])];
    const cells = new Map<string, CellKey>();
    for (const c of [...rows.map(cellOf), ...formerCells]) cells.set(cellCode(c), c);
    await rollups.refresh({ communities: rows.filter((r) => latest.has(r._id)), cells: [...cells.values()].map((cell) => ({ cell, buckets })) });
  }

  async function importCommunities(rows: readonly CommunityImportRow[], dryRun: boolean): Promise<ImportResult> {
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
      await refreshCommunities(written, formerCells, new Set(written.filter((id) => stored.has(id))));
    }
    return summarise(verdicts, dryRun);
  }

  async function importFees(rows: readonly FeeImportRow[], dryRun: boolean): Promise<ImportResult> {
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
      await m.Fee.bulkWrite(ops, { ordered: false });
      // The buckets the rows fall in (their periods and LATEST), up the hierarchy: as `rowWritten`.
      const cells = new Map<string, { cell: CellKey; buckets: Set<string> }>();
      for (const { c, periods } of touched.values()) {
        const cell = cellOf(c);
        const k = `${cell.cityCode}/${cell.districtCode}/${cell.streetCode}`;
        const e = cells.get(k) ?? { cell, buckets: new Set([LATEST]) };
        for (const p of periods) e.buckets.add(p);
        cells.set(k, e);
      }
      await rollups.refresh({ communities: [...touched.values()].map((t) => t.c), cells: [...cells.values()].map((e) => ({ cell: e.cell, buckets: [...e.buckets] })) });
    }
    return summarise(verdicts, dryRun);
  }

  return { importCommunities, importFees };
}
export type Imports = ReturnType<typeof createImports>;
