import { readFileSync } from 'node:fs';
import { SDL_PATH, subgraph } from '..';
import { countCommands } from '../../../lib/db';
import { authHeader } from '../../../test/helpers/tokens';
import { gql, startSubgraph, startTestDatabase, type Engine, type RunningSubgraph } from '../../../test/helpers/subgraph';
import { DEMO, DEMO_PROJECTS } from '../seed';

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

const yuan = (fen: number, approx = false) => ({ fen, amount: fen / 100, currency: 'CNY', approx });

describe('renovation subgraph: schema and entities', () => {
  it('serves its SDL file through _service { sdl }', async () => {
    const res = await gql(sg.url, '{ _service { sdl } }');
    expect(res.errors).toBeUndefined();
    const sdl: string = res.data!._service.sdl;
    expect(sdl).toMatch(/type RenovationProject\s+@key\(fields: "id"\)/);
    expect(sdl).toMatch(/type Community\s+@key\(fields: "id"\)/);
    expect(sdl).toMatch(/type City\s+@key\(fields: "code"\)/);
    expect(sdl).toContain('costPerHousehold: Money');
    expect(readFileSync(SDL_PATH, 'utf8')).toContain('type Money @tag(name: "public")');
  });

  it('resolves RenovationProject entities with the article facts (新海花园 2019, ¥3,000,000 from the property company)', async () => {
    const res = await gql(
      sg.url,
      `query($r: [_Any!]!) { _entities(representations: $r) { ... on RenovationProject {
        id planYear sponsor status sponsorCompany { uscc } communities { id } cityCode districtCodes
        budget { fen amount currency approx } spendToDate { fen }
        fundingSources { type amount { fen amount } confirmed spent { fen } }
        items { class itemType quantity cost { fen } }
        milestones { type plannedAt actualAt done late } acceptance { result } contractor { name } } } }`,
      {
        r: [
          { __typename: 'RenovationProject', id: DEMO_PROJECTS.xinhai2019 },
          { __typename: 'RenovationProject', id: 'rp_nope' },
          { __typename: 'RenovationProject', id: DEMO_PROJECTS.ruijin2019 },
        ],
      },
    );
    expect(res.errors).toBeUndefined();
    const [xinhai, missing, ruijin] = res.data!._entities;
    expect(missing).toBeNull();
    expect(xinhai).toEqual({
      id: DEMO_PROJECTS.xinhai2019,
      planYear: 2019,
      sponsor: 'PROPERTY_COMPANY',
      status: 'COMPLETED',
      sponsorCompany: { uscc: 'PLACEHOLDER0000004' },
      communities: [{ id: DEMO.xinhai }],
      cityCode: '320700',
      districtCodes: ['320706'],
      budget: yuan(300_000_000),
      spendToDate: { fen: 300_000_000 },
      fundingSources: [{ type: 'PROPERTY_COMPANY', amount: { fen: 300_000_000, amount: 3_000_000 }, confirmed: true, spent: { fen: 300_000_000 } }],
      items: ['RUBBER_TRACK', 'BASKETBALL_COURT', 'FITNESS_EQUIPMENT', 'CHILDREN_PLAYGROUND'].map((itemType) => ({
        class: 'IMPROVEMENT',
        itemType,
        quantity: null,
        cost: null,
      })),
      milestones: [
        { type: 'START', plannedAt: null, actualAt: null, done: true, late: false },
        { type: 'COMPLETION', plannedAt: null, actualAt: null, done: true, late: false },
      ],
      acceptance: null,
      contractor: null,
    });
    // 瑞金新村: renovated in 2019; sponsor and budget are not reported and stay null.
    expect(ruijin).toMatchObject({ planYear: 2019, status: 'COMPLETED', sponsor: null, budget: null, spendToDate: null, fundingSources: [], items: [] });
  });

  it('resolves Community entities with projects, summary, facilities and gaps', async () => {
    const res = await gql(
      sg.url,
      `query($r: [_Any!]!) { _entities(representations: $r) { ... on Community { id
        renovationProjects { id planYear }
        renovationSummary { projects status latestProjectYear totalBudget { fen } projectsWithBudget spent { fen } }
        facilities { type condition conditionBefore history { condition beforeYear note } installedYear sourceProject { id } cost { fen approx } maintainer { uscc } }
        good: facilities(condition: [GOOD]) { type }
        facilityGaps { type } } } }`,
      {
        r: [DEMO.xinhai, DEMO.ruijin, DEMO.dongfang, DEMO.yijiang].map((id) => ({ __typename: 'Community', id })),
      },
      // Condition notes are free text (personal data, docs/access.md): the renovation office reads them.
      await authHeader('RENOVATION_OFFICE'),
    );
    expect(res.errors).toBeUndefined();
    const [xinhai, ruijin, dongfang, yijiang] = res.data!._entities;
    expect(xinhai.renovationProjects).toEqual([{ id: DEMO_PROJECTS.xinhai2019, planYear: 2019 }]);
    expect(xinhai.renovationSummary).toEqual({
      projects: 1,
      status: 'COMPLETED',
      latestProjectYear: 2019,
      totalBudget: { fen: 300_000_000 },
      projectsWithBudget: 1,
      spent: { fen: 300_000_000 },
    });
    const byType = Object.fromEntries(xinhai.facilities.map((f: any) => [f.type, f]));
    expect(Object.keys(byType).sort()).toEqual(['BASKETBALL_COURT', 'CHILDREN_PLAYGROUND', 'FITNESS_EQUIPMENT', 'ROAD_SURFACE', 'RUBBER_TRACK', 'STREETLIGHT']);
    expect(byType.RUBBER_TRACK).toEqual({
      type: 'RUBBER_TRACK',
      condition: 'GOOD',
      conditionBefore: 'MISSING',
      history: [{ condition: 'MISSING', beforeYear: 2019, note: '缺娱乐健身设施' }],
      installedYear: 2019,
      sourceProject: { id: DEMO_PROJECTS.xinhai2019 },
      cost: null,
      maintainer: null,
    });
    // 路灯不亮 / 地面不平 before 2019; today's state is not given.
    expect(byType.STREETLIGHT).toMatchObject({ condition: null, conditionBefore: 'BROKEN', history: [{ condition: 'BROKEN', beforeYear: 2019, note: '路灯不亮' }] });
    expect(byType.ROAD_SURFACE).toMatchObject({ condition: null, conditionBefore: 'BROKEN', history: [{ condition: 'BROKEN', beforeYear: 2019, note: '地面不平' }] });
    expect(xinhai.good.map((f: any) => f.type).sort()).toEqual(['BASKETBALL_COURT', 'CHILDREN_PLAYGROUND', 'FITNESS_EQUIPMENT', 'RUBBER_TRACK']);
    expect(xinhai.facilityGaps).toEqual([]);

    expect(ruijin.renovationSummary).toEqual({
      projects: 1,
      status: 'COMPLETED',
      latestProjectYear: 2019,
      totalBudget: { fen: 0 },
      projectsWithBudget: 0,
      spent: { fen: 0 },
    });
    expect(ruijin.facilities).toEqual([
      {
        type: 'SWEEPER_MACHINE',
        condition: null,
        conditionBefore: null,
        history: [],
        installedYear: null,
        sourceProject: null,
        cost: { fen: 30_000_000, approx: true },
        maintainer: { uscc: 'PLACEHOLDER0000001' },
      },
    ]);

    expect(dongfang.renovationProjects).toEqual([]);
    expect(dongfang.renovationSummary).toBeNull();
    expect(dongfang.good.map((f: any) => f.type)).toEqual(['CHILDREN_PLAYGROUND', 'HEALTH_TRAIL']);

    expect(yijiang).toEqual({ id: DEMO.yijiang, renovationProjects: [], renovationSummary: null, facilities: [], good: [], facilityGaps: [] });
  });

  it('resolves City and District entities with renovation statistics read from the rollups', async () => {
    const res = await gql(
      sg.url,
      `query($r: [_Any!]!) { _entities(representations: $r) {
        ... on City { code renovationStats(year: 2019) { year projects projectsWithBudget byStatus { status count }
          byFundingSource { type committed { fen } confirmed { fen } spent { fen } } byItemClass { class items cost { fen } }
          budget { fen } spent { fen } households costPerHousehold { fen } lateProjects } }
        ... on District { code renovationStats { projects budget { amount } } facilityGapStats { type } } } }`,
      {
        r: [
          { __typename: 'City', code: '320700' },
          { __typename: 'City', code: '320100' },
          { __typename: 'District', code: '320706' },
          { __typename: 'District', code: '320113' },
        ],
      },
    );
    expect(res.errors).toBeUndefined();
    const [lyg, nj, haizhou, qixia] = res.data!._entities;
    expect(lyg).toEqual({
      code: '320700',
      renovationStats: {
        year: 2019,
        projects: 1,
        projectsWithBudget: 1,
        byStatus: [{ status: 'COMPLETED', count: 1 }],
        byFundingSource: [{ type: 'PROPERTY_COMPANY', committed: { fen: 300_000_000 }, confirmed: { fen: 300_000_000 }, spent: { fen: 300_000_000 } }],
        byItemClass: [{ class: 'IMPROVEMENT', items: 4, cost: { fen: 0 } }],
        budget: { fen: 300_000_000 },
        spent: { fen: 300_000_000 },
        households: 0,
        costPerHousehold: null,
        lateProjects: 0,
      },
    });
    expect(nj.renovationStats).toMatchObject({ projects: 1, projectsWithBudget: 0, byStatus: [{ status: 'COMPLETED', count: 1 }], byFundingSource: [], budget: { fen: 0 } });
    expect(haizhou).toEqual({ code: '320706', renovationStats: { projects: 1, budget: { amount: 3_000_000 } }, facilityGapStats: [] });
    expect(qixia).toEqual({ code: '320113', renovationStats: { projects: 0, budget: { amount: 0 } }, facilityGapStats: [] });
  });

  it('lists a city’s projects for a year (RenovationProgress shape)', async () => {
    const res = await gql(sg.url, `{ renovationProjects(cityCode: "320700", year: 2019) { id status milestones { type late } communities { id } } }`);
    expect(res.errors).toBeUndefined();
    expect(res.data!.renovationProjects).toEqual([
      {
        id: DEMO_PROJECTS.xinhai2019,
        status: 'COMPLETED',
        milestones: [
          { type: 'START', late: false },
          { type: 'COMPLETION', late: false },
        ],
        communities: [{ id: DEMO.xinhai }],
      },
    ]);
    const none = await gql(sg.url, `{ renovationProjects(cityCode: "320700", year: 2020) { id } }`);
    expect(none.data!.renovationProjects).toEqual([]);
  });

  it('computes Community aggregates for 4 or 40 representations with the same number of database commands', async () => {
    const counter = countCommands(sg.conn);
    const query = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Community {
      renovationSummary { projects } facilityGaps { type } renovationProjects { id } } } }`;
    const ids = (n: number) => Array.from({ length: n }, (_, i) => [DEMO.xinhai, DEMO.ruijin, DEMO.dongfang, DEMO.yijiang][i % 4] + (i < 4 ? '' : `_x${i}`));
    counter.reset();
    const small = await gql(sg.url, query, { r: ids(4).map((id) => ({ __typename: 'Community', id })) });
    const forFour = counter.count;
    counter.reset();
    const large = await gql(sg.url, query, { r: ids(40).map((id) => ({ __typename: 'Community', id })) });
    const forForty = counter.count;
    expect(small.errors).toBeUndefined();
    expect(large.errors).toBeUndefined();
    expect(large.data!._entities).toHaveLength(40);
    expect(small.data!._entities[0].renovationSummary).toEqual({ projects: 1 });
    expect(forFour).toBe(2); // summary rollups; facilities and projects as one command (lib/union-reader.ts)
    expect(forForty).toBe(forFour);
  });

  it('reads City and District statistics for many areas from their rollups in one query', async () => {
    const counter = countCommands(sg.conn);
    counter.reset();
    const reps = ['320100', '320700', '110100', '310100', '440100', '330100'].map((code) => ({ __typename: 'City', code }));
    const res = await gql(sg.url, `query($r: [_Any!]!) { _entities(representations: $r) { ... on City { renovationStats(year: 2019) { projects } } } }`, { r: reps });
    expect(res.errors).toBeUndefined();
    expect(res.data!._entities.map((c: any) => c.renovationStats.projects)).toEqual([1, 1, 0, 0, 0, 0]);
    expect(counter.byName.get('find')).toBe(1);
    expect(counter.count).toBe(1);

    // Every statistics field of cities, districts and 小区 at once: one rollup query, plus one
    // look at the projects planned earlier today for "late as of now".
    counter.reset();
    const all = [
      ...reps,
      ...['320104', '320706', '320113'].map((code) => ({ __typename: 'District', code })),
      ...[DEMO.xinhai, DEMO.ruijin].map((id) => ({ __typename: 'Community', id })),
    ];
    const wide = await gql(
      sg.url,
      `query($r: [_Any!]!) { _entities(representations: $r) {
        ... on City { renovationStats { projects lateProjects } y: renovationStats(year: 2019) { budget { fen } } facilityGapStats { type } renovationTrend(months: 24) { month spent { fen } } }
        ... on District { renovationStats { projects lateProjects } facilityGapStats { type } renovationTrend { month budget { fen } } }
        ... on Community { renovationSummary { projects } renovationTrend(months: 3) { month } } } }`,
      { r: all },
    );
    expect(wide.errors).toBeUndefined();
    expect(wide.data!._entities[0].renovationTrend).toHaveLength(24);
    expect(counter.byName.get('find')).toBe(2);
    expect(counter.count).toBe(2);
  });

  it('seeding twice creates no duplicates', async () => {
    await subgraph.seed(sg.conn);
    await subgraph.seed(sg.conn);
    const projects = await sg.conn.collection('renovation_projects').countDocuments({ synthetic: false });
    const facilities = await sg.conn.collection('facilities').countDocuments({ synthetic: false });
    expect(projects).toBe(2);
    expect(facilities).toBe(9);
    const res = await gql(sg.url, `{ renovationStats(cityCode: "320700") { projects budget { fen } } }`);
    expect(res.data!.renovationStats).toEqual({ projects: 1, budget: { fen: 300_000_000 } });
  });

  it('answers /health with the database status', async () => {
    const res = await fetch(sg.url.replace('/graphql', '/health'));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok', database: 'up', service: 'renovation' });
  });
});
