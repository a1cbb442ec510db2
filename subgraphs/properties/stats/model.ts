/**
 * The rollup collection `properties_stats`: pre-aggregated figures next to the raw 小区, fee and
 * survey rows, kept current by every write path (./write.ts) and rebuildable from the raw rows
 * (./rebuild.ts). One small document per (level, code, bucket), `_id` = `<LEVEL>|<code>|<bucket>`.
 *
 * Buckets:
 * - `REGISTER`: the 小区 register of the area: `n` (小区), `old` (老旧小区), `managed` and `known`
 *   (the numerator and denominator of 有物业覆盖率).
 * - a fee/survey period (`YYYY` or `YYYY-MM`, the period string as written): the area's fee rows of
 *   that period summed (`fees` rows, `chargeable`, `paid`, `receivable`, `received`, `arrears`,
 *   `recovered`) and its surveys of that period that give a percent (`surveys`, `percentSum`).
 * - `LATEST`: the same figures over each 小区's latest fee row (greatest period) and latest survey
 *   with a percent (greatest period, then latest recorded, then greatest id).
 *
 * Levels. The public ones are read by the statistics fields: CITY, DISTRICT, STREET. The others
 * make every update a recomputation of a few small documents from their inputs (no full rescans)
 * and keep the answers independent of data errors between levels:
 * - COMMUNITY (`LATEST` only): one 小区's latest fee row and survey, from its raw rows;
 * - CELL `<city>/<district>/<street or ->`: the 小区 sharing those three register codes; REGISTER
 *   and periods from the raw rows of those 小区, LATEST from their COMMUNITY documents;
 * - PAIR `<city>/<district>`: from its CELL documents;
 * - STREET from the CELL documents of the street, DISTRICT and CITY from their PAIR documents.
 * Children are always summed in `_id` order, so a maintained document is bit for bit the rebuilt one
 * (the satisfaction sums are floating point).
 *
 * Figures live in `f`, sparse: a figure that is 0 is left out, so an empty document has `f: {}`.
 * The write path writes every document it recomputes, empty ones too (`f: {}`), and never deletes
 * one, so its generation counter `gen` keeps counting (compare-and-set, ./write.ts); readers and
 * the rebuild comparison treat an empty document as absent (the rebuild writes none).
 * `META` records the last full rebuild.
 */
import { Schema, type Connection } from 'mongoose';
import { defineModel } from '../../../lib/db';

export type StatsLevel = 'CITY' | 'DISTRICT' | 'STREET';
export type RollupLevel = StatsLevel | 'PAIR' | 'CELL' | 'COMMUNITY';
export const REGISTER = 'REGISTER';
export const LATEST = 'LATEST';
export const META_ID = 'META';

/** Figures of one bucket (sparse: absent means 0). */
export type Figures = Partial<Record<FigureKey, number>>;
export const REGISTER_KEYS = ['n', 'old', 'managed', 'known'] as const;
export const FEE_KEYS = ['fees', 'chargeable', 'paid', 'receivable', 'received', 'arrears', 'recovered'] as const;
export const SURVEY_KEYS = ['surveys', 'percentSum'] as const;
export type FigureKey = (typeof REGISTER_KEYS)[number] | (typeof FEE_KEYS)[number] | (typeof SURVEY_KEYS)[number];

export interface RollupDoc {
  _id: string;
  level: RollupLevel;
  code: string;
  bucket: string;
  /** Register codes the document groups by (COMMUNITY, CELL: all three; PAIR: city and district). */
  cityCode?: string;
  districtCode?: string;
  streetCode?: string | null;
  f: Figures;
  /** Write generation (compare-and-set); 0 in a rebuilt collection. */
  gen: number;
}

export const rollupId = (level: RollupLevel, code: string, bucket: string) => `${level}|${code}|${bucket}`;

const rollupSchema = new Schema(
  {
    _id: { type: String, required: true },
    level: { type: String, required: true },
    code: { type: String, required: true },
    bucket: { type: String, required: true },
    cityCode: { type: String },
    districtCode: { type: String },
    streetCode: { type: String },
    f: { type: Schema.Types.Mixed, default: {} },
    gen: { type: Number, default: 0 },
    builtAt: { type: Date },
  },
  { versionKey: false, minimize: false },
);
// Statistics reads are by `_id` only. The recomputations read the children of one document:
// CELL ← COMMUNITY and PAIR ← CELL by (bucket, city, district[, street]); CITY ← PAIR by city.
rollupSchema.index({ level: 1, bucket: 1, cityCode: 1, districtCode: 1, streetCode: 1 });
// DISTRICT ← PAIR.
rollupSchema.index({ level: 1, bucket: 1, districtCode: 1 });
// STREET ← CELL.
rollupSchema.index({ level: 1, bucket: 1, streetCode: 1 });

export const registerRollupModel = (conn: Connection) => defineModel(conn, 'PropertiesRollup', rollupSchema, 'properties_stats');
