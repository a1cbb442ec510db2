/**
 * What one ticket contributes to the ticket rollups (./model.ts), as a pure function of the ticket's
 * row and its 小区's register row. The write path, the rebuild and the reads all use these
 * definitions, so a rollup document is always the sum of the contributions of the tickets in it.
 *
 * A ticket plays up to four roles, each in the CST day and month of its own instant:
 *  - opened, at `requestedAt`: `o` (and `ok` when the 小区's household count is known in that scope);
 *  - resolved, at `resolvedAt` (the latest resolution): `r`, `rt`, `rr`, `ra`/`rs`/`rd` (first
 *    rating), and the whole hours from request to resolution in the histogram `h`;
 *  - open, at `dueAt` while the ticket is open: `b`, so backlog and overdue as of any instant are sums
 *    over deadline buckets (plus an exact look at the current day's rows);
 *  - open-state changes, at the creation (+1) and at each later move that closes (−1) or reopens (+1)
 *    it, in `e`: the backlog at the end of a month is the sum of `e` up to that month.
 */
import { createHash } from 'node:crypto';
import { cstDate, cstMonth, HOUR_MS } from '../../../lib/clock';
import { bucketOf } from '../../../lib/rollup';
import { isOpen } from '../services/lifecycle';

export type TicketLevel = 'ALL' | 'CITY' | 'DISTRICT' | 'COMPANY' | 'COMMUNITY';
/** Levels with day documents (COMMUNITY cells have month documents only). */
export const AREA_LEVELS = ['ALL', 'CITY', 'DISTRICT', 'COMPANY'] as const;
export type AreaLevel = (typeof AREA_LEVELS)[number];
export type GroupDim = 'SERVICE_CODE' | 'CHANNEL' | 'TYPE';
/** The letter of each group dimension in group documents (`ticket_stats_groups`). */
export const GROUP_LETTER: Readonly<Record<GroupDim, 'S' | 'C' | 'T'>> = { SERVICE_CODE: 'S', CHANNEL: 'C', TYPE: 'T' };
/** Bit of each area level in `TicketInputs.un`. */
const UNKNOWN_BIT: Readonly<Record<AreaLevel, number>> = { ALL: 1, CITY: 2, DISTRICT: 4, COMPANY: 8 };

const RATED = new Set(['SATISFIED', 'BASICALLY_SATISFIED', 'DISSATISFIED']);

/** The fields of a ticket row the statistics read. */
export const TICKET_FIELDS = {
  communityId: 1, cityCode: 1, districtCode: 1, companyUscc: 1, serviceCode: 1, channel: 1, type: 1, open: 1,
  requestedAt: 1, resolvedAt: 1, dueAt: 1, reopenCount: 1, firstSatisfaction: 1, 'notes.at': 1, 'notes.to': 1, 'notes.type': 1,
} as const;

export interface TicketRow {
  _id: string;
  communityId: string;
  cityCode: string;
  districtCode: string;
  companyUscc?: string | null;
  serviceCode: string;
  channel: string;
  type: string;
  open: boolean;
  requestedAt: Date;
  resolvedAt?: Date | null;
  dueAt: Date;
  reopenCount?: number | null;
  firstSatisfaction?: string | null;
  notes?: { at: Date; to?: string | null; type?: string | null }[] | null;
}

/** The register row of a ticket's 小区, as far as the statistics need it. */
export interface RegisterRow {
  _id: string;
  cityCode?: string | null;
  districtCode?: string | null;
  companyUscc?: string | null;
  householdCount?: number | null;
}
export const REGISTER_FIELDS = { cityCode: 1, districtCode: 1, companyUscc: 1, householdCount: 1 } as const;

/** A household count is known when it is a positive number (as the raw-row reference judges it). */
export const householdsKnown = (r: RegisterRow | null | undefined) => typeof r?.householdCount === 'number' && r.householdCount > 0;

/** Everything a ticket's contribution depends on (stored in the ledger; compact on purpose). */
export interface TicketInputs {
  c: string;
  ci: string;
  d: string;
  u: string | null;
  sc: string;
  ch: string;
  ty: string;
  /** requestedAt (ms). */
  rq: number;
  /** resolvedAt (ms) or null. */
  rs: number | null;
  /** Resolved by the deadline. */
  ot: boolean;
  /** Reopened at least once. */
  rr: boolean;
  /** First rating: S (满意/基本满意), D (不满意), null (none). */
  fs: 'S' | 'D' | null;
  /** dueAt (ms) while open, else null. */
  du: number | null;
  /** Open-state changes (ms): +1 at ev[0], −1 at ev[1], +1 at ev[2], … */
  ev: number[];
  /** Bit set per area level whose scope leaves this ticket's 小区 out of the household rate. */
  un: number;
}

/** Times the ticket opened (even positions) and closed (odd positions), from its status notes. */
export function openEvents(t: Pick<TicketRow, 'requestedAt' | 'notes'>): number[] {
  const ev = [new Date(t.requestedAt).getTime()];
  let open = true;
  for (const n of t.notes ?? []) {
    if (n.type === 'CREATED' || n.type === 'COMMENT' || !n.to) continue;
    const o = isOpen(n.to);
    if (o !== open) {
      ev.push(new Date(n.at).getTime());
      open = o;
    }
  }
  return ev;
}

/**
 * The inputs of a ticket's contribution. `reg` is its 小区's register row (null when the register
 * does not know it): a level leaves the ticket out of `ok` when the register row says the household
 * count is unknown and puts the 小区 in the same area of that level as the ticket.
 */
export function inputsOf(t: TicketRow, reg: RegisterRow | null): TicketInputs {
  const rs = t.resolvedAt ? new Date(t.resolvedAt).getTime() : null;
  const due = new Date(t.dueAt).getTime();
  const fs = t.firstSatisfaction && RATED.has(t.firstSatisfaction) ? (t.firstSatisfaction === 'DISSATISFIED' ? 'D' : 'S') : null;
  let un = 0;
  if (reg && !householdsKnown(reg)) {
    un |= UNKNOWN_BIT.ALL;
    if (reg.cityCode === t.cityCode) un |= UNKNOWN_BIT.CITY;
    if (reg.districtCode === t.districtCode) un |= UNKNOWN_BIT.DISTRICT;
    if (t.companyUscc && reg.companyUscc === t.companyUscc) un |= UNKNOWN_BIT.COMPANY;
  }
  return {
    c: t.communityId,
    ci: t.cityCode,
    d: t.districtCode,
    u: t.companyUscc ?? null,
    sc: t.serviceCode,
    ch: t.channel,
    ty: t.type,
    rq: new Date(t.requestedAt).getTime(),
    rs,
    ot: rs != null && rs <= due,
    rr: (t.reopenCount ?? 0) > 0,
    fs,
    du: t.open ? due : null,
    ev: openEvents(t),
    un,
  };
}

export const hashInputs = (i: TicketInputs | null): string | null => (i ? createHash('sha1').update(JSON.stringify(i)).digest('base64') : null);

/** Whole hours from request to resolution (the histogram bucket). */
export const hoursBucket = (requestedMs: number, resolvedMs: number) => bucketOf((resolvedMs - requestedMs) / HOUR_MS);

/** A group key as a field-name part (no `.`, `$` or `:`). */
export const encodeKey = (k: string) => k.replace(/[%.$:]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
export const decodeKey = (k: string) => k.replace(/%([0-9A-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));

/** The fields a rollup document carries besides its counters. */
export interface Ident {
  s: string;
  L: TicketLevel;
  p: string;
  /** Group documents: `G`. */
  g?: 'G';
  ci?: string;
  d?: string;
  c?: string;
  u?: string | null;
}

/** One rollup document's share of a contribution: its identity and `path → increment`. */
export interface DocDelta {
  ident: Ident;
  inc: Map<string, number>;
}
export type Contribution = Map<string, DocDelta>;

interface Scope {
  L: TicketLevel;
  /** The code reads ask for (series). */
  code: string;
  /** The rest of the document key (composite codes). */
  key: string;
  fields: Partial<Ident>;
  /** Whether `ok` counts here (area levels). */
  known: boolean | null;
}

export function scopesOf(i: TicketInputs): Scope[] {
  const out: Scope[] = [
    { L: 'ALL', code: '*', key: '*', fields: {}, known: !(i.un & UNKNOWN_BIT.ALL) },
    { L: 'CITY', code: i.ci, key: i.ci, fields: { ci: i.ci }, known: !(i.un & UNKNOWN_BIT.CITY) },
    { L: 'DISTRICT', code: i.d, key: `${i.d}:${i.ci}`, fields: { ci: i.ci, d: i.d }, known: !(i.un & UNKNOWN_BIT.DISTRICT) },
  ];
  if (i.u) out.push({ L: 'COMPANY', code: i.u, key: i.u, fields: {}, known: !(i.un & UNKNOWN_BIT.COMPANY) });
  out.push({ L: 'COMMUNITY', code: i.c, key: `${i.c}:${i.ci}:${i.d}:${i.u ?? ''}`, fields: { ci: i.ci, d: i.d, c: i.c, u: i.u }, known: null });
  return out;
}

export const monthSeries = (L: TicketLevel, code: string) => `${L}|${code}|M`;
export const daySeries = (L: TicketLevel, code: string, month: string) => `${L}|${code}|D|${month}`;

/**
 * The contribution of a ticket: every rollup document it counts in, with its increments. Main
 * documents (`ticket_stats`) carry the totals; group documents (`ticket_stats_groups`, `_id` and
 * series of the main document plus `|S`, `|C` or `|T`) the counters per service code, channel or
 * type as flat fields `<group>:<counter>` and `<group>:h:<hours>`, so a read without groupBy never
 * loads them.
 */
export function contributionOf(i: TicketInputs | null): Contribution {
  const out: Contribution = new Map();
  if (!i) return out;
  const groups = [`S:${encodeKey(i.sc)}`, `C:${encodeKey(i.ch)}`, `T:${encodeKey(i.ty)}`];
  // CST day and month of each instant, computed once.
  const cal = new Map<number, [string, string]>();
  const dayOf = (ms: number) => {
    let v = cal.get(ms);
    if (!v) {
      const d = cstDate(new Date(ms));
      cal.set(ms, (v = [d, d.slice(0, 7)]));
    }
    return v;
  };
  const add = (inc: Map<string, number>, path: string, n = 1) => {
    if (n !== 0) inc.set(path, (inc.get(path) ?? 0) + n);
  };
  const hr = i.rs != null ? hoursBucket(i.rq, i.rs) : 0;
  for (const sc of scopesOf(i)) {
    const grains: ('D' | 'M')[] = sc.L === 'COMMUNITY' ? ['M'] : ['D', 'M'];
    for (const grain of grains) {
      const doc = (ms: number, g: boolean) => {
        const [day, month] = dayOf(ms);
        const p = grain === 'D' ? day : month;
        const id = g ? `${sc.L}|${grain}|${p}|${sc.key}|G` : `${sc.L}|${grain}|${p}|${sc.key}`;
        let d = out.get(id);
        if (!d) {
          const series = grain === 'D' ? daySeries(sc.L, sc.code, month) : monthSeries(sc.L, sc.code);
          d = { ident: g ? { s: `${series}|G`, L: sc.L, p, g: 'G', ...sc.fields } : { s: series, L: sc.L, p, ...sc.fields }, inc: new Map() };
          out.set(id, d);
        }
        add(d.inc, 'n');
        return d.inc;
      };
      // opened
      {
        const inc = doc(i.rq, false);
        add(inc, 'o');
        if (sc.known) add(inc, 'ok');
        const gi = doc(i.rq, true);
        for (const k of groups) add(gi, `${k}:o`);
      }
      // resolved
      if (i.rs != null) {
        const inc = doc(i.rs, false);
        add(inc, 'r');
        if (i.ot) add(inc, 'rt');
        if (i.rr) add(inc, 'rr');
        if (i.fs) add(inc, 'ra');
        if (i.fs === 'S') add(inc, 'rs');
        if (i.fs === 'D') add(inc, 'rd');
        add(inc, `h.${hr}`);
        const gi = doc(i.rs, true);
        for (const k of groups) {
          add(gi, `${k}:r`);
          if (i.rr) add(gi, `${k}:rr`);
          if (i.fs) add(gi, `${k}:ra`);
          if (i.fs === 'S') add(gi, `${k}:rs`);
          if (i.fs === 'D') add(gi, `${k}:rd`);
          add(gi, `${k}:h:${hr}`);
        }
      }
      // open, by deadline
      if (i.du != null) {
        add(doc(i.du, false), 'b');
        const gi = doc(i.du, true);
        for (const k of groups) add(gi, `${k}:b`);
      }
      // open-state changes
      for (let k = 0; k < i.ev.length; k++) add(doc(i.ev[k], false), 'e', k % 2 === 0 ? 1 : -1);
    }
  }
  return out;
}

/** `next − old`, per document and path (entries that cancel out are dropped). */
export function differenceOf(old: Contribution, next: Contribution): Contribution {
  const out: Contribution = new Map();
  const put = (c: Contribution, sign: 1 | -1) => {
    for (const [id, d] of c) {
      let t = out.get(id);
      if (!t) out.set(id, (t = { ident: d.ident, inc: new Map() }));
      for (const [path, n] of d.inc) t.inc.set(path, (t.inc.get(path) ?? 0) + sign * n);
    }
  };
  put(old, -1);
  put(next, 1);
  for (const [id, d] of out) {
    for (const [path, n] of d.inc) if (n === 0) d.inc.delete(path);
    if (d.inc.size === 0) out.delete(id);
  }
  return out;
}

/** Adds a contribution into whole documents (the rebuild). */
export function addInto(docs: Map<string, Record<string, unknown>>, c: Contribution): void {
  for (const [id, d] of c) {
    let doc = docs.get(id);
    if (!doc) {
      doc = { _id: id, ...d.ident };
      docs.set(id, doc);
    }
    for (const [path, n] of d.inc) {
      const dot = path.indexOf('.');
      if (dot < 0) {
        // Counters at 0 are left out, as the write path unsets them (`e` may come back to 0).
        const v = ((doc[path] as number | undefined) ?? 0) + n;
        if (v === 0) delete doc[path];
        else doc[path] = v;
      } else {
        const f = path.slice(0, dot);
        const k = path.slice(dot + 1);
        const sub = (doc[f] ??= {}) as Record<string, number>;
        const v = (sub[k] ?? 0) + n;
        if (v === 0) delete sub[k];
        else sub[k] = v;
      }
    }
  }
}
