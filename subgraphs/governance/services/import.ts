/**
 * Spreadsheet import of committee rosters (业委会/物管会 and their members; docs/import.md). One row
 * per member; the rows of one committee (小区 + type + term) come in one call. Each row is
 * validated on its own and a rejected row writes nothing; the committee is upserted with the
 * members of its accepted rows (unchanged committees are not written). Names and phones are stored
 * only in the members sub-documents (`Committee.members`, personal data). After the raw writes the
 * committee statistics of the areas touched are recomputed (stats/areas.ts `refreshCommitteeAreas`)
 * before the call answers.
 */
import { now } from '../../../lib/clock';
import { badInput } from '../../../lib/errors';
import { accepted, changedFields, checkBatch, duplicateKeys, sameValue, summarise, validateRow, type ImportResult, type RowVerdict } from '../../../lib/import/batch';
import { refusePersonalData } from '../../../lib/personal-data';
import type { CommitteeDoc, GovCommunityDoc, Models } from '../models';
import { refreshCommitteeAreas } from '../stats/areas';

export const COMMITTEE_TYPES = ['OWNERS_COMMITTEE', 'PROPERTY_MANAGEMENT_COMMITTEE'] as const;
export const COMMITTEE_STATUSES = ['ACTIVE', 'EXPIRED', 'DISSOLVED'] as const;
export const MEMBER_ROLES = ['DIRECTOR', 'DEPUTY_DIRECTOR', 'MEMBER', 'SECRETARY'] as const;
export const MEMBER_AFFILIATIONS = ['OWNER', 'COMMUNITY_CADRE', 'COMMUNITY_POLICE', 'PROPERTY_STAFF', 'STREET_STAFF'] as const;

const PHONE = /^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$/;
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

export interface CommitteeImportRow {
  row: number;
  communityId?: string | null;
  type?: string | null;
  termNo?: number | null;
  termStart?: Date | string | null;
  termEnd?: Date | string | null;
  status?: string | null;
  lastDisclosureAt?: Date | string | null;
  source?: string | null;
  memberName?: string | null;
  memberPhone?: string | null;
  memberRole?: string | null;
  memberAffiliation?: string | null;
  memberIsPartyMember?: boolean | null;
}

function required<T>(field: string, v: T | null | undefined): T {
  if (v == null || (typeof v === 'string' && v.trim() === '')) throw badInput(field, 'is required');
  return v;
}
function oneOf(field: string, v: string | null | undefined, allowed: readonly string[]): string | null {
  if (v == null) return null;
  if (!allowed.includes(v)) throw badInput(field, `unknown value "${v}"; allowed: ${allowed.join(', ')}`);
  return v;
}
function date(field: string, v: Date | string | null | undefined, notAfter?: Date): Date | null {
  if (v == null) return null;
  const d = v instanceof Date ? v : new Date(v);
  if (Number.isNaN(d.getTime())) throw badInput(field, 'not a valid date-time');
  if (d.getUTCFullYear() < 1990 || d.getUTCFullYear() > 2100) throw badInput(field, 'must be between 1990 and 2100');
  if (notAfter && d.getTime() > notAfter.getTime() + 60_000) throw badInput(field, 'must not be in the future');
  return d;
}

/** The committee a row belongs to: 小区, type and term. */
const groupOf = (r: CommitteeImportRow) => (r.communityId && r.type ? `${r.communityId.trim()}|${r.type}|${r.termNo ?? ''}` : null);
export const committeeIdOf = (communityId: string, type: string, termNo: number | null) =>
  `cmt_${communityId}_${type === 'OWNERS_COMMITTEE' ? 'oc' : 'pmc'}_${termNo ?? 0}`;

interface Member {
  name: string;
  phone: string | null;
  role: string;
  affiliation: string;
  isPartyMember: boolean | null;
}

interface Planned {
  rows: number[];
  id: string;
  community: GovCommunityDoc;
  head: Record<string, unknown>;
  members: Member[];
}

export function createImports(m: Models) {
  async function importCommittees(rows: readonly CommitteeImportRow[], dryRun: boolean): Promise<ImportResult> {
    checkBatch(rows);
    const at = now();
    const verdicts: RowVerdict[] = [];
    const dups = duplicateKeys(rows, (r) => (groupOf(r) && r.memberName ? `${groupOf(r)}|${r.memberName.trim()}` : null), 'memberName');
    const ids = [...new Set(rows.map((r) => r.communityId?.trim()).filter((x): x is string => !!x))];
    const register = new Map((await m.Community.find({ _id: { $in: ids } }).lean<GovCommunityDoc[]>().exec()).map((c) => [c._id, c]));
    const groups = new Map<string, Planned>();

    for (const r of rows) {
      const dup = dups.get(r.row);
      if (dup) {
        verdicts.push(dup);
        continue;
      }
      const group = groupOf(r);
      const key = group && r.memberName ? `${group}|${r.memberName.trim()}` : group;
      const checked = await validateRow(r.row, group, () => {
        const communityId = required('communityId', r.communityId).trim();
        const type = oneOf('type', required('type', r.type), COMMITTEE_TYPES)!;
        const community = register.get(communityId);
        if (!community) throw badInput('communityId', `unknown 小区 "${communityId}"`);
        if (r.termNo != null && (!Number.isInteger(r.termNo) || r.termNo < 1 || r.termNo > 99)) throw badInput('termNo', 'must be between 1 and 99');
        const termStart = date('termStart', r.termStart);
        const termEnd = date('termEnd', r.termEnd);
        if (termStart && termEnd && termEnd < termStart) throw badInput('termEnd', 'termEnd must not be before termStart');
        const status = oneOf('status', required('status', r.status), COMMITTEE_STATUSES)!;
        const lastDisclosureAt = date('lastDisclosureAt', r.lastDisclosureAt, at);
        let source: string | null = null;
        if (r.source?.trim()) {
          source = r.source.trim();
          if (source.length > 200) throw badInput('source', 'must be at most 200 characters');
          refusePersonalData('source', source);
        }
        const name = required('memberName', r.memberName).trim();
        if (name.length > 50) throw badInput('memberName', 'expected 1-50 characters');
        if (CONTROL.test(name)) throw badInput('memberName', 'contains control characters');
        let phone: string | null = null;
        if (r.memberPhone?.trim()) {
          phone = r.memberPhone.replace(/\s+/g, '');
          if (!PHONE.test(phone)) throw badInput('memberPhone', 'expected a mainland mobile (11 digits) or landline (0 + area code + number)');
        }
        const role = oneOf('memberRole', required('memberRole', r.memberRole), MEMBER_ROLES)!;
        const affiliation = oneOf('memberAffiliation', required('memberAffiliation', r.memberAffiliation), MEMBER_AFFILIATIONS)!;
        const head = { communityId, cityCode: community.cityCode, districtCode: community.districtCode, type, termNo: r.termNo ?? null, termStart, termEnd, status, lastDisclosureAt, source };
        const g = groups.get(group!);
        if (g) {
          for (const k of Object.keys(head) as (keyof typeof head)[]) {
            if (!sameValue(g.head[k], head[k])) throw badInput(k, `a committee's rows must agree on ${k}`);
          }
        }
        return { group: group!, community, head, member: { name, phone, role, affiliation, isPartyMember: r.memberIsPartyMember ?? null } };
      });
      if (!checked.ok) {
        verdicts.push({ ...checked.verdict, key: key ?? null });
        continue;
      }
      const v = checked.value;
      const g: Planned = groups.get(v.group) ?? { rows: [], id: committeeIdOf(v.head.communityId, v.head.type, v.head.termNo), community: v.community, head: v.head, members: [] };
      g.rows.push(r.row);
      g.members.push(v.member);
      groups.set(v.group, g);
    }

    const stored = new Map((await m.Committee.find({ _id: { $in: [...groups.values()].map((g) => g.id) } }).lean<CommitteeDoc[]>().exec()).map((c) => [c._id, c]));
    const ops: Parameters<typeof m.Committee.bulkWrite>[0] = [];
    const areas = new Set<string>();
    for (const g of groups.values()) {
      const known = g.members.every((x) => x.isPartyMember != null);
      const set: Record<string, unknown> = {
        ...g.head,
        partyMemberRatio: known && g.members.length ? g.members.filter((x) => x.isPartyMember).length / g.members.length : null,
        members: g.members.map((x) => ({ ...x, idCardHash: null, termStart: g.head.termStart ?? null, termEnd: g.head.termEnd ?? null })),
      };
      const before = stored.get(g.id);
      const outcome = !before ? 'INSERTED' : changedFields(before as unknown as Record<string, unknown>, set).length ? 'UPDATED' : 'UNCHANGED';
      for (const row of g.rows) verdicts.push(accepted(row, g.id, outcome));
      if (outcome === 'UNCHANGED') continue;
      ops.push({ updateOne: { filter: { _id: g.id }, update: { $set: { ...set, updatedAt: at }, $setOnInsert: { createdAt: at, meetingDates: [], synthetic: false } }, upsert: true } });
      areas.add(`CITY|${g.community.cityCode}`);
      areas.add(`DISTRICT|${g.community.districtCode}`);
    }
    if (!dryRun && ops.length) {
      await m.Committee.bulkWrite(ops, { ordered: false });
      await refreshCommitteeAreas(m, areas);
    }
    return summarise(verdicts, dryRun);
  }
  return { importCommittees };
}
export type Imports = ReturnType<typeof createImports>;

