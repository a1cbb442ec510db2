/**
 * Demo data of the elderly subgraph: exactly the elderly facts of the article (新华日报·交汇点,
 * 2022; docs/domain.md, "Demo data: the article's four 小区"). Unknowns stay null. The article gives no counts of older residents, so the
 * demo register is empty: no individual is invented (synthetic residents come only from
 * `seedSynthetic`). Idempotent: every row is an upsert by its id.
 */
import type { Models } from './models';
import { upsertById, type SeedRow } from '../../lib/db';

export const DEMO = {
  ruijin: 'cm_320104_0001', // 瑞金新村 (南京 秦淮区)
  yijiang: 'cm_320113_0001', // 怡江苑 (南京 栖霞区)
  dongfang: 'cm_320706_0001', // 东方瑞园 (连云港 海州区)
  xinhai: 'cm_320706_0002', // 新海花园 (连云港 海州区)
} as const;

export const DEMO_COMPANIES = {
  hengzhao: 'PLACEHOLDER0000001', // 明商集团恒兆公司
  yanghui: 'PLACEHOLDER0000003', // 江苏杨辉物业服务有限公司
} as const;

export const DEMO_IDS = {
  dongfangTeam: 'ct_320706_0001_01',
  dongfangLoveTable: 'mp_320706_0001_01',
  ruijinHealthCenter: 'sp_320104_0001_01',
  ruijinHomeCareCenter: 'sp_320104_0001_02',
  ruijinNursingHome: 'sp_320104_0001_03',
} as const;

const SOURCE = '新华日报·交汇点, 2022: 住建部“加强物业管理 共建美好家园”典型案例';

type Row = SeedRow;

/**
 * Approximate WGS84 locations (GPS datum, not GCJ-02) of the article's four 小区, good to a few
 * hundred metres: enough to place them in their district for the life-circle figures, not for
 * navigation. The article gives no coordinates.
 */
export const DEMO_LOCATIONS: Record<string, [number, number]> = {
  [DEMO.ruijin]: [118.8175, 32.0372], // 瑞金新村, 秦淮区瑞金路
  [DEMO.yijiang]: [118.8305, 32.124], // 怡江苑, 栖霞区
  [DEMO.dongfang]: [119.2065, 34.596], // 东方瑞园, 海州区
  [DEMO.xinhai]: [119.188, 34.6], // 新海花园, 海州区
};
const point = (id: string) => ({ type: 'Point', coordinates: DEMO_LOCATIONS[id] });

/** The four 小区 of the article, with the area codes the aggregates group by. */
export const demoCommunityRefs: Row[] = [
  { _id: DEMO.ruijin, cityCode: '320100', districtCode: '320104', location: point(DEMO.ruijin) },
  { _id: DEMO.yijiang, cityCode: '320100', districtCode: '320113', location: point(DEMO.yijiang) },
  { _id: DEMO.dongfang, cityCode: '320700', districtCode: '320706', location: point(DEMO.dongfang) },
  { _id: DEMO.xinhai, cityCode: '320700', districtCode: '320706', location: point(DEMO.xinhai) },
];

export const demoCareTeams: Row[] = [
  {
    // “东方瑞园小区组建了居家养老服务队伍，为独居困难老年人建立台账。每逢节假日，服务队伍都会探视独居困难老人。”
    // The article does not say who operates the team or how many members it has: null.
    _id: DEMO_IDS.dongfangTeam,
    name: '东方瑞园居家养老服务队伍',
    communityIds: [DEMO.dongfang],
    cityCodes: ['320700'],
    operatorType: null,
    operatorUscc: null,
    memberCount: null,
    keepsRegister: true,
    holidayVisits: true,
    practice: '为独居困难老年人建立台账；每逢节假日探视独居困难老人',
    source: SOURCE,
  },
];

export const demoMealPrograms: Row[] = [
  {
    // “江苏杨辉物业服务有限公司‘温馨之家’食堂进驻小区，为独居困难老人设立了爱心餐桌。”
    _id: DEMO_IDS.dongfangLoveTable,
    type: 'LOVE_TABLE',
    name: '温馨之家',
    venue: '“温馨之家”食堂',
    operatorUscc: DEMO_COMPANIES.yanghui,
    communityIds: [DEMO.dongfang],
    cityCodes: ['320700'],
    eligibility: ['LIVING_ALONE_DIFFICULTY'],
    beneficiaryCount: null,
    mealsPerDay: null,
    // the canteen moved into the 小区 (“进驻小区”): located at the 小区
    location: point(DEMO.dongfang),
    source: SOURCE,
  },
];

// “（瑞金新村）引进了卫生院、居家养老服务中心、养老院等配套服务” — brought in by the property
// company (明商集团恒兆公司). Names and distances are not given: null.
const ruijinProvider = (id: string, type: string): Row => ({
  _id: id,
  type,
  name: null,
  distanceM: null,
  communityIds: [DEMO.ruijin],
  cityCodes: ['320100'],
  broughtInBy: '小区物业（明商集团恒兆公司）',
  broughtInByUscc: DEMO_COMPANIES.hengzhao,
  source: SOURCE,
});

export const demoServiceProviders: Row[] = [
  ruijinProvider(DEMO_IDS.ruijinHealthCenter, 'HEALTH_CENTER'),
  ruijinProvider(DEMO_IDS.ruijinHomeCareCenter, 'HOME_CARE_CENTER'),
  ruijinProvider(DEMO_IDS.ruijinNursingHome, 'NURSING_HOME'),
];

export async function seedElderly(m: Models): Promise<number> {
  let n = 0;
  n += await upsertById(m.CommunityRef, demoCommunityRefs);
  n += await upsertById(m.CareTeam, demoCareTeams);
  n += await upsertById(m.MealProgram, demoMealPrograms);
  n += await upsertById(m.ServiceProvider, demoServiceProviders);
  return n;
}

/** Synthetic rows for the synthetic city (see seed-synthetic.ts). */
export { seedSynthetic, type SyntheticCommunity, type SyntheticOptions } from './seed-synthetic';
