/**
 * The write path of governance's statistics rollups, run by every command after its raw write:
 *
 * - tickets: the ticket's inputs (./tickets.ts) are recomputed from its row and its 小区's register
 *   row (one read by `_id` each), swapped into the ledger by compare-and-set on the old inputs' hash,
 *   and the difference of the two contributions is added to the rollup documents with `$inc` (atomic
 *   per document; concurrent writes commute). Counters and documents that fall to zero are removed,
 *   so the collection stays equal to a rebuild. A retry (idempotent replay) runs the same refresh:
 *   it changes nothing when the rollups are current and repairs them when an earlier attempt stopped
 *   between the raw write and the rollup update.
 * - joint meetings and committees: ./areas.ts.
 * - the register: the household figures of every area a changed 小区 was or is in are recomputed
 *   from the register (indexed by area), and the tickets of 小区 whose household count or area
 *   changed are refreshed (their `ok` depends on it).
 */
import type { AnyBulkWriteOperation } from 'mongodb';
import type { Models } from '../models';
import {
  contributionOf, differenceOf, hashInputs, inputsOf, REGISTER_FIELDS, TICKET_FIELDS,
  type Contribution, type RegisterRow, type TicketInputs, type TicketRow,
} from './tickets';
import { refreshCommitteeAreas, refreshMeetingDays } from './areas';
import { registerDocsFor, REGISTER_LEVELS, type RegisterLevel } from './register';

interface LedgerDoc {
  _id: string;
  h: string;
  in: TicketInputs;
}

/** Attempts of the compare-and-set before giving up (each loses only to a concurrent write). */
const MAX_ATTEMPTS = 25;
/** Tickets refreshed per batch after a register change. */
const REFRESH_BATCH = 500;

/** The sum of several differences (of distinct tickets). */
function mergeDifferences(diffs: readonly Contribution[]): Contribution {
  const out: Contribution = new Map();
  for (const diff of diffs) {
    for (const [id, d] of diff) {
      let t = out.get(id);
      if (!t) out.set(id, (t = { ident: d.ident, inc: new Map() }));
      for (const [path, n] of d.inc) t.inc.set(path, (t.inc.get(path) ?? 0) + n);
    }
  }
  for (const [id, d] of out) {
    for (const [path, n] of d.inc) if (n === 0) d.inc.delete(path);
    if (d.inc.size === 0) out.delete(id);
  }
  return out;
}

export function createStatsWriter(m: Models) {
  /** The ledger entries, rows and register rows of some tickets (three queries). */
  async function load(ids: readonly string[]) {
    const [ledgers, rows] = await Promise.all([
      m.TicketStatsLedger.collection.find({ _id: { $in: [...ids] as never[] } }).toArray() as unknown as Promise<LedgerDoc[]>,
      m.Ticket.collection.find({ _id: { $in: [...ids] as never[] } }, { projection: TICKET_FIELDS }).toArray() as unknown as Promise<TicketRow[]>,
    ]);
    const regs = rows.length
      ? ((await m.Community.collection.find({ _id: { $in: [...new Set(rows.map((r) => r.communityId))] as never[] } }, { projection: REGISTER_FIELDS }).toArray()) as unknown as RegisterRow[])
      : [];
    const reg = new Map(regs.map((r) => [r._id, r]));
    const row = new Map(rows.map((r) => [r._id, r]));
    const ledger = new Map(ledgers.map((l) => [l._id, l]));
    return ids.map((id) => {
      const t = row.get(id);
      const next = t ? inputsOf(t, reg.get(t.communityId) ?? null) : null;
      return { id, old: ledger.get(id) ?? null, next, h: hashInputs(next) };
    });
  }

  /** Swaps a ticket's ledger entry from `old` to `next` (compare-and-set); false when it lost to a concurrent write. */
  async function swap(id: string, old: LedgerDoc | null, next: TicketInputs | null, h: string | null): Promise<boolean> {
    const ledger = m.TicketStatsLedger.collection;
    if (!old) {
      try {
        await ledger.insertOne({ _id: id, h, in: next } as never);
        return true;
      } catch (e) {
        if ((e as { code?: number }).code !== 11000) throw e;
        return false;
      }
    }
    if (!next) return (await ledger.deleteOne({ _id: id as never, h: old.h })).deletedCount === 1;
    return (await ledger.updateOne({ _id: id as never, h: old.h }, { $set: { h, in: next } })).matchedCount === 1;
  }

  /**
   * Brings the rollups of these tickets up to date: tickets whose inputs did not change cost the three
   * reads only; the differences of those that did are applied in one bulk write. A ticket whose swap
   * loses to a concurrent write is read again, alone.
   */
  async function refresh(ids: readonly string[]): Promise<void> {
    if (!ids.length) return;
    const diffs: Contribution[] = [];
    const retry: string[] = [];
    const changed = (await load(ids)).filter(({ old, h }) => (old?.h ?? null) !== h);
    const swapped = await Promise.all(changed.map(({ id, old, next, h }) => swap(id, old, next, h)));
    changed.forEach(({ id, old, next }, k) => {
      if (swapped[k]) diffs.push(differenceOf(contributionOf(old?.in ?? null), contributionOf(next)));
      else retry.push(id);
    });
    if (diffs.length) await applyDifference(m, diffs.length === 1 ? diffs[0] : mergeDifferences(diffs));
    for (const id of retry) {
      let done = false;
      for (let attempt = 0; attempt < MAX_ATTEMPTS && !done; attempt++) {
        const [{ old, next, h }] = await load([id]);
        if ((old?.h ?? null) === h) done = true;
        else if (await swap(id, old, next, h)) {
          await applyDifference(m, differenceOf(contributionOf(old?.in ?? null), contributionOf(next)));
          done = true;
        }
      }
      if (!done) throw new Error(`governance statistics: the rollup of ticket ${id} kept changing under concurrent writes`);
    }
  }

  return {
    /** Brings the rollups of these tickets up to date with their raw rows (sequentially). */
    async refreshTickets(ids: readonly (string | null | undefined)[]): Promise<void> {
      await refresh([...new Set(ids)].filter((id): id is string => !!id));
    },

    /** Brings the joint-meeting day buckets of these meetings (their areas and CST days) up to date. */
    async refreshMeetings(meetings: readonly { cityCode?: string | null; districtCode?: string | null; heldAt: Date }[]): Promise<void> {
      await refreshMeetingDays(m, meetings);
    },

    /**
     * After register rows changed (`before`: the rows as they were, missing for new 小区): recomputes
     * the household figures of every area concerned and refreshes the tickets of 小区 whose household
     * count or area changed.
     */
    async refreshRegister(before: readonly RegisterRow[], ids: readonly string[]): Promise<void> {
      const after = (await m.Community.collection.find({ _id: { $in: [...ids] as never[] } }, { projection: REGISTER_FIELDS }).toArray()) as unknown as RegisterRow[];
      const old = new Map(before.map((r) => [r._id, r]));
      const areas = new Set<string>();
      const changed: string[] = [];
      const areaKeys = (r: RegisterRow | undefined) =>
        r ? [`ALL|*`, `CITY|${r.cityCode}`, `DISTRICT|${r.districtCode}`, ...(r.companyUscc ? [`COMPANY|${r.companyUscc}`] : [])] : [];
      const sig = (r: RegisterRow | undefined) =>
        r ? JSON.stringify([r.cityCode ?? null, r.districtCode ?? null, r.companyUscc ?? null, r.householdCount ?? null]) : null;
      for (const r of after) {
        const o = old.get(r._id);
        if (sig(o) === sig(r)) continue;
        for (const k of [...areaKeys(o), ...areaKeys(r)]) areas.add(k);
        changed.push(r._id);
      }
      if (areas.size) {
        const FIELD = { CITY: 'cityCode', DISTRICT: 'districtCode', COMPANY: 'companyUscc' } as const;
        const keys = [...areas].filter((key) => {
          const [level, code] = key.split('|');
          return (REGISTER_LEVELS as readonly string[]).includes(level) && code !== 'null' && code !== 'undefined';
        });
        const ops: AnyBulkWriteOperation[] = await Promise.all(
          keys.map(async (key): Promise<AnyBulkWriteOperation> => {
            const [level, code] = key.split('|') as [RegisterLevel, string];
            const rows = (await m.Community.collection
              .find(level === 'ALL' ? {} : { [FIELD[level]]: code }, { projection: REGISTER_FIELDS })
              .toArray()) as unknown as RegisterRow[];
            const doc = registerDocsFor(rows).get(key);
            return doc ? { replaceOne: { filter: { _id: key as never }, replacement: doc as never, upsert: true } } : { deleteOne: { filter: { _id: key as never } } };
          }),
        );
        if (ops.length) await m.RegisterStats.collection.bulkWrite(ops as never[], { ordered: true });
        // Committee oversight counts the 小区 of each area: recompute the areas a 小区 joined or left.
        await refreshCommitteeAreas(m, areas);
      }
      if (changed.length) {
        const tickets = (await m.Ticket.collection.find({ communityId: { $in: changed } }, { projection: { _id: 1 } }).toArray()) as unknown as { _id: string }[];
        for (let i = 0; i < tickets.length; i += REFRESH_BATCH) await refresh(tickets.slice(i, i + REFRESH_BATCH).map((t) => t._id));
      }
    },
  };
}
export type StatsWriter = ReturnType<typeof createStatsWriter>;

/**
 * Adds a difference to the rollup documents (main and group documents); counters, the histogram
 * container and documents at zero are removed.
 */
export async function applyDifference(m: Models, diff: Contribution): Promise<void> {
  const main: AnyBulkWriteOperation[] = [];
  const groups: AnyBulkWriteOperation[] = [];
  for (const [id, { ident, inc }] of diff) {
    const ops = ident.g ? groups : main;
    const $inc = Object.fromEntries(inc);
    ops.push({ updateOne: { filter: { _id: id as never }, update: { $inc, $setOnInsert: ident }, upsert: true } });
    // Only a decrease (or `e`, which goes both ways) can bring a counter back to zero.
    let decreased = false;
    let hist = false;
    for (const [path, n] of inc) {
      if (n < 0) decreased = true;
      if (path === 'n' || (n > 0 && path !== 'e')) continue; // the document itself goes at n = 0 (below)
      ops.push({ updateOne: { filter: { _id: id as never, [path]: 0 }, update: { $unset: { [path]: '' } } } });
      if (path.startsWith('h.')) hist = true;
    }
    if (hist) ops.push({ updateOne: { filter: { _id: id as never, h: {} }, update: { $unset: { h: '' } } } });
    if (decreased) ops.push({ deleteOne: { filter: { _id: id as never, n: 0 } } });
  }
  await Promise.all([
    main.length ? m.TicketStats.collection.bulkWrite(main as never[], { ordered: true }) : null,
    groups.length ? m.TicketStatsGroups.collection.bulkWrite(groups as never[], { ordered: true }) : null,
  ]);
}
