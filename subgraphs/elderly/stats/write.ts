/**
 * The write path of the statistics rollups: after a mutation has written its raw rows, the
 * resident's contribution (./contribution.ts) is recomputed from its row and its visits (one
 * indexed read each), swapped into the ledger by compare-and-set on the old contribution,
 * and the difference is added to its 小区, district and city documents with `$inc` (atomic per
 * document; concurrent writes commute). Keys and documents that fall to zero are removed, so the
 * collections stay equal to a rebuild. The version of each city whose rollups changed is then
 * incremented (`bumpVersions`). A retry (idempotent replay) runs the same refresh: it
 * changes nothing when the rollups are current and repairs them when an earlier attempt stopped
 * between the raw write and the rollup update.
 */
import { randomUUID } from 'node:crypto';
import type { AnyBulkWriteOperation } from 'mongodb';
import type { Models } from '../models';
import {
  areaId, areaIdents, contributionOf, coverageEntry, decodeContribution, encodeContribution, MAPS, pathOf, RESIDENT_FIELDS, SCALARS, topOf, VISIT_FIELDS,
  type Contribution, type Counts, type ResidentRow, type VisitRow,
} from './contribution';

/** A resident's entry in the ledger: its applied contribution (./contribution.ts, encoded). */
export interface LedgerDoc {
  _id: string;
  c: string;
}

/** Attempts of the compare-and-set before giving up (each loses only to a concurrent write). */
const MAX_ATTEMPTS = 25;

/**
 * Brings the rollups of a resident up to date with its raw rows. The ledger entry is read before
 * the rows, so the rows are at least as new as the state the compare-and-set replaces: a concurrent
 * write either lands first (then this refresh sees its rows) or makes the swap fail (then it reads
 * again).
 */
export async function refreshResident(m: Models, id: string): Promise<void> {
  const ledger = m.StatsLedger.collection;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const old = (await ledger.findOne({ _id: id as never })) as LedgerDoc | null;
    const [row, visits] = await Promise.all([
      m.Resident.collection.findOne({ _id: id as never }, { projection: RESIDENT_FIELDS }) as Promise<ResidentRow | null>,
      m.HomeVisit.collection.find({ elderId: id }, { projection: VISIT_FIELDS }).toArray() as unknown as Promise<VisitRow[]>,
    ]);
    const next = row ? contributionOf(row, visits) : null;
    const c = encodeContribution(next);
    if ((old?.c ?? null) === c) return;
    let swapped: boolean;
    if (!old) {
      try {
        await ledger.insertOne({ _id: id, c } as never);
        swapped = true;
      } catch (e) {
        if ((e as { code?: number }).code !== 11000) throw e;
        swapped = false;
      }
    } else if (!next) {
      swapped = (await ledger.deleteOne({ _id: id as never, c: old.c })).deletedCount === 1;
    } else {
      swapped = (await ledger.updateOne({ _id: id as never, c: old.c }, { $set: { c } })).matchedCount === 1;
    }
    if (swapped) {
      await applyDifference(m, old ? decodeContribution(old.c) : null, next);
      return;
    }
  }
  throw new Error(`elderly statistics: the rollup of resident ${id} kept changing under concurrent writes`);
}

interface AreaDelta {
  ident: ReturnType<typeof areaIdents>[number];
  counts: Counts;
}

/**
 * Adds `next − old` to the area documents (both may be null; their areas may differ), then brings
 * the coverage entry of each 小区 whose registered count or last-visit days moved up to date on its
 * district's document.
 */
export async function applyDifference(m: Models, old: Contribution | null, next: Contribution | null): Promise<void> {
  await applyDifferences(m, [{ old, next }]);
}

/** {@link applyDifference} for many residents at once: one bulk write, one coverage pass per 小区. */
export async function applyDifferences(m: Models, changes: readonly { old: Contribution | null; next: Contribution | null }[]): Promise<void> {
  const deltas = new Map<string, AreaDelta>();
  const add = (c: Contribution, sign: 1 | -1) => {
    for (const ident of areaIdents(c.area)) {
      let d = deltas.get(ident._id);
      if (!d) deltas.set(ident._id, (d = { ident, counts: {} }));
      d.counts.residents = (d.counts.residents ?? 0) + sign;
      for (const [key, n] of Object.entries(c.k)) d.counts[key] = (d.counts[key] ?? 0) + sign * n;
    }
  };
  for (const { old, next } of changes) {
    if (old) add(old, -1);
    if (next) add(next, 1);
  }

  const updates: AnyBulkWriteOperation[] = [];
  const deletes: AnyBulkWriteOperation[] = [];
  const coverage: { communityId: string; districtCode: string }[] = [];
  const cities = new Set<string>();
  for (const { ident, counts } of deltas.values()) {
    const changed = Object.entries(counts).filter(([, n]) => n !== 0);
    if (changed.length === 0) continue;
    cities.add(ident.cityCode);
    const id = ident._id as never;
    const inc: Record<string, number> = { residents: counts.residents ?? 0 };
    for (const s of SCALARS) inc[s] = counts[s] ?? 0;
    const touched = new Set<string>();
    const leaves: string[] = [];
    for (const [key, n] of changed) {
      if (!key.includes('/')) continue;
      touched.add(topOf(key));
      inc[pathOf(key)] = n;
      if (n < 0) leaves.push(pathOf(key)); // only a decrement can bring a key back to zero
    }
    if (ident.level === 'COMMUNITY' && (counts.registered || touched.has('lastVisitDays'))) {
      coverage.push({ communityId: ident.code, districtCode: ident.districtCode! });
    }
    const { _id, ...fields } = ident;
    const onInsert: Record<string, unknown> = { ...fields };
    for (const map of MAPS) if (!touched.has(map)) onInsert[map] = {};
    updates.push({ updateOne: { filter: { _id: id }, update: { $inc: inc, $setOnInsert: onInsert }, upsert: true } });
    // Keys back at zero leave their map; an area whose last contributor left leaves the collection.
    // (Only concurrent writes of one resident, whose differences may land in either order, can
    // leave a zero key or an empty area behind: harmless to every figure, gone at the next rebuild.)
    for (const path of leaves) updates.push({ updateOne: { filter: { _id: id, [path]: 0 }, update: { $unset: { [path]: '' } } } });
    if ((counts.residents ?? 0) < 0) deletes.push({ deleteOne: { filter: { _id: id, residents: 0 } } });
  }
  if (updates.length) await m.StatsArea.collection.bulkWrite(updates as never[], { ordered: true });
  if (deletes.length) await m.StatsArea.collection.bulkWrite(deletes as never[], { ordered: true });
  const entries = [...new Map(coverage.map((c) => [c.communityId, c])).values()];
  if (entries.length === 1) await refreshCoverageEntry(m, entries[0]!.communityId, entries[0]!.districtCode);
  else if (entries.length > 1) await refreshCoverageEntries(m, entries);
  await bumpVersions(m, [...cities]);
}

/**
 * Increments the rollup version of each city (./model.ts `elderly_stats_versions`), creating its
 * document with a new epoch the first time. Called after the rollup writes, in the same transaction
 * when there is one: a reader that sees the new version sees the rollups it stands for (a reader
 * that saw the old one may have read newer rollups, which is harmless: its snapshot is only newer).
 */
export async function bumpVersions(m: Models, cityCodes: readonly string[]): Promise<void> {
  if (!cityCodes.length) return;
  await m.StatsVersion.collection.bulkWrite(
    cityCodes.map((code) => ({ updateOne: { filter: { _id: code as never }, update: { $inc: { v: 1 }, $setOnInsert: { epoch: randomUUID() } }, upsert: true } })),
    { ordered: false },
  );
}

/**
 * {@link refreshCoverageEntry} for many 小区 at once: the district documents' entries first, then
 * the 小区 documents (the same order), then one bulk write of compare-and-set updates. When any of
 * them lost to a concurrent writer, every entry of the batch goes through the one-by-one path,
 * which rereads and changes nothing where the entry is already current.
 */
async function refreshCoverageEntries(m: Models, entries: readonly { communityId: string; districtCode: string }[]): Promise<void> {
  const areas = m.StatsArea.collection;
  const districts = (await areas
    .find({ _id: { $in: [...new Set(entries.map((e) => areaId('DISTRICT', e.districtCode)))] } as never }, { projection: { communities: 1 } })
    .toArray()) as unknown as { _id: string; communities?: Record<string, string> }[];
  const districtOf = new Map(districts.map((d) => [d._id, d]));
  const own = (await areas
    .find({ _id: { $in: entries.map((e) => areaId('COMMUNITY', e.communityId)) } as never }, { projection: { registered: 1, lastVisitDays: 1 } })
    .toArray()) as unknown as { _id: string; registered?: number; lastVisitDays?: Record<string, number> }[];
  const ownOf = new Map(own.map((o) => [o._id, o]));
  const ops: AnyBulkWriteOperation[] = [];
  for (const e of entries) {
    const district = districtOf.get(areaId('DISTRICT', e.districtCode));
    if (!district) continue; // the district's document left with its last resident, and the entry with it
    const path = `communities.${e.communityId}`;
    const current = district.communities?.[e.communityId] ?? null;
    const o = ownOf.get(areaId('COMMUNITY', e.communityId));
    const entry = coverageEntry(o?.registered, o?.lastVisitDays);
    if (entry === current) continue;
    ops.push({
      updateOne: {
        filter: { _id: district._id as never, [path]: current === null ? { $exists: false } : current },
        update: entry === null ? { $unset: { [path]: '' } } : { $set: { [path]: entry } },
      },
    });
  }
  if (!ops.length) return;
  const res = await areas.bulkWrite(ops as never[], { ordered: false });
  if (res.matchedCount === ops.length) return;
  for (const e of entries) await refreshCoverageEntry(m, e.communityId, e.districtCode);
}

/** Ids per read of `refreshResidents`. */
const READ_GROUP = 1000;

/**
 * {@link refreshResident} for residents written together (the register import): the ledger, rows
 * and visits of all of them read in three queries, the new ledger entries inserted in one write and
 * their differences applied in one bulk write. A resident that already has a ledger entry (or whose
 * entry another writer inserted meanwhile) goes through `refreshResident` on its own.
 */
export async function refreshResidents(m: Models, ids: readonly string[]): Promise<void> {
  if (!ids.length) return;
  const ledger = m.StatsLedger.collection;
  // Read in groups of READ_GROUP ids: a query's cost on the embedded engine grows with the length
  // of its $in list times the documents it matches (the end of a large import refreshes 40,000 at once).
  const olds: LedgerDoc[] = [];
  const rows: ResidentRow[] = [];
  const visits: (VisitRow & { elderId: string })[] = [];
  for (let i = 0; i < ids.length; i += READ_GROUP) {
    const group = ids.slice(i, i + READ_GROUP);
    const [o, r, v] = await Promise.all([
      ledger.find({ _id: { $in: group } as never }).toArray() as unknown as Promise<LedgerDoc[]>,
      m.Resident.collection.find({ _id: { $in: group } as never }, { projection: RESIDENT_FIELDS }).toArray() as unknown as Promise<ResidentRow[]>,
      m.HomeVisit.collection.find({ elderId: { $in: group } }, { projection: VISIT_FIELDS }).toArray() as unknown as Promise<(VisitRow & { elderId: string })[]>,
    ]);
    olds.push(...o);
    rows.push(...r);
    visits.push(...v);
  }
  const hasEntry = new Set(olds.map((o) => o._id));
  const rowOf = new Map(rows.map((r) => [(r as unknown as { _id: string })._id, r]));
  const visitsOf = new Map<string, VisitRow[]>();
  for (const v of visits) visitsOf.set(v.elderId, [...(visitsOf.get(v.elderId) ?? []), v]);
  const fresh: { id: string; c: string; next: Contribution }[] = [];
  const alone: string[] = [];
  for (const id of ids) {
    if (hasEntry.has(id)) {
      alone.push(id);
      continue;
    }
    const row = rowOf.get(id);
    const next = row ? contributionOf(row, visitsOf.get(id) ?? []) : null;
    if (next) fresh.push({ id, c: encodeContribution(next)!, next });
  }
  let failed = new Set<number>();
  if (fresh.length) {
    try {
      await ledger.insertMany(fresh.map((f) => ({ _id: f.id, c: f.c })) as never[], { ordered: false });
    } catch (e) {
      const errors = (e as { writeErrors?: { index: number; code?: number }[] | { index: number; code?: number } }).writeErrors;
      const list = Array.isArray(errors) ? errors : errors ? [errors] : [];
      if (!list.length || list.some((w) => w.code !== 11000)) throw e;
      failed = new Set(list.map((w) => w.index));
    }
  }
  await applyDifferences(m, fresh.filter((_f, i) => !failed.has(i)).map((f) => ({ old: null, next: f.next })));
  for (const i of failed) alone.push(fresh[i]!.id);
  for (const id of alone) await refreshResident(m, id);
}

/**
 * Copies a 小区's coverage entry (./contribution.ts `coverageEntry`) from its own document to its
 * district's, by compare-and-set on the entry: the entry is read before the 小区's document, so a
 * swap never replaces a newer entry with an older one; a lost swap reads both again.
 */
async function refreshCoverageEntry(m: Models, communityId: string, districtCode: string): Promise<void> {
  const areas = m.StatsArea.collection;
  const path = `communities.${communityId}`;
  const districtId = areaId('DISTRICT', districtCode) as never;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const district = (await areas.findOne({ _id: districtId }, { projection: { [path]: 1 } })) as { communities?: Record<string, string> } | null;
    if (!district) return; // the district's document left with its last resident, and the entry with it
    const current = district.communities?.[communityId] ?? null;
    const own = (await areas.findOne({ _id: areaId('COMMUNITY', communityId) as never }, { projection: { registered: 1, lastVisitDays: 1 } })) as
      | { registered?: number; lastVisitDays?: Record<string, number> }
      | null;
    const entry = coverageEntry(own?.registered, own?.lastVisitDays);
    if (entry === current) return;
    const res = await areas.updateOne(
      { _id: districtId, [path]: current === null ? { $exists: false } : current },
      entry === null ? { $unset: { [path]: '' } } : { $set: { [path]: entry } },
    );
    if (res.matchedCount === 1) return;
  }
  throw new Error(`elderly statistics: the coverage entry of 小区 ${communityId} kept changing under concurrent writes`);
}
