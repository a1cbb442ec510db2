/**
 * Demo data of the properties subgraph: the four 小区 of the article (新华日报·交汇点, 2022) with
 * exactly the facts it reports (docs/domain.md, "Demo data: the article's four 小区"). Unknowns
 * stay null. Codes and USCCs the article does not give are placeholders, flagged
 * `codeVerified: false` / `usccVerified: false`. Idempotent: every row is an upsert by its id, so
 * seeding twice creates no duplicates. The article gives no dates beyond its years, so nothing here
 * depends on the clock. The statistics rollups are then brought up to date: the buckets of the
 * article's 小区 when the rollups have been built before, otherwise a full rebuild.
 */
import type { Models } from './models';
import { upsertById, type SeedRow } from '../../lib/db';
import { createRollupWriter, META_ID, rebuildStats } from './stats';
import { cellOf } from './stats/figures';

export const DEMO = {
  ruijin: 'cm_320104_0001', // 瑞金新村 (南京 秦淮区)
  yijiang: 'cm_320113_0001', // 怡江苑 (南京 栖霞区)
  dongfang: 'cm_320706_0001', // 东方瑞园 (连云港 海州区)
  xinhai: 'cm_320706_0002', // 新海花园 (连云港 海州区)
} as const;

export const DEMO_COMPANIES = {
  hengzhao: 'PLACEHOLDER0000001', // 明商集团恒兆公司
  xieyang: 'PLACEHOLDER0000002', // 南京谐扬物业管理有限公司
  yanghui: 'PLACEHOLDER0000003', // 江苏杨辉物业服务有限公司
  yingbin: 'PLACEHOLDER0000004', // 江苏迎宾物业管理有限公司
} as const;

const SOURCE = '新华日报·交汇点, 2022: 住建部“加强物业管理 共建美好家园”典型案例';

type Row = SeedRow;

export const demoAreas: Row[] = [
  { _id: '320100', name: '南京市', level: 'CITY', parentCode: null, cityCode: '320100', oldCommunityCutoffYear: 2000, campaignPilotYear: 2021 },
  { _id: '320700', name: '连云港市', level: 'CITY', parentCode: null, cityCode: '320700', oldCommunityCutoffYear: 2000, campaignPilotYear: 2021 },
  { _id: '320104', name: '秦淮区', level: 'DISTRICT', parentCode: '320100', cityCode: '320100' },
  { _id: '320113', name: '栖霞区', level: 'DISTRICT', parentCode: '320100', cityCode: '320100' },
  { _id: '320706', name: '海州区', level: 'DISTRICT', parentCode: '320700', cityCode: '320700' },
  // The article names 龙潭街道 and 江畔人家社区 but not their statistical codes: placeholders.
  { _id: '320113900', name: '龙潭街道', level: 'STREET', parentCode: '320113', cityCode: '320100', codeVerified: false },
  { _id: '320113900001', name: '江畔人家社区', level: 'NEIGHBORHOOD', parentCode: '320113900', cityCode: '320100', codeVerified: false },
];

/**
 * Approximate WGS84 locations (GPS datum, not GCJ-02) of the article's four 小区, good to a few
 * hundred metres: enough to place them in their district, not for navigation (the article gives no
 * coordinates). The elderly and renovation subgraphs' seeds use the same points.
 */
const located = (lng: number, lat: number) => ({ lat, lng, datum: 'WGS84' });

export const demoCommunities: Row[] = [
  {
    _id: DEMO.ruijin, name: '瑞金新村', cityCode: '320100', districtCode: '320104', location: located(118.8175, 32.0372), // 秦淮区瑞金路
    builtDecade: 1970, builtYear: null, isOldCommunity: true, housingType: 'REFORM_HOUSING', managementMode: 'MARKET',
    currentCompanyUscc: DEMO_COMPANIES.hengzhao,
    servicePromise: '先服务，后收费，不满意，不收费', commendationBannerCount: 20, commendationBannerCountApprox: true,
  },
  {
    _id: DEMO.yijiang, name: '怡江苑', cityCode: '320100', districtCode: '320113', location: located(118.8305, 32.124), // 栖霞区
    streetCode: '320113900', neighborhoodCode: '320113900001',
    builtYear: 2012, isOldCommunity: false, housingType: 'RESETTLEMENT', managementMode: 'CUSTODIAL_PUBLIC_WELFARE',
    buildingCount: 32, residentCount: 3500, residentCountApprox: true, currentCompanyUscc: DEMO_COMPANIES.xieyang,
  },
  {
    _id: DEMO.dongfang, name: '东方瑞园', cityCode: '320700', districtCode: '320706', currentCompanyUscc: DEMO_COMPANIES.yanghui,
    location: located(119.2065, 34.596), // 海州区
  },
  {
    _id: DEMO.xinhai, name: '新海花园', cityCode: '320700', districtCode: '320706', location: located(119.188, 34.6), // 海州区
    builtYear: 1998, isOldCommunity: true, has24hServiceHotline: true, currentCompanyUscc: DEMO_COMPANIES.yingbin,
  },
];

export const demoCompanies: Row[] = [
  { _id: DEMO_COMPANIES.hengzhao, name: '明商集团恒兆公司', nature: 'GROUP_SUBSIDIARY', parentGroup: '明商集团', hasPartyOrganization: true },
  { _id: DEMO_COMPANIES.xieyang, name: '南京谐扬物业管理有限公司', nature: 'PUBLIC_WELFARE' },
  { _id: DEMO_COMPANIES.yanghui, name: '江苏杨辉物业服务有限公司' },
  { _id: DEMO_COMPANIES.yingbin, name: '江苏迎宾物业管理有限公司', generalManager: '徐迎兵' },
];

export const demoContracts: Row[] = [
  {
    _id: 'ct_ruijin_hengzhao', communityId: DEMO.ruijin, companyUscc: DEMO_COMPANIES.hengzhao,
    selectionMethod: 'OWNERS_COMMITTEE_RECRUITMENT', selectionNote: '2019年改造后经业委会公开招聘，高票入选', current: true,
  },
  { _id: 'ct_yijiang_xieyang', communityId: DEMO.yijiang, companyUscc: DEMO_COMPANIES.xieyang, selectionNote: '自2012年建成后一直托管', current: true },
  {
    _id: 'ct_dongfang_yanghui', communityId: DEMO.dongfang, companyUscc: DEMO_COMPANIES.yanghui, inferred: true, current: true,
    selectionNote: 'inferred: the article names only the company’s 温馨之家 canteen in this 小区',
  },
  { _id: 'ct_xinhai_yingbin', communityId: DEMO.xinhai, companyUscc: DEMO_COMPANIES.yingbin, selectionNote: '公司进驻小区后，2019年出资改造', current: true },
];

export const demoFees: Row[] = [
  {
    _id: `fee_${DEMO.ruijin}_2019`, communityId: DEMO.ruijin, cityCode: '320100', districtCode: '320104', period: '2019',
    reportedRate: 0.2, reportedRateBasis: 'UNKNOWN', source: `${SOURCE} (进驻前 20%)`,
  },
  {
    _id: `fee_${DEMO.ruijin}_2022`, communityId: DEMO.ruijin, cityCode: '320100', districtCode: '320104', period: '2022',
    reportedRate: 0.96, reportedRateBasis: 'UNKNOWN', source: `${SOURCE} (现在 96%)`,
  },
  {
    _id: `fee_${DEMO.yijiang}_2022`, communityId: DEMO.yijiang, cityCode: '320100', districtCode: '320113', period: '2022',
    reportedRate: 0.96, reportedRateBasis: 'UNKNOWN', reportedRateIsLowerBound: true, source: `${SOURCE} (常年保持在96%以上)`,
  },
];

export const demoSurveys: Row[] = [
  {
    _id: `sv_${DEMO.ruijin}_2022`, communityId: DEMO.ruijin, cityCode: '320100', districtCode: '320104', period: '2022',
    percent: 97, isLowerBound: true, scope: '业主综合满意度',
  },
  {
    _id: `sv_${DEMO.dongfang}_2022`, communityId: DEMO.dongfang, cityCode: '320700', districtCode: '320706', period: '2022',
    percent: null, cityTopPercent: 5, scope: '业主对物业管理满意度 (居连云港市前5%)',
  },
  {
    _id: `sv_${DEMO.xinhai}_2022`, communityId: DEMO.xinhai, cityCode: '320700', districtCode: '320706', period: '2022',
    percent: 96, scope: '业主满意度',
  },
];

export async function seedProperties(m: Models): Promise<number> {
  const ids = demoCommunities.map((c) => c._id);
  // Where the article's 小区 sat before (a re-seed may move one back to the article's codes).
  const former = (await m.Community.find({ _id: { $in: ids } }).select({ cityCode: 1, districtCode: 1, streetCode: 1 }).lean()).map(cellOf);
  let n = 0;
  n += await upsertById(m.AdminArea, demoAreas);
  n += await upsertById(m.Company, demoCompanies);
  n += await upsertById(m.Community, demoCommunities);
  n += await upsertById(m.Contract, demoContracts);
  n += await upsertById(m.Fee, demoFees);
  n += await upsertById(m.Survey, demoSurveys);
  if (await m.Rollup.exists({ _id: META_ID })) await createRollupWriter(m).communitiesWritten(ids, former);
  else await rebuildStats(m.Community.db);
  return n;
}
