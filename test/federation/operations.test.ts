/**
 * The representative operations (docs/domain.md, "Bureaus and entities", by number) that
 * test/federation/governance.test.ts does not cover (1-8 and 18-20), end to end through the real
 * gateway and the four subgraphs on the embedded engine. The article (docs/domain.md, "Demo data:
 * the article's four 小区") gives no elderly register, no fee figures for a period and no renovation
 * milestones, so the fixture below creates them through the graph's own mutations (register
 * residents, record visits, upsert fee periods, record surveys, open and move tickets, create
 * projects, record milestones and spend, upsert facilities) and every aggregate is asserted against
 * a hand-computed number.
 *
 * The only rows written straight into a database are three extra 小区 in properties (the graph has
 * no mutation that creates a 小区): an old 小区 under 街道兜底, an old 小区 without any property
 * service and a new one without service, so that operation 18 has something to find.
 *
 * Callers here are anonymous (one test adds a civil-affairs token): the elderly subgraph suppresses
 * counts of 1-4 people (and rates built on them) for them, so the 东方瑞园 register has 10 residents
 * whose published figures are all 0 or >= 5, and the assertions also check that small counts come
 * back as null.
 *
 * Every date is relative to the product clock, which this file stops at its start (T0): the fee
 * period, plan year and milestones are in the CST year before T0's, registrations, visits, tickets
 * and spends are days before T0, so the suite means the same on any date.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cstYear, now } from '../../lib/clock';
import { loadConfig } from '../../lib/config';
import { signLocalToken } from '../../lib/auth/token';
import { startStack, type RunningStack } from '../../scripts/stack';
import { registerModels as registerPropertiesModels } from '../../subgraphs/properties/models';
import { rebuildStats as rebuildPropertiesStats } from '../../subgraphs/properties/stats';
import { pinClock } from '../helpers/clock';
import { authHeader } from '../helpers/tokens';
import { gql } from '../helpers/subgraph';

const RUIJIN = 'cm_320104_0001'; // 瑞金新村, 南京 秦淮区
const YIJIANG = 'cm_320113_0001'; // 怡江苑, 南京 栖霞区
const DONGFANG = 'cm_320706_0001'; // 东方瑞园, 连云港 海州区
const XINHAI = 'cm_320706_0002'; // 新海花园, 连云港 海州区
/** Extra 小区 written into properties before the services listen (no mutation creates a 小区). */
const FALLBACK_OLD = 'cm_320104_9001'; // old, 街道兜底 (STREET_FALLBACK), 秦淮区
const NONE_OLD = 'cm_320113_9001'; // old, no property service, 栖霞区
const NONE_NEW = 'cm_320113_9002'; // built 2008, no property service, 栖霞区
const DONGFANG_TEAM = 'ct_320706_0001_01';

const DAY = 24 * 3600 * 1000;
const HOUR = 3600 * 1000;
/** The product clock, stopped for this file: seed, services and assertions agree on one instant. */
const pinned = pinClock(now());
const T0 = now().getTime();
/** Last calendar year (CST): the fee period, plan year and milestones of the fixture. */
const Y = cstYear(now()) - 1;
/** A date in year Y + `plus`, as the ISO string the graph answers with. */
const inYear = (monthDay: string, plus = 0) => `${Y + plus}-${monthDay}T00:00:00.000Z`;
const daysAgo = (n: number) => new Date(T0 - n * DAY);
const iso = (d: Date) => d.toISOString();

let stack: RunningStack;

// Tokens of the embedded default are signed with a local key pair (lib/auth); keep it out of the
// working tree's .data directory. Set before the stack starts: every service reads it then.
const KEY_DIR = mkdtempSync(path.join(os.tmpdir(), 'ops-test-keys-'));
const previousKeyDir = process.env.JWT_KEY_DIR;
process.env.JWT_KEY_DIR = KEY_DIR;

/** Individual-level elderly data (worklist, visits) is for civil affairs and care teams (docs/access.md). */
const civil = () => authHeader('CIVIL_AFFAIRS', { subject: 'test:civil-affairs' });

/** Headers of a civil-affairs (民政) caller: individual-level access, exact elderly figures. */
async function civilAffairs(): Promise<Record<string, string>> {
  return { authorization: `Bearer ${await signLocalToken(loadConfig().auth, { role: 'CIVIL_AFFAIRS', ttl: '10m' })}` };
}

async function q(query: string, variables?: Record<string, unknown>, headers?: Record<string, string>) {
  const res = await gql(stack.gatewayUrl, query, variables, headers);
  if (res.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(res.errors)}`);
  return res.data as any;
}

// ------------------------------------------------------------------------------------------------
// Fixture: what the article does not say, created through the graph
// ------------------------------------------------------------------------------------------------

interface ResidentPlan {
  key: string;
  community: string;
  ageBand: string;
  livingArrangement: string;
  difficultyFlags?: string[];
  registeredDaysAgo: number;
  /** A visit: days ago and outcome (OK unless given). */
  visit?: { daysAgo: number; outcome?: string };
}

/**
 * 东方瑞园's register (the article says its care team keeps a 台账 of 独居困难老人; it gives no counts).
 * Tier by rule: HIGH (80+ living alone/空巢) every 7 days, KEY (失能, 特困) every 30, GENERAL every 90.
 * nextVisitDue = last contact (or registration) + interval; NOT_HOME is not contact.
 */
const DONGFANG_REGISTER: ResidentPlan[] = [
  { key: 'A1', community: DONGFANG, ageBand: 'AGE_80_89', livingArrangement: 'LIVING_ALONE', registeredDaysAgo: 100, visit: { daysAgo: 2 } }, // HIGH, due +5d
  { key: 'A2', community: DONGFANG, ageBand: 'AGE_80_89', livingArrangement: 'LIVING_ALONE', registeredDaysAgo: 99, visit: { daysAgo: 1, outcome: 'NOT_HOME' } }, // HIGH, due -92d
  { key: 'A3', community: DONGFANG, ageBand: 'AGE_90_PLUS', livingArrangement: 'LIVING_ALONE', registeredDaysAgo: 98 }, // HIGH, due -91d
  { key: 'A4', community: DONGFANG, ageBand: 'AGE_70_79', livingArrangement: 'LIVING_ALONE', difficultyFlags: ['DISABLED'], registeredDaysAgo: 97, visit: { daysAgo: 10 } }, // KEY, due +20d
  { key: 'A5', community: DONGFANG, ageBand: 'AGE_60_69', livingArrangement: 'LIVING_ALONE', registeredDaysAgo: 96, visit: { daysAgo: 25 } }, // GENERAL, due +65d
  { key: 'A6', community: DONGFANG, ageBand: 'AGE_70_79', livingArrangement: 'LIVING_ALONE', registeredDaysAgo: 100, visit: { daysAgo: 92 } }, // GENERAL, due -2d
  { key: 'B1', community: DONGFANG, ageBand: 'AGE_60_69', livingArrangement: 'WITH_FAMILY', registeredDaysAgo: 100, visit: { daysAgo: 5 } }, // GENERAL, due +85d
  { key: 'B2', community: DONGFANG, ageBand: 'AGE_70_79', livingArrangement: 'EMPTY_NEST', registeredDaysAgo: 100, visit: { daysAgo: 29 } }, // GENERAL, due +61d
  { key: 'B3', community: DONGFANG, ageBand: 'AGE_80_89', livingArrangement: 'EMPTY_NEST', registeredDaysAgo: 97 }, // HIGH, due -90d
  { key: 'B4', community: DONGFANG, ageBand: 'AGE_60_69', livingArrangement: 'WITH_FAMILY', difficultyFlags: ['EXTREME_POVERTY'], registeredDaysAgo: 96 }, // KEY, due -66d
];
// registered 10, living alone 6 (A1-A6), visited in the last 30 days 5 (A1, A4, A5, B1, B2),
// overdue 5 (A2, A3, A6, B3, B4), HIGH 4 and KEY 2 (both suppressed: 1-4 people).

/** 瑞金新村: five residents living alone; R1 (HIGH) is overdue and gets the holiday visit of op. 6. */
const RUIJIN_REGISTER: ResidentPlan[] = [
  { key: 'R1', community: RUIJIN, ageBand: 'AGE_80_89', livingArrangement: 'LIVING_ALONE', registeredDaysAgo: 10 }, // HIGH, due -3d
  ...[2, 3, 4, 5].map((i) => ({ key: `R${i}`, community: RUIJIN, ageBand: 'AGE_60_69', livingArrangement: 'LIVING_ALONE', registeredDaysAgo: 10 })), // GENERAL, due +80d
];

const ids: Record<string, string> = {};
const registeredAt: Record<string, Date> = {};

const REGISTER = `mutation($input: RegisterElderlyResidentInput!) { registerElderlyResident(input: $input) { id riskTier visitIntervalDays nextVisitDue } }`;
const VISIT = `mutation($e: ID!, $mode: VisitMode!, $occ: VisitOccasion!, $out: VisitOutcome!, $at: DateTime, $team: ID, $key: String) {
  recordHomeVisit(elderId: $e, mode: $mode, occasion: $occ, outcome: $out, visitedAt: $at, teamId: $team, clientKey: $key) {
    nextVisitDue visit { id occasion mode visitedAt community { name } } elder { id lastVisitedAt nextVisitDue } } }`;

async function createRegister(plans: ResidentPlan[]) {
  for (const p of plans) {
    const at = daysAgo(p.registeredDaysAgo);
    registeredAt[p.key] = at;
    const r = await q(REGISTER, {
      input: {
        clientKey: `ops-test-${p.key}`, communityId: p.community, ageBand: p.ageBand, livingArrangement: p.livingArrangement,
        difficultyFlags: p.difficultyFlags ?? [], consentRecordedAt: iso(at), registeredAt: iso(at),
      },
    });
    ids[p.key] = r.registerElderlyResident.id;
  }
  for (const p of plans.filter((x) => x.visit)) {
    await q(VISIT, {
      e: ids[p.key], mode: 'IN_PERSON', occ: 'ROUTINE', out: p.visit!.outcome ?? 'OK', at: iso(daysAgo(p.visit!.daysAgo)),
      team: p.community === DONGFANG ? DONGFANG_TEAM : null, key: `ops-visit-${p.key}`,
    });
  }
}

/** Fee collection of Y-06 (last year's June) in 南京 (fen). */
const FEES = [
  { communityId: RUIJIN, chargeableHouseholds: 400, paidHouseholds: 380, receivableFen: 1_200_000, receivedFen: 1_140_000, historicalArrearsFen: 200_000, arrearsRecoveredFen: 50_000 },
  { communityId: FALLBACK_OLD, chargeableHouseholds: 100, paidHouseholds: 45, receivableFen: 300_000, receivedFen: 150_000, historicalArrearsFen: 100_000, arrearsRecoveredFen: 0 },
  { communityId: YIJIANG, chargeableHouseholds: 1000, paidHouseholds: 900, receivableFen: 4_000_000, receivedFen: 3_320_000, historicalArrearsFen: 100_000, arrearsRecoveredFen: 100_000 },
];
const PERIOD = `${Y}-06`;
/** A yearly fee period (新海花园's upsert). */
const YEAR = String(Y);

const YUAN = 100; // fen per yuan
const projectIds: Record<string, string> = {};
const ticketIds: Record<string, string> = {};

async function createTicket(key: string, communityId: string, serviceCode: string, requestedAt: Date) {
  const r = await q(`mutation($input: CreateServiceTicketInput!) { createServiceTicket(input: $input) { id status } }`, {
    input: { clientKey: `ops-test-${key}`, communityId, channel: 'HOTLINE_12345', serviceCode, description: `ops test ${key}`, requestedAt: iso(requestedAt) },
  });
  ticketIds[key] = r.createServiceTicket.id;
}

async function moveTicket(key: string, start: Date, steps: [to: string, hoursAfterStart: number, extra?: Record<string, unknown>][]) {
  for (const [to, h, extra] of steps) {
    await q(`mutation($input: TransitionTicketInput!) { transitionTicket(input: $input) { status } }`, {
      input: { id: ticketIds[key], to, at: iso(new Date(start.getTime() + h * HOUR)), ...(extra ?? {}) },
    });
  }
}

beforeAll(async () => {
  stack = await startStack({
    seed: 'always',
    logLevel: 'silent',
    gatewayTuning: { subgraphTimeoutsMs: { properties: 15_000, governance: 15_000, elderly: 15_000, renovation: 15_000 } },
    beforeListen: async (conns) => {
      const m = registerPropertiesModels(conns.get('properties')!);
      await m.Community.insertMany([
        {
          _id: FALLBACK_OLD, name: '秦淮测试兜底老小区', cityCode: '320100', districtCode: '320104', builtYear: 1992, builtDecade: 1990,
          isOldCommunity: true, housingType: 'REFORM_HOUSING', managementMode: 'STREET_FALLBACK', householdCount: 100,
        },
        {
          _id: NONE_OLD, name: '栖霞测试无物业老小区', cityCode: '320100', districtCode: '320113', builtYear: 1988, builtDecade: 1980,
          isOldCommunity: true, housingType: 'REFORM_HOUSING', managementMode: 'NONE', householdCount: 60,
        },
        {
          _id: NONE_NEW, name: '栖霞测试无物业新小区', cityCode: '320100', districtCode: '320113', builtYear: 2008, builtDecade: 2000,
          isOldCommunity: false, housingType: 'COMMERCIAL', managementMode: 'NONE', householdCount: 300,
        },
      ]);
      // Written behind the write path (no mutation creates a 小区): rebuild the rollups as an import would.
      await rebuildPropertiesStats(conns.get('properties')!);
    },
  });

  // elderly
  await createRegister(DONGFANG_REGISTER);
  await createRegister(RUIJIN_REGISTER);

  // properties: fee periods and surveys
  for (const f of FEES) await q(`mutation($input: FeeCollectionInput!) { upsertFeeCollection(input: $input) { id } }`, { input: { ...f, period: PERIOD } });
  for (const [communityId, percent] of [[YIJIANG, 82], [FALLBACK_OLD, 70]] as const) {
    await q(`mutation($input: SatisfactionSurveyInput!) { recordSatisfactionSurvey(input: $input) { id } }`, {
      input: { clientKey: `ops-survey-${communityId}`, communityId, period: PERIOD, method: 'QUESTIONNAIRE', sampleSize: 100, percent },
    });
  }

  // governance: four tickets in 南京 in the last 30 days; three resolved (after 24 h, 48 h and 30 h;
  // two rated 满意 / 不满意), one open
  const t1 = new Date(T0 - 10 * DAY);
  const t2 = new Date(T0 - 6 * DAY);
  const t4 = new Date(T0 - 4 * DAY);
  await createTicket('T1', RUIJIN, 'ELEVATOR', t1);
  await createTicket('T2', YIJIANG, 'WASTE', t2);
  await createTicket('T3', RUIJIN, 'EBIKE_CHARGING', new Date(T0 - 2 * DAY));
  await createTicket('T4', YIJIANG, 'REPAIR', t4);
  await moveTicket('T1', t1, [
    ['DISPATCHED', 1, { assigneeOrg: '明商集团恒兆公司' }], ['IN_PROGRESS', 2], ['REPLIED', 20], ['RESOLVED', 24],
    ['RETURN_VISITED', 30], ['EVALUATED', 31, { satisfaction: 'SATISFIED' }],
  ]);
  await moveTicket('T2', t2, [
    ['DISPATCHED', 1, { assigneeOrg: '南京谐扬物业管理有限公司' }], ['IN_PROGRESS', 2], ['REPLIED', 40], ['RESOLVED', 48],
    ['RETURN_VISITED', 50], ['EVALUATED', 51, { satisfaction: 'DISSATISFIED' }],
  ]);
  await moveTicket('T4', t4, [['DISPATCHED', 1, { assigneeOrg: '南京谐扬物业管理有限公司' }], ['IN_PROGRESS', 2], ['REPLIED', 25], ['RESOLVED', 30]]);
  // and a joint meeting at 瑞金新村 on its three co-governed issues
  await q(`mutation($input: RecordJointMeetingInput!) { recordJointMeeting(input: $input) { id } }`, {
    input: {
      clientKey: 'ops-meeting-1', communityId: RUIJIN, heldAt: iso(daysAgo(15)), participantOrgTypes: ['NEIGHBORHOOD', 'PROPERTY_COMPANY', 'OWNERS_COMMITTEE'],
      topics: ['EV_CHARGING', 'SANITATION', 'CLUTTER'], resolutions: ['增设电动车充电桩'],
    },
  });

  // renovation: two projects of year Y in 南京 (秦淮区)
  const create = `mutation($input: CreateRenovationProjectInput!) { createRenovationProject(input: $input) { id status } }`;
  const p1 = await q(create, {
    input: {
      clientKey: 'ops-project-P1', name: `瑞金新村${Y}年综合改造`, cityCode: '320100', communities: [{ id: RUIJIN, districtCode: '320104' }],
      planYear: Y, sponsor: 'MIXED', scope: { buildings: 12, households: 400 },
      items: [
        { class: 'BASIC', itemType: 'PIPELINE', cost: { fen: 2_000_000 * YUAN } },
        { class: 'IMPROVEMENT', itemType: 'ELEVATOR', quantity: 4, unit: '部', cost: { fen: 6_000_000 * YUAN } },
      ],
      budget: { fen: 8_000_000 * YUAN },
      fundingSources: [
        { type: 'CENTRAL_SUBSIDY', amount: { fen: 3_000_000 * YUAN }, confirmed: true },
        { type: 'LOCAL_FISCAL', amount: { fen: 4_000_000 * YUAN }, confirmed: true },
        { type: 'RESIDENT_CONTRIBUTION', amount: { fen: 1_000_000 * YUAN }, confirmed: false },
      ],
      milestones: [
        { type: 'RESIDENT_CONSULTATION', plannedAt: inYear('03-01') },
        { type: 'DESIGN', plannedAt: inYear('04-01') },
        { type: 'START', plannedAt: inYear('06-01') },
        { type: 'COMPLETION', plannedAt: inYear('06-30', 5) },
      ],
    },
  });
  projectIds.P1 = p1.createRenovationProject.id;
  const p2 = await q(create, {
    input: {
      clientKey: 'ops-project-P2', name: `秦淮测试兜底老小区${Y}年基础类改造`, cityCode: '320100', communities: [{ id: FALLBACK_OLD, districtCode: '320104' }],
      planYear: Y, sponsor: 'GOVERNMENT', scope: { households: 100 },
      items: [
        { class: 'BASIC', itemType: 'ROOF_WATERPROOF', cost: { fen: 1_500_000 * YUAN } },
        { class: 'BASIC', itemType: 'STREETLIGHT', quantity: 12, unit: '盏', cost: { fen: 500_000 * YUAN } },
      ],
      budget: { fen: 2_000_000 * YUAN },
      fundingSources: [
        { type: 'LOCAL_FISCAL', amount: { fen: 1_500_000 * YUAN }, confirmed: true },
        { type: 'MAINTENANCE_FUND', amount: { fen: 500_000 * YUAN }, confirmed: false },
      ],
      milestones: [
        { type: 'RESIDENT_CONSULTATION', plannedAt: inYear('05-01') },
        { type: 'START', plannedAt: inYear('03-01', 5) },
      ],
    },
  });
  projectIds.P2 = p2.createRenovationProject.id;
  const milestone = `mutation($input: RecordMilestoneInput!) { recordMilestone(input: $input) { id status } }`;
  for (const [p, type, actualAt] of [
    ['P1', 'RESIDENT_CONSULTATION', inYear('02-20')], // 9 days early
    ['P1', 'DESIGN', inYear('05-10')], // 39 days late
    ['P1', 'START', inYear('06-15')], // 14 days late; the project is now under construction
    ['P2', 'RESIDENT_CONSULTATION', inYear('04-28')], // 3 days early
  ]) {
    await q(milestone, { input: { projectId: projectIds[p], type, actualAt } });
  }
  const spend = `mutation($input: RecordSpendInput!) { recordSpend(input: $input) { id } }`;
  for (const [p, fundingType, yuan, key] of [
    ['P1', 'CENTRAL_SUBSIDY', 1_200_000, 's1'],
    ['P1', 'CENTRAL_SUBSIDY', 1_200_000, 's1'], // a retry: counted once
    ['P1', 'LOCAL_FISCAL', 800_000, 's2'],
    ['P2', 'LOCAL_FISCAL', 300_000, 's3'],
  ] as const) {
    await q(spend, { input: { projectId: projectIds[p], fundingType, amount: { fen: yuan * YUAN }, at: iso(daysAgo(20)), clientKey: `ops-spend-${key}` } });
  }

  // renovation: the facility inventory of the extra 小区 (and a broken e-bike charger at 瑞金新村)
  const facility = `mutation($input: UpsertFacilityInput!) { upsertFacility(input: $input) { id } }`;
  for (const input of [
    { communityId: FALLBACK_OLD, districtCode: '320104', type: 'STREETLIGHT', quantity: 12, condition: 'BROKEN' },
    { communityId: FALLBACK_OLD, districtCode: '320104', type: 'ROAD_SURFACE', condition: 'BROKEN' },
    { communityId: FALLBACK_OLD, districtCode: '320104', type: 'WASTE_STATION', quantity: 2, condition: 'GOOD' },
    { communityId: NONE_OLD, districtCode: '320113', type: 'FITNESS_EQUIPMENT', condition: 'MISSING' },
    { communityId: NONE_OLD, districtCode: '320113', type: 'CHILDREN_PLAYGROUND', condition: 'MISSING' },
    { communityId: NONE_NEW, districtCode: '320113', type: 'STREETLIGHT', quantity: 3, condition: 'BROKEN' },
    { communityId: RUIJIN, districtCode: '320104', type: 'EBIKE_CHARGER', quantity: 2, condition: 'BROKEN' },
  ]) {
    await q(facility, { input });
  }
}, 240_000);

afterAll(async () => {
  await stack?.stop();
  pinned.restore();
  if (previousKeyDir === undefined) delete process.env.JWT_KEY_DIR;
  else process.env.JWT_KEY_DIR = previousKeyDir;
  rmSync(KEY_DIR, { recursive: true, force: true });
});

// ------------------------------------------------------------------------------------------------

describe('dashboard operations through the gateway', () => {
  it('CityOverview: 南京 and 连云港 show their 小区 counts, last June\'s fees and satisfaction, 30-day tickets, the elderly register and last year\'s renovation', async () => {
    // Op. 1 as written (plus clearanceRate and visitedLast30d), both cities in one request.
    const OVERVIEW = `fragment Overview on City { name communityCount oldCommunityCount propertyCoverageRate
      feeCollection(period: $period) { amountRate householdRate clearanceRate } satisfactionAvg(period: $period)
      ticketStats(range: LAST_30D) { opened resolved backlog medianHoursToResolve satisfiedRate }
      elderlyStats { registered livingAlone visitedLast30d monthlyVisitRate overdueVisits }
      renovationStats(year: $year) { projects byStatus { status count } budget { amount } spent { amount } } }
      query CityOverview($period: String!, $year: Int!) { nanjing: city(code: "320100") { ...Overview } lianyungang: city(code: "320700") { ...Overview } }`;
    const { nanjing, lianyungang } = await q(OVERVIEW, { period: PERIOD, year: Y });

    // properties: 瑞金新村, 怡江苑 and the three extra 小区; old = 瑞金新村 (1970s), 1992, 1988;
    // with a service arrangement: MARKET, CUSTODIAL_PUBLIC_WELFARE, STREET_FALLBACK = 3 of 5.
    expect(nanjing).toMatchObject({ name: '南京市', communityCount: 5, oldCommunityCount: 3 });
    expect(nanjing.propertyCoverageRate).toBeCloseTo(3 / 5, 10);
    // Y-06: households (380+45+900)/(400+100+1000); amount (1.14M+0.15M+3.32M)/(1.2M+0.3M+4M);
    // clearance (50k+0+100k)/((50k+0+100k)+(200k+100k+100k)).
    expect(nanjing.feeCollection.householdRate).toBeCloseTo(1325 / 1500, 10);
    expect(nanjing.feeCollection.amountRate).toBeCloseTo(4_610_000 / 5_500_000, 10);
    expect(nanjing.feeCollection.clearanceRate).toBeCloseTo(150_000 / 550_000, 10);
    expect(nanjing.satisfactionAvg).toBeCloseTo((82 + 70) / 2, 10);
    // governance: 4 opened, 3 resolved after 24 h, 30 h and 48 h (median 30), 1 open; two rated, 满意 and 不满意.
    // (An odd count on purpose: governance takes nearest-rank percentiles, so the "median" of an even
    // count is the lower middle value, e.g. 24 rather than 36 for 24 h and 48 h.)
    expect(nanjing.ticketStats).toEqual({ opened: 4, resolved: 3, backlog: 1, medianHoursToResolve: 30, satisfiedRate: 0.5 });
    // elderly: 瑞金新村's 5 residents living alone (visited count and overdue change with op. 6)
    // An anonymous caller gets complementary suppression (docs/access.md): 怡江苑's 0 registered and
    // the 0 not living alone are small cells, so 南京's totals that would reveal them are null too;
    // civil affairs (individual-level access) reads the exact figures.
    expect(nanjing.elderlyStats).toMatchObject({ registered: null, livingAlone: null });
    const exact = await q(`{ city(code: "320100") { elderlyStats { registered livingAlone } } }`, undefined, await civilAffairs());
    expect(exact.city.elderlyStats).toEqual({ registered: 5, livingAlone: 5 });
    // renovation in Y: P1 under construction (START recorded), P2 planned; 8M + 2M budget; 1.2M + 0.8M + 0.3M spent
    expect(nanjing.renovationStats).toEqual({
      projects: 2,
      byStatus: expect.arrayContaining([{ status: 'UNDER_CONSTRUCTION', count: 1 }, { status: 'PLANNED', count: 1 }]),
      budget: { amount: 10_000_000 }, spent: { amount: 2_300_000 },
    });
    expect(nanjing.renovationStats.byStatus).toHaveLength(2);

    // 连云港: the article's two 小区; only 新海花园 (1998) is known to be old; neither states a
    // management mode, but both have a current contract with a company, so both count as covered.
    expect(lianyungang).toMatchObject({ name: '连云港市', communityCount: 2, oldCommunityCount: 1, propertyCoverageRate: 1 });
    expect(lianyungang.feeCollection).toBeNull(); // no fee figures in Y-06
    expect(lianyungang.satisfactionAvg).toBeNull(); // no survey in Y-06
    expect(lianyungang.ticketStats).toMatchObject({ opened: 0, resolved: 0, backlog: 0, medianHoursToResolve: null, satisfiedRate: null });
    // 东方瑞园's register: 10 registered, 6 living alone, 5 visited in 30 days, 5 overdue
    // (anonymous: registered and the rate are suppressed with 新海花园's 0; civil affairs sees them)
    expect(lianyungang.elderlyStats).toEqual({ registered: null, livingAlone: 6, visitedLast30d: 5, monthlyVisitRate: null, overdueVisits: 5 });
    const exactLyg = await q(`{ city(code: "320700") { elderlyStats { registered livingAlone visitedLast30d monthlyVisitRate overdueVisits } } }`, undefined, await civilAffairs());
    expect(exactLyg.city.elderlyStats).toEqual({ registered: 10, livingAlone: 6, visitedLast30d: 5, monthlyVisitRate: 0.5, overdueVisits: 5 });
    // renovation: 新海花园's project is 2019, none in Y
    expect(lianyungang.renovationStats).toEqual({ projects: 0, byStatus: [], budget: { amount: 0 }, spent: { amount: 0 } });
  });

  it('DistrictFeeRanking: in last June 秦淮区 ranks first by amount rate but 栖霞区 first by household and clearance rate', async () => {
    const RANKING = `query DistrictFeeRanking($city: ID!, $period: String!, $by: FeeRateKind) {
      districtFeeRanking(cityCode: $city, period: $period, by: $by) { rank district { code name }
        feeCollection { communities chargeableHouseholds paidHouseholds receivableFen receivedFen amountRate householdRate clearanceRate } } }`;
    const byAmount = (await q(RANKING, { city: '320100', period: PERIOD, by: 'AMOUNT' })).districtFeeRanking;
    // 秦淮区 = 瑞金新村 + the 兜底 小区: amount 1,290,000/1,500,000 = 0.86, households 425/500 = 0.85,
    // clearance 50,000/(50,000+300,000) = 1/7. 栖霞区 = 怡江苑: 0.83, 0.90, 0.5.
    expect(byAmount.map((r: any) => [r.rank, r.district.name])).toEqual([[1, '秦淮区'], [2, '栖霞区']]);
    expect(byAmount[0].feeCollection).toMatchObject({ communities: 2, chargeableHouseholds: 500, paidHouseholds: 425, receivableFen: 1_500_000, receivedFen: 1_290_000 });
    expect(byAmount[0].feeCollection.amountRate).toBeCloseTo(0.86, 10);
    expect(byAmount[0].feeCollection.householdRate).toBeCloseTo(0.85, 10);
    expect(byAmount[0].feeCollection.clearanceRate).toBeCloseTo(1 / 7, 10);
    expect(byAmount[1].feeCollection).toMatchObject({ communities: 1, chargeableHouseholds: 1000, paidHouseholds: 900, receivableFen: 4_000_000, receivedFen: 3_320_000 });
    expect(byAmount[1].feeCollection.amountRate).toBeCloseTo(0.83, 10);
    expect(byAmount[1].feeCollection.householdRate).toBeCloseTo(0.9, 10);
    expect(byAmount[1].feeCollection.clearanceRate).toBeCloseTo(0.5, 10);

    const byHousehold = (await q(RANKING, { city: '320100', period: PERIOD, by: 'HOUSEHOLD' })).districtFeeRanking;
    expect(byHousehold.map((r: any) => [r.rank, r.district.code])).toEqual([[1, '320113'], [2, '320104']]);
    const byClearance = (await q(RANKING, { city: '320100', period: PERIOD, by: 'CLEARANCE' })).districtFeeRanking;
    expect(byClearance.map((r: any) => [r.rank, r.district.code])).toEqual([[1, '320113'], [2, '320104']]);
    // The default ranking is by amount; a period nobody reported ranks nobody.
    const byDefault = (await q(`{ districtFeeRanking(cityCode: "320100", period: "${PERIOD}") { rank district { code } } }`)).districtFeeRanking;
    expect(byDefault).toEqual([{ rank: 1, district: { code: '320104' } }, { rank: 2, district: { code: '320113' } }]);
    const empty = await q(`{ districtFeeRanking(cityCode: "320100", period: "${Y - 1}-01") { rank } }`);
    expect(empty.districtFeeRanking).toEqual([]);
  });

  it('CommunityProfile: 瑞金新村 joins the article facts, last June\'s fees, its 业委会 and joint meeting, 5 registered elders and last year\'s renovation', async () => {
    // Op. 3. Where the schema differs from the operation as written: latestSatisfaction.cityPercentile is
    // cityTopPercent (`cityPercentile` fails validation), fundingSources.amount is Money { amount }.
    const PROFILE = `query CommunityProfile($id: ID!) { community(id: $id) { name address builtYear builtDecade isOldCommunity housingType buildingCount residentCount
      servicePromise has24hServiceHotline commendationBannerCount commendationBannerCountApprox
      currentContract { company { name nature hasPartyOrganization parentGroup } selectionMethod startDate }
      feeHistory(last: 12) { period amountRate householdRate reportedRate reportedRateBasis }
      latestSatisfaction { percent isLowerBound cityTopPercent }
      committee { type termEnd lastDisclosureAt partyMemberRatio } partyAlliance { model members { orgType orgName } }
      partyOrganizations { kind }
      jointMeetings(range: LAST_90D) { heldAt topics } patrolTeams { name memberCount } designations { level year }
      elderlyStats { registered livingAlone } serviceProviders { type } mealPrograms { type name operator { name } }
      renovationProjects { planYear status budget { amount } fundingSources { type amount { amount } confirmed spent { amount } } }
      facilities(condition: [BROKEN, MISSING]) { type quantity condition } } }`;
    // A committee's party-member ratio is sensitive personal data (政治面貌): an anonymous dashboard
    // gets null and one UNAUTHENTICATED error for it; the rest of the profile is unaffected.
    const profile = await gql(stack.gatewayUrl, PROFILE, { id: RUIJIN });
    expect(profile.errors?.map((e) => [e.path?.join('.'), e.extensions?.code])).toEqual([['community.committee.partyMemberRatio', 'UNAUTHENTICATED']]);
    const c = profile.data!.community;
    expect(c.committee.partyMemberRatio).toBeNull();
    // properties: the article's facts — unknowns stay null
    expect(c).toMatchObject({
      name: '瑞金新村', address: null, builtYear: null, builtDecade: 1970, isOldCommunity: true, housingType: 'REFORM_HOUSING',
      buildingCount: null, residentCount: null, servicePromise: '先服务，后收费，不满意，不收费', commendationBannerCount: 20,
      commendationBannerCountApprox: true,
      currentContract: {
        company: { name: '明商集团恒兆公司', nature: 'GROUP_SUBSIDIARY', hasPartyOrganization: true, parentGroup: '明商集团' },
        selectionMethod: 'OWNERS_COMMITTEE_RECRUITMENT',
      },
      latestSatisfaction: { percent: 97, isLowerBound: true, cityTopPercent: null },
    });
    // fee history, newest first: our Y-06 figures (rates computed), then the press-reported 96% and 20%
    expect(c.feeHistory).toHaveLength(3);
    expect(c.feeHistory[0].period).toBe(PERIOD);
    expect(c.feeHistory[0].amountRate).toBeCloseTo(1_140_000 / 1_200_000, 10);
    expect(c.feeHistory[0].householdRate).toBeCloseTo(380 / 400, 10);
    expect(c.feeHistory.slice(1)).toEqual([
      { period: '2022', amountRate: null, householdRate: null, reportedRate: 0.96, reportedRateBasis: 'UNKNOWN' },
      { period: '2019', amountRate: null, householdRate: null, reportedRate: 0.2, reportedRateBasis: 'UNKNOWN' },
    ]);
    // governance: the 业委会 that recruited the company, the 物业党组织, our joint meeting, the 2022 designation
    expect(c.committee.type).toBe('OWNERS_COMMITTEE');
    expect(c.partyAlliance).toBeNull();
    expect(c.partyOrganizations).toEqual([{ kind: 'PROPERTY_COMPANY_PARTY_ORG' }]);
    expect(c.jointMeetings).toEqual([{ heldAt: iso(daysAgo(15)), topics: expect.arrayContaining(['EV_CHARGING', 'SANITATION', 'CLUTTER']) }]);
    expect(c.jointMeetings[0].topics).toHaveLength(3);
    expect(c.patrolTeams).toEqual([]);
    expect(c.designations).toEqual([{ level: 'NATIONAL_TYPICAL_CASE', year: 2022 }]);
    // elderly: 5 registered, all living alone (>= 5, so not suppressed); the three providers the company brought in
    // (anonymous: registered − living alone = 0 is a small cell, so registered is suppressed with it)
    expect(c.elderlyStats).toEqual({ registered: null, livingAlone: 5 });
    expect(c.serviceProviders.map((p: any) => p.type).sort()).toEqual(['HEALTH_CENTER', 'HOME_CARE_CENTER', 'NURSING_HOME']);
    expect(c.mealPrograms).toEqual([]);
    // renovation: newest plan year first — our year-Y project, then the 2019 renovation (budget unknown)
    expect(c.renovationProjects).toHaveLength(2);
    expect(c.renovationProjects[0]).toMatchObject({ planYear: Y, status: 'UNDER_CONSTRUCTION', budget: { amount: 8_000_000 } });
    expect(c.renovationProjects[0].fundingSources).toEqual(expect.arrayContaining([
      { type: 'CENTRAL_SUBSIDY', amount: { amount: 3_000_000 }, confirmed: true, spent: { amount: 1_200_000 } },
      { type: 'LOCAL_FISCAL', amount: { amount: 4_000_000 }, confirmed: true, spent: { amount: 800_000 } },
      { type: 'RESIDENT_CONTRIBUTION', amount: { amount: 1_000_000 }, confirmed: false, spent: { amount: 0 } },
    ]));
    expect(c.renovationProjects[0].fundingSources).toHaveLength(3);
    expect(c.renovationProjects[1]).toEqual({ planYear: 2019, status: 'COMPLETED', budget: null, fundingSources: [] });
    // only the broken e-bike chargers; the sweeper machine (condition unknown) is not a gap
    expect(c.facilities).toEqual([{ type: 'EBIKE_CHARGER', quantity: 2, condition: 'BROKEN' }]);
  });

  it('LivingAloneCoverage: 连云港 lists 东方瑞园 below the 100% monthly target at 50%, with 6 living alone and 5 overdue', async () => {
    // Op. 4 asks `districts(cityCode) { communities { … } }` filtered to monthlyVisitRate < 1.0.
    // District has no `communities` field in the schema; the elderly subgraph's visitCoverage (the
    // filter and sort computed by the database) is the closest query.
    // As civil affairs: for an anonymous caller 东方瑞园's rate is suppressed (complementary
    // suppression), so it is left out of the ranking (checked at the end).
    const COVERAGE = `query LivingAloneCoverage($city: ID!) { visitCoverage(cityCode: $city, below: 1.0) { totalCount edges { node {
      community { id name district { code } } elderlyStats { registered livingAlone visitedLast30d monthlyVisitRate overdueVisits highRisk keyRisk holidayVisitsLast12m monthlyVisitRateTarget } } } } }`;
    const res = await q(COVERAGE, { city: '320700' }, await civilAffairs());
    // 新海花园 has nobody registered: no rate, so it is not below the target.
    expect(res.visitCoverage.totalCount).toBe(1);
    expect(res.visitCoverage.edges.map((e: any) => e.node)).toEqual([{
      community: { id: DONGFANG, name: '东方瑞园', district: { code: '320706' } },
      elderlyStats: {
        registered: 10, livingAlone: 6, visitedLast30d: 5, monthlyVisitRate: 0.5, overdueVisits: 5,
        highRisk: 4, keyRisk: 2, holidayVisitsLast12m: 0, monthlyVisitRateTarget: 1,
      },
    }]);
    // A threshold below every rate leaves nothing.
    const none = await q(`{ visitCoverage(cityCode: "320700", below: 0.5) { totalCount edges { cursor } } }`, undefined, await civilAffairs());
    expect(none.visitCoverage).toEqual({ totalCount: 0, edges: [] });
    const anonymous = await q(COVERAGE, { city: '320700' });
    expect(anonymous.visitCoverage).toEqual({ totalCount: 0, edges: [] });
  });

  it('LivingAloneCoverage: a civil-affairs (民政) token sees the 1-4 person counts that anonymous callers get as null', async () => {
    // Individual-level access (subgraphs/elderly/README.md): a token whose role may read elderly
    // personal data everywhere (not row-limited), e.g. CIVIL_AFFAIRS (lib/auth/roles.ts).
    const token = await signLocalToken(loadConfig().auth, { role: 'CIVIL_AFFAIRS', ttl: '10m' });
    const COVERAGE = `{ visitCoverage(cityCode: "320700") { edges { node { community { name } elderlyStats { registered highRisk keyRisk difficulty } } } } }`;
    const authorized = await gql(stack.gatewayUrl, COVERAGE, undefined, { authorization: `Bearer ${token}` });
    expect(authorized.errors).toBeUndefined();
    // HIGH: A1, A2, A3 (80+/90+ living alone), B3 (80+ 空巢); KEY: A4 (失能), B4 (特困); difficulty flags: A4, B4
    expect(authorized.data!.visitCoverage.edges.map((e: any) => e.node)).toEqual([
      { community: { name: '东方瑞园' }, elderlyStats: { registered: 10, highRisk: 4, keyRisk: 2, difficulty: 2 } },
    ]);
    // Anonymous: the counts of 1-4 (and the figures that would reveal them) are suppressed, and a
    // 小区 whose rate is suppressed is not ranked at all.
    const anonymous = await q(COVERAGE);
    expect(anonymous.visitCoverage.edges).toEqual([]);
  });

  it('OverdueVisitsWorklist: 东方瑞园 lists its five overdue residents soonest first with their tiers and due dates', async () => {
    // Op. 5 also asks `name phone` for the assigned care team: the SDL has no PII fields yet
    // (they come with the authorization layer), so only the non-identifying fields are asked.
    const res = await q(`query OverdueVisitsWorklist($c: ID!, $before: DateTime) { elderlyDue(communityId: $c, before: $before) {
      id ageBand livingArrangement riskTier visitIntervalDays nextVisitDue lastVisitedAt } }`, { c: DONGFANG, before: iso(now()) }, await civil());
    const due = (key: string, fromDaysAgo: number, interval: number) => iso(new Date(T0 - fromDaysAgo * DAY + interval * DAY));
    expect(res.elderlyDue).toEqual([
      // A2: registered 99 days ago, HIGH; the NOT_HOME attempt yesterday is not contact
      { id: ids.A2, ageBand: 'AGE_80_89', livingArrangement: 'LIVING_ALONE', riskTier: 'HIGH', visitIntervalDays: 7, nextVisitDue: due('A2', 99, 7), lastVisitedAt: null },
      { id: ids.A3, ageBand: 'AGE_90_PLUS', livingArrangement: 'LIVING_ALONE', riskTier: 'HIGH', visitIntervalDays: 7, nextVisitDue: due('A3', 98, 7), lastVisitedAt: null },
      { id: ids.B3, ageBand: 'AGE_80_89', livingArrangement: 'EMPTY_NEST', riskTier: 'HIGH', visitIntervalDays: 7, nextVisitDue: due('B3', 97, 7), lastVisitedAt: null },
      // B4: 特困 → KEY, monthly
      { id: ids.B4, ageBand: 'AGE_60_69', livingArrangement: 'WITH_FAMILY', riskTier: 'KEY', visitIntervalDays: 30, nextVisitDue: due('B4', 96, 30), lastVisitedAt: null },
      // A6: GENERAL, visited 92 days ago → due 2 days ago
      { id: ids.A6, ageBand: 'AGE_70_79', livingArrangement: 'LIVING_ALONE', riskTier: 'GENERAL', visitIntervalDays: 90, nextVisitDue: due('A6', 92, 90), lastVisitedAt: iso(daysAgo(92)) },
    ]);
    // A cut-off 30 days ago keeps only those due before it.
    const earlier = await q(`{ elderlyDue(communityId: "${DONGFANG}", before: "${iso(daysAgo(30))}") { id } }`, undefined, await civil());
    expect(earlier.elderlyDue.map((r: any) => r.id)).toEqual([ids.A2, ids.A3, ids.B3, ids.B4]);
  });

  it('RecordHomeVisit: a holiday visit to an overdue HIGH-tier resident of 瑞金新村 moves the next due date 7 days on and takes them off the worklist', async () => {
    const before = await q(`{ elderlyDue(communityId: "${RUIJIN}") { id nextVisitDue } }`, undefined, await civil());
    expect(before.elderlyDue).toEqual([{ id: ids.R1, nextVisitDue: iso(new Date(registeredAt.R1.getTime() + 7 * DAY)) }]);

    const visitedAt = new Date(T0 - HOUR);
    const vars = { e: ids.R1, mode: 'IN_PERSON', occ: 'HOLIDAY', out: 'OK', at: iso(visitedAt), team: null, key: 'ops-holiday-visit-R1' };
    const rec = (await q(VISIT, vars)).recordHomeVisit;
    const expectedDue = iso(new Date(visitedAt.getTime() + 7 * DAY));
    expect(rec).toMatchObject({
      nextVisitDue: expectedDue,
      visit: { occasion: 'HOLIDAY', mode: 'IN_PERSON', visitedAt: iso(visitedAt), community: { name: '瑞金新村' } },
      elder: { id: ids.R1, lastVisitedAt: iso(visitedAt), nextVisitDue: expectedDue },
    });
    // A retry with the same client key returns the same visit and records nothing new.
    const retry = (await q(VISIT, vars)).recordHomeVisit;
    expect(retry.visit.id).toBe(rec.visit.id);
    const visits = await q(`{ homeVisits(filter: { elderId: "${ids.R1}" }) { edges { node { id occasion } } } }`, undefined, await civil());
    expect(visits.homeVisits.edges.map((e: any) => e.node)).toEqual([{ id: rec.visit.id, occasion: 'HOLIDAY' }]);

    const after = await q(`{ elderlyDue(communityId: "${RUIJIN}") { id } community(id: "${RUIJIN}") { elderlyStats { registered overdueVisits } } }`, undefined, await civil());
    expect(after.elderlyDue).toEqual([]);
    expect(after.community.elderlyStats).toEqual({ registered: 5, overdueVisits: 0 });
  });

  it('RenovationProgress: 南京’s projects of last year show their milestones, and only 瑞金新村’s is late (design 39 days, start 14 days)', async () => {
    // Op. 7 (`status milestones { type plannedAt actualAt } communities { name districtCode }`):
    // Community has no districtCode field; district { code } is asked instead.
    const res = await q(`query RenovationProgress($city: ID!, $year: Int) { renovationProjects(cityCode: $city, year: $year) {
      id name status late communities { name district { code } }
      milestones { type plannedAt actualAt done late daysLate } } }`, { city: '320100', year: Y });
    const byId = Object.fromEntries(res.renovationProjects.map((p: any) => [p.id, p]));
    expect(Object.keys(byId).sort()).toEqual([projectIds.P1, projectIds.P2].sort());
    const p1 = byId[projectIds.P1];
    expect(p1).toMatchObject({ name: `瑞金新村${Y}年综合改造`, status: 'UNDER_CONSTRUCTION', late: true, communities: [{ name: '瑞金新村', district: { code: '320104' } }] });
    const ms = Object.fromEntries(p1.milestones.map((m: any) => [m.type, m]));
    expect(ms.RESIDENT_CONSULTATION).toEqual({ type: 'RESIDENT_CONSULTATION', plannedAt: inYear('03-01'), actualAt: inYear('02-20'), done: true, late: false, daysLate: null });
    expect(ms.DESIGN).toEqual({ type: 'DESIGN', plannedAt: inYear('04-01'), actualAt: inYear('05-10'), done: true, late: true, daysLate: 39 });
    expect(ms.START).toEqual({ type: 'START', plannedAt: inYear('06-01'), actualAt: inYear('06-15'), done: true, late: true, daysLate: 14 });
    expect(ms.COMPLETION).toEqual({ type: 'COMPLETION', plannedAt: inYear('06-30', 5), actualAt: null, done: false, late: false, daysLate: null });
    const p2 = byId[projectIds.P2];
    expect(p2).toMatchObject({ status: 'PLANNED', late: false, communities: [{ name: '秦淮测试兜底老小区', district: { code: '320104' } }] });
    expect(p2.milestones.every((m: any) => m.late === false)).toBe(true);

    const late = await q(`{ renovationProjects(cityCode: "320100", year: ${Y}, lateOnly: true) { id } renovationStats(cityCode: "320100", year: ${Y}) { lateProjects } }`);
    expect(late.renovationProjects).toEqual([{ id: projectIds.P1 }]);
    expect(late.renovationStats.lateProjects).toBe(1);
    // 新海花园's 2019 project is the only one in 连云港 and is not in year Y.
    const lyg = await q(`{ renovationProjects(cityCode: "320700", year: ${Y}) { id } }`);
    expect(lyg.renovationProjects).toEqual([]);
  });

  it('RenovationSpendByFunding: 南京 last year commits 3M central, 5.5M local, 1M residents and 0.5M maintenance fund, spends 2.3M, 20,000 yuan per household', async () => {
    const res = await q(`query RenovationSpendByFunding($city: ID!, $year: Int) { renovationStats(cityCode: $city, year: $year) {
      projects households budget { amount } spent { amount } costPerHousehold { amount }
      byFundingSource { type committed { amount } confirmed { amount } spent { amount } }
      byItemClass { class items cost { amount } } } }`, { city: '320100', year: Y });
    const s = res.renovationStats;
    expect(s).toMatchObject({ projects: 2, households: 500, budget: { amount: 10_000_000 }, spent: { amount: 2_300_000 }, costPerHousehold: { amount: 20_000 } });
    const sortByType = <T extends { type?: string; class?: string }>(rows: T[]) => [...rows].sort((a, b) => String(a.type ?? a.class).localeCompare(String(b.type ?? b.class)));
    expect(sortByType(s.byFundingSource)).toEqual(sortByType([
      { type: 'CENTRAL_SUBSIDY', committed: { amount: 3_000_000 }, confirmed: { amount: 3_000_000 }, spent: { amount: 1_200_000 } }, // the retried spend counts once
      { type: 'LOCAL_FISCAL', committed: { amount: 5_500_000 }, confirmed: { amount: 5_500_000 }, spent: { amount: 1_100_000 } },
      { type: 'RESIDENT_CONTRIBUTION', committed: { amount: 1_000_000 }, confirmed: { amount: 0 }, spent: { amount: 0 } },
      { type: 'MAINTENANCE_FUND', committed: { amount: 500_000 }, confirmed: { amount: 0 }, spent: { amount: 0 } },
    ]));
    expect(sortByType(s.byItemClass)).toEqual(sortByType([
      { class: 'BASIC', items: 3, cost: { amount: 4_000_000 } },
      { class: 'IMPROVEMENT', items: 1, cost: { amount: 6_000_000 } },
    ]));
    // 连云港 all years: 新海花园's 2019 works, ¥3,000,000 from the property company (article), households unknown.
    const lyg = (await q(`{ renovationStats(cityCode: "320700") { projects byFundingSource { type committed { amount } spent { amount } } costPerHousehold { amount } } }`)).renovationStats;
    expect(lyg).toEqual({ projects: 1, byFundingSource: [{ type: 'PROPERTY_COMPANY', committed: { amount: 3_000_000 }, spent: { amount: 3_000_000 } }], costPerHousehold: null });
  });

  it('OldCommunitiesWithoutServiceOrFacilities: 南京 finds the old 兜底 and no-service 小区 with their broken and missing facilities, not the new one', async () => {
    const res = await q(`query OldCommunitiesWithoutServiceOrFacilities($city: ID!) {
      communities(filter: { cityCode: $city, isOldCommunity: true, managementMode: [NONE, STREET_FALLBACK] }) { totalCount edges { node {
        id name builtYear householdCount managementMode facilityGaps { type condition quantity } renovationSummary { latestProjectYear projects status } } } } }`,
    { city: '320100' });
    const rows = res.communities.edges.map((e: any) => e.node);
    const gaps = (r: any) => [...r.facilityGaps].sort((a: any, b: any) => a.type.localeCompare(b.type));
    expect(res.communities.totalCount).toBe(2);
    expect(rows.map((r: any) => r.id)).toEqual([FALLBACK_OLD, NONE_OLD]);
    expect(rows[0]).toMatchObject({ name: '秦淮测试兜底老小区', builtYear: 1992, householdCount: 100, managementMode: 'STREET_FALLBACK', renovationSummary: { latestProjectYear: Y, projects: 1, status: 'PLANNED' } });
    expect(gaps(rows[0])).toEqual([{ type: 'ROAD_SURFACE', condition: 'BROKEN', quantity: null }, { type: 'STREETLIGHT', condition: 'BROKEN', quantity: 12 }]);
    expect(rows[1]).toMatchObject({ name: '栖霞测试无物业老小区', builtYear: 1988, householdCount: 60, managementMode: 'NONE', renovationSummary: null });
    expect(gaps(rows[1])).toEqual([{ type: 'CHILDREN_PLAYGROUND', condition: 'MISSING', quantity: null }, { type: 'FITNESS_EQUIPMENT', condition: 'MISSING', quantity: null }]);
    // 连云港: 新海花园 is old but has a property company of unknown mode; nothing matches.
    const lyg = await q(`{ communities(filter: { cityCode: "320700", isOldCommunity: true, managementMode: [NONE, STREET_FALLBACK] }) { totalCount } }`);
    expect(lyg.communities.totalCount).toBe(0);
  });

  it('MealProgramReach: 连云港’s one programme is 东方瑞园’s 爱心餐桌 run by 杨辉物业, reaching a 小区 with 6 residents living alone', async () => {
    // The graph has no mutation that creates a meal programme, so only the article's one is asked.
    const res = await q(`query MealProgramReach($city: ID!) { mealPrograms(cityCode: $city) {
      type name venue operator { name nature } communitiesServed { name elderlyStats { livingAlone } } eligibility beneficiaryCount } }`, { city: '320700' });
    expect(res.mealPrograms).toEqual([{
      type: 'LOVE_TABLE', name: '温馨之家', venue: '“温馨之家”食堂', operator: { name: '江苏杨辉物业服务有限公司', nature: null },
      // 6 living alone (civil affairs sees it); suppressed for an anonymous caller with the 4 not living alone
      communitiesServed: [{ name: '东方瑞园', elderlyStats: { livingAlone: null } }], eligibility: ['LIVING_ALONE_DIFFICULTY'], beneficiaryCount: null,
    }]);
    const nanjing = await q(`{ mealPrograms(cityCode: "320100") { name } }`);
    expect(nanjing.mealPrograms).toEqual([]);
  });

  it('UpsertFeeCollectionPeriod: 新海花园’s figures for last year are stored with hand-computed rates, and a second upsert replaces them in place', async () => {
    const UPSERT = `mutation UpsertFeeCollectionPeriod($input: FeeCollectionInput!) { upsertFeeCollection(input: $input) {
      id period community { name } chargeableHouseholds paidHouseholds receivableFen receivedFen historicalArrearsFen arrearsRecoveredFen
      householdRate amountRate clearanceRate reportedRate reportedRateIsLowerBound } }`;
    const first = (await q(UPSERT, { input: {
      communityId: XINHAI, period: YEAR, chargeableHouseholds: 800, paidHouseholds: 712, receivableFen: 2_400_000, receivedFen: 2_160_000,
      historicalArrearsFen: 300_000, arrearsRecoveredFen: 60_000, source: 'ops test export',
    } })).upsertFeeCollection;
    expect(first).toMatchObject({ period: YEAR, community: { name: '新海花园' }, chargeableHouseholds: 800, paidHouseholds: 712, reportedRate: null, reportedRateIsLowerBound: false });
    expect(first.householdRate).toBeCloseTo(712 / 800, 10); // 0.89
    expect(first.amountRate).toBeCloseTo(2_160_000 / 2_400_000, 10); // 0.9
    expect(first.clearanceRate).toBeCloseTo(60_000 / 360_000, 10); // 1/6

    // The same 小区 and period again: same row, figures replaced; nothing chargeable → no household rate.
    const second = (await q(UPSERT, { input: {
      communityId: XINHAI, period: YEAR, chargeableHouseholds: 0, paidHouseholds: 0, receivableFen: 2_400_000, receivedFen: 2_280_000,
      historicalArrearsFen: 0, arrearsRecoveredFen: 0,
    } })).upsertFeeCollection;
    expect(second.id).toBe(first.id);
    expect(second).toMatchObject({ chargeableHouseholds: 0, paidHouseholds: 0, receivedFen: 2_280_000, householdRate: null, clearanceRate: null });
    expect(second.amountRate).toBeCloseTo(0.95, 10);

    const read = await q(`{ community(id: "${XINHAI}") { feeCollection(period: "${YEAR}") { id amountRate } feeHistory { period } }
      district(code: "320706") { feeCollection(period: "${YEAR}") { communities receivableFen receivedFen amountRate } } }`);
    expect(read.community.feeCollection.id).toBe(first.id);
    expect(read.community.feeCollection.amountRate).toBeCloseTo(0.95, 10);
    expect(read.community.feeHistory).toEqual([{ period: YEAR }]);
    expect(read.district.feeCollection).toMatchObject({ communities: 1, receivableFen: 2_400_000, receivedFen: 2_280_000 });

    // A bad rate input is refused naming the field, and nothing is written.
    const bad = await gql(stack.gatewayUrl, UPSERT, { input: { communityId: XINHAI, period: YEAR, chargeableHouseholds: 10, paidHouseholds: 11 } });
    expect(bad.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(bad.errors?.[0].message).toMatch(/paidHouseholds/);
    const unchanged = await q(`{ community(id: "${XINHAI}") { feeCollection(period: "${YEAR}") { chargeableHouseholds receivedFen } } }`);
    expect(unchanged.community.feeCollection).toEqual({ chargeableHouseholds: 0, receivedFen: 2_280_000 });
  });

  it('Open311 through the gateway: /open311/v2/services.json reaches governance and answers the GeoReport v2 catalogue; an unknown jurisdiction gets the standard error array', async () => {
    const base = stack.gatewayUrl.replace(/\/graphql$/, '');
    const ok = await fetch(`${base}/open311/v2/services.json?jurisdiction_id=nanjing`);
    expect(ok.status).toBe(200);
    const services = (await ok.json()) as { service_code: string; service_name: string; type: string }[];
    expect(services.length).toBeGreaterThan(3);
    expect(services.map((s) => s.service_code)).toContain('REPAIR');
    for (const s of services) expect(Object.keys(s)).toEqual(expect.arrayContaining(['service_code', 'service_name', 'type']));
    const bad = await fetch(`${base}/open311/v2/services.json?jurisdiction_id=atlantis`);
    expect(bad.status).toBeGreaterThanOrEqual(400);
    const errs = (await bad.json()) as { code: number; description: string }[];
    expect(errs[0]).toEqual({ code: bad.status, description: expect.any(String) });
  });
});
