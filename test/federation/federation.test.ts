/**
 * The federated graph end to end: four subgraphs on the embedded engine, a real gateway on port 0,
 * queries joining every bureau's data.
 */
import { countCommands } from '../../lib/db';
import { startStack, type RunningStack } from '../../scripts/stack';
import { seedSyntheticProperties } from '../../subgraphs/properties/seed-synthetic';
import { generateCity } from '../../scripts/synthetic/city';
import { adminHeader, gql } from '../helpers/subgraph';

let stack: RunningStack;
const counters = new Map<string, ReturnType<typeof countCommands>>();

beforeAll(async () => {
  stack = await startStack({
    seed: 'always',
    logLevel: 'silent',
    monitorCommands: true,
    // Correctness, not latency, is under test here: a loaded CI machine must not trip timeouts.
    gatewayTuning: { subgraphTimeoutsMs: { properties: 15_000, governance: 15_000, elderly: 15_000, renovation: 15_000 } },
    // 400 synthetic 小区 in properties only: the other subgraphs answer for any id.
    beforeListen: async (conns) => {
      await seedSyntheticProperties(conns.get('properties')!, generateCity(400, 3), 3, 1);
    },
  });
  for (const s of stack.subgraphs) counters.set(s.name, countCommands(s.conn));
}, 120_000);
afterAll(async () => {
  await stack?.stop();
});

const PROFILE = `query CommunityProfile($id: ID!) {
  community(id: $id) {
    name builtYear isOldCommunity housingType buildingCount residentCount residentCountApprox managementMode
    currentContract { company { name nature } }
    feeCollection { period reportedRate reportedRateIsLowerBound }
    committee { type roles { role affiliation } }
    partyAlliance { model members { orgType } }
    patrolTeams { name memberCount }
    designations { level year }
    elderlyStats { registered }
    mealPrograms { type name }
    renovationProjects { planYear }
    facilities { type condition }
  }
}`;

describe('federated graph through the gateway', () => {
  it('answers the 怡江苑 community profile with facts from all four subgraphs', async () => {
    const res = await gql(stack.gatewayUrl, PROFILE, { id: 'cm_320113_0001' });
    expect(res.errors).toBeUndefined();
    const c = res.data!.community;
    // properties (the article's facts)
    expect(c).toMatchObject({
      name: '怡江苑', builtYear: 2012, isOldCommunity: false, housingType: 'RESETTLEMENT', buildingCount: 32,
      residentCount: 3500, residentCountApprox: true, managementMode: 'CUSTODIAL_PUBLIC_WELFARE',
      currentContract: { company: { name: '南京谐扬物业管理有限公司', nature: 'PUBLIC_WELFARE' } },
      feeCollection: { period: '2022', reportedRate: 0.96, reportedRateIsLowerBound: true },
    });
    // governance: the 物管会 chaired by a community cadre, the five-party alliance, the 找茬队
    expect(c.committee.type).toBe('PROPERTY_MANAGEMENT_COMMITTEE');
    expect(c.committee.roles).toEqual(
      expect.arrayContaining([
        { role: 'DIRECTOR', affiliation: 'COMMUNITY_CADRE' },
        { role: 'DEPUTY_DIRECTOR', affiliation: 'COMMUNITY_POLICE' },
      ]),
    );
    expect(c.partyAlliance.model).toBe('RED_PROPERTY');
    expect(c.partyAlliance.members.map((m: any) => m.orgType).sort()).toEqual(['DEVELOPER', 'NEIGHBORHOOD', 'POLICE', 'SOCIAL_ORG', 'STREET']);
    expect(c.patrolTeams).toEqual([expect.objectContaining({ memberCount: 12 })]);
    expect(c.designations).toEqual([{ level: 'NATIONAL_TYPICAL_CASE', year: 2022 }]);
    // elderly and renovation: the article states none for this 小区, and the graph says so
    expect(c.elderlyStats).toBeDefined();
    expect(c.mealPrograms).toEqual([]);
    expect(c.renovationProjects).toEqual([]);
    expect(c.facilities).toEqual([]);
  });

  it('joins the other article 小区 across bureaus: 东方瑞园 meals and 新海花园 renovation', async () => {
    const res = await gql(
      stack.gatewayUrl,
      `{ dongfang: community(id: "cm_320706_0001") { name mealPrograms { type name } careTeams { name } latestSatisfaction { cityTopPercent } }
         xinhai: community(id: "cm_320706_0002") { name builtYear renovationProjects { planYear sponsor budget { amount } } latestSatisfaction { percent } } }`,
    );
    expect(res.errors).toBeUndefined();
    expect(res.data!.dongfang.mealPrograms).toEqual([expect.objectContaining({ type: 'LOVE_TABLE' })]);
    expect(res.data!.dongfang.mealPrograms[0].name).toContain('温馨之家');
    expect(res.data!.dongfang.latestSatisfaction.cityTopPercent).toBe(5);
    expect(res.data!.xinhai).toMatchObject({ name: '新海花园', builtYear: 1998, latestSatisfaction: { percent: 96 } });
    expect(res.data!.xinhai.renovationProjects).toEqual([{ planYear: 2019, sponsor: 'PROPERTY_COMPANY', budget: { amount: 3_000_000 } }]);
  });

  it('answers the 南京 city overview with aggregates from all four subgraphs', async () => {
    const res = await gql(
      stack.gatewayUrl,
      `{ city(code: "320100") { name campaignPilotYear communityCount oldCommunityCount
          committeeStats { withOwnersCommittee withPMC }
          elderlyStats { registered }
          renovationStats { projects } } }`,
    );
    expect(res.errors).toBeUndefined();
    const city = res.data!.city;
    expect(city.name).toBe('南京市');
    expect(city.campaignPilotYear).toBe(2021);
    expect(city.communityCount).toBeGreaterThanOrEqual(2);
    expect(city.committeeStats.withPMC).toBeGreaterThanOrEqual(1); // 怡江苑's 物管会
    expect(city.elderlyStats).toHaveProperty('registered');
    expect(city.renovationStats.projects).toBeGreaterThanOrEqual(1); // 瑞金新村's 2019 renovation
  });

  it('costs the same database round trips per subgraph for 4 or 400 小区 (no N+1)', async () => {
    const LIST = `query($n: Int) { communities(first: $n) { edges { node {
      name currentContract { company { name } }
      committee { type } patrolTeams { name } jointMeetingsLast3m
      elderlyStats { registered } careTeams { name }
      renovationSummary { projects } facilityGaps { type } } } } }`;
    const measure = async (n: number) => {
      for (const c of counters.values()) c.reset();
      // As a bureau dashboard with a token: 400 小区 in one request is more than an anonymous
      // caller's fair-use cost budget (docs/access.md, "Fair use").
      const res = await gql(stack.gatewayUrl, LIST, { n }, await adminHeader());
      expect(res.errors).toBeUndefined();
      expect(res.data!.communities.edges).toHaveLength(n);
      return Object.fromEntries([...counters].map(([name, c]) => [name, c.count]));
    };
    const four = await measure(4);
    const many = await measure(400);
    expect(many).toEqual(four);
    for (const n of Object.values(four)) expect(n).toBeGreaterThan(0);
  });

  it('serves a repeated city overview from the gateway cache (every subgraph hinted it), a 小区 profile never', async () => {
    const dbCommands = () => [...counters.values()].reduce((n, c) => n + c.count, 0);
    const OVERVIEW = '{ city(code: "320100") { name communityCount feeCollection { amountRate } committeeStats { withPMC } elderlyStats { registered } renovationStats { projects byStatus { status count } budget { amount } } } }';
    const first = await gql(stack.gatewayUrl, OVERVIEW);
    expect(first.errors).toBeUndefined();
    for (const c of counters.values()) c.reset();
    const again = await gql(stack.gatewayUrl, OVERVIEW);
    expect(again.data).toEqual(first.data);
    expect(dbCommands()).toBe(0); // answered by the gateway's response cache
    const PROFILE_SHORT = '{ community(id: "cm_320113_0001") { name committee { type } } }';
    await gql(stack.gatewayUrl, PROFILE_SHORT);
    for (const c of counters.values()) c.reset();
    await gql(stack.gatewayUrl, PROFILE_SHORT);
    expect(dbCommands()).toBeGreaterThan(0); // no hints on 小区 data: fetched every time
  });

  it('reports health on the gateway and on every subgraph, database included', async () => {
    const gw = await fetch(stack.gatewayUrl.replace('/graphql', '/health'));
    expect(gw.status).toBe(200);
    for (const s of stack.subgraphs) {
      const res = await fetch(s.url.replace('/graphql', '/health'));
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ database: 'up' });
    }
  });
});
