/**
 * Collections of the elderly statistics rollups (database `city_elderly`, beside the raw rows):
 *
 * - `elderly_stats_areas`: one document per area (COMMUNITY 小区, DISTRICT, CITY), `_id`
 *   `<LEVEL>|<code>`. Counters of the active register (registered, livingAlone, difficulty,
 *   highRisk, keyRisk) and sparse maps `{ key: count }`:
 *   - `dueDays`: active residents by CST day of `nextVisitDue` (overdue = days before today, plus an
 *     exact look at today's rows); `lastVisitDays`: active residents by CST day of `lastVisitedAt`
 *     (visited in the last 30 days = days from the window's first day, minus that day's rows before
 *     the window opens); `holidayDays`: HOLIDAY visits by CST day (last 12 months likewise);
 *   - `registeredMonths`, `visitedMonths`, `overdueMonths`, `overdueFromMonths`: the monthly trend
 *     (see ./contribution.ts);
 *   - `communities` (filled on DISTRICT documents only): per 小区 of the district, one string with
 *     its registered count and its active residents by CST day of the last visit, copied from the
 *     小区's document by the write path, so visitCoverage ranks the 小区 of a district from one
 *     document and those of a city from its district documents (not one document per 小区).
 *   `residents` counts the residents contributing to the area (any status); a document whose
 *   `residents` falls to 0 is deleted, so the collection holds exactly the areas a rebuild writes.
 * - `elderly_stats_ledger`: per resident, what it contributes (`c`: its area and flat `map/key` →
 *   count, as one canonical JSON string). A write compares the resident's new contribution with the
 *   ledger's, swaps the entry (compare-and-set on the old string) and applies the difference to the
 *   three area documents; read only by the write path and the rebuild.
 * - `elderly_stats_versions`: per city (`_id` its code), the version of its rollups: `v` is
 *   incremented by every write that changes a rollup of the city (./write.ts, after the rollup
 *   writes, in the mutation's transaction when there is one) and by every rebuild; `epoch` is set
 *   when the document is created, so a version number reused after the collection was dropped is
 *   a different stamp. Callers without individual-level access get the city's figures from a
 *   disclosure snapshot cached per stamp (services/disclosure.ts): reading the stamp is all a
 *   request costs while the rollups stay the same.
 *
 * All three are written with the driver (`Model.collection`): the schemas exist for the indexes.
 */
import { Schema, type Connection } from 'mongoose';
import { defineModel } from '../../../lib/db';

const plain = { versionKey: false, strict: false, minimize: false } as const;

const areaSchema = new Schema(
  {
    _id: { type: String, required: true },
    level: { type: String, required: true },
    code: { type: String, required: true },
    cityCode: { type: String, default: null },
    districtCode: { type: String, default: null },
    residents: Number,
    registered: Number,
    livingAlone: Number,
    difficulty: Number,
    highRisk: Number,
    keyRisk: Number,
    dueDays: Schema.Types.Mixed,
    lastVisitDays: Schema.Types.Mixed,
    holidayDays: Schema.Types.Mixed,
    registeredMonths: Schema.Types.Mixed,
    visitedMonths: Schema.Types.Mixed,
    overdueMonths: Schema.Types.Mixed,
    overdueFromMonths: Schema.Types.Mixed,
    communities: Schema.Types.Mixed,
  },
  plain,
);
// visitCoverage of a city: its district documents (by `_id` for one district).
areaSchema.index({ level: 1, cityCode: 1 });

const ledgerSchema = new Schema(
  {
    _id: { type: String, required: true },
    c: { type: String, required: true },
  },
  plain,
);
// Reads and swaps are by `_id` only (compare-and-set on `{ _id, c }`).

const versionSchema = new Schema(
  {
    _id: { type: String, required: true },
    v: { type: Number, required: true },
    epoch: { type: String, required: true },
  },
  plain,
);
// Read and incremented by `_id` only.

export function registerStatsModels(conn: Connection) {
  return {
    StatsArea: defineModel(conn, 'ElderlyStatsArea', areaSchema, 'elderly_stats_areas'),
    StatsLedger: defineModel(conn, 'ElderlyStatsLedger', ledgerSchema, 'elderly_stats_ledger'),
    StatsVersion: defineModel(conn, 'ElderlyStatsVersion', versionSchema, 'elderly_stats_versions'),
  };
}
