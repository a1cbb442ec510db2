/**
 * Demo data of the renovation subgraph: exactly the renovation facts of the article (新华日报·交汇点,
 * 2022; docs/domain.md, "Demo data: the article's four 小区"). Unknown amounts, dates and sponsors
 * stay null; nothing is invented. Idempotent: every row is a replace-by-id upsert, so seeding twice
 * creates no duplicates.
 *
 * Also exports `seedSynthetic` for the synthetic-city generator (docs/domain.md, "The synthetic city").
 */
import type { Connection } from 'mongoose';
import { registerModels, type FacilityDoc, type Models, type ProjectDoc } from './models';
import { lateIndexFields } from './services/lateness';
import { upsertById, type SeedRow } from '../../lib/db';
import { META_ID } from './stats/model';
import { rebuildModels } from './stats/rebuild';
import { createRollupWriter } from './stats/rollups';
import { offsetPoint, type LngLat } from './services/nearby';

export const DEMO = {
  ruijin: 'cm_320104_0001', // 瑞金新村 (南京 秦淮区)
  yijiang: 'cm_320113_0001', // 怡江苑 (南京 栖霞区): the article states no renovation facts
  dongfang: 'cm_320706_0001', // 东方瑞园 (连云港 海州区)
  xinhai: 'cm_320706_0002', // 新海花园 (连云港 海州区)
} as const;

export const DEMO_COMPANIES = {
  hengzhao: 'PLACEHOLDER0000001', // 明商集团恒兆公司
  yingbin: 'PLACEHOLDER0000004', // 江苏迎宾物业管理有限公司
} as const;

export const DEMO_PROJECTS = {
  xinhai2019: 'rp_cm_320706_0002_2019',
  ruijin2019: 'rp_cm_320104_0001_2019',
} as const;

const SOURCE = '新华日报·交汇点, 2022: 住建部“加强物业管理 共建美好家园”典型案例';

/**
 * Approximate WGS84 locations (GPS datum, not GCJ-02) of the article's four 小区, good to a few
 * hundred metres (the same points as the elderly subgraph's demo data): enough for the life-circle
 * questions, not for navigation. The article gives no coordinates.
 */
export const DEMO_LOCATIONS: Record<string, LngLat> = {
  [DEMO.ruijin]: [118.8175, 32.0372], // 瑞金新村, 秦淮区瑞金路
  [DEMO.yijiang]: [118.8305, 32.124], // 怡江苑, 栖霞区
  [DEMO.dongfang]: [119.2065, 34.596], // 东方瑞园, 海州区
  [DEMO.xinhai]: [119.188, 34.6], // 新海花园, 海州区
};

/** The four 小区 of the article with their locations (the centres of their life circles). */
export const demoPlaces: SeedRow[] = [
  { _id: DEMO.ruijin, cityCode: '320100', districtCode: '320104' },
  { _id: DEMO.yijiang, cityCode: '320100', districtCode: '320113' },
  { _id: DEMO.dongfang, cityCode: '320700', districtCode: '320706' },
  { _id: DEMO.xinhai, cityCode: '320700', districtCode: '320706' },
].map((p) => ({ ...p, location: { type: 'Point', coordinates: DEMO_LOCATIONS[p._id] }, synthetic: false }));

type Row = SeedRow;

/** Completed works whose dates the article does not give: done, dates null. */
const doneUndated = (types: string[]) => types.map((type) => ({ type, plannedAt: null, actualAt: null, done: true }));

export const demoProjects: Row[] = [
  {
    _id: DEMO_PROJECTS.xinhai2019,
    name: '新海花园小区改造 (2019, 物业企业出资)',
    communityIds: [DEMO.xinhai],
    cityCode: '320700',
    districtCodes: ['320706'],
    planYear: 2019,
    batch: null,
    sponsor: 'PROPERTY_COMPANY',
    sponsorCompanyUscc: DEMO_COMPANIES.yingbin,
    // 小区旧貌换新颜: the works are finished; no acceptance is reported.
    status: 'COMPLETED',
    scope: null,
    // 增设了塑胶步道、篮球场、健身设施和儿童娱乐设施 (完善类: 体育健身、文化休闲设施). Quantities and costs unknown.
    items: ['RUBBER_TRACK', 'BASKETBALL_COURT', 'FITNESS_EQUIPMENT', 'CHILDREN_PLAYGROUND'].map((itemType) => ({
      class: 'IMPROVEMENT',
      itemType,
      quantity: null,
      unit: null,
      costFen: null,
      costApprox: false,
    })),
    // 2019年出资300万对小区进行了改造: committed and paid by the company.
    budgetFen: 300_000_000,
    budgetApprox: false,
    fundingSources: [{ type: 'PROPERTY_COMPANY', amountFen: 300_000_000, amountApprox: false, confirmed: true }],
    spends: [{ type: 'PROPERTY_COMPANY', amountFen: 300_000_000, amountApprox: false, at: null, note: '2019年出资300万对小区进行了改造', clientKey: null }],
    spentFen: 300_000_000,
    milestones: doneUndated(['START', 'COMPLETION']),
    ...lateIndexFields(doneUndated(['START', 'COMPLETION'])),
    acceptance: null,
    contractor: null,
    source: `${SOURCE} (新海花园)`,
    synthetic: false,
  },
  {
    _id: DEMO_PROJECTS.ruijin2019,
    name: '瑞金新村老旧小区改造 (2019)',
    communityIds: [DEMO.ruijin],
    cityCode: '320100',
    districtCodes: ['320104'],
    planYear: 2019,
    batch: null,
    // 2019年改造后…: sponsor, scope, items and budget are not reported.
    sponsor: null,
    sponsorCompanyUscc: null,
    status: 'COMPLETED',
    scope: null,
    items: [],
    budgetFen: null,
    budgetApprox: false,
    fundingSources: [],
    spends: [],
    spentFen: null,
    milestones: doneUndated(['START', 'COMPLETION']),
    ...lateIndexFields(doneUndated(['START', 'COMPLETION'])),
    acceptance: null,
    contractor: null,
    source: `${SOURCE} (瑞金新村)`,
    synthetic: false,
  },
];

/**
 * Where each demo facility is placed on its 小区's grounds: metres from the 小区's point and bearing
 * in degrees from north. The article gives no positions: these are plausible spots inside the
 * compound (a sweeper's garage, a court at the edge), only for the life-circle questions.
 */
const SPOTS: Record<string, [number, number]> = {
  RUBBER_TRACK: [60, 0],
  BASKETBALL_COURT: [90, 90],
  FITNESS_EQUIPMENT: [45, 180],
  CHILDREN_PLAYGROUND: [70, 270],
  STREETLIGHT: [0, 0],
  ROAD_SURFACE: [0, 0],
  SWEEPER_MACHINE: [40, 135],
  HEALTH_TRAIL: [50, 45],
};

function facility(communityId: string, districtCode: string, type: string, fields: Record<string, unknown>): Row {
  const [metres, bearing] = SPOTS[type] ?? [0, 0];
  return {
    _id: `fa_${communityId}_${type}`,
    communityId,
    cityCode: `${districtCode.slice(0, 4)}00`,
    districtCode,
    buildingId: null,
    type,
    quantity: null,
    quantityApprox: false,
    condition: null,
    conditionBefore: null,
    history: [],
    installedAt: null,
    installedYear: null,
    sourceProjectId: null,
    costFen: null,
    costApprox: false,
    maintainerUscc: null,
    lastInspectedAt: null,
    note: null,
    location: offsetPoint(DEMO_LOCATIONS[communityId], metres, (bearing * Math.PI) / 180),
    synthetic: false,
    ...fields,
  };
}

export const demoFacilities: Row[] = [
  // 新海花园: 增设 in the 2019 project; before it 缺娱乐健身设施.
  ...['RUBBER_TRACK', 'BASKETBALL_COURT', 'FITNESS_EQUIPMENT', 'CHILDREN_PLAYGROUND'].map((type) =>
    facility(DEMO.xinhai, '320706', type, {
      condition: 'GOOD',
      conditionBefore: 'MISSING',
      history: [{ condition: 'MISSING', at: null, beforeYear: 2019, note: '缺娱乐健身设施' }],
      installedYear: 2019,
      sourceProjectId: DEMO_PROJECTS.xinhai2019,
      note: '2019年增设 (江苏迎宾物业管理有限公司出资改造)',
    }),
  ),
  // 新海花园 before 2019: 路灯不亮, 地面不平. The article does not say their state now: null.
  facility(DEMO.xinhai, '320706', 'STREETLIGHT', {
    conditionBefore: 'BROKEN',
    history: [{ condition: 'BROKEN', at: null, beforeYear: 2019, note: '路灯不亮' }],
  }),
  facility(DEMO.xinhai, '320706', 'ROAD_SURFACE', {
    conditionBefore: 'BROKEN',
    history: [{ condition: 'BROKEN', at: null, beforeYear: 2019, note: '地面不平' }],
  }),
  // 瑞金新村: 投入三十多万引进机扫设备 (by the property company); quantity and state not given.
  facility(DEMO.ruijin, '320104', 'SWEEPER_MACHINE', {
    costFen: 30_000_000,
    costApprox: true,
    maintainerUscc: DEMO_COMPANIES.hengzhao,
    note: '物业投入三十多万引进机扫设备 (机扫、洒水、吸尘、冲洗)',
  }),
  // 东方瑞园: 改造了健康步道、儿童游乐场地 (project details unknown).
  ...['HEALTH_TRAIL', 'CHILDREN_PLAYGROUND'].map((type) =>
    facility(DEMO.dongfang, '320706', type, { condition: 'GOOD', note: '在共治力量下改造' }),
  ),
];

/**
 * Writes the demo rows and brings the statistics rollups up to date: when they are built, by
 * applying each demo row's change (old version → demo version, stats/rollups.ts); otherwise by a
 * full rebuild (stats/rebuild.ts).
 */
export async function seedRenovation(m: Models): Promise<number> {
  const built = (await m.Rollup.countDocuments({ _id: META_ID })) > 0;
  const projectIds = demoProjects.map((r) => r._id);
  const facilityIds = demoFacilities.map((r) => r._id);
  const before = built
    ? {
        projects: new Map((await m.Project.find({ _id: { $in: projectIds } }).lean<ProjectDoc[]>()).map((p) => [p._id, p])),
        facilities: new Map((await m.Facility.find({ _id: { $in: facilityIds } }).lean<FacilityDoc[]>()).map((f) => [f._id, f])),
      }
    : null;
  let n = 0;
  n += await upsertById(m.CommunityPlace, demoPlaces);
  n += await upsertById(m.Project, demoProjects);
  n += await upsertById(m.Facility, demoFacilities);
  if (!before) {
    await rebuildModels(m);
    return n;
  }
  const rollups = createRollupWriter(m);
  for (const p of await m.Project.find({ _id: { $in: projectIds } }).lean<ProjectDoc[]>()) await rollups.project(before.projects.get(p._id) ?? null, p);
  for (const f of await m.Facility.find({ _id: { $in: facilityIds } }).lean<FacilityDoc[]>()) await rollups.facility(before.facilities.get(f._id) ?? null, f);
  return n;
}

export { seedSynthetic } from './synthetic';

/** Convenience for callers that hold a connection. */
export const seedDemo = (conn: Connection) => seedRenovation(registerModels(conn));
