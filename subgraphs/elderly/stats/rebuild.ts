/**
 * Full rebuild of the statistics rollups from the raw rows: every resident's contribution (with
 * its visits, read in chunks by resident id) goes into a fresh ledger and into area documents
 * summed in memory, which then replace the stored ones. Run it with writes stopped (seeds, a
 * restore, a bulk import behind the graph's back): a write racing a rebuild may be lost from the
 * rollups until the resident is written again or the next rebuild.
 */
import type { Connection } from 'mongoose';
import { initModels } from '../../../lib/db';
import { progressLine } from '../../../lib/rollup';
import { registerModels, type Models } from '../models';
import {
  areaId, areaIdents, contributionOf, coverageEntry, encodeContribution, MAPS, RESIDENT_FIELDS, SCALARS, VISIT_FIELDS,
  type Contribution, type ResidentRow, type VisitRow,
} from './contribution';
import { bumpVersions, type LedgerDoc } from './write';

const CHUNK = 5000;
const INSERT_CHUNK = 5000;

export type AreaDoc = {
  _id: string;
  level: string;
  code: string;
  cityCode: string;
  districtCode: string | null;
  residents: number;
} & Record<(typeof SCALARS)[number], number> &
  Record<Exclude<(typeof MAPS)[number], 'communities'>, Record<string, number>> & {
    /** DISTRICT documents: per 小区, its coverage entry (./contribution.ts `coverageEntry`). */
    communities: Record<string, string>;
  };

/** Adds a contribution to in-memory area documents (created on first use): what the write path's `$inc` keeps. */
export function addToAreas(areas: Map<string, AreaDoc>, c: Contribution): void {
  const entries = Object.entries(c.k).map(([key, n]) => {
    const i = key.indexOf('/');
    return [i < 0 ? key : key.slice(0, i), i < 0 ? null : key.slice(i + 1), n] as const;
  });
  for (const ident of areaIdents(c.area)) {
    let doc = areas.get(ident._id);
    if (!doc) {
      doc = { ...ident, residents: 0 } as AreaDoc;
      for (const s of SCALARS) doc[s] = 0;
      for (const map of MAPS) doc[map] = {};
      areas.set(ident._id, doc);
    }
    doc.residents += 1;
    const fields = doc as unknown as Record<string, number | Record<string, number>>;
    for (const [top, sub, n] of entries) {
      if (sub === null) (fields[top] as number) += n;
      else {
        const map = fields[top] as Record<string, number>;
        map[sub] = (map[sub] ?? 0) + n;
      }
    }
  }
}

/** Once every contribution is in: each 小区's coverage entry on its district's document. */
export function addCoverageEntries(areas: Map<string, AreaDoc>): void {
  for (const doc of areas.values()) {
    if (doc.level !== 'COMMUNITY') continue;
    const entry = coverageEntry(doc.registered, doc.lastVisitDays);
    if (entry !== null) areas.get(areaId('DISTRICT', doc.districtCode!))!.communities[doc.code] = entry;
  }
}

/** Contributions of every resident, in chunks of resident ids (visits read per chunk). */
export async function* allContributions(m: Models): AsyncGenerator<{ id: string; c: Contribution | null }[]> {
  let after: string | null = null;
  for (;;) {
    const rows = (await m.Resident.collection
      .find(after ? { _id: { $gt: after } as never } : {}, { projection: RESIDENT_FIELDS })
      .sort({ _id: 1 })
      .limit(CHUNK)
      .toArray()) as unknown as ResidentRow[];
    if (rows.length === 0) return;
    // The visits of the chunk's id range (a range of the elderId index; no long $in list).
    const range = { $gte: rows[0]._id, $lte: rows[rows.length - 1]._id };
    const visits = (await m.HomeVisit.collection.find({ elderId: range }, { projection: VISIT_FIELDS }).toArray()) as unknown as VisitRow[];
    const byElder = new Map<string, VisitRow[]>();
    for (const v of visits) {
      const list = byElder.get(v.elderId!);
      if (list) list.push(v);
      else byElder.set(v.elderId!, [v]);
    }
    yield rows.map((r) => ({ id: r._id, c: contributionOf(r, byElder.get(r._id) ?? []) }));
    after = rows[rows.length - 1]._id;
    if (rows.length < CHUNK) return;
  }
}

/** Recomputes every rollup from the raw rows; returns the rollup documents written. */
export async function rebuildStats(conn: Connection, progress?: (line: string) => void): Promise<number> {
  const m = registerModels(conn);
  await initModels(conn);
  const total = await m.Resident.countDocuments();
  const areas = new Map<string, AreaDoc>();
  let ledger: LedgerDoc[] = [];
  let done = 0;
  let written = 0;
  await m.StatsLedger.collection.deleteMany({});
  for await (const chunk of allContributions(m)) {
    for (const { id, c } of chunk) {
      if (!c) continue;
      ledger.push({ _id: id, c: encodeContribution(c)! });
      addToAreas(areas, c);
    }
    if (ledger.length >= INSERT_CHUNK) {
      await m.StatsLedger.collection.insertMany(ledger as never[], { ordered: false });
      written += ledger.length;
      ledger = [];
    }
    done += chunk.length;
    progress?.(progressLine(done, total, 'residents'));
  }
  if (ledger.length) {
    await m.StatsLedger.collection.insertMany(ledger as never[], { ordered: false });
    written += ledger.length;
  }
  addCoverageEntries(areas);
  await m.StatsArea.collection.deleteMany({});
  const docs = [...areas.values()];
  for (let i = 0; i < docs.length; i += INSERT_CHUNK) {
    await m.StatsArea.collection.insertMany(docs.slice(i, i + INSERT_CHUNK) as never[], { ordered: false });
    progress?.(progressLine(Math.min(i + INSERT_CHUNK, docs.length), docs.length, 'area rollups'));
  }
  // Every city's rollups were replaced: a new version for each (also for a city that has none left).
  await m.StatsVersion.collection.updateMany({}, { $inc: { v: 1 } });
  await bumpVersions(m, docs.filter((d) => d.level === 'CITY').map((d) => d.code));
  return written + docs.length;
}
