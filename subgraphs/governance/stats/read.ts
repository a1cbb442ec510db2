/**
 * Ticket statistics read from the rollups (./model.ts): one batch of area codes (the per-request
 * DataLoaders group codes of one level and one set of arguments) costs a fixed number of commands
 * whatever the number of codes: the register figures, the rollup documents of the series asked for,
 * and a few exact looks at raw rows at the edges of the range (indexed by date).
 *
 * A range [from, now] is covered by (./cover.ts): raw rows from `from` to the end of its CST day,
 * day documents up to the end of that month, month documents for whole months, day documents of the
 * current month before today, and raw rows of today up to now. Backlog is the sum of `b` over every
 * month document; overdue is the same over deadlines before now: month documents before the current
 * month, day documents of the current month before today, and today's open rows with a deadline
 * before now. 小区 (COMMUNITY) have month documents only: their edges are whole months of raw rows.
 *
 * Quantiles of hours to resolve come from merged whole-hour histograms: the nearest-rank p50/p90 of
 * the raw durations floored to the hour.
 */
import { readCommitteeStats, readMeetingCounts, type AreaLevel } from './areas';
import { cstMonth, cstMonthStart, lastMonthsIncludingCurrent, rangeStart, type TimeRange } from '../../../lib/clock';
import { histAdd, histMerge, histQuantile, type Histogram } from '../../../lib/rollup';
import { unionReaderFor } from '../../../lib/union-reader';
import type { Models } from '../models';
import type { GroupBy, TicketStatsRaw } from '../services/repository';
import { coverOf, dueCoverOf, type Interval } from './cover';
import { REGISTER_LEVELS, type RegisterStatsDoc } from './register';
import {
  daySeries, decodeKey, GROUP_LETTER, householdsKnown, hoursBucket, monthSeries, REGISTER_FIELDS,
  type RegisterRow, type TicketLevel,
} from './tickets';

const RATED = new Set(['SATISFIED', 'BASICALLY_SATISFIED', 'DISSATISFIED']);
const TICKET_FIELD: Readonly<Record<TicketLevel, string | null>> = {
  ALL: null,
  CITY: 'cityCode',
  DISTRICT: 'districtCode',
  COMPANY: 'companyUscc',
  COMMUNITY: 'communityId',
};
const RAW_FIELDS = {
  communityId: 1, cityCode: 1, districtCode: 1, companyUscc: 1, serviceCode: 1, channel: 1, type: 1,
  requestedAt: 1, resolvedAt: 1, dueAt: 1, reopenCount: 1, firstSatisfaction: 1,
} as const;

interface Counters {
  o: number;
  ok: number;
  r: number;
  rt: number;
  rr: number;
  ra: number;
  rs: number;
  rd: number;
  h: Histogram;
  b: number;
  ov: number;
}
const empty = (): Counters => ({ o: 0, ok: 0, r: 0, rt: 0, rr: 0, ra: 0, rs: 0, rd: 0, h: {}, b: 0, ov: 0 });

interface Acc {
  total: Counters;
  groups: Map<string, Counters>;
}
const newAcc = (): Acc => ({ total: empty(), groups: new Map() });
const groupOf = (a: Acc, k: string) => {
  let g = a.groups.get(k);
  if (!g) a.groups.set(k, (g = empty()));
  return g;
};

interface StatsDoc {
  _id: string;
  s: string;
  L: TicketLevel;
  p: string;
  ci?: string;
  d?: string;
  c?: string;
  u?: string | null;
  o?: number;
  ok?: number;
  r?: number;
  rt?: number;
  rr?: number;
  ra?: number;
  rs?: number;
  rd?: number;
  b?: number;
  e?: number;
  h?: Histogram;
}
/** A group document: ident fields, `n`, and `<group>:<counter>` fields. */
type GroupDoc = StatsDoc & Record<string, unknown>;
const GROUP_DOC_FIELDS = new Set(['_id', 's', 'L', 'p', 'g', 'ci', 'd', 'c', 'u', 'n']);

interface RawTicket {
  communityId: string;
  cityCode: string;
  districtCode: string;
  companyUscc?: string | null;
  serviceCode: string;
  channel: string;
  type: string;
  requestedAt: Date;
  resolvedAt?: Date | null;
  dueAt: Date;
  reopenCount?: number | null;
  firstSatisfaction?: string | null;
}

/** A ticket scope the Query asks for: fields combine with AND. */
export interface TicketScopeInput {
  cityCode?: string | null;
  districtCode?: string | null;
  communityId?: string | null;
  companyUscc?: string | null;
}

export interface TicketMonthRow {
  month: string;
  opened: number;
  resolved: number;
  backlog: number;
  medianHoursToResolve: number | null;
  p90HoursToResolve: number | null;
  onTimeRate: number | null;
  satisfiedRate: number | null;
}

/** Households behind a scope: the known total (null when the register has no 小区 there) and the unknown 小区. */
export interface Households {
  households: number | null;
  unknown: ReadonlySet<string>;
}

const ratio = (n: number, d: number) => (d === 0 ? null : n / d);

/** What a document adds: flows (opened, resolved) in the range, backlog, overdue. */
interface What {
  flow: boolean;
  backlog: boolean;
  overdue: boolean;
}

/** The counters of a group document for one dimension (`S:`, `C:` or `T:` fields), per group. */
function addGroupDoc(acc: Acc, doc: GroupDoc, letter: string, what: What) {
  for (const [f, n] of Object.entries(doc)) {
    if (GROUP_DOC_FIELDS.has(f) || typeof n !== 'number' || f[0] !== letter) continue;
    const k = f.slice(2);
    const i = k.indexOf(':');
    const key = decodeKey(k.slice(0, i));
    const rest = k.slice(i + 1);
    const g = groupOf(acc, key);
    if (rest === 'b') {
      if (what.backlog) g.b += n;
      if (what.overdue) g.ov += n;
    } else if (what.flow) {
      if (rest.startsWith('h:')) histAdd(g.h, Number(rest.slice(2)), n);
      else (g as unknown as Record<string, number>)[rest] += n;
    }
  }
}

function addDoc(acc: Acc, doc: StatsDoc, what: What, known: boolean | null) {
  const t = acc.total;
  if (what.flow) {
    t.o += doc.o ?? 0;
    t.ok += known === null ? (doc.ok ?? 0) : known ? (doc.o ?? 0) : 0;
    t.r += doc.r ?? 0;
    t.rt += doc.rt ?? 0;
    t.rr += doc.rr ?? 0;
    t.ra += doc.ra ?? 0;
    t.rs += doc.rs ?? 0;
    t.rd += doc.rd ?? 0;
    histMerge(t.h, doc.h);
  }
  if (what.backlog) t.b += doc.b ?? 0;
  if (what.overdue) t.ov += doc.b ?? 0;
}

function addRawOpened(acc: Acc, t: RawTicket, groupBy: GroupBy | null, known: boolean) {
  acc.total.o++;
  if (known) acc.total.ok++;
  if (groupBy) groupOf(acc, groupKey(t, groupBy)).o++;
}

function addRawResolved(acc: Acc, t: RawTicket, groupBy: GroupBy | null) {
  const rq = new Date(t.requestedAt).getTime();
  const rs = new Date(t.resolvedAt!).getTime();
  const fs = t.firstSatisfaction && RATED.has(t.firstSatisfaction) ? t.firstSatisfaction : null;
  const add = (c: Counters, onTime: boolean) => {
    c.r++;
    if (onTime && rs <= new Date(t.dueAt).getTime()) c.rt++;
    if ((t.reopenCount ?? 0) > 0) c.rr++;
    if (fs) c.ra++;
    if (fs && fs !== 'DISSATISFIED') c.rs++;
    if (fs === 'DISSATISFIED') c.rd++;
    histAdd(c.h, hoursBucket(rq, rs));
  };
  add(acc.total, true);
  if (groupBy) add(groupOf(acc, groupKey(t, groupBy)), false);
}

function addRawOverdue(acc: Acc, t: RawTicket, groupBy: GroupBy | null) {
  acc.total.ov++;
  if (groupBy) groupOf(acc, groupKey(t, groupBy)).ov++;
}

const groupKey = (t: RawTicket, g: GroupBy) => (g === 'SERVICE_CODE' ? t.serviceCode : g === 'CHANNEL' ? t.channel : t.type);

/** The figures of one scope as the shaping code (services/stats.ts) takes them. */
function toRaw(scope: string, acc: Acc, grouped: boolean): TicketStatsRaw[] {
  const row = (group: string | null, c: Counters, withOk: boolean): TicketStatsRaw => ({
    scope,
    group,
    opened: c.o,
    openedKnownHouseholds: withOk ? c.ok : 0,
    resolved: c.r,
    backlog: c.b,
    overdue: c.ov,
    p50Hours: histQuantile(c.h, 0.5),
    p90Hours: histQuantile(c.h, 0.9),
    onTime: c.rt,
    reopened: c.rr,
    rated: c.ra,
    satisfied: c.rs,
    dissatisfied: c.rd,
  });
  const out = [row(null, acc.total, true)];
  if (grouped) {
    for (const [k, c] of acc.groups) {
      // A group that only has counters at zero (e.g. deadlines today, none before now) is not a row.
      if (c.o || c.r || c.b || c.ov) out.push(row(k, c, false));
    }
  }
  return out;
}

/** CST months (`YYYY-MM`) from the month of `from` to the month of `now`, both included. */
function monthsFrom(from: Date, now: Date): string[] {
  const out: string[] = [];
  const last = cstMonth(now);
  for (let at = cstMonthStart(from); out.length < 1200; at = cstMonthStart(at, 1)) {
    const p = cstMonth(at);
    if (p > last) break;
    out.push(p);
  }
  return out;
}

const dateRange = (field: string, iv: Interval) => ({ [field]: { $gte: iv.from, [iv.incl ? '$lte' : '$lt']: iv.to } });
/** The same test as `dateRange`, on a row already read. */
const inInterval = (d: Date | null | undefined, iv: Interval): boolean =>
  d instanceof Date && d >= iv.from && (iv.incl ? d <= iv.to : d < iv.to);

export function createStatsReader(m: Models) {
  /** The reads of one figure set (register, rollups, edge rows) leave as one command. */
  const reads = unionReaderFor(m.Ticket.db);

  /** Households per code of an area level (COMMUNITY: the 小区's own register row). */
  async function households(level: TicketLevel, codes: readonly string[]): Promise<Map<string, Households>> {
    const out = new Map<string, Households>();
    if (level === 'COMMUNITY') {
      const rows = await reads.find<RegisterRow>(m.Community, { _id: { $in: [...codes] } }, { projection: REGISTER_FIELDS, cast: false });
      for (const r of rows) out.set(r._id, { households: householdsKnown(r) ? (r.householdCount as number) : 0, unknown: new Set(householdsKnown(r) ? [] : [r._id]) });
      return out;
    }
    if (!(REGISTER_LEVELS as readonly string[]).includes(level)) return out;
    const docs = await reads.find<RegisterStatsDoc>(m.RegisterStats, { _id: { $in: codes.map((c) => `${level}|${c}`) } }, { cast: false });
    for (const d of docs) out.set(d.code, { households: d.hh, unknown: new Set(d.unk ?? []) });
    return out;
  }

  /**
   * Figures per code of one level over `range` as of `now` (rows in the shape of the raw-row
   * reference: the total with group null, then one row per group when `groupBy` is set).
   */
  async function ticketStats(
    level: TicketLevel,
    codes: readonly string[],
    range: TimeRange,
    groupBy: GroupBy | null,
    now: Date,
  ): Promise<{ rows: Map<string, TicketStatsRaw[]>; households: Map<string, Households> }> {
    const from = rangeStart(range, now);
    const days = level !== 'COMMUNITY';
    const cover = coverOf(from, now, days);
    const due = dueCoverOf(now, days);
    const neededDays = [...new Set([...cover.days, ...due.days])];
    const dayMonths = new Set(neededDays.map((d) => d.slice(0, 7)));
    const monthSer: string[] = [];
    const daySer: string[] = [];
    const lookup = level === 'ALL' ? ['*'] : codes;
    for (const code of lookup) {
      monthSer.push(monthSeries(level, code));
      for (const mo of dayMonths) daySer.push(daySeries(level, code, mo));
    }
    const field = TICKET_FIELD[level];
    const scopeMatch: Record<string, unknown> = field ? { [field]: { $in: [...codes] } } : {};
    const codeOfRow = (t: RawTicket) => (field ? ((t as unknown as Record<string, string>)[field] ?? '') : '*');
    const letter = groupBy ? GROUP_LETTER[groupBy] : null;
    const G = (x: string) => `${x}|G`;
    // Only what the figures use is read: day documents of the days in the cover (flows) or due
    // before today (overdue), whole month documents of the months in the range, and of the other
    // months only their backlog `b` (the same documents, fewer fields). Group documents keep all
    // their fields (their backlog is one field per group).
    const flowMonths = from ? monthsFrom(from, now).filter((p) => cover.months(p)) : null;
    const monthDocs = (): Promise<StatsDoc[]> =>
      flowMonths
        ? Promise.all([
            flowMonths.length ? reads.find<StatsDoc>(m.TicketStats, { s: { $in: monthSer }, p: { $in: flowMonths } }, { cast: false }) : Promise.resolve([]),
            reads.find<StatsDoc>(m.TicketStats, { s: { $in: monthSer }, p: { $nin: flowMonths } }, { projection: { s: 1, p: 1, b: 1 }, cast: false }),
          ]).then(([a, b]) => [...a, ...b])
        : reads.find<StatsDoc>(m.TicketStats, { s: { $in: monthSer } }, { cast: false });
    const dayDocs = <T>(model: typeof m.TicketStats, ser: string[]): Promise<T[]> =>
      ser.length && neededDays.length ? reads.find<T>(model, { s: { $in: ser }, p: { $in: neededDays } }, { cast: false }) : Promise.resolve([]);
    const [hh, docs, groupDocs, raw] = await Promise.all([
      households(level, lookup),
      Promise.all([monthDocs(), dayDocs<StatsDoc>(m.TicketStats, daySer)]).then(([a, b]) => [...a, ...b]),
      letter
        ? Promise.all([
            reads.find<GroupDoc>(m.TicketStatsGroups, { s: { $in: monthSer.map(G) } }, { cast: false }),
            dayDocs<GroupDoc>(m.TicketStatsGroups, daySer.map(G)),
          ]).then(([a, b]) => [...a, ...b])
        : Promise.resolve([]),
      readRaw(scopeMatch, cover.raw, due.raw),
    ]);
    const accs = new Map<string, Acc>();
    const accOf = (code: string) => {
      let a = accs.get(code);
      if (!a) accs.set(code, (a = newAcc()));
      return a;
    };
    const cur = cstMonth(now);
    const whatOf = (doc: StatsDoc): What =>
      doc.s.split('|')[2] === 'M'
        ? { flow: cover.months(doc.p), backlog: true, overdue: doc.p < cur }
        : { flow: cover.days.has(doc.p), backlog: false, overdue: due.days.has(doc.p) };
    for (const doc of docs) {
      const code = doc.s.split('|')[1];
      const knownHere = level === 'COMMUNITY' ? !(hh.get(code)?.unknown.has(code) ?? false) : null;
      const what = whatOf(doc);
      if (what.flow || what.backlog || what.overdue) addDoc(accOf(code), doc, what, knownHere);
    }
    for (const doc of groupDocs) {
      const what = whatOf(doc);
      if (what.flow || what.backlog || what.overdue) addGroupDoc(accOf(doc.s.split('|')[1]), doc, letter!, what);
    }
    for (const t of raw.opened) {
      const code = codeOfRow(t);
      addRawOpened(accOf(code), t, groupBy, !(hh.get(code)?.unknown.has(t.communityId) ?? false));
    }
    for (const t of raw.resolved) addRawResolved(accOf(codeOfRow(t)), t, groupBy);
    for (const t of raw.overdue) addRawOverdue(accOf(codeOfRow(t)), t, groupBy);
    const rows = new Map<string, TicketStatsRaw[]>();
    for (const code of lookup) rows.set(code, toRaw(code, accs.get(code) ?? newAcc(), groupBy != null));
    return { rows, households: hh };
  }

  /**
   * Raw rows at the edges: opened and resolved in the intervals, open with a deadline in the due
   * interval. One query (an $or of the edge ranges, each on its own index), sorted out here.
   */
  async function readRaw(scopeMatch: Record<string, unknown>, intervals: Interval[], dueRaw: Interval | null) {
    const branches: Record<string, unknown>[] = [
      ...intervals.map((iv) => dateRange('requestedAt', iv)),
      ...intervals.map((iv) => dateRange('resolvedAt', iv)),
      ...(dueRaw ? [{ open: true, ...dateRange('dueAt', dueRaw) }] : []),
    ];
    const opened: RawTicket[] = [];
    const resolved: RawTicket[] = [];
    const overdue: RawTicket[] = [];
    if (!branches.length) return { opened, resolved, overdue };
    const rows = await reads.find<RawTicket & { open?: boolean }>(m.Ticket, { ...scopeMatch, $or: branches }, { projection: { ...RAW_FIELDS, open: 1 }, cast: false });
    for (const t of rows) {
      for (const iv of intervals) if (inInterval(t.requestedAt, iv)) opened.push(t);
      for (const iv of intervals) if (inInterval(t.resolvedAt, iv)) resolved.push(t);
      if (dueRaw && t.open === true && inInterval(t.dueAt, dueRaw)) overdue.push(t);
    }
    return { opened, resolved, overdue };
  }

  /**
   * Figures for a Query scope. No field or one field reads the level's documents; any other
   * combination reads the 小区 cells (whose keys carry every field) and the register rows of the scope.
   */
  async function ticketStatsForScope(scope: TicketScopeInput, range: TimeRange, groupBy: GroupBy | null, now: Date): Promise<{ rows: TicketStatsRaw[]; households: number | null }> {
    const given = (['cityCode', 'districtCode', 'communityId', 'companyUscc'] as const).filter((k) => scope[k]);
    if (given.length <= 1) {
      const k = given[0];
      const level: TicketLevel = !k ? 'ALL' : k === 'cityCode' ? 'CITY' : k === 'districtCode' ? 'DISTRICT' : k === 'companyUscc' ? 'COMPANY' : 'COMMUNITY';
      const code = k ? (scope[k] as string) : '*';
      const { rows, households: hh } = await ticketStats(level, [code], range, groupBy, now);
      return { rows: rows.get(code) ?? [], households: hh.get(code)?.households ?? null };
    }
    // Cells of the scope: by 小区 when one is named, else by company (a combination always names one
    // of the two, or is a city and a district).
    const from = rangeStart(range, now);
    const cover = coverOf(from, now, false);
    const due = dueCoverOf(now, false);
    const ticketMatch: Record<string, unknown> = {};
    const cellMatch: Record<string, unknown> = { L: 'COMMUNITY' };
    const regMatch: Record<string, unknown> = {};
    for (const [k, cell, reg] of [
      ['cityCode', 'ci', 'cityCode'],
      ['districtCode', 'd', 'districtCode'],
      ['communityId', 'c', '_id'],
      ['companyUscc', 'u', 'companyUscc'],
    ] as const) {
      const v = scope[k];
      if (!v) continue;
      ticketMatch[k] = v;
      cellMatch[cell] = v;
      regMatch[reg] = v;
    }
    const series = scope.communityId ? monthSeries('COMMUNITY', scope.communityId) : null;
    const letter = groupBy ? GROUP_LETTER[groupBy] : null;
    const [regRows, docs, groupDocs, raw] = await Promise.all([
      reads.find<RegisterRow>(m.Community, regMatch, { projection: REGISTER_FIELDS, cast: false }),
      reads.find<StatsDoc>(m.TicketStats, series ? { ...cellMatch, s: series } : cellMatch, { cast: false }),
      letter
        ? reads.find<GroupDoc>(m.TicketStatsGroups, series ? { ...cellMatch, s: `${series}|G` } : cellMatch, { cast: false })
        : Promise.resolve([]),
      readRaw(ticketMatch, cover.raw, due.raw),
    ]);
    const unknown = new Set(regRows.filter((r) => !householdsKnown(r)).map((r) => r._id));
    const acc = newAcc();
    const cur = cstMonth(now);
    const whatOf = (doc: StatsDoc): What => ({ flow: cover.months(doc.p), backlog: true, overdue: doc.p < cur });
    for (const doc of docs) addDoc(acc, doc, whatOf(doc), !unknown.has(doc.c as string));
    for (const doc of groupDocs) addGroupDoc(acc, doc, letter!, whatOf(doc));
    for (const t of raw.opened) addRawOpened(acc, t, groupBy, !unknown.has(t.communityId));
    for (const t of raw.resolved) addRawResolved(acc, t, groupBy);
    for (const t of raw.overdue) addRawOverdue(acc, t, groupBy);
    const known = regRows.filter(householdsKnown).reduce((s, r) => s + (r.householdCount as number), 0);
    return { rows: toRaw('scope', acc, groupBy != null), households: regRows.length ? known : null };
  }

  /** Monthly series per code: the last `months` CST months ending with the current one, oldest first. */
  async function ticketTrend(level: TicketLevel, codes: readonly string[], months: number, now: Date): Promise<Map<string, TicketMonthRow[]>> {
    const windows = lastMonthsIncludingCurrent(now, months);
    const docs = await reads.find<StatsDoc>(m.TicketStats, { s: { $in: codes.map((c) => monthSeries(level, c)) } }, { cast: false });
    const byCode = new Map<string, Map<string, Counters & { e: number }>>();
    for (const doc of docs) {
      const code = doc.s.split('|')[1];
      let per = byCode.get(code);
      if (!per) byCode.set(code, (per = new Map()));
      let c = per.get(doc.p);
      if (!c) per.set(doc.p, (c = { ...empty(), e: 0 }));
      c.o += doc.o ?? 0;
      c.r += doc.r ?? 0;
      c.rt += doc.rt ?? 0;
      c.ra += doc.ra ?? 0;
      c.rs += doc.rs ?? 0;
      c.e += doc.e ?? 0;
      histMerge(c.h, doc.h);
    }
    const out = new Map<string, TicketMonthRow[]>();
    for (const code of codes) {
      const per = byCode.get(code) ?? new Map<string, Counters & { e: number }>();
      const sorted = [...per.keys()].sort();
      // Backlog at a month's end: open-state changes up to that month, summed from the first month.
      let i = 0;
      let backlog = 0;
      out.set(
        code,
        windows.map((w) => {
          while (i < sorted.length && sorted[i] <= w.month) backlog += per.get(sorted[i++])!.e;
          const c = per.get(w.month);
          return {
            month: w.month,
            opened: c?.o ?? 0,
            resolved: c?.r ?? 0,
            backlog,
            medianHoursToResolve: c ? histQuantile(c.h, 0.5) : null,
            p90HoursToResolve: c ? histQuantile(c.h, 0.9) : null,
            onTimeRate: c ? ratio(c.rt, c.r) : null,
            satisfiedRate: c ? ratio(c.rs, c.ra) : null,
          };
        }),
      );
    }
    return out;
  }

  /** Committee oversight per city or district as of `now` (./areas.ts). */
  const committeeStats = (level: AreaLevel, codes: readonly string[], now: Date) => readCommitteeStats(m, level, codes, now);
  /** Joint meetings held at or after `from` per city or district (./areas.ts). */
  const meetingCounts = (level: AreaLevel, codes: readonly string[], from: Date) => readMeetingCounts(m, level, codes, from);

  return { ticketStats, ticketStatsForScope, ticketTrend, households, committeeStats, meetingCounts };
}
export type StatsReader = ReturnType<typeof createStatsReader>;
