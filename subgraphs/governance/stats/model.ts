/**
 * Collections of governance's statistics rollups (database `city_governance`, beside the raw rows).
 * Written with the driver (`Model.collection`): the schemas exist for the indexes.
 *
 * - `ticket_stats`: one document per (level, area code, CST day or month). Levels: ALL (every
 *   ticket, code `*`), CITY, DISTRICT, COMPANY (the company a ticket was opened under) with day (`D`)
 *   and month (`M`) documents; COMMUNITY with month documents only, one per (小区, city, district,
 *   company) of the tickets (a "cell": the finest key any ticket scope can ask for). `_id`
 *   `<level>|<D|M>|<period>|<key>`; `s` names the series a read asks for: `<level>|<code>|M` for the
 *   month documents, `<level>|<code>|D|<YYYY-MM>` for the day documents of one month. Counters
 *   (./tickets.ts): `n` contributions (the document is deleted at 0), `o` opened, `ok` opened in
 *   小区 with a known household count, `r` resolved, `rt` of them by the deadline, `rr` reopened,
 *   `ra` rated, `rs` satisfied, `rd` dissatisfied, `h` hours to resolve as a histogram of whole
 *   hours, `b` open tickets by the CST day/month of their deadline (backlog and overdue as of any
 *   instant), `e` open-state changes (+1 opened or reopened, −1 closed; backlog at a month's end is
 *   the sum of `e` up to that month).
 * - `ticket_stats_groups`: the same counters per service code (S), channel (C) and type (T), one
 *   document per main document (`_id` and `s` of the main document plus `|G`; fields
 *   `<S|C|T>:<group>:<counter>` and `<S|C|T>:<group>:h:<hours>`), read only for `groupBy`.
 * - `ticket_stats_ledger`: per ticket, the inputs its contribution was last computed from (`in`) and
 *   their hash (`h`); a write swaps it by compare-and-set and applies the difference.
 * - `committee_stats`: committee oversight per area (CITY, DISTRICT) of governance's register
 *   (./areas.ts): `n` 小区, `oc`/`pmc`/`any` 小区 with an active 业委会 / 物管会 / either, `act` active
 *   committees, `exp` committees whose status is EXPIRED, `te` the term ends of active committees and
 *   `dl` the last disclosures of all committees as sorted `[epoch ms, count]` pairs (so "expired as of
 *   now" and "disclosed in the last 12 months" are exact at any instant), `rs`/`rn` the sum and
 *   count of known party-member ratios. Committees change only through the seeds (which rebuild)
 *   and 小区 move between areas through the register sync (which recomputes the areas concerned).
 * - `meeting_stats`: joint meetings per area (CITY, DISTRICT, by the meeting's own codes) and CST
 *   day: `s` `<level>|<code>`, `day` `YYYY-MM-DD`, `n` meetings (documents at zero are removed).
 * - `register_stats`: households per area of governance's register (ALL, CITY, DISTRICT, COMPANY):
 *   `n` 小区, `hh` known households, `unk` ids of 小区 whose household count is unknown.
 */
import { Schema, type Connection } from 'mongoose';
import { defineModel } from '../../../lib/db';

const plain = { versionKey: false, strict: false, minimize: false } as const;

const ticketStatsSchema = new Schema(
  {
    _id: { type: String, required: true },
    s: { type: String, required: true },
    L: { type: String, required: true },
    p: { type: String, required: true },
    ci: String,
    d: String,
    c: String,
    u: String,
  },
  plain,
);
// Every read names its series (`s $in [...]`): the month documents of the codes asked for and the day
// documents of the one or two months at the edges of a range.
ticketStatsSchema.index({ s: 1 });
// Query.ticketStats for a company within an area: the company's 小区 cells.
ticketStatsSchema.index({ u: 1, L: 1 });

const ticketStatsGroupsSchema = ticketStatsSchema.clone();
ticketStatsGroupsSchema.add({ g: String });

const ledgerSchema = new Schema({ _id: { type: String, required: true }, h: { type: String, required: true }, in: Schema.Types.Mixed }, plain);
// Reads and swaps are by `_id` only (compare-and-set on `{ _id, h }`).

const registerStatsSchema = new Schema(
  { _id: { type: String, required: true }, L: String, code: String, n: Number, hh: Number, unk: [String] },
  plain,
);
// Reads are by `_id` (`<level>|<code>`).

const committeeStatsSchema = new Schema({ _id: { type: String, required: true } }, plain);
// Reads are by `_id` (`<CITY|DISTRICT>|<code>`).

const meetingStatsSchema = new Schema({ _id: { type: String, required: true }, s: { type: String, required: true }, day: { type: String, required: true }, n: Number }, plain);
// A range read names the area's series and the days after the range's first (partial) day.
meetingStatsSchema.index({ s: 1, day: 1 });

export function registerStatsModels(conn: Connection) {
  return {
    TicketStats: defineModel(conn, 'GovTicketStats', ticketStatsSchema, 'ticket_stats'),
    TicketStatsGroups: defineModel(conn, 'GovTicketStatsGroups', ticketStatsGroupsSchema, 'ticket_stats_groups'),
    TicketStatsLedger: defineModel(conn, 'GovTicketStatsLedger', ledgerSchema, 'ticket_stats_ledger'),
    RegisterStats: defineModel(conn, 'GovRegisterStats', registerStatsSchema, 'register_stats'),
    CommitteeStats: defineModel(conn, 'GovCommitteeStats', committeeStatsSchema, 'committee_stats'),
    MeetingStats: defineModel(conn, 'GovMeetingStats', meetingStatsSchema, 'meeting_stats'),
  };
}
