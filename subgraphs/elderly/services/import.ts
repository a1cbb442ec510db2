/**
 * Spreadsheet import of the register (台账; docs/import.md). Each row goes through the checks of a
 * registration (`prepareRegistration`, ./register.ts) and a rejected row writes nothing. The ID-card
 * number is checked and replaced by its keyed hash on arrival (./idcard.ts): the hash is the
 * resident's natural key (kept as `idCardHash`, and as the registration's `clientKey`
 * `idc:<hash prefix>`, so the unique index on clientKey also stops a double import), and the clear
 * number is never stored, logged or returned. A known resident whose row differs is updated through
 * `updateCircumstances`; an unchanged one is not written. New residents are inserted and each one's
 * statistics contribution is brought up to date (stats/write.ts `refreshResident`), as a
 * registration does, before the call answers.
 *
 * Deferred statistics (the import client's default): a call with `deferStatistics` records the
 * residents it is about to insert in `import_pending_stats` (before inserting them) instead of
 * refreshing, and `finishImport` refreshes every recorded resident in a few large groups (one `$inc`
 * per area and group instead of one per area and batch), then removes the records it served. A
 * client that dies between batches leaves its records behind: the statistics lag until the next
 * `finishImport` (it serves every pending record) or `npm run stats:rebuild`. Updates of known
 * residents go through `updateCircumstances`, which refreshes as it writes, deferred or not.
 */
import { randomUUID } from 'node:crypto';
import type { Collection } from 'mongodb';
import { cstDate } from '../../../lib/clock';
import { badInput } from '../../../lib/errors';
import { accepted, checkBatch, rejected, sameValue, summarise, validateRow, type ImportResult, type RowVerdict } from '../../../lib/import/batch';
import type { ResidentDoc } from '../models';
import { refreshResidents } from '../stats/write';
import { importClientKey, readIdCard, residentIdOf, type IdCard } from './idcard';
import { prepareRegistration, updateCircumstances, type PersonalDataInput } from './register';
import type { Repository } from './repository';

export interface ElderlyImportRow {
  row: number;
  idCardNumber?: string | null;
  communityId?: string | null;
  ageBand?: string | null;
  livingArrangement?: string | null;
  difficultyFlags?: readonly string[] | null;
  gender?: string | null;
  buildingRef?: string | null;
  registeredByTeamId?: string | null;
  consentRecordedAt?: Date | string | null;
  registeredAt?: Date | string | null;
  name?: string | null;
  phone?: string | null;
  emergencyContactName?: string | null;
  emergencyContactRelation?: string | null;
  emergencyContactPhone?: string | null;
  healthNotes?: string | null;
}

/** Whole years of age on the CST date of `at`. */
function ageOn(birth: Date, at: Date): number {
  const [y, m, d] = cstDate(at).split('-').map(Number) as [number, number, number];
  const before = m < birth.getUTCMonth() + 1 || (m === birth.getUTCMonth() + 1 && d < birth.getUTCDate());
  return y - birth.getUTCFullYear() - (before ? 1 : 0);
}
const bandOf = (age: number) => (age >= 90 ? 'AGE_90_PLUS' : age >= 80 ? 'AGE_80_89' : age >= 70 ? 'AGE_70_79' : 'AGE_60_69');

function personalOf(r: ElderlyImportRow): PersonalDataInput {
  const p: PersonalDataInput = {};
  if (r.name != null && r.name.trim()) p.name = r.name;
  if (r.phone != null && r.phone.trim()) p.phone = r.phone;
  if (r.healthNotes != null && r.healthNotes.trim()) p.healthNotes = r.healthNotes;
  const ec = { name: r.emergencyContactName?.trim(), relation: r.emergencyContactRelation?.trim(), phone: r.emergencyContactPhone?.trim() };
  if (ec.name || ec.relation || ec.phone) {
    for (const k of ['name', 'relation', 'phone'] as const) {
      if (!ec[k]) throw badInput(`emergencyContact${k[0]!.toUpperCase()}${k.slice(1)}`, 'is required');
    }
    p.emergencyContact = ec as { name: string; relation: string; phone: string };
  }
  return p;
}

/** The fields an import may change on a known resident. */
const UPDATABLE = ['ageBand', 'livingArrangement', 'difficultyFlags', 'name', 'phone', 'emergencyContact', 'healthNotes'] as const;

/** Runs `fn` over `items`, at most `n` at a time. */
async function pool<T>(items: readonly T[], n: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

interface PendingDoc {
  _id: string;
  at: Date;
  /** Residents inserted by a deferred call, whose statistics are not applied yet. */
  residents: string[];
  /** Their 小区 (for the count of areas refreshed). */
  communities: string[];
}
const pendingOf = (repo: Repository) => repo.models.Resident.db.collection('import_pending_stats') as unknown as Collection<PendingDoc>;
/**
 * Ends a deferred import: refreshes the statistics of every resident of every pending record in one
 * `refreshResidents` (one bulk difference for all of them; it applies each contribution once, by
 * its ledger entry, so a resident served twice is counted once), then removes the records it read.
 */
export async function finishImport(repo: Repository): Promise<{ batches: number; records: number; areas: number }> {
  const docs = await pendingOf(repo).find({}).toArray();
  if (!docs.length) return { batches: 0, records: 0, areas: 0 };
  const ids = [...new Set(docs.flatMap((d) => d.residents))];
  await refreshResidents(repo.models, ids);
  await pendingOf(repo).deleteMany({ _id: { $in: docs.map((d) => d._id) } });
  return { batches: docs.length, records: ids.length, areas: new Set(docs.flatMap((d) => d.communities ?? [])).size };
}

export async function importResidents(repo: Repository, rows: readonly ElderlyImportRow[], dryRun: boolean, deferStatistics = false): Promise<ImportResult> {
  checkBatch(rows);
  const now = repo.now();
  const verdicts: RowVerdict[] = [];
  // The ID card first: its hash is the row's key (the report shows a prefix of it, never the number).
  const cards = new Map<number, IdCard>();
  const firstRowOf = new Map<string, number>();
  const candidates: ElderlyImportRow[] = [];
  for (const r of rows) {
    const read = await validateRow(r.row, null, () => {
      if (r.idCardNumber == null || !r.idCardNumber.trim()) throw badInput('idCardNumber', 'is required');
      return readIdCard(r.idCardNumber);
    });
    if (!read.ok) {
      verdicts.push(read.verdict);
      continue;
    }
    const key = read.value.hash.slice(0, 12);
    const first = firstRowOf.get(read.value.hash);
    if (first !== undefined) {
      verdicts.push(rejected(r.row, key, 'idCardNumber', `duplicated key "${key}": also on row ${first}`));
      continue;
    }
    firstRowOf.set(read.value.hash, r.row);
    cards.set(r.row, read.value);
    candidates.push(r);
  }
  // Looked up by id (an imported resident's id derives from the hash): one indexed read per batch.
  const known = new Map(
    (await repo.models.Resident.find({ _id: { $in: candidates.map((r) => residentIdOf(cards.get(r.row)!.hash)) } }).lean<ResidentDoc[]>().exec()).map((d) => [d._id, d]),
  );

  // The 小区 of the batch read once: the registration checks below ask for one at a time.
  const refs = new Map((await repo.communityRefs([...new Set(candidates.map((r) => r.communityId?.trim()).filter((x): x is string => !!x))])).map((c) => [c._id, c]));
  const batchRepo: Repository = { ...repo, communityRefs: async (ids) => ids.flatMap((id) => (refs.has(id) ? [refs.get(id)!] : [])) };

  const inserts: Record<string, unknown>[] = [];
  const updates: { row: number; key: string; elder: ResidentDoc; change: Record<string, unknown> }[] = [];
  for (const r of candidates) {
    const card = cards.get(r.row)!;
    const key = card.hash.slice(0, 12);
    const clientKey = importClientKey(card.hash);
    const checked = await validateRow(r.row, key, async () => {
      const age = ageOn(card.birthDate, now);
      if (age < 60) throw badInput('idCardNumber', "the holder is under 60 on the ID-card number's birth date");
      const communityId = r.communityId?.trim();
      if (!communityId) throw badInput('communityId', 'is required');
      const livingArrangement = r.livingArrangement?.trim();
      if (!livingArrangement) throw badInput('livingArrangement', 'is required');
      if (r.consentRecordedAt == null) throw badInput('consentRecordedAt', 'is required (separate consent under PIPL)');
      const doc = await prepareRegistration(
        batchRepo,
        {
          clientKey,
          communityId,
          ageBand: r.ageBand?.trim() || bandOf(age),
          livingArrangement,
          difficultyFlags: r.difficultyFlags ?? [],
          gender: r.gender?.trim() || card.gender,
          buildingRef: r.buildingRef?.trim() || null,
          registeredByTeamId: r.registeredByTeamId?.trim() || null,
          consentRecordedAt: r.consentRecordedAt,
          registeredAt: r.registeredAt ?? null,
          personal: personalOf(r),
        },
        clientKey,
        now,
      );
      return doc as Record<string, unknown> & { communityId: string };
    });
    if (!checked.ok) {
      verdicts.push(checked.verdict);
      continue;
    }
    const doc = checked.value;
    const elder = known.get(residentIdOf(card.hash));
    if (!elder) {
      verdicts.push(accepted(r.row, key, 'INSERTED'));
      inserts.push({ ...doc, _id: residentIdOf(card.hash), idCardHash: card.hash, createdAt: now, updatedAt: now });
      continue;
    }
    if (elder.communityId !== doc.communityId) {
      verdicts.push(rejected(r.row, key, 'communityId', 'the resident is registered in another 小区; record a move through the register'));
      continue;
    }
    const change: Record<string, unknown> = {};
    for (const f of UPDATABLE) {
      if (f in doc && !sameValue((elder as unknown as Record<string, unknown>)[f], doc[f])) change[f] = doc[f];
    }
    if (!Object.keys(change).length) {
      verdicts.push(accepted(r.row, key, 'UNCHANGED'));
      continue;
    }
    if (elder.status === 'DECEASED') {
      verdicts.push(rejected(r.row, key, 'idCardNumber', 'the resident is recorded as deceased'));
      continue;
    }
    verdicts.push(accepted(r.row, key, 'UPDATED'));
    updates.push({ row: r.row, key, elder, change });
  }

  if (!dryRun) {
    if (inserts.length) {
      const ids = inserts.map((d) => d._id as string);
      if (deferStatistics) {
        await pendingOf(repo).insertOne({ _id: randomUUID(), at: now, residents: ids, communities: [...new Set(inserts.map((d) => d.communityId as string))] });
      }
      await repo.models.Resident.collection.insertMany(inserts as never[], { ordered: false });
      if (!deferStatistics) await refreshResidents(repo.models, ids);
    }
    await pool(updates, 4, async (u) => {
      const personal: PersonalDataInput = {};
      for (const f of ['name', 'phone', 'emergencyContact', 'healthNotes'] as const) if (f in u.change) (personal as Record<string, unknown>)[f] = u.change[f];
      await updateCircumstances(repo, {
        elderId: u.elder._id,
        ageBand: (u.change.ageBand as string | undefined) ?? null,
        livingArrangement: (u.change.livingArrangement as string | undefined) ?? null,
        difficultyFlags: (u.change.difficultyFlags as string[] | undefined) ?? null,
        personal,
      });
    });
  }
  return summarise(verdicts, dryRun);
}
