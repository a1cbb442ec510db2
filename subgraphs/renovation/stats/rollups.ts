/**
 * The write side of the statistics rollups: every mutation, after its raw write, hands the old and
 * the new version of the row it changed to {@link RollupWriter}, which applies parts(new) − parts(old)
 * (stats/parts.ts) as atomic `$inc`s on the touched rollup documents, in one bulk write.
 *
 * Exact under concurrency: the project writes are read-modify-writes guarded by the row's revision
 * (so "old" is exactly the version replaced), spend is an atomic push whose own entry is the whole
 * difference, and facility rows are revision-guarded too. A 小区 starts or stops counting in an
 * area's `communities:<type>` when its member counter crosses zero, which the atomic
 * `findOneAndUpdate` reports exactly once. Counters that reach 0 are removed (guarded by their value
 * being 0), and documents left empty are deleted, so the collection stays equal to a rebuild. A
 * project write costs one bulk write; a facility write two `findOneAndUpdate`s and two bulk writes.
 *
 * A crash between the raw write and this update leaves the rollups behind the raw rows:
 * `npm run stats:rebuild` (stats/rebuild.ts) recomputes them.
 */
import type { AnyBulkWriteOperation, Collection } from 'mongodb';
import type { Models } from '../models';
import type { Counters, RollupDoc } from './model';
import { facilityGapParts, gapDocId, gapRows, projectParts, type FacilityLike, type Part, type Parts, type ProjectLike } from './parts';

interface DocChange {
  base: Part['base'];
  inc: Counters;
  set: Record<string, string>;
  unset: string[];
}

/** parts(after) − parts(before), per document; documents without change are left out. */
export function diffParts(before: Parts, after: Parts): Map<string, DocChange> {
  const out = new Map<string, DocChange>();
  for (const id of new Set([...before.keys(), ...after.keys()])) {
    const b = before.get(id);
    const a = after.get(id);
    const inc: Counters = {};
    for (const k of new Set([...Object.keys(b?.c ?? {}), ...Object.keys(a?.c ?? {})])) {
      const d = (a?.c[k] ?? 0) - (b?.c[k] ?? 0);
      if (d !== 0) inc[k] = d;
    }
    const set: Record<string, string> = {};
    for (const [k, v] of Object.entries(a?.s ?? {})) if (b?.s?.[k] !== v) set[k] = v;
    const unset = Object.keys(b?.s ?? {}).filter((k) => !(a?.s && k in a.s));
    if (Object.keys(inc).length || Object.keys(set).length || unset.length) out.set(id, { base: (a ?? b)!.base, inc, set, unset });
  }
  return out;
}

function updateOf(ch: DocChange): Record<string, unknown> {
  const u: Record<string, unknown> = { $setOnInsert: ch.base };
  if (Object.keys(ch.inc).length) u.$inc = Object.fromEntries(Object.entries(ch.inc).map(([k, n]) => [`c.${k}`, n]));
  if (Object.keys(ch.set).length) u.$set = Object.fromEntries(Object.entries(ch.set).map(([k, v]) => [`s.${k}`, v]));
  if (ch.unset.length) u.$unset = Object.fromEntries(ch.unset.map((k) => [`s.${k}`, '']));
  return u;
}

export function createRollupWriter(m: Models) {
  const coll = () => m.Rollup.collection as unknown as Collection<RollupDoc>;

  /**
   * After a document's `$inc`s: removes each decremented counter that is now 0 (only while it still
   * is) and deletes the document when nothing is left to count (a gap fixed; a seed taking back the
   * only spend of a year). Guarded by their conditions, so they need no read first.
   */
  function tidyOps(id: string, ch: DocChange): AnyBulkWriteOperation<RollupDoc>[] {
    const dropped = Object.entries(ch.inc).filter(([, n]) => n < 0).map(([k]) => k);
    if (!dropped.length && !ch.unset.length) return [];
    return [
      ...dropped.map((k) => ({ updateOne: { filter: { _id: id, [`c.${k}`]: 0 } as never, update: { $unset: { [`c.${k}`]: '' } } as never } })),
      { deleteOne: { filter: { _id: id, c: {}, $or: [{ s: { $exists: false } }, { s: {} }] } as never } },
    ];
  }

  /** All the changes in one ordered bulk write: each document's update, then its tidying. */
  async function apply(changes: Iterable<[string, DocChange]>): Promise<void> {
    const ops: AnyBulkWriteOperation<RollupDoc>[] = [];
    for (const [id, ch] of changes) ops.push({ updateOne: { filter: { _id: id }, update: updateOf(ch) as never, upsert: true } }, ...tidyOps(id, ch));
    if (ops.length) await coll().bulkWrite(ops, { ordered: true });
  }

  return {
    /** A project was created (`old` null) or changed from `old` to `next`. */
    async project(old: ProjectLike | null, next: ProjectLike): Promise<void> {
      await apply(diffParts(old ? projectParts(old) : new Map(), projectParts(next)));
    },

    /** A facility row was created (`old` null) or changed from `old` to `next`. */
    async facility(old: FacilityLike | null, next: FacilityLike): Promise<void> {
      const changes = diffParts(old ? facilityGapParts(old) : new Map(), facilityGapParts(next));
      if (!changes.size) return;
      // Member counters first: their value after this write tells whether the 小区 starts or stops
      // counting in the area's `communities:<type>`.
      for (const [id, ch] of changes) {
        if (ch.base.kind !== 'MEMBER') continue;
        const after = await coll().findOneAndUpdate({ _id: id }, updateOf(ch) as never, { upsert: true, returnDocument: 'after' });
        const types = new Set(Object.keys(ch.inc).map((k) => k.slice(k.indexOf(':') + 1)));
        for (const type of types) {
          const now = gapRows(after?.c, type);
          const before = now - gapRows(ch.inc, type);
          const d = before === 0 && now > 0 ? 1 : before > 0 && now === 0 ? -1 : 0;
          if (!d) continue;
          const areaId = gapDocId(ch.base.level!, ch.base.code!);
          const area = changes.get(areaId) ?? { base: { kind: 'GAPS' as const, area: `${ch.base.level}|${ch.base.code}`, level: ch.base.level, code: ch.base.code }, inc: {}, set: {}, unset: [] };
          area.inc[`communities:${type}`] = (area.inc[`communities:${type}`] ?? 0) + d;
          changes.set(areaId, area);
        }
      }
      const tidyMembers = [...changes].filter(([, ch]) => ch.base.kind === 'MEMBER').flatMap(([id, ch]) => tidyOps(id, ch));
      await apply([...changes].filter(([, ch]) => ch.base.kind !== 'MEMBER'));
      if (tidyMembers.length) await coll().bulkWrite(tidyMembers, { ordered: true });
    },
  };
}
export type RollupWriter = ReturnType<typeof createRollupWriter>;
