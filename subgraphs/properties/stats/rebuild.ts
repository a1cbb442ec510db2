/**
 * Full rebuild of the rollups from the raw rows (`npm run stats:rebuild`, the end of the seeds):
 * one pass over the 小区 register, one over the fee rows and one over the surveys, then every level
 * summed from the one below with the same functions as the write path (./figures.ts), so the result
 * is the collection the write path maintains. Fee rows and surveys of a 小区 missing from the
 * register belong to no area and are skipped (the write paths refuse them).
 */
import type { Connection } from 'mongoose';
import type { Collection } from 'mongodb';
import { now } from '../../../lib/clock';
import { progressLine } from '../../../lib/rollup';
import { registerModels } from '../models';
import {
  byId, cellCode, cellOf, COMMUNITY_FIELDS, FEE_FIELDS, laterSurveyFirst, latestFee, pairCode, periodFigures, registerFigures, sumFigures,
  SURVEY_FIELDS,
  type CellKey, type CommunityRow, type FeeRow, type SurveyRow,
} from './figures';
import { LATEST, META_ID, REGISTER, rollupId, type Figures, type RollupDoc, type RollupLevel } from './model';

const CHUNK = 5000;
const BATCH = 10_000;

/** Every rollup document computed from raw rows (without writing), sorted by `_id`. */
export async function computeRollups(conn: Connection, progress?: (line: string) => void): Promise<RollupDoc[]> {
  const m = registerModels(conn);
  const step = (i: number, label: string) => progress?.(progressLine(i, 5, label));
  const communities = (await (m.Community.collection as unknown as Collection<CommunityRow>)
    .find({}, { projection: COMMUNITY_FIELDS, batchSize: BATCH })
    .toArray());
  const cellOfCommunity = new Map<string, CellKey>(communities.map((c) => [c._id, cellOf(c)]));
  const cells = new Map<string, CellKey>();
  const registerRows = new Map<string, CommunityRow[]>();
  for (const c of communities) {
    const cell = cellOfCommunity.get(c._id)!;
    const code = cellCode(cell);
    cells.set(code, cell);
    const list = registerRows.get(code);
    if (list) list.push(c);
    else registerRows.set(code, [c]);
  }
  step(1, `register: ${communities.length} 小区 in ${cells.size} cells`);

  // Fee rows: period sums per cell (integers: any order), latest row per 小区.
  const cellPeriods = new Map<string, { cell: CellKey; bucket: string; fees: FeeRow[]; surveys: SurveyRow[] }>();
  const group = (cell: CellKey, bucket: string) => {
    const key = `${cellCode(cell)}|${bucket}`;
    let g = cellPeriods.get(key);
    if (!g) cellPeriods.set(key, (g = { cell, bucket, fees: [], surveys: [] }));
    return g;
  };
  const latestFees = new Map<string, FeeRow>();
  let feeCount = 0;
  for await (const r of (m.Fee.collection as unknown as Collection<FeeRow>).find({}, { projection: FEE_FIELDS, batchSize: BATCH })) {
    const cell = cellOfCommunity.get(r.communityId);
    if (!cell) continue;
    feeCount++;
    group(cell, r.period).fees.push(r);
    const prev = latestFees.get(r.communityId);
    if (!prev || latestFee([prev, r]) === r) latestFees.set(r.communityId, r);
  }
  step(2, `fee rows: ${feeCount}`);

  const latestSurveys = new Map<string, SurveyRow>();
  let surveyCount = 0;
  for await (const s of (m.Survey.collection as unknown as Collection<SurveyRow>).find({}, { projection: SURVEY_FIELDS, batchSize: BATCH })) {
    const cell = cellOfCommunity.get(s.communityId);
    if (!cell || typeof s.percent !== 'number') continue;
    surveyCount++;
    group(cell, s.period).surveys.push(s);
    const prev = latestSurveys.get(s.communityId);
    if (!prev || laterSurveyFirst(s, prev) < 0) latestSurveys.set(s.communityId, s);
  }
  step(3, `surveys with a percent: ${surveyCount}`);

  const docs: RollupDoc[] = [];
  const add = (level: RollupLevel, code: string, bucket: string, f: Figures, codes: Partial<RollupDoc> = {}) => {
    if (Object.keys(f).length) docs.push({ _id: rollupId(level, code, bucket), level, code, bucket, ...codes, f, gen: 0 });
  };
  const cellCodes = (c: CellKey) => ({ cityCode: c.cityCode, districtCode: c.districtCode, streetCode: c.streetCode });

  // COMMUNITY|LATEST, then CELL (REGISTER and periods from raw rows, LATEST from COMMUNITY).
  const communityLatest = new Map<string, { _id: string; f: Figures }[]>();
  for (const c of [...communities].sort(byId)) {
    const fee = latestFees.get(c._id);
    const survey = latestSurveys.get(c._id);
    const f = periodFigures(fee ? [fee] : [], survey ? [survey] : []);
    const cell = cellOfCommunity.get(c._id)!;
    add('COMMUNITY', c._id, LATEST, f, cellCodes(cell));
    const list = communityLatest.get(cellCode(cell)) ?? [];
    list.push({ _id: rollupId('COMMUNITY', c._id, LATEST), f });
    communityLatest.set(cellCode(cell), list);
  }
  for (const [code, cell] of cells) {
    add('CELL', code, REGISTER, registerFigures(registerRows.get(code)!), cellCodes(cell));
    add('CELL', code, LATEST, sumFigures(communityLatest.get(code) ?? []), cellCodes(cell));
  }
  for (const g of cellPeriods.values()) {
    add('CELL', cellCode(g.cell), g.bucket, periodFigures(g.fees, g.surveys), cellCodes(g.cell));
  }
  step(4, `cells: ${docs.length} documents`);

  // PAIR ← CELL; STREET ← CELL; DISTRICT, CITY ← PAIR.
  const sumUp = (children: RollupDoc[], level: RollupLevel, keyOf: (d: RollupDoc) => string | null, codesOf: (d: RollupDoc) => Partial<RollupDoc>) => {
    const groups = new Map<string, { code: string; bucket: string; codes: Partial<RollupDoc>; items: RollupDoc[] }>();
    for (const d of children) {
      const code = keyOf(d);
      if (code === null) continue;
      const key = `${code}|${d.bucket}`;
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { code, bucket: d.bucket, codes: codesOf(d), items: [] }));
      g.items.push(d);
    }
    for (const g of groups.values()) add(level, g.code, g.bucket, sumFigures(g.items), g.codes);
  };
  const cellDocs = docs.filter((d) => d.level === 'CELL');
  const before = docs.length;
  sumUp(cellDocs, 'PAIR', (d) => pairCode(d as { cityCode: string; districtCode: string }), (d) => ({ cityCode: d.cityCode, districtCode: d.districtCode }));
  sumUp(cellDocs, 'STREET', (d) => d.streetCode ?? null, () => ({}));
  const pairDocs = docs.slice(before).filter((d) => d.level === 'PAIR');
  sumUp(pairDocs, 'DISTRICT', (d) => d.districtCode!, () => ({}));
  sumUp(pairDocs, 'CITY', (d) => d.cityCode!, () => ({}));
  step(5, `${docs.length} rollup documents`);
  return docs.sort(byId);
}

/**
 * Recomputes every statistics rollup from the raw rows and replaces the collection. Returns rollup
 * documents written (the META record not counted).
 */
export async function rebuildStats(conn: Connection, progress?: (line: string) => void): Promise<number> {
  const m = registerModels(conn);
  const docs = await computeRollups(conn, progress);
  const rollups = m.Rollup.collection as unknown as Collection<RollupDoc | { _id: string; builtAt: Date }>;
  await rollups.deleteMany({});
  for (let i = 0; i < docs.length; i += CHUNK) {
    await rollups.insertMany(docs.slice(i, i + CHUNK), { ordered: false });
    progress?.(progressLine(Math.min(i + CHUNK, docs.length), docs.length, 'rollup documents written'));
  }
  await rollups.insertOne({ _id: META_ID, builtAt: now() });
  return docs.length;
}
