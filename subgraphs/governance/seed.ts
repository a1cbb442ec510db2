/**
 * Demo data of the governance subgraph: exactly the facts of the article (新华日报·交汇点, 2022;
 * docs/domain.md, "Demo data: the article's four 小区") about the four typical-case 小区. Dates the
 * article does not give stay null, and nothing is invented: a joint-meeting cadence is recorded as
 * the alliance's rule, not as meeting rows (怡江苑's alliance states none, so the general rule
 * applies and `cadenceStated` is false); there are no tickets or patrol reports because the article
 * reports none. No person is named: officials appear only as role titles, patrol and committee
 * members not at all.
 *
 * Community ids and company USCCs are the keys the properties subgraph uses for the same records
 * (subgraphs never import each other, so they are repeated here). Idempotent: every row is an
 * upsert by its id.
 */
import type { Models } from './models';
import { upsertById, type SeedRow } from '../../lib/db';
import { rebuildStats } from './stats/rebuild';

export const DEMO = {
  ruijin: 'cm_320104_0001', // 瑞金新村 (南京 秦淮区)
  yijiang: 'cm_320113_0001', // 怡江苑 (南京 栖霞区 龙潭街道 江畔人家社区)
  dongfang: 'cm_320706_0001', // 东方瑞园 (连云港 海州区)
  xinhai: 'cm_320706_0002', // 新海花园 (连云港 海州区)
} as const;

/** USCC placeholders, as in the properties register (the article gives no codes). */
export const DEMO_COMPANIES = {
  hengzhao: 'PLACEHOLDER0000001', // 明商集团恒兆公司
  xieyang: 'PLACEHOLDER0000002', // 南京谐扬物业管理有限公司
  yanghui: 'PLACEHOLDER0000003', // 江苏杨辉物业服务有限公司 (inferred operator of 东方瑞园)
  yingbin: 'PLACEHOLDER0000004', // 江苏迎宾物业管理有限公司
} as const;

export const SOURCE = '新华日报·交汇点, 2022: 住建部“加强物业管理 共建美好家园”典型案例';
export const PROGRAM = '加强物业管理 共建美好家园';
export const NATIONAL_ISSUER = '住房和城乡建设部办公厅、中央文明办秘书局';

type Row = SeedRow;

export const demoCommunities: Row[] = [
  {
    _id: DEMO.ruijin, cityCode: '320100', districtCode: '320104', companyUscc: DEMO_COMPANIES.hengzhao,
    coGovernanceTopics: ['EV_CHARGING', 'SANITATION', 'CLUTTER'], // 电动车充电难, 卫生环境差, 杂物乱堆乱放
    intakePoints: [
      { kind: 'ONSITE_12345_DESK', pilot: true, note: '现场试点设置“12345”热线问题现场受理点' },
      { kind: 'INTEGRITY_LINE', pilot: true, note: '行风监督热线' },
    ],
    source: SOURCE,
  },
  {
    _id: DEMO.yijiang, cityCode: '320100', districtCode: '320113', streetCode: '320113900', neighborhoodCode: '320113900001',
    companyUscc: DEMO_COMPANIES.xieyang,
    gridLevel: '二级网格',
    liaisonCadreRole: '社区副职人员（社区两委成员全部下沉小区，每个社区副职人员负责一个小区）',
    coGovernanceTopics: ['ILLEGAL_CONSTRUCTION', 'DOG', 'WASTE_SORTING', 'CORRIDOR_CLUTTER', 'PUBLIC_SECURITY'],
    source: SOURCE,
  },
  {
    _id: DEMO.dongfang, cityCode: '320700', districtCode: '320706', companyUscc: DEMO_COMPANIES.yanghui,
    coGovernanceTopics: ['HEATING', 'FIRE_SAFETY', 'DRYING_AREA'], // 集中供暖, 消防安全, 集中晾晒
    source: SOURCE,
  },
  { _id: DEMO.xinhai, cityCode: '320700', districtCode: '320706', companyUscc: DEMO_COMPANIES.yingbin, source: SOURCE },
];

export const demoCommittees: Row[] = [
  {
    // “经业委会公开招聘”: the 小区 has a 业委会; its term and members are not given.
    _id: 'cmt_ruijin_oc', communityId: DEMO.ruijin, cityCode: '320100', districtCode: '320104',
    type: 'OWNERS_COMMITTEE', status: 'ACTIVE', members: [],
    source: `${SOURCE} (经业委会公开招聘选聘物业; status as of the article)`,
  },
  {
    // 社区干部兼任物业管理委员会主任, 社区民警任管委会副主任.
    _id: 'cmt_yijiang_pmc', communityId: DEMO.yijiang, cityCode: '320100', districtCode: '320113',
    type: 'PROPERTY_MANAGEMENT_COMMITTEE', status: 'ACTIVE',
    members: [
      { role: 'DIRECTOR', affiliation: 'COMMUNITY_CADRE' },
      { role: 'DEPUTY_DIRECTOR', affiliation: 'COMMUNITY_POLICE' },
    ],
    source: SOURCE,
  },
  {
    // The 业主委员会 is part of 东方瑞园's organisation system.
    _id: 'cmt_dongfang_oc', communityId: DEMO.dongfang, cityCode: '320700', districtCode: '320706',
    type: 'OWNERS_COMMITTEE', status: 'ACTIVE', members: [], source: SOURCE,
  },
];

export const demoAlliances: Row[] = [
  {
    _id: 'al_yijiang', model: 'RED_PROPERTY', communityIds: [DEMO.yijiang], cityCodes: ['320100'], districtCodes: ['320113'],
    members: [
      { orgType: 'STREET', orgName: '龙潭街道' },
      { orgType: 'NEIGHBORHOOD', orgName: '江畔人家社区' },
      { orgType: 'SOCIAL_ORG', orgName: null, note: '社会组织（含业主自治组织）' },
      { orgType: 'POLICE', orgName: null, note: '公安部门' },
      { orgType: 'DEVELOPER', orgName: null, note: '建设单位' },
    ],
    requiredMeetingsPerMonth: null, // the article states no cadence for 怡江苑: the general rule (1/month) applies
    source: SOURCE,
  },
  {
    _id: 'al_dongfang', model: 'RED_PROPERTY', communityIds: [DEMO.dongfang], cityCodes: ['320700'], districtCodes: ['320706'],
    members: [
      { orgType: 'ORG_DEPT', orgName: null, note: '组织部门' },
      { orgType: 'HOUSING_DEPT', orgName: null, note: '住建部门' },
      { orgType: 'STREET', orgName: null, note: '街道' },
      { orgType: 'NEIGHBORHOOD', orgName: null, note: '社区' },
      { orgType: 'OWNERS_COMMITTEE', orgName: null, note: '业主委员会' },
      { orgType: 'PROPERTY_COMPANY', orgName: null, note: '物业公司' },
      { orgType: 'COMMUNITY_PARTY_BRANCH', orgName: null, note: '小区党支部' },
    ],
    requiredMeetingsPerMonth: 1, // 每月至少召开1次联席会议
    source: SOURCE,
  },
];

export const demoPartyOrgs: Row[] = [
  {
    _id: 'po_ruijin_property', kind: 'PROPERTY_COMPANY_PARTY_ORG', name: '物业党组织', hostCompanyUscc: DEMO_COMPANIES.hengzhao,
    communityIds: [DEMO.ruijin], note: '物业公司入选后同步成立',
  },
  {
    _id: 'po_yijiang_neighborhood', kind: 'NEIGHBORHOOD_PARTY_ORG', name: '江畔人家社区党组织', communityIds: [DEMO.yijiang],
    note: '社区两委成员全部下沉小区',
  },
  { _id: 'po_dongfang_branch', kind: 'COMMUNITY_PARTY_BRANCH', name: '小区党支部', communityIds: [DEMO.dongfang] },
];

export const demoPatrolTeams: Row[] = [
  {
    _id: 'pt_yijiang_zhaocha', communityId: DEMO.yijiang, name: '找茬队', memberCount: 12,
    composition: ['VETERAN_PARTY_MEMBER', 'RETIRED_CADRE'],
    practice: '每天在小区巡护，发现垃圾清运不及时、绿化管养不到位等问题，第一时间拍照发给物业，督促物业整改到位',
    members: [], // the article names one member; residents are never seeded
    source: SOURCE,
  },
];

const ORGANISERS = [DEMO_COMPANIES.xieyang, '社区新时代文明实践站'];
export const demoActivities: Row[] = (
  ['CHESS', 'TABLE_TENNIS', 'SPRING_COUPLETS', 'READING', 'LEGAL_LECTURE', 'WASTE_SORTING_LECTURE', 'HEALTH_CLINIC', 'SKILLS_TRAINING'] as const
).map((type) => ({
  _id: `act_yijiang_${type.toLowerCase()}`, communityId: DEMO.yijiang, type, organizers: ORGANISERS, date: null, participantCount: null, source: SOURCE,
}));

export const demoDesignations: Row[] = [
  ...([
    [DEMO.ruijin, '320100'],
    [DEMO.yijiang, '320100'],
    [DEMO.dongfang, '320700'],
    [DEMO.xinhai, '320700'],
  ] as const).map(([communityId, cityCode]) => ({
    _id: `dsg_2022_${communityId}`, communityId, cityCode, program: PROGRAM, level: 'NATIONAL_TYPICAL_CASE',
    issuer: NATIONAL_ISSUER, announcedAt: null, year: 2022, note: '100个典型案例之一',
  })),
  {
    _id: 'dsg_320700_plan_10', communityId: null, cityCode: '320700', program: PROGRAM, level: 'CANDIDATE',
    // year: when the target was announced (the article's year, 2022); the exact date is not given.
    issuer: '连云港市住建局', announcedAt: null, year: 2022, targetCount: 10,
    note: '复制典型经验，再打造10个“美好家园”小区（连云港市住建局物业处负责人）',
  },
];

export const demoPolicies: Row[] = [
  {
    // “希望省市级层面出台”: asked of the province and the city; issuerLevel is the highest level asked.
    _id: 'sp_320100_old_pm_reward', issuerLevel: 'PROVINCE', requestedIssuerLevels: ['PROVINCE', 'CITY'], domain: 'PROPERTY_MANAGEMENT_OLD_COMMUNITY',
    title: '针对老旧小区物业管理标准的奖励补贴政策（呼吁省市级出台）', proposedBy: '龙潭街道物业办主任', cityCode: '320100',
    effectiveFrom: null, amountRule: null, status: 'PROPOSED',
    source: `${SOURCE} (老旧小区物业费收费低，升级服务常面临资金难题)`,
  },
];

export async function seedGovernance(m: Models): Promise<number> {
  let n = 0;
  n += await upsertById(m.Community, demoCommunities);
  n += await upsertById(m.Committee, demoCommittees);
  n += await upsertById(m.Alliance, demoAlliances);
  n += await upsertById(m.PartyOrg, demoPartyOrgs);
  n += await upsertById(m.PatrolTeam, demoPatrolTeams);
  n += await upsertById(m.Activity, demoActivities);
  n += await upsertById(m.Designation, demoDesignations);
  n += await upsertById(m.Policy, demoPolicies);
  // The rows were written behind the write path: the statistics rollups are rebuilt from them.
  await rebuildStats(m.Community.db);
  return n;
}

export { seedSynthetic, syntheticWindows, type SyntheticCommunity, type SyntheticWindows } from './seed-synthetic';
