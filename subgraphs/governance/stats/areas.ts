/**
 * Area rollups of governance beside the ticket rollups (collections described in ./model.ts):
 *
 * - committee oversight per city and district: one document per area, computed from the area's
 *   register rows and their committees. Committees are written only by the seeds (which rebuild),
 *   and a 小区 changes area only through the register sync, which recomputes the areas it left and
 *   joined ({@link refreshCommitteeAreas}). The time-dependent figures ("term ended before now",
 *   "disclosed in the last 365 days") are kept as sorted instants with counts, so a read is exact at
 *   any instant without rescanning the committees.
 * - joint meetings per city/district and CST day: a write recomputes the day buckets it touched
 *   from the indexed rows ({@link refreshMeetingDays}), so a retried or replayed command repairs
 *   what an interrupted one left. A range read sums the whole days after the range's first day and
 *   counts that first, partial day from the raw rows (a short indexed range).
 */
import type { AnyBulkWriteOperation } from 'mongodb';
import { cstDate, cstDayStart, DAY_MS } from '../../../lib/clock';
import type { Models } from '../models';
import type { CommitteeStatsRaw } from '../services/repository';

export type AreaLevel = 'CITY' | 'DISTRICT';
const AREA_FIELD = { CITY: 'cityCode', DISTRICT: 'districtCode' } as const;
const AREA_LEVELS: readonly AreaLevel[] = ['CITY', 'DISTRICT'];

// ---------------------------------------------------------------------------------------------
// Committees
// ---------------------------------------------------------------------------------------------

interface RegisterArea {
  _id: string;
  cityCode?: string | null;
  districtCode?: string | null;
}
interface CommitteeRow {
  _id: string;
  communityId: string;
  type: string;
  status: string;
  termEnd?: Date | null;
  lastDisclosureAt?: Date | null;
  partyMemberRatio?: number | null;
}
const COMMITTEE_FIELDS = { communityId: 1, type: 1, status: 1, termEnd: 1, lastDisclosureAt: 1, partyMemberRatio: 1 } as const;

/** A committee-stats document: see ./model.ts. */
export interface CommitteeAreaDoc {
  _id: string;
  n: number;
  oc: number;
  pmc: number;
  any: number;
  act: number;
  exp: number;
  te: [number, number][];
  dl: [number, number][];
  rs: number;
  rn: number;
}

/** What the read returns: the raw aggregation's shape (services/repository.ts). */
export type CommitteeFigures = CommitteeStatsRaw;

const isDate = (d: unknown): d is Date => d instanceof Date && !Number.isNaN(d.getTime());

function pairs(counts: Map<number, number>): [number, number][] {
  return [...counts].sort((a, b) => a[0] - b[0]);
}

/** The documents of the given areas (`<level>|<code>`) from register rows and their committees. */
export function committeeDocsFor(areas: ReadonlySet<string> | null, register: Iterable<RegisterArea>, committees: Iterable<CommitteeRow>): Map<string, CommitteeAreaDoc> {
  // In `_id` order, so that the ratio sum is the same floating-point number however the rows were read.
  const byId = <T extends { _id: string }>(a: T, b: T) => (a._id < b._id ? -1 : a._id > b._id ? 1 : 0);
  const byCommunity = new Map<string, CommitteeRow[]>();
  for (const c of [...committees].sort(byId)) {
    const list = byCommunity.get(c.communityId);
    if (list) list.push(c);
    else byCommunity.set(c.communityId, [c]);
  }
  const acc = new Map<string, { doc: CommitteeAreaDoc; te: Map<number, number>; dl: Map<number, number> }>();
  for (const r of [...register].sort(byId)) {
    const cs = byCommunity.get(r._id) ?? [];
    const active = cs.filter((c) => c.status === 'ACTIVE');
    const oc = active.some((c) => c.type === 'OWNERS_COMMITTEE');
    const pmc = active.some((c) => c.type === 'PROPERTY_MANAGEMENT_COMMITTEE');
    for (const level of AREA_LEVELS) {
      const code = r[AREA_FIELD[level]];
      if (code === undefined || code === null) continue;
      const key = `${level}|${code}`;
      if (areas && !areas.has(key)) continue;
      let a = acc.get(key);
      if (!a) acc.set(key, (a = { doc: { _id: key, n: 0, oc: 0, pmc: 0, any: 0, act: 0, exp: 0, te: [], dl: [], rs: 0, rn: 0 }, te: new Map(), dl: new Map() }));
      const d = a.doc;
      d.n += 1;
      if (oc) d.oc += 1;
      if (pmc) d.pmc += 1;
      if (oc || pmc) d.any += 1;
      d.act += active.length;
      for (const c of cs) {
        if (c.status === 'EXPIRED') d.exp += 1;
        else if (c.status === 'ACTIVE' && isDate(c.termEnd)) a.te.set(c.termEnd.getTime(), (a.te.get(c.termEnd.getTime()) ?? 0) + 1);
        if (isDate(c.lastDisclosureAt)) a.dl.set(c.lastDisclosureAt.getTime(), (a.dl.get(c.lastDisclosureAt.getTime()) ?? 0) + 1);
        if (typeof c.partyMemberRatio === 'number') {
          d.rs += c.partyMemberRatio;
          d.rn += 1;
        }
      }
    }
  }
  const out = new Map<string, CommitteeAreaDoc>();
  for (const [key, a] of acc) out.set(key, { ...a.doc, te: pairs(a.te), dl: pairs(a.dl) });
  return out;
}

/** Every committee-stats document, from the whole register and every committee. */
export async function computeCommitteeDocs(m: Models): Promise<CommitteeAreaDoc[]> {
  const [register, committees] = await Promise.all([
    m.Community.collection.find({}, { projection: { cityCode: 1, districtCode: 1 } }).toArray() as unknown as Promise<RegisterArea[]>,
    m.Committee.collection.find({}, { projection: COMMITTEE_FIELDS }).toArray() as unknown as Promise<CommitteeRow[]>,
  ]);
  return [...committeeDocsFor(null, register, committees).values()];
}

/**
 * Recomputes the committee documents of these areas (`<level>|<code>`) from their register rows and
 * committees (indexed reads), replacing or removing each.
 */
export async function refreshCommitteeAreas(m: Models, areas: ReadonlySet<string>): Promise<void> {
  const keys = [...areas].filter((k) => k.startsWith('CITY|') || k.startsWith('DISTRICT|'));
  if (!keys.length) return;
  const ops: AnyBulkWriteOperation[] = [];
  for (const key of keys) {
    const [level, code] = key.split('|') as [AreaLevel, string];
    const register = (await m.Community.collection.find({ [AREA_FIELD[level]]: code }, { projection: { cityCode: 1, districtCode: 1 } }).toArray()) as unknown as RegisterArea[];
    const committees = register.length
      ? ((await m.Committee.collection.find({ communityId: { $in: register.map((r) => r._id) } }, { projection: COMMITTEE_FIELDS }).toArray()) as unknown as CommitteeRow[])
      : [];
    const doc = committeeDocsFor(new Set([key]), register, committees).get(key);
    ops.push(doc ? { replaceOne: { filter: { _id: key as never }, replacement: doc as never, upsert: true } } : { deleteOne: { filter: { _id: key as never } } });
  }
  await m.CommitteeStats.collection.bulkWrite(ops as never[], { ordered: true });
}

const countBefore = (list: readonly [number, number][], t: number) => list.reduce((s, [at, n]) => (at < t ? s + n : s), 0);
const countFrom = (list: readonly [number, number][], t: number) => list.reduce((s, [at, n]) => (at >= t ? s + n : s), 0);

/** The figures of a committee document as of `now` (as the raw computation: term ended before now, disclosed in the last 365 days). */
export function committeeFiguresOf(code: string, d: CommitteeAreaDoc, now: Date): CommitteeFigures {
  return {
    code,
    communities: d.n,
    withOwnersCommittee: d.oc,
    withPMC: d.pmc,
    none: d.n - d.any,
    active: d.act,
    expiredTerms: d.exp + countBefore(d.te, now.getTime()),
    disclosedLast12m: countFrom(d.dl, now.getTime() - 365 * DAY_MS),
    avgPartyMemberRatio: d.rn ? d.rs / d.rn : null,
    ratioCommittees: d.rn,
  };
}

/** Committee figures of these areas as of `now`; areas without 小区 are missing from the map. */
export async function readCommitteeStats(m: Models, level: AreaLevel, codes: readonly string[], now: Date): Promise<CommitteeFigures[]> {
  const docs = (await m.CommitteeStats.collection.find({ _id: { $in: codes.map((c) => `${level}|${c}`) as never[] } }).toArray()) as unknown as CommitteeAreaDoc[];
  return docs.map((d) => committeeFiguresOf(d._id.slice(level.length + 1), d, now));
}

// ---------------------------------------------------------------------------------------------
// Joint meetings
// ---------------------------------------------------------------------------------------------

interface MeetingRow {
  cityCode?: string | null;
  districtCode?: string | null;
  heldAt: Date;
}

const meetingSeries = (level: AreaLevel, code: string) => `${level}|${code}`;

/** Every meeting-stats document, from every meeting. */
export async function computeMeetingDocs(m: Models): Promise<{ _id: string; s: string; day: string; n: number }[]> {
  const rows = (await m.Meeting.collection.find({}, { projection: { cityCode: 1, districtCode: 1, heldAt: 1 } }).toArray()) as unknown as MeetingRow[];
  const counts = new Map<string, number>();
  for (const r of rows) {
    if (!isDate(r.heldAt)) continue;
    const day = cstDate(r.heldAt);
    for (const level of AREA_LEVELS) {
      const code = r[AREA_FIELD[level]];
      if (code === undefined || code === null) continue;
      const id = `${meetingSeries(level, code)}|${day}`;
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
  }
  return [...counts].map(([id, n]) => {
    const cut = id.lastIndexOf('|');
    return { _id: id, s: id.slice(0, cut), day: id.slice(cut + 1), n };
  });
}

/** Meetings of one area on one CST day, counted from the raw rows (indexed by area and `heldAt`). */
async function countDay(m: Models, level: AreaLevel, code: string, day: string): Promise<number> {
  const start = cstDayStart(new Date(`${day}T12:00:00+08:00`));
  return m.Meeting.collection.countDocuments({ [AREA_FIELD[level]]: code, heldAt: { $gte: start, $lt: new Date(start.getTime() + DAY_MS) } });
}

/** Attempts of write-then-verify before giving up (each repeat means a concurrent write landed). */
const MAX_ATTEMPTS = 25;

/**
 * Brings the day buckets of these meetings up to date: each (area, day) is counted from the raw rows
 * and written, then counted again; a count that moved in between (a concurrent write) is written
 * again, so the last write of a bucket always follows every meeting inserted before it.
 */
export async function refreshMeetingDays(m: Models, meetings: readonly MeetingRow[]): Promise<void> {
  const buckets = new Map<string, { level: AreaLevel; code: string; day: string }>();
  for (const r of meetings) {
    if (!isDate(r.heldAt)) continue;
    const day = cstDate(r.heldAt);
    for (const level of AREA_LEVELS) {
      const code = r[AREA_FIELD[level]];
      if (code !== undefined && code !== null) buckets.set(`${meetingSeries(level, code)}|${day}`, { level, code, day });
    }
  }
  const coll = m.MeetingStats.collection;
  for (const [id, { level, code, day }] of buckets) {
    let n = await countDay(m, level, code, day);
    for (let attempt = 0; ; attempt++) {
      if (n) await coll.replaceOne({ _id: id as never }, { s: meetingSeries(level, code), day, n }, { upsert: true });
      else await coll.deleteOne({ _id: id as never });
      const again = await countDay(m, level, code, day);
      if (again === n) break;
      if (attempt >= MAX_ATTEMPTS) throw new Error(`governance statistics: the meeting count of ${id} kept changing under concurrent writes`);
      n = again;
    }
  }
}

/**
 * Meetings held at or after `from` in each area (no upper bound, as the raw count): the day
 * documents after `from`'s CST day plus that first day's meetings from `from` on, from the raw rows.
 */
export async function readMeetingCounts(m: Models, level: AreaLevel, codes: readonly string[], from: Date): Promise<{ code: string; n: number }[]> {
  const firstDay = cstDate(from);
  const firstEnd = cstDayStart(from, 1);
  const [docs, edge] = await Promise.all([
    m.MeetingStats.collection.find({ s: { $in: codes.map((c) => meetingSeries(level, c)) }, day: { $gt: firstDay } }, { projection: { s: 1, n: 1 } }).toArray() as unknown as Promise<{ s: string; n: number }[]>,
    m.Meeting.collection
      .aggregate<{ _id: string; n: number }>([
        { $match: { [AREA_FIELD[level]]: { $in: [...codes] }, heldAt: { $gte: from, $lt: firstEnd } } },
        { $group: { _id: `$${AREA_FIELD[level]}`, n: { $sum: 1 } } },
      ])
      .toArray(),
  ]);
  const out = new Map<string, number>();
  for (const d of docs) {
    const code = d.s.slice(level.length + 1);
    out.set(code, (out.get(code) ?? 0) + d.n);
  }
  for (const e of edge) out.set(e._id, (out.get(e._id) ?? 0) + e.n);
  return [...out].map(([code, n]) => ({ code, n }));
}
