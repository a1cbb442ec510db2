/**
 * Full rebuild of the renovation rollups from the raw rows: the sum of the parts (stats/parts.ts) of
 * every project and of every MISSING / BROKEN facility row, written over the rollup collection.
 * Used by `npm run stats:rebuild`, by the seeds and the synthetic generator after bulk loads, and once
 * per process when the collection was never built (a database from before the rollups).
 * Run it while nothing writes: a write that lands during the rebuild may be counted twice or lost
 * (rebuild again).
 */
import type { Connection } from 'mongoose';
import type { Collection } from 'mongodb';
import { now } from '../../../lib/clock';
import { progressLine } from '../../../lib/rollup';
import { registerModels, type Models } from '../models';
import { META_ID, type RollupDoc } from './model';
import {
  FACILITY_FIELDS,
  facilityGapParts,
  GAP_CONDITIONS,
  gapDocId,
  gapRows,
  mergeParts,
  partDoc,
  PROJECT_FIELDS,
  projectParts,
  type FacilityLike,
  type Parts,
  type ProjectLike,
} from './parts';

const STEP = 5000;
const WRITE_CHUNK = 1000;

/** Every rollup document a full rebuild writes (without the META marker), by id. */
export async function computeRollups(m: Models, progress?: (line: string) => void): Promise<Parts> {
  const parts: Parts = new Map();
  const projects = await m.Project.estimatedDocumentCount();
  let done = 0;
  for await (const p of m.Project.find({}, PROJECT_FIELDS).lean<ProjectLike>().cursor()) {
    projectParts(p, parts);
    if (++done % STEP === 0) progress?.(progressLine(done, projects, 'projects'));
  }
  progress?.(progressLine(done, Math.max(done, projects), 'projects'));

  const gaps: Parts = new Map();
  let rows = 0;
  for await (const f of m.Facility.find({ condition: { $in: [...GAP_CONDITIONS] } }, FACILITY_FIELDS).lean<FacilityLike>().cursor()) {
    mergeParts(gaps, facilityGapParts(f));
    rows++;
  }
  // 小区 with at least one gap row of a type count once in each area.
  for (const member of gaps.values()) {
    if (member.base.kind !== 'MEMBER') continue;
    const area = gaps.get(gapDocId(member.base.level!, member.base.code!))!;
    for (const type of new Set(Object.keys(member.c).map((key) => key.slice(key.indexOf(':') + 1)))) {
      if (gapRows(member.c, type) > 0) area.c[`communities:${type}`] = (area.c[`communities:${type}`] ?? 0) + 1;
    }
  }
  progress?.(progressLine(rows, rows, 'facility gap rows'));
  return mergeParts(parts, gaps);
}

/** Recomputes every rollup from the raw rows and replaces the collection. Returns documents written. */
export async function rebuildModels(m: Models, progress?: (line: string) => void): Promise<number> {
  const parts = await computeRollups(m, progress);
  const coll = m.Rollup.collection as unknown as Collection<RollupDoc>;
  await coll.deleteMany({});
  const docs = [...parts.values()].map(partDoc);
  for (let i = 0; i < docs.length; i += WRITE_CHUNK) {
    await coll.insertMany(docs.slice(i, i + WRITE_CHUNK), { ordered: false });
    progress?.(progressLine(Math.min(i + WRITE_CHUNK, docs.length), docs.length, 'rollup documents written'));
  }
  await coll.insertOne({ _id: META_ID, kind: 'META', area: null, builtAt: now() });
  markReady(m);
  return docs.length;
}

/** `rebuildStats` of the subgraph module: see {@link rebuildModels}. */
export async function rebuildStats(conn: Connection, progress?: (line: string) => void): Promise<number> {
  const m = registerModels(conn);
  await m.Rollup.init();
  return rebuildModels(m, progress);
}

// Built once per connection: a database whose rollups were never built (no META marker) is rebuilt
// before the first statistics read or write of the process.
const ready = new WeakMap<object, Promise<void>>();

function markReady(m: Models): void {
  ready.set(m.Rollup.db, Promise.resolve());
}

/** Resolves when the rollups of this database are built (building them first if they never were). */
export function rollupsReady(m: Models): Promise<void> {
  const key = m.Rollup.db;
  let p = ready.get(key);
  if (!p) {
    p = (async () => {
      const coll = m.Rollup.collection as unknown as Collection<RollupDoc>;
      if (!(await coll.findOne({ _id: META_ID }, { projection: { _id: 1 } }))) await rebuildModels(m);
    })();
    p.catch(() => ready.delete(key));
    ready.set(key, p);
  }
  return p;
}
