import { readFileSync } from 'node:fs';
import { SDL_PATH, subgraph } from '..';
import { gql, startSubgraph, startTestDatabase, type Engine, type RunningSubgraph } from '../../../test/helpers/subgraph';
import { authHeader } from '../../../test/helpers/tokens';
import { DEMO, DEMO_COMPANIES } from '../seed';

let engine: Engine;
let sg: RunningSubgraph;

beforeAll(async () => {
  engine = await startTestDatabase();
  sg = await startSubgraph(subgraph, engine.uri);
});
afterAll(async () => {
  await sg?.close();
  await engine?.stop();
});

describe('properties subgraph', () => {
  it('serves its SDL file through _service { sdl }', async () => {
    const res = await gql(sg.url, '{ _service { sdl } }');
    expect(res.errors).toBeUndefined();
    const sdl: string = res.data!._service.sdl;
    expect(sdl).toMatch(/type Community\s+@key\(fields: "id"\)/);
    expect(sdl).toMatch(/type PropertyCompany\s+@key\(fields: "uscc"\)/);
    // The served SDL is the SDL file's: every type the file declares is served.
    for (const [, name] of readFileSync(SDL_PATH, 'utf8').matchAll(/^type (\w+)/gm)) expect(sdl).toMatch(new RegExp(`type ${name}\\b`));
  });

  it('resolves Community entities in request order, with null for an unknown id', async () => {
    const res = await gql(
      sg.url,
      `query($r: [_Any!]!) { _entities(representations: $r) { ... on Community { id name buildingCount residentCount residentCountApprox isOldCommunity } } }`,
      { r: [{ __typename: 'Community', id: DEMO.yijiang }, { __typename: 'Community', id: 'cm_nope' }, { __typename: 'Community', id: DEMO.ruijin }] },
    );
    expect(res.errors).toBeUndefined();
    expect(res.data!._entities).toEqual([
      { id: DEMO.yijiang, name: '怡江苑', buildingCount: 32, residentCount: 3500, residentCountApprox: true, isOldCommunity: false },
      null,
      { id: DEMO.ruijin, name: '瑞金新村', buildingCount: null, residentCount: null, residentCountApprox: false, isOldCommunity: true },
    ]);
  });

  it('places the article\'s four 小区 at their approximate WGS84 locations, in their own cities', async () => {
    const res = await gql(sg.url, `{ communities(first: 10) { edges { node { id location { lat lng datum } } } } }`);
    expect(res.errors).toBeUndefined();
    const byId = Object.fromEntries(res.data!.communities.edges.map((e: any) => [e.node.id, e.node]));
    expect(byId[DEMO.ruijin].location).toEqual({ lat: 32.0372, lng: 118.8175, datum: 'WGS84' });
    expect(byId[DEMO.yijiang].location).toEqual({ lat: 32.124, lng: 118.8305, datum: 'WGS84' });
    // 南京 (about 31.2-32.6 N) and 连云港 (about 34-35 N): the points are in the right city
    for (const id of [DEMO.dongfang, DEMO.xinhai]) {
      expect(byId[id].location.datum).toBe('WGS84');
      expect(byId[id].location.lat).toBeGreaterThan(34);
      expect(byId[id].location.lat).toBeLessThan(35.1);
    }
  });

  it('resolves City, District, Street and Neighborhood entities by code', async () => {
    const res = await gql(
      sg.url,
      `query($r: [_Any!]!) { _entities(representations: $r) {
        ... on City { code name campaignPilotYear communityCount oldCommunityCount }
        ... on District { code name communityCount }
        ... on Street { code name codeVerified }
        ... on Neighborhood { code name communities { name } } } }`,
      {
        r: [
          { __typename: 'City', code: '320100' },
          { __typename: 'District', code: '320706' },
          { __typename: 'Street', code: '320113900' },
          { __typename: 'Neighborhood', code: '320113900001' },
        ],
      },
    );
    expect(res.errors).toBeUndefined();
    expect(res.data!._entities).toEqual([
      { code: '320100', name: '南京市', campaignPilotYear: 2021, communityCount: 2, oldCommunityCount: 1 },
      { code: '320706', name: '海州区', communityCount: 2 },
      { code: '320113900', name: '龙潭街道', codeVerified: false },
      { code: '320113900001', name: '江畔人家社区', communities: [{ name: '怡江苑' }] },
    ]);
  });

  it('resolves PropertyCompany and Building entities', async () => {
    const res = await gql(
      sg.url,
      `query($r: [_Any!]!) { _entities(representations: $r) {
        ... on PropertyCompany { uscc name nature usccVerified communities { name } }
        ... on Building { id } } }`,
      { r: [{ __typename: 'PropertyCompany', uscc: DEMO_COMPANIES.xieyang }, { __typename: 'Building', id: 'b_none' }] },
    );
    expect(res.errors).toBeUndefined();
    expect(res.data!._entities).toEqual([
      { uscc: DEMO_COMPANIES.xieyang, name: '南京谐扬物业管理有限公司', nature: 'PUBLIC_WELFARE', usccVerified: false, communities: [{ name: '怡江苑' }] },
      null,
    ]);
  });

  it('keeps press-reported fee rates apart from computed rates, which stay null without raw figures', async () => {
    const res = await gql(sg.url, `query($id: ID!) { community(id: $id) { feeHistory { period amountRate householdRate reportedRate reportedRateBasis } } }`, {
      id: DEMO.ruijin,
    });
    expect(res.data!.community.feeHistory).toEqual([
      { period: '2022', amountRate: null, householdRate: null, reportedRate: 0.96, reportedRateBasis: 'UNKNOWN' },
      { period: '2019', amountRate: null, householdRate: null, reportedRate: 0.2, reportedRateBasis: 'UNKNOWN' },
    ]);
  });

  it('rejects a malformed period with BAD_USER_INPUT naming the argument', async () => {
    const res = await gql(sg.url, `{ city(code: "320100") { feeCollection(period: "last year") { amountRate } } }`);
    expect(res.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0].message).toMatch(/^period:/);
  });

  it('pages through communities with a cursor', async () => {
    const first = await gql(sg.url, `{ communities(first: 3) { totalCount edges { node { id } } pageInfo { hasNextPage endCursor } } }`);
    const page1 = first.data!.communities;
    expect(page1.totalCount).toBe(4);
    expect(page1.edges).toHaveLength(3);
    expect(page1.pageInfo.hasNextPage).toBe(true);
    const next = await gql(sg.url, `query($a: String) { communities(first: 3, after: $a) { edges { node { id } } pageInfo { hasNextPage } } }`, {
      a: page1.pageInfo.endCursor,
    });
    expect(next.data!.communities.edges.map((e: any) => e.node.id)).toEqual([DEMO.xinhai]);
    expect(next.data!.communities.pageInfo.hasNextPage).toBe(false);
  });

  it('seeding twice creates no duplicates', async () => {
    await subgraph.seed(sg.conn);
    const res = await gql(sg.url, `{ communities { totalCount } cities { code } }`);
    expect(res.errors).toBeUndefined();
    expect(res.data!.communities.totalCount).toBe(4);
    expect(res.data!.cities).toHaveLength(2);
  });

  it('answers /health with the database status', async () => {
    const res = await fetch(sg.url.replace('/graphql', '/health'));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok', database: 'up', service: 'properties' });
  });
});

describe('a company’s managers by name are personal data', () => {
  const q = `{ propertyCompany(uscc: "${DEMO_COMPANIES.yingbin}") { uscc name generalManager legalRepresentative } }`;

  it('an anonymous caller gets the company but null with UNAUTHENTICATED for its general manager and legal representative', async () => {
    const res = await gql(sg.url, q);
    expect(res.data!.propertyCompany).toEqual({ uscc: DEMO_COMPANIES.yingbin, name: '江苏迎宾物业管理有限公司', generalManager: null, legalRepresentative: null });
    expect(res.errors?.map((e) => [e.path?.join('.'), e.extensions?.code]).sort()).toEqual([
      ['propertyCompany.generalManager', 'UNAUTHENTICATED'], ['propertyCompany.legalRepresentative', 'UNAUTHENTICATED'],
    ]);
    expect(JSON.stringify(res)).not.toContain('徐迎兵');
  });

  it('the housing bureau and the company itself read them; another company and street staff are refused', async () => {
    for (const headers of [await authHeader('HOUSING_BUREAU'), await authHeader('PROPERTY_COMPANY', { company: DEMO_COMPANIES.yingbin })]) {
      const res = await gql(sg.url, q, undefined, headers);
      expect([res.errors, res.data!.propertyCompany.generalManager]).toEqual([undefined, '徐迎兵']);
    }
    for (const headers of [await authHeader('PROPERTY_COMPANY', { company: DEMO_COMPANIES.hengzhao }), await authHeader('STREET_STAFF', { district: '320706' })]) {
      const res = await gql(sg.url, q, undefined, headers);
      expect(res.data!.propertyCompany.generalManager).toBeNull();
      expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN', 'FORBIDDEN']);
    }
  });
});
