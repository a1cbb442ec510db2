/**
 * The rollup collection `renovation_stats`: pre-aggregated counters next to the
 * raw projects and facility rows, kept current by every write path (stats/rollups.ts) and rebuildable
 * from the raw rows (stats/rebuild.ts). Every document is small: a flat map `c` of counters (no key
 * ever holds 0: a counter that drops to 0 is removed, so a rebuilt collection equals a maintained one).
 *
 * Kinds (`_id` pattern → what it counts):
 * - YEAR `Y|<CITY|DISTRICT>|<code>|<year>`: projects whose plan year is `year` in the area (totals,
 *   `status:*`, `fund:<type>:*`, `item:<class>:*`, `lateDone`, `open:<YYYYMMDD>` by the CST day of the
 *   earliest open planned milestone), and spend dated in the CST calendar year `year`
 *   (`month:<YYYY-MM>`).
 * - COMMUNITY `C|<communityId>`: the 小区's projects (totals, `budget:<planYear>`,
 *   `month:<YYYY-MM>`) and `s` = project id → `<planYear>|<status>` for the latest project's status.
 * - GAPS `G|<CITY|DISTRICT>|<code>`: MISSING / BROKEN facility rows per type (`missing:<type>`,
 *   `broken:<type>`) and 小区 with at least one of them (`communities:<type>`).
 * - MEMBER `M|<CITY|DISTRICT>|<code>|<communityId>`: one 小区's gap rows per type inside the area
 *   (`missing:<type>`, `broken:<type>`), so a change can tell when the 小区 starts or stops counting.
 * - META `META`: written by the last full rebuild (its presence says the rollups are built).
 */
import { Schema, type Connection } from 'mongoose';
import { defineModel } from '../../../lib/db';

export type RollupKind = 'YEAR' | 'COMMUNITY' | 'GAPS' | 'MEMBER' | 'META';
export type Counters = Record<string, number>;

export interface RollupDoc {
  _id: string;
  kind: RollupKind;
  /** Read key: `<LEVEL>|<code>` for YEAR, COMMUNITY and GAPS; `M|<LEVEL>|<code>` for MEMBER. */
  area: string | null;
  level?: string;
  code?: string;
  year?: number;
  c?: Counters;
  s?: Record<string, string>;
  builtAt?: Date;
}

export const META_ID = 'META';

const rollupSchema = new Schema(
  {
    _id: { type: String, required: true },
    kind: { type: String, required: true },
    area: { type: String, default: null },
    level: { type: String },
    code: { type: String },
    year: { type: Number },
    c: { type: Schema.Types.Mixed },
    s: { type: Schema.Types.Mixed },
    builtAt: { type: Date },
  },
  { versionKey: false, minimize: false },
);
/** Statistics reads: every rollup of many areas (all plan years, gaps, 小区 summaries) in one query. */
rollupSchema.index({ area: 1 });

export const registerRollupModel = (conn: Connection) => defineModel(conn, 'RenovationRollup', rollupSchema, 'renovation_stats');
