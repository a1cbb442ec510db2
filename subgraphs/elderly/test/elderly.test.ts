import { readFileSync } from 'node:fs';
import { now } from '../../../lib/clock';
import { countCommands } from '../../../lib/db';
import { createLogger } from '../../../lib/logger';
import { SDL_PATH, createElderlyServer, subgraph } from '..';
import { gql, startSubgraph, startTestDatabase, type Engine, type RunningSubgraph } from '../../../test/helpers/subgraph';
import { registerModels } from '../models';
import { rebuildStats } from '../stats';
import { exposeElderlyStats, suppressCount } from '../services/privacy';
import { DEMO, DEMO_COMPANIES, DEMO_IDS } from '../seed';

let engine: Engine;
let sg: RunningSubgraph;

beforeAll(async () => {
  engine = await startTestDatabase();
  sg = await startSubgraph(subgraph, engine.uri, { monitorCommands: true });
});
afterAll(async () => {
  await sg?.close();
  await engine?.stop();
});

const ENTITIES = `query($r: [_Any!]!) { _entities(representations: $r) {
  ... on Community { id elderlyStats { registered livingAlone difficulty highRisk visitedLast30d monthlyVisitRate overdueVisits holidayVisitsLast12m }
    careTeams { id } mealPrograms { id } serviceProviders { id } }
  ... on City { code elderlyStats { registered monthlyVisitRate overdueVisits } }
  ... on District { code elderlyStats { registered livingAlone } }
  ... on CareTeam { id teamName: name communities { id } operatorType operatorCompany { uscc } memberCount keepsRegister holidayVisits practice }
  ... on MealProgram { id type name venue operator { uscc } communitiesServed { id } eligibility beneficiaryCount mealsPerDay }
  ... on ServiceProvider { id providerType: type providerName: name distanceM servesCommunities { id } broughtInBy broughtInByCompany { uscc } } } }`;

// An empty register: zeros are small counts too, suppressed for a caller without individual access.
const EMPTY_STATS = {
  registered: null, livingAlone: null, difficulty: null, highRisk: null, visitedLast30d: null, monthlyVisitRate: null, overdueVisits: null, holidayVisitsLast12m: null,
};

describe('elderly subgraph (phase 1: article facts and aggregates)', () => {
  it('serves its SDL file through _service { sdl }', async () => {
    const res = await gql(sg.url, '{ _service { sdl } }');
    expect(res.errors).toBeUndefined();
    const sdl: string = res.data!._service.sdl;
    expect(sdl).toMatch(/type Community\s+@key\(fields: "id"\)/);
    expect(sdl).toMatch(/type CareTeam\s+@key\(fields: "id"\)/);
    expect(sdl).toContain('elderlyStats: ElderlyStats!');
    expect(sdl).toMatch(/type PropertyCompany\s+@key\(fields: "uscc", resolvable: false\)/);
    // Every type of the SDL file is served.
    for (const [, name] of readFileSync(SDL_PATH, 'utf8').matchAll(/^(?:type|enum|input) (\w+)/gm)) expect(sdl).toMatch(new RegExp(`(type|enum|input) ${name}\\b`));
  });

  it('resolves Community entities with the article facts: 东方瑞园 care team and love table, 瑞金新村 providers, honest empty register', async () => {
    const res = await gql(sg.url, ENTITIES, {
      r: [{ __typename: 'Community', id: DEMO.dongfang }, { __typename: 'Community', id: DEMO.ruijin }, { __typename: 'Community', id: DEMO.yijiang }],
    });
    expect(res.errors).toBeUndefined();
    expect(res.data!._entities).toEqual([
      { id: DEMO.dongfang, elderlyStats: EMPTY_STATS, careTeams: [{ id: DEMO_IDS.dongfangTeam }], mealPrograms: [{ id: DEMO_IDS.dongfangLoveTable }], serviceProviders: [] },
      {
        id: DEMO.ruijin, elderlyStats: EMPTY_STATS, careTeams: [], mealPrograms: [],
        serviceProviders: [{ id: DEMO_IDS.ruijinHealthCenter }, { id: DEMO_IDS.ruijinHomeCareCenter }, { id: DEMO_IDS.ruijinNursingHome }],
      },
      { id: DEMO.yijiang, elderlyStats: EMPTY_STATS, careTeams: [], mealPrograms: [], serviceProviders: [] },
    ]);
  });

  it('resolves City and District entities with register aggregates (empty in the demo: zeros suppressed, rate null)', async () => {
    const res = await gql(sg.url, ENTITIES, { r: [{ __typename: 'City', code: '320700' }, { __typename: 'District', code: '320104' }] });
    expect(res.errors).toBeUndefined();
    expect(res.data!._entities).toEqual([
      { code: '320700', elderlyStats: { registered: null, monthlyVisitRate: null, overdueVisits: null } },
      { code: '320104', elderlyStats: { registered: null, livingAlone: null } },
    ]);
  });

  it('resolves CareTeam, MealProgram and ServiceProvider entities with the article facts (unknowns null), null for an unknown id', async () => {
    const res = await gql(sg.url, ENTITIES, {
      r: [
        { __typename: 'CareTeam', id: DEMO_IDS.dongfangTeam },
        { __typename: 'MealProgram', id: DEMO_IDS.dongfangLoveTable },
        { __typename: 'ServiceProvider', id: DEMO_IDS.ruijinNursingHome },
        { __typename: 'CareTeam', id: 'ct_nope' },
      ],
    });
    expect(res.errors).toBeUndefined();
    expect(res.data!._entities).toEqual([
      {
        id: DEMO_IDS.dongfangTeam, teamName: '东方瑞园居家养老服务队伍', communities: [{ id: DEMO.dongfang }], operatorType: null, operatorCompany: null,
        memberCount: null, keepsRegister: true, holidayVisits: true, practice: '为独居困难老年人建立台账；每逢节假日探视独居困难老人',
      },
      {
        id: DEMO_IDS.dongfangLoveTable, type: 'LOVE_TABLE', name: '温馨之家', venue: '“温馨之家”食堂', operator: { uscc: DEMO_COMPANIES.yanghui },
        communitiesServed: [{ id: DEMO.dongfang }], eligibility: ['LIVING_ALONE_DIFFICULTY'], beneficiaryCount: null, mealsPerDay: null,
      },
      {
        id: DEMO_IDS.ruijinNursingHome, providerType: 'NURSING_HOME', providerName: null, distanceM: null, servesCommunities: [{ id: DEMO.ruijin }],
        broughtInBy: '小区物业（明商集团恒兆公司）', broughtInByCompany: { uscc: DEMO_COMPANIES.hengzhao },
      },
      null,
    ]);
  });

  it('lists a city’s meal programmes and looks up a care team; a malformed city code is BAD_USER_INPUT naming cityCode', async () => {
    const res = await gql(sg.url, `{ lz: mealPrograms(cityCode: "320700") { name type } nj: mealPrograms(cityCode: "320100") { name } careTeam(id: "${DEMO_IDS.dongfangTeam}") { name } }`);
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({ lz: [{ name: '温馨之家', type: 'LOVE_TABLE' }], nj: [], careTeam: { name: '东方瑞园居家养老服务队伍' } });
    const bad = await gql(sg.url, `{ mealPrograms(cityCode: "lyg") { name } }`);
    expect(bad.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(bad.errors?.[0].message).toMatch(/^cityCode:/);
  });

  it('computes Community aggregates for many ids in one database command: 4 and 40 representations cost the same', async () => {
    const counter = countCommands(sg.conn);
    const read: string[] = [];
    sg.conn.getClient().on('commandStarted', (ev) => {
      if (ev.commandName !== 'aggregate') return;
      const pipeline = ev.command.pipeline as Record<string, { coll?: string }>[];
      read.push([ev.command.aggregate as string, ...pipeline.filter((st) => st.$unionWith).map((st) => st.$unionWith.coll)].sort().join(','));
    });
    const q = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Community { id elderlyStats { registered monthlyVisitRate overdueVisits }
      careTeams { id } mealPrograms { id } serviceProviders { id } } } }`;
    const reps = (n: number) => Array.from({ length: n }, (_, i) => ({ __typename: 'Community', id: i < 4 ? Object.values(DEMO)[i] : `cm_999999_${i}` }));
    counter.reset();
    const four = await gql(sg.url, q, { r: reps(4) });
    const fourCommands = counter.count;
    counter.reset();
    const forty = await gql(sg.url, q, { r: reps(40) });
    expect(four.errors).toBeUndefined();
    expect(forty.data!._entities).toHaveLength(40);
    // One command (lib/union-reader.ts): the statistics rollups (stats/) and the three lists, each a
    // branch of one aggregate (plus the residents' edge-day counts when a figure needs them).
    expect(fourCommands).toBe(1);
    expect(counter.count).toBe(fourCommands);
    expect(read).toHaveLength(2);
    for (const branches of read) expect(branches).toMatch(/^care_teams,(elderly_residents,)?elderly_stats_areas,meal_programs,service_providers$/);
  });

  it('seeding twice creates no duplicates', async () => {
    await subgraph.seed(sg.conn);
    const m = registerModels(sg.conn);
    expect(await m.CareTeam.countDocuments()).toBe(1);
    expect(await m.MealProgram.countDocuments()).toBe(1);
    expect(await m.ServiceProvider.countDocuments()).toBe(3);
    expect(await m.CommunityRef.countDocuments()).toBe(4);
    expect(await m.Resident.countDocuments()).toBe(0);
  });

  it('answers /health with the database status', async () => {
    const res = await fetch(sg.url.replace('/graphql', '/health'));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok', database: 'up', service: 'elderly' });
  });
});

describe('small-count suppression (k-anonymity, threshold 5)', () => {
  it('suppresses counts of 0-4 without individual access (zeros too) and keeps counts of 5 or more', () => {
    const none = { individualAccess: false };
    expect([0, 1, 4, 5, 12].map((n) => suppressCount(n, none))).toEqual([null, null, null, 5, 12]);
    expect([0, 1, 4].map((n) => suppressCount(n, { individualAccess: true }))).toEqual([0, 1, 4]);
  });

  it('suppresses a rate whose numerator or denominator is suppressed, and gives null for an empty register', () => {
    const raw = { registered: 10, livingAlone: 3, difficulty: 0, highRisk: 5, keyRisk: 2, visitedLast30d: 3, overdueVisits: 7 };
    expect(exposeElderlyStats(raw, { individualAccess: false })).toEqual({
      registered: 10, livingAlone: null, difficulty: null, highRisk: 5, keyRisk: null, visitedLast30d: null, monthlyVisitRate: null, overdueVisits: 7,
    });
    expect(exposeElderlyStats(raw, { individualAccess: true }).monthlyVisitRate).toBeCloseTo(0.3);
    expect(exposeElderlyStats({ ...raw, registered: 0, livingAlone: 0, highRisk: 0, keyRisk: 0, visitedLast30d: 0, overdueVisits: 0 }, { individualAccess: false }).monthlyVisitRate).toBeNull();
  });

  it('applies the rule to database aggregates according to the context flag', async () => {
    const m = registerModels(sg.conn);
    const base = { communityId: 'cm_320706_0099', districtCode: '320706', cityCode: '320700', ageBand: 'AGE_80_89', livingArrangement: 'LIVING_ALONE',
      derivedRiskTier: 'HIGH', riskTier: 'HIGH', visitIntervalDays: 7, registeredAt: now(), synthetic: true };
    await m.Resident.insertMany([1, 2, 3].map((i) => ({ ...base, _id: `el_test_${i}` })));
    await rebuildStats(sg.conn); // rows written behind the write path: rebuild the rollups
    const q = `{ _entities(representations: [{ __typename: "Community", id: "cm_320706_0099" }]) { ... on Community { elderlyStats { registered livingAlone highRisk } } } }`;
    const restricted = await gql(sg.url, q);
    expect(restricted.data!._entities[0].elderlyStats).toEqual({ registered: null, livingAlone: null, highRisk: null });

    const server = await createElderlyServer(sg.conn, createLogger('elderly', 'silent'), { individualAccess: () => true });
    const running = await server.listen(0);
    try {
      const open = await gql(running.url, q);
      expect(open.data!._entities[0].elderlyStats).toEqual({ registered: 3, livingAlone: 3, highRisk: 3 });
    } finally {
      await running.close();
      await m.Resident.deleteMany({ _id: { $in: ['el_test_1', 'el_test_2', 'el_test_3'] } });
      await rebuildStats(sg.conn);
    }
  });
});
