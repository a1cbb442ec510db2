/**
 * Spreadsheet import of the renovation office's project list (docs/import.md). One row per project,
 * with its items and funding sources; the project number (项目编号) is the natural key, kept as the
 * project's `clientKey`. Each row goes through the checks of `createRenovationProject`
 * (`prepareProject`, ./writes.ts) and a rejected row writes nothing. A new project is created by the
 * create path itself (`createProject`: the raw write, then the statistics rollups); a project already
 * imported with the same values is left alone, and one imported with other values is reported (its
 * changes go through the project mutations: milestones, spend, funding, status).
 */
import { badInput } from '../../../lib/errors';
import { accepted, checkBatch, duplicateKeys, rejected, sameValue, summarise, validateRow, type ImportResult, type RowVerdict } from '../../../lib/import/batch';
import { FUNDING_TYPES, ITEM_CLASSES, ITEM_TYPES, PROJECT_STATUSES, SPONSORS, type Models, type ProjectDoc } from '../models';
import { cityOfDistrict, prepareProject, type CreateProjectIn, type Writes } from './writes';

export interface ProjectImportRow {
  row: number;
  projectNo?: string | null;
  name?: string | null;
  districtCode?: string | null;
  communityIds?: readonly string[] | null;
  planYear?: number | null;
  batch?: string | null;
  sponsor?: string | null;
  status?: string | null;
  buildings?: number | null;
  households?: number | null;
  floorAreaM2?: number | null;
  budgetFen?: number | null;
  items?: readonly { class: string; itemType: string; quantity?: number | null; unit?: string | null; costFen?: number | null }[] | null;
  fundingSources?: readonly { type: string; amountFen: number }[] | null;
  contractorName?: string | null;
  contractorUscc?: string | null;
}

const PROJECT_NO = /^[A-Za-z0-9_.:\-]{1,100}$/;
const COMMUNITY_ID = /^cm_(\d{6})_[A-Za-z0-9]{1,30}$/;

function oneOf(field: string, v: string | null | undefined, allowed: readonly string[]): string | null {
  if (v == null) return null;
  if (!allowed.includes(v)) throw badInput(field, `unknown value "${v}"; allowed: ${allowed.join(', ')}`);
  return v;
}

/** The stored fields an import compares (the create's own output fields). */
const COMPARED = ['name', 'communityIds', 'cityCode', 'districtCodes', 'planYear', 'batch', 'sponsor', 'scope', 'items', 'budgetFen', 'contractor'] as const;
const fundingOf = (p: { fundingSources?: readonly { type: string; amountFen?: number | null }[] | null }) =>
  (p.fundingSources ?? []).map((f) => ({ type: f.type, amountFen: f.amountFen ?? null })).sort((a, b) => a.type.localeCompare(b.type));

export function createImports(m: Models, writes: Writes, clock: () => Date) {
  async function importProjects(rows: readonly ProjectImportRow[], dryRun: boolean): Promise<ImportResult> {
    checkBatch(rows);
    const at = clock();
    const verdicts: RowVerdict[] = [];
    const dups = duplicateKeys(rows, (r) => r.projectNo?.trim() || null, 'projectNo');
    const keys = [...new Set(rows.map((r) => r.projectNo?.trim()).filter((x): x is string => !!x))];
    const stored = new Map((await m.Project.find({ clientKey: { $in: keys } }).lean<ProjectDoc[]>().exec()).map((p) => [p.clientKey as string, p]));
    const creates: { row: number; key: string; input: CreateProjectIn }[] = [];
    for (const r of rows) {
      const dup = dups.get(r.row);
      if (dup) {
        verdicts.push(dup);
        continue;
      }
      const key = r.projectNo?.trim() || null;
      const checked = await validateRow(r.row, key, () => {
        if (!key) throw badInput('projectNo', 'is required');
        if (!PROJECT_NO.test(key)) throw badInput('projectNo', 'must be 1-100 letters, digits or _ . : -');
        const districtCode = r.districtCode?.trim();
        if (!districtCode) throw badInput('districtCode', 'is required');
        if (!/^\d{6}$/.test(districtCode)) throw badInput('districtCode', 'must be a 6-digit GB/T 2260 district code');
        const ids = (r.communityIds ?? []).map((x) => x.trim()).filter(Boolean);
        if (!ids.length) throw badInput('communityIds', 'must name at least one 小区');
        for (const id of ids) {
          const mm = COMMUNITY_ID.exec(id);
          if (!mm || mm[1] !== districtCode) throw badInput('communityIds', `unknown 小区 "${id}"`);
        }
        if (r.planYear == null) throw badInput('planYear', 'is required');
        const input: CreateProjectIn = {
          clientKey: key,
          name: r.name ?? '',
          cityCode: cityOfDistrict(districtCode),
          communities: ids.map((id) => ({ id, districtCode })),
          planYear: r.planYear,
          batch: r.batch ?? null,
          sponsor: oneOf('sponsor', r.sponsor, SPONSORS),
          status: oneOf('status', r.status, PROJECT_STATUSES) ?? 'PLANNED',
          scope: r.buildings != null || r.households != null || r.floorAreaM2 != null ? { buildings: r.buildings ?? null, households: r.households ?? null, floorAreaM2: r.floorAreaM2 ?? null } : null,
          items: (r.items ?? []).map((it, i) => ({
            class: oneOf(`items[${i}].class`, it.class, ITEM_CLASSES)!,
            itemType: oneOf(`items[${i}].itemType`, it.itemType, ITEM_TYPES)!,
            quantity: it.quantity ?? null,
            unit: it.unit ?? null,
            cost: it.costFen == null ? null : { fen: it.costFen },
          })),
          budget: r.budgetFen == null ? null : { fen: r.budgetFen },
          fundingSources: (r.fundingSources ?? []).map((f, i) => ({ type: oneOf(`fundingSources[${i}].type`, f.type, FUNDING_TYPES)!, amount: { fen: f.amountFen } })),
          contractor: r.contractorName?.trim() ? { name: r.contractorName, uscc: r.contractorUscc?.trim() || null } : null,
        };
        if (!input.contractor && r.contractorUscc?.trim()) throw badInput('contractorName', 'is required');
        const doc = prepareProject(input, key, at);
        return { input, doc };
      });
      if (!checked.ok) {
        verdicts.push(checked.verdict);
        continue;
      }
      const before = stored.get(key!);
      if (!before) {
        verdicts.push(accepted(r.row, key, 'INSERTED'));
        creates.push({ row: r.row, key: key!, input: checked.value.input });
        continue;
      }
      const doc = checked.value.doc as unknown as Record<string, unknown>;
      const same = COMPARED.every((f) => sameValue((before as unknown as Record<string, unknown>)[f], doc[f])) && sameValue(fundingOf(before as never), fundingOf(doc as never));
      verdicts.push(same ? accepted(r.row, key, 'UNCHANGED') : rejected(r.row, key, 'projectNo', 'already imported with other values; change it through the project mutations'));
    }
    // New projects through the create path (raw write, then rollups), a few at a time.
    if (!dryRun) {
      let next = 0;
      await Promise.all(Array.from({ length: Math.min(4, creates.length) }, async () => {
        while (next < creates.length) await writes.createProject(creates[next++]!.input);
      }));
    }
    return summarise(verdicts, dryRun);
  }
  return { importProjects };
}
export type Imports = ReturnType<typeof createImports>;
