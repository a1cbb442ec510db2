/**
 * Write paths of the renovation subgraph: creates are idempotent by clientKey, milestones move the
 * status and the late flags, spend is counted once per key, acceptance closes a completed project,
 * facilities keep their condition history. Every bad input is a BAD_USER_INPUT naming the field,
 * and nothing is written.
 */
import { subgraph } from '..';
import { cstMonth, now } from '../../../lib/clock';
import { pinClock } from '../../../test/helpers/clock';
import { gql, startSubgraph, startTestDatabase, type Engine, type RunningSubgraph } from '../../../test/helpers/subgraph';
import { DEMO, DEMO_PROJECTS } from '../seed';

// Late flags and "not in the future" are judged by the product clock: one instant for the file.
const pinned = pinClock(now());

let engine: Engine;
let sg: RunningSubgraph;

beforeAll(async () => {
  engine = await startTestDatabase();
  sg = await startSubgraph(subgraph, engine.uri);
});
afterAll(async () => {
  await sg?.close();
  await engine?.stop();
  pinned.restore();
});

const PROJECT_FIELDS = `id name cityCode districtCodes planYear status sponsor
  budget { fen approx } spendToDate { fen } households
  fundingSources { type amount { fen } confirmed spent { fen } }
  items { class itemType quantity unit cost { fen } }
  milestones { type plannedAt actualAt done late daysLate } late
  acceptance { at result residentSatisfaction inspectorsOrgs } contractor { name uscc }`;

const CREATE = `mutation($input: CreateRenovationProjectInput!) { createRenovationProject(input: $input) { ${PROJECT_FIELDS} } }`;
const MILESTONE = `mutation($input: RecordMilestoneInput!) { recordMilestone(input: $input) { ${PROJECT_FIELDS} } }`;
const SPEND = `mutation($input: RecordSpendInput!) { recordSpend(input: $input) { ${PROJECT_FIELDS} } }`;
const ACCEPT = `mutation($input: RecordAcceptanceInput!) { recordAcceptance(input: $input) { ${PROJECT_FIELDS} } }`;
const FACILITY = `mutation($input: UpsertFacilityInput!) { upsertFacility(input: $input) {
  id type condition conditionBefore history { condition at } quantity cost { fen } sourceProject { id } community { id } } }`;

const baseInput = (clientKey: string) => ({
  clientKey,
  name: '秦淮区 2025年第一批老旧小区改造 (测试)',
  cityCode: '320100',
  communities: [
    { id: 'cm_test_a', districtCode: '320104' },
    { id: 'cm_test_b', districtCode: '320113' },
  ],
  planYear: 2025,
  batch: '2025年第一批',
  sponsor: 'GOVERNMENT',
  scope: { buildings: 10, households: 400, floorAreaM2: 30000 },
  items: [
    { class: 'BASIC', itemType: 'PIPELINE', quantity: 1.2, unit: 'km', cost: { fen: 150_000_000 } },
    { class: 'IMPROVEMENT', itemType: 'ELEVATOR', quantity: 2, unit: '部', cost: { fen: 120_000_000 } },
    { class: 'UPGRADE', itemType: 'ELDERLY_ROOM', quantity: 1 },
  ],
  budget: { fen: 1_080_000_000 },
  fundingSources: [
    { type: 'CENTRAL_SUBSIDY', amount: { fen: 378_000_000 }, confirmed: true },
    { type: 'LOCAL_FISCAL', amount: { fen: 378_000_000 }, confirmed: true },
    { type: 'RESIDENT_CONTRIBUTION', amount: { fen: 54_000_000 } },
  ],
  milestones: [
    { type: 'RESIDENT_CONSULTATION', plannedAt: '2025-01-15T00:00:00Z', actualAt: '2025-01-20T00:00:00Z' },
    { type: 'START', plannedAt: '2025-04-01T00:00:00Z' },
    { type: 'COMPLETION', plannedAt: '2099-10-31T00:00:00Z' },
  ],
  contractor: { name: '南京测试建设工程有限公司', uscc: '91320100TEST00001X' },
});

async function projectCount() {
  return sg.conn.collection('renovation_projects').countDocuments({});
}

function expectBadInput(res: { errors?: { message: string; extensions?: Record<string, any> }[]; data?: any }, field: string) {
  expect(res.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  expect(res.errors?.[0].extensions?.field).toBe(field);
  expect(res.errors?.[0].message.startsWith(`${field}:`)).toBe(true);
  expect(res.errors?.[0].message).not.toMatch(/at .*\.ts|Mongo|E11000/);
}

describe('createRenovationProject', () => {
  let id: string;

  it('creates a project with items, funding, milestones and late flags', async () => {
    const res = await gql(sg.url, CREATE, { input: baseInput('key-create-1') });
    expect(res.errors).toBeUndefined();
    const p = res.data!.createRenovationProject;
    id = p.id;
    expect(p).toMatchObject({
      cityCode: '320100',
      districtCodes: ['320104', '320113'],
      planYear: 2025,
      status: 'PLANNED',
      sponsor: 'GOVERNMENT',
      budget: { fen: 1_080_000_000, approx: false },
      spendToDate: null,
      households: 400,
      fundingSources: [
        { type: 'CENTRAL_SUBSIDY', amount: { fen: 378_000_000 }, confirmed: true, spent: { fen: 0 } },
        { type: 'LOCAL_FISCAL', amount: { fen: 378_000_000 }, confirmed: true, spent: { fen: 0 } },
        { type: 'RESIDENT_CONTRIBUTION', amount: { fen: 54_000_000 }, confirmed: false, spent: { fen: 0 } },
      ],
      items: [
        { class: 'BASIC', itemType: 'PIPELINE', quantity: 1.2, unit: 'km', cost: { fen: 150_000_000 } },
        { class: 'IMPROVEMENT', itemType: 'ELEVATOR', quantity: 2, unit: '部', cost: { fen: 120_000_000 } },
        { class: 'UPGRADE', itemType: 'ELDERLY_ROOM', quantity: 1, unit: null, cost: null },
      ],
      contractor: { name: '南京测试建设工程有限公司', uscc: '91320100TEST00001X' },
      acceptance: null,
    });
    // Consultation 5 days late (done); START planned 2025-04-01 and not done: late today; COMPLETION in 2099: not late.
    expect(p.milestones.map((m: any) => [m.type, m.done, m.late])).toEqual([
      ['RESIDENT_CONSULTATION', true, true],
      ['START', false, true],
      ['COMPLETION', false, false],
    ]);
    expect(p.milestones[0].daysLate).toBe(5);
    expect(p.late).toBe(true);
  });

  it('returns the first result for a retried clientKey and writes no duplicate', async () => {
    const before = await projectCount();
    const retry = await gql(sg.url, CREATE, { input: { ...baseInput('key-create-1'), name: 'a different name' } });
    expect(retry.errors).toBeUndefined();
    expect(retry.data!.createRenovationProject.id).toBe(id);
    expect(retry.data!.createRenovationProject.name).toBe('秦淮区 2025年第一批老旧小区改造 (测试)');
    // Concurrent retries also end in one project.
    const parallel = await Promise.all([1, 2, 3].map(() => gql(sg.url, CREATE, { input: baseInput('key-create-parallel') })));
    const ids = new Set(parallel.map((r) => r.data!.createRenovationProject.id));
    expect(ids.size).toBe(1);
    expect(await projectCount()).toBe(before + 1);
  });

  it('shows the new project in RenovationProgress and in the statistics of both districts', async () => {
    const res = await gql(
      sg.url,
      `{ late: renovationProjects(cityCode: "320100", year: 2025, lateOnly: true) { id }
         qinhuai: renovationStats(cityCode: "320100", districtCode: "320104", year: 2025) { projects lateProjects households costPerHousehold { fen amount }
           byFundingSource { type committed { fen } confirmed { fen } spent { fen } } byItemClass { class items cost { fen } } }
         qixia: renovationStats(cityCode: "320100", districtCode: "320113", year: 2025) { projects } }`,
    );
    expect(res.errors).toBeUndefined();
    expect(res.data!.late.map((p: any) => p.id)).toContain(id);
    expect(res.data!.qinhuai).toMatchObject({ lateProjects: 2, households: 800 });
    expect(res.data!.qinhuai.projects).toBe(2); // key-create-1 and key-create-parallel
    // ¥10,800,000 over 400 households = ¥27,000 per household.
    expect(res.data!.qinhuai.costPerHousehold).toEqual({ fen: 2_700_000, amount: 27_000 });
    expect(res.data!.qinhuai.byFundingSource[0]).toEqual({
      type: 'CENTRAL_SUBSIDY',
      committed: { fen: 756_000_000 },
      confirmed: { fen: 756_000_000 },
      spent: { fen: 0 },
    });
    expect(res.data!.qinhuai.byItemClass).toEqual([
      { class: 'BASIC', items: 2, cost: { fen: 300_000_000 } },
      { class: 'IMPROVEMENT', items: 2, cost: { fen: 240_000_000 } },
      { class: 'UPGRADE', items: 2, cost: { fen: 0 } },
    ]);
    expect(res.data!.qixia.projects).toBe(2);
  });

  it.each([
    ['input.clientKey', { clientKey: '  ' }],
    ['input.name', { name: '' }],
    ['input.cityCode', { cityCode: '3201' }],
    ['input.communities', { communities: [] }],
    ['input.communities[0].districtCode', { communities: [{ id: 'cm_x', districtCode: '320706' }] }],
    ['input.communities[1].id', { communities: [{ id: 'cm_x', districtCode: '320104' }, { id: 'cm_x', districtCode: '320104' }] }],
    ['input.communities[0].id', { communities: [{ id: 'bad id with spaces', districtCode: '320104' }] }],
    ['input.planYear', { planYear: 1890 }],
    ['input.budget.fen', { budget: { fen: -1 } }],
    ['input.items[0].quantity', { items: [{ class: 'BASIC', itemType: 'GAS', quantity: -3 }] }],
    ['input.fundingSources[1].type', { fundingSources: [{ type: 'LOCAL_FISCAL', amount: { fen: 1 } }, { type: 'LOCAL_FISCAL', amount: { fen: 2 } }] }],
    ['input.milestones[0].actualAt', { milestones: [{ type: 'START', actualAt: '2099-01-01T00:00:00Z' }] }],
    ['input.contractor.uscc', { contractor: { name: 'x', uscc: 'short' } }],
    ['input.sponsorCompanyUscc', { sponsor: 'GOVERNMENT', sponsorCompanyUscc: 'PLACEHOLDER0000004' }],
    ['input.scope.households', { scope: { households: -2 } }],
    // Published text refuses recognisable personal data (lib/personal-data.ts).
    ['input.name', { name: '5栋2单元301室王秀英家改造' }],
    ['input.batch', { batch: '联系 １３８１１１１２２２２' }],
    ['input.contractor.name', { contractor: { name: '个体户 138-1111-2222' } }],
    ['input.items[0].unit', { items: [{ class: 'BASIC', itemType: 'GAS', unit: '13811112222' }] }],
  ])('refuses bad %s and writes nothing', async (field, patch) => {
    const before = await projectCount();
    const res = await gql(sg.url, CREATE, { input: { ...baseInput(`key-bad-${field}`), ...patch } });
    expectBadInput(res, field);
    expect(await projectCount()).toBe(before);
  });

  it('rejects a malformed enum or a missing field at validation, before any write', async () => {
    const before = await projectCount();
    const res = await gql(sg.url, CREATE, { input: { ...baseInput('key-enum'), sponsor: 'NOBODY' } });
    expect(res.errors?.[0].extensions?.code).toMatch(/BAD_USER_INPUT|GRAPHQL_VALIDATION_FAILED/);
    const { clientKey: _omit, ...noKey } = baseInput('x');
    const res2 = await gql(sg.url, CREATE, { input: noKey });
    expect(res2.errors?.[0].extensions?.code).toMatch(/BAD_USER_INPUT|GRAPHQL_VALIDATION_FAILED/);
    expect(await projectCount()).toBe(before);
  });
});

describe('recordMilestone, recordSpend and recordAcceptance', () => {
  let id: string;

  beforeAll(async () => {
    const res = await gql(sg.url, CREATE, {
      input: {
        ...baseInput('key-lifecycle'),
        communities: [{ id: 'cm_test_c', districtCode: '320104' }],
        milestones: [
          { type: 'START', plannedAt: '2025-03-01T00:00:00Z' },
          { type: 'COMPLETION', plannedAt: '2025-09-30T00:00:00Z' },
        ],
      },
    });
    id = res.data!.createRenovationProject.id;
  });

  it('records an actual start 10 days late: status UNDER_CONSTRUCTION, milestone late by 10 days', async () => {
    const res = await gql(sg.url, MILESTONE, { input: { projectId: id, type: 'START', actualAt: '2025-03-11T00:00:00Z' } });
    expect(res.errors).toBeUndefined();
    const p = res.data!.recordMilestone;
    expect(p.status).toBe('UNDER_CONSTRUCTION');
    expect(p.milestones[0]).toMatchObject({ type: 'START', actualAt: '2025-03-11T00:00:00.000Z', done: true, late: true, daysLate: 10 });
  });

  it('adds a planned milestone and keeps the milestones in lifecycle order', async () => {
    const res = await gql(sg.url, MILESTONE, { input: { projectId: id, type: 'DESIGN', plannedAt: '2025-02-01T00:00:00Z', actualAt: '2025-01-30T00:00:00Z' } });
    expect(res.errors).toBeUndefined();
    expect(res.data!.recordMilestone.milestones.map((m: any) => [m.type, m.late])).toEqual([
      ['DESIGN', false],
      ['START', true],
      ['COMPLETION', true],
    ]);
    // The status never moves back.
    expect(res.data!.recordMilestone.status).toBe('UNDER_CONSTRUCTION');
  });

  it.each([
    ['input.projectId', { projectId: 'rp_unknown', type: 'START', actualAt: '2025-01-01T00:00:00Z' }],
    ['input.actualAt', { type: 'START' }],
    ['input.actualAt', { type: 'START', actualAt: '2999-01-01T00:00:00Z' }],
    // More than the one-day slack after the product clock's now.
    ['input.actualAt', { type: 'START', actualAt: new Date(now().getTime() + 25 * 3600_000).toISOString() }],
    ['input.plannedAt', { type: 'START', plannedAt: '1800-01-01T00:00:00Z' }],
  ])('refuses bad %s in recordMilestone and writes nothing', async (field, input) => {
    const before = await sg.conn.collection('renovation_projects').findOne({ _id: id as never });
    const res = await gql(sg.url, MILESTONE, { input: { projectId: id, ...input } });
    expectBadInput(res, field);
    const after = await sg.conn.collection('renovation_projects').findOne({ _id: id as never });
    expect(after).toEqual(before);
  });

  it('records spend by funding type, counting a retried clientKey once', async () => {
    const input = { projectId: id, fundingType: 'CENTRAL_SUBSIDY', amount: { fen: 100_000_000 }, at: '2025-04-01T00:00:00Z', clientKey: 'spend-1' };
    const first = await gql(sg.url, SPEND, { input });
    expect(first.errors).toBeUndefined();
    const again = await gql(sg.url, SPEND, { input });
    expect(again.errors).toBeUndefined();
    const other = await gql(sg.url, SPEND, { input: { ...input, fundingType: 'LOCAL_FISCAL', amount: { fen: 50_000_000 }, clientKey: 'spend-2' } });
    const p = other.data!.recordSpend;
    expect(p.spendToDate).toEqual({ fen: 150_000_000 });
    expect(p.fundingSources.map((f: any) => [f.type, f.spent.fen])).toEqual([
      ['CENTRAL_SUBSIDY', 100_000_000],
      ['LOCAL_FISCAL', 50_000_000],
      ['RESIDENT_CONTRIBUTION', 0],
    ]);
    const stats = await gql(sg.url, `{ renovationStats(cityCode: "320100", year: 2025) { spent { fen } byFundingSource { type spent { fen } } } }`);
    expect(stats.data!.renovationStats.spent).toEqual({ fen: 150_000_000 });
    expect(stats.data!.renovationStats.byFundingSource.find((f: any) => f.type === 'LOCAL_FISCAL').spent).toEqual({ fen: 50_000_000 });

    // The trend counts spend by the CST month of its date (2025-04-01 08:00 CST) and budget by plan
    // year: the three 2025 projects of 秦淮区 so far, ¥10,800,000 each.
    const trend = await gql(
      sg.url,
      `{ _entities(representations: [{ __typename: "District", code: "320104" }, { __typename: "Community", id: "cm_test_c" }]) {
        ... on District { renovationTrend(months: 60) { month spent { fen } spentYearToDate { fen } budget { fen } } }
        ... on Community { renovationTrend(months: 60) { month spent { fen } } } } }`,
    );
    expect(trend.errors).toBeUndefined();
    const [district, community] = trend.data!._entities.map((e: any) => e.renovationTrend);
    expect(district).toHaveLength(60);
    expect(district[59].month).toBe(cstMonth(now()));
    const byMonth = Object.fromEntries(district.map((x: any) => [x.month, x]));
    expect(byMonth['2025-04']).toEqual({ month: '2025-04', spent: { fen: 150_000_000 }, spentYearToDate: { fen: 150_000_000 }, budget: { fen: 3 * 1_080_000_000 } });
    expect(byMonth['2025-05']).toEqual({ month: '2025-05', spent: { fen: 0 }, spentYearToDate: { fen: 150_000_000 }, budget: { fen: 3 * 1_080_000_000 } });
    expect(byMonth['2025-03'].spent).toEqual({ fen: 0 });
    expect(community.find((x: any) => x.month === '2025-04').spent).toEqual({ fen: 150_000_000 });
    expect(community.reduce((sum: number, x: any) => sum + x.spent.fen, 0)).toBe(150_000_000);
  });

  it.each([
    ['input.projectId', { projectId: 'rp_unknown' }],
    ['input.amount.fen', { amount: { fen: 0 } }],
    ['input.amount.fen', { amount: { fen: -100 } }],
    ['input.fundingType', { fundingType: 'BANK_LOAN' }],
    ['input.at', { at: '2999-01-01T00:00:00Z' }],
  ])('refuses bad %s in recordSpend and writes nothing', async (field, patch) => {
    const before = await sg.conn.collection('renovation_projects').findOne({ _id: id as never });
    const res = await gql(sg.url, SPEND, { input: { projectId: id, fundingType: 'CENTRAL_SUBSIDY', amount: { fen: 1000 }, ...patch } });
    expectBadInput(res, field);
    expect(await sg.conn.collection('renovation_projects').findOne({ _id: id as never })).toEqual(before);
  });

  it('refuses acceptance of a project that is not completed', async () => {
    const res = await gql(sg.url, ACCEPT, { input: { projectId: id, at: '2025-10-20T00:00:00Z', result: 'PASSED', inspectorsOrgs: ['秦淮区住建局'] } });
    expectBadInput(res, 'input.projectId');
  });

  it('completes, then records a PASSED acceptance: status ACCEPTED and the ACCEPTANCE milestone done', async () => {
    const done = await gql(sg.url, MILESTONE, { input: { projectId: id, type: 'COMPLETION', actualAt: '2025-10-10T00:00:00Z' } });
    expect(done.data!.recordMilestone.status).toBe('COMPLETED');
    const res = await gql(sg.url, ACCEPT, {
      input: { projectId: id, at: '2025-10-20T00:00:00Z', result: 'PASSED', residentSatisfaction: 0.93, inspectorsOrgs: ['秦淮区住建局', '街道办事处'] },
    });
    expect(res.errors).toBeUndefined();
    const p = res.data!.recordAcceptance;
    expect(p.status).toBe('ACCEPTED');
    expect(p.acceptance).toEqual({ at: '2025-10-20T00:00:00.000Z', result: 'PASSED', residentSatisfaction: 0.93, inspectorsOrgs: ['秦淮区住建局', '街道办事处'] });
    expect(p.milestones.find((m: any) => m.type === 'ACCEPTANCE')).toMatchObject({ done: true, late: false });
    expect(p.milestones.find((m: any) => m.type === 'COMPLETION')).toMatchObject({ late: true, daysLate: 10 });
  });

  it.each([
    ['input.residentSatisfaction', { residentSatisfaction: 1.5 }],
    ['input.inspectorsOrgs', { inspectorsOrgs: [] }],
    ['input.at', { at: '2025-10-01T00:00:00Z' }],
    ['input.at', { at: 'not a date' }],
    ['input.projectId', { projectId: 'rp_unknown' }],
  ])('refuses bad %s in recordAcceptance and writes nothing', async (field, patch) => {
    const before = await sg.conn.collection('renovation_projects').findOne({ _id: id as never });
    const res = await gql(sg.url, ACCEPT, { input: { projectId: id, at: '2025-10-21T00:00:00Z', result: 'RECTIFY', inspectorsOrgs: ['x'], ...patch } });
    if (field === 'input.at' && (patch as any).at === 'not a date') {
      expect(res.errors?.[0].extensions?.code).toMatch(/BAD_USER_INPUT|GRAPHQL_VALIDATION_FAILED/);
    } else expectBadInput(res, field);
    expect(await sg.conn.collection('renovation_projects').findOne({ _id: id as never })).toEqual(before);
  });
});

describe('upsertFundingSource and advanceProjectStatus', () => {
  const FUNDING = `mutation($input: UpsertFundingSourceInput!) { upsertFundingSource(input: $input) { fundingSources { type amount { fen } confirmed spent { fen } } } }`;
  const ADVANCE = `mutation($input: AdvanceProjectStatusInput!) { advanceProjectStatus(input: $input) { status } }`;
  let id: string;

  beforeAll(async () => {
    const res = await gql(sg.url, CREATE, {
      input: {
        ...baseInput('key-funding'),
        status: 'RESERVE',
        communities: [{ id: 'cm_test_d', districtCode: '320104' }],
        fundingSources: [{ type: 'LOCAL_FISCAL', amount: { fen: 1_000_000 }, confirmed: false }],
        milestones: [],
      },
    });
    id = res.data!.createRenovationProject.id;
  });

  it('confirms an existing funding source and adds a new one', async () => {
    await gql(sg.url, FUNDING, { input: { projectId: id, type: 'LOCAL_FISCAL', amount: { fen: 1_200_000 }, confirmed: true } });
    const res = await gql(sg.url, FUNDING, { input: { projectId: id, type: 'SPECIAL_BOND', amount: { fen: 500_000 }, confirmed: false } });
    expect(res.errors).toBeUndefined();
    expect(res.data!.upsertFundingSource.fundingSources).toEqual([
      { type: 'LOCAL_FISCAL', amount: { fen: 1_200_000 }, confirmed: true, spent: { fen: 0 } },
      { type: 'SPECIAL_BOND', amount: { fen: 500_000 }, confirmed: false, spent: { fen: 0 } },
    ]);
  });

  it('refuses an amount below what is already spent, a negative amount and an unknown project', async () => {
    await gql(sg.url, SPEND, { input: { projectId: id, fundingType: 'LOCAL_FISCAL', amount: { fen: 800_000 } } });
    const before = await sg.conn.collection('renovation_projects').findOne({ _id: id as never });
    expectBadInput(await gql(sg.url, FUNDING, { input: { projectId: id, type: 'LOCAL_FISCAL', amount: { fen: 700_000 }, confirmed: true } }), 'input.amount.fen');
    expectBadInput(await gql(sg.url, FUNDING, { input: { projectId: id, type: 'LOCAL_FISCAL', amount: { fen: -1 }, confirmed: true } }), 'input.amount.fen');
    expectBadInput(await gql(sg.url, FUNDING, { input: { projectId: 'rp_unknown', type: 'LOCAL_FISCAL', amount: { fen: 1 }, confirmed: true } }), 'input.projectId');
    expect(await sg.conn.collection('renovation_projects').findOne({ _id: id as never })).toEqual(before);
  });

  it('moves the status forward step by step and never back', async () => {
    for (const status of ['PLANNED', 'APPROVED', 'TENDERING', 'UNDER_CONSTRUCTION']) {
      const res = await gql(sg.url, ADVANCE, { input: { projectId: id, status } });
      expect(res.errors).toBeUndefined();
      expect(res.data!.advanceProjectStatus.status).toBe(status);
    }
  });

  it.each([['APPROVED'], ['COMPLETED'], ['ACCEPTED'], ['LONG_TERM_MGMT']])('refuses a move to %s from UNDER_CONSTRUCTION and writes nothing', async (status) => {
    const before = await sg.conn.collection('renovation_projects').findOne({ _id: id as never });
    expectBadInput(await gql(sg.url, ADVANCE, { input: { projectId: id, status } }), 'input.status');
    expect(await sg.conn.collection('renovation_projects').findOne({ _id: id as never })).toEqual(before);
  });
});

describe('upsertFacility', () => {
  const count = () => sg.conn.collection('facilities').countDocuments({});

  it('creates a row, then records a change of condition with its history; it shows up as a gap', async () => {
    const created = await gql(sg.url, FACILITY, {
      input: { communityId: DEMO.yijiang, districtCode: '320113', type: 'EBIKE_CHARGER', quantity: 40, condition: 'GOOD', cost: { fen: 8_000_000 } },
    });
    expect(created.errors).toBeUndefined();
    expect(created.data!.upsertFacility).toMatchObject({ type: 'EBIKE_CHARGER', condition: 'GOOD', conditionBefore: null, quantity: 40, cost: { fen: 8_000_000 } });
    const n = await count();
    const broken = await gql(sg.url, FACILITY, { input: { communityId: DEMO.yijiang, type: 'EBIKE_CHARGER', condition: 'BROKEN' } });
    expect(broken.errors).toBeUndefined();
    // The history entry is stamped with the product clock's now.
    expect(broken.data!.upsertFacility).toMatchObject({ condition: 'BROKEN', conditionBefore: 'GOOD', history: [{ condition: 'GOOD', at: now().toISOString() }], quantity: 40 });
    expect(await count()).toBe(n);

    const gaps = await gql(
      sg.url,
      `{ _entities(representations: [{ __typename: "Community", id: "${DEMO.yijiang}" }]) { ... on Community { facilityGaps { type condition } } }
         nj: renovationStats(cityCode: "320100") { projects }
         inv: facilityInventory(filter: { cityCode: "320100", condition: [BROKEN, MISSING] }) { totalCount edges { node { type community { id } } } } }`,
    );
    expect(gaps.errors).toBeUndefined();
    expect(gaps.data!._entities[0].facilityGaps).toEqual([{ type: 'EBIKE_CHARGER', condition: 'BROKEN' }]);
    expect(gaps.data!.inv).toEqual({ totalCount: 1, edges: [{ node: { type: 'EBIKE_CHARGER', community: { id: DEMO.yijiang } } }] });
    const cityGaps = await gql(sg.url, `{ _entities(representations: [{ __typename: "City", code: "320100" }, { __typename: "District", code: "320113" }]) {
      ... on City { facilityGapStats { type missing broken communities } } ... on District { facilityGapStats { type broken } } } }`);
    expect(cityGaps.data!._entities).toEqual([
      { facilityGapStats: [{ type: 'EBIKE_CHARGER', missing: 0, broken: 1, communities: 1 }] },
      { facilityGapStats: [{ type: 'EBIKE_CHARGER', broken: 1 }] },
    ]);
  });

  it('links a facility to the project that built it', async () => {
    const res = await gql(sg.url, FACILITY, { input: { communityId: DEMO.xinhai, type: 'STREETLIGHT', sourceProjectId: DEMO_PROJECTS.xinhai2019 } });
    expect(res.errors).toBeUndefined();
    expect(res.data!.upsertFacility).toMatchObject({ type: 'STREETLIGHT', condition: null, sourceProject: { id: DEMO_PROJECTS.xinhai2019 } });
  });

  it.each([
    ['input.districtCode', { communityId: 'cm_new_one', type: 'ELEVATOR', condition: 'GOOD' }],
    ['input.districtCode', { communityId: DEMO.yijiang, districtCode: '32011', type: 'ELEVATOR' }],
    ['input.districtCode', { communityId: DEMO.yijiang, districtCode: '320104', type: 'EBIKE_CHARGER' }],
    ['input.quantity', { communityId: DEMO.yijiang, type: 'ELEVATOR', quantity: -1 }],
    ['input.cost.fen', { communityId: DEMO.yijiang, type: 'ELEVATOR', cost: { fen: -5 } }],
    ['input.sourceProjectId', { communityId: DEMO.yijiang, type: 'ELEVATOR', sourceProjectId: 'rp_unknown' }],
    ['input.sourceProjectId', { communityId: DEMO.yijiang, type: 'ELEVATOR', sourceProjectId: DEMO_PROJECTS.xinhai2019 }],
    ['input.maintainerUscc', { communityId: DEMO.yijiang, type: 'ELEVATOR', maintainerUscc: 'nope' }],
    ['input.installedYear', { communityId: DEMO.yijiang, type: 'ELEVATOR', installedYear: 3000 }],
    ['input.communityId', { communityId: '', type: 'ELEVATOR' }],
  ])('refuses bad %s and writes nothing', async (field, input) => {
    const before = await sg.conn.collection('facilities').find({}).toArray();
    const res = await gql(sg.url, FACILITY, { input });
    expectBadInput(res, field);
    expect(await sg.conn.collection('facilities').find({}).toArray()).toEqual(before);
  });
});

describe('lists and arguments', () => {
  it('pages through a city’s projects with a cursor and filters', async () => {
    const all = await gql(sg.url, `{ renovationProjectPage(filter: { cityCode: "320100" }, first: 2) { totalCount edges { node { id } } pageInfo { hasNextPage endCursor } } }`);
    expect(all.errors).toBeUndefined();
    const page1 = all.data!.renovationProjectPage;
    expect(page1.totalCount).toBe(5); // 瑞金新村 2019 + four created in these tests
    expect(page1.edges).toHaveLength(2);
    expect(page1.pageInfo.hasNextPage).toBe(true);
    const next = await gql(sg.url, `query($a: String) { renovationProjectPage(filter: { cityCode: "320100" }, first: 2, after: $a) { edges { node { id } } pageInfo { hasNextPage endCursor } } }`, {
      a: page1.pageInfo.endCursor,
    });
    expect(next.data!.renovationProjectPage.edges).toHaveLength(2);
    expect(next.data!.renovationProjectPage.pageInfo.hasNextPage).toBe(true);
    const last = await gql(sg.url, `query($a: String) { renovationProjectPage(filter: { cityCode: "320100" }, first: 2, after: $a) { edges { node { id } } pageInfo { hasNextPage } } }`, {
      a: next.data!.renovationProjectPage.pageInfo.endCursor,
    });
    expect(last.data!.renovationProjectPage.edges).toHaveLength(1);
    expect(last.data!.renovationProjectPage.pageInfo.hasNextPage).toBe(false);
    const ids = [...page1.edges, ...next.data!.renovationProjectPage.edges, ...last.data!.renovationProjectPage.edges].map((e: any) => e.node.id);
    expect(new Set(ids).size).toBe(5);
    expect(ids).toContain(DEMO_PROJECTS.ruijin2019);

    const filtered = await gql(sg.url, `{ a: renovationProjectPage(filter: { cityCode: "320100", year: 2019, status: [COMPLETED] }) { totalCount }
      b: renovationProjectPage(filter: { communityId: "${DEMO.xinhai}" }) { edges { node { id } } }
      c: renovationProjectPage(filter: { cityCode: "320700", sponsor: PROPERTY_COMPANY }) { totalCount } }`);
    expect(filtered.data).toEqual({ a: { totalCount: 1 }, b: { edges: [{ node: { id: DEMO_PROJECTS.xinhai2019 } }] }, c: { totalCount: 1 } });
  });

  it.each([
    ['cityCode', `{ renovationProjects(cityCode: "nanjing") { id } }`],
    ['districtCode', `{ renovationProjects(cityCode: "320100", districtCode: "320706") { id } }`],
    ['year', `{ renovationStats(cityCode: "320100", year: 20250) { projects } }`],
    ['limit', `{ renovationProjects(cityCode: "320100", limit: 99999) { id } }`],
    ['first', `{ renovationProjectPage(filter: {}, first: -1) { totalCount } }`],
    ['after', `{ renovationProjectPage(filter: {}, after: "%%%") { totalCount } }`],
    ['filter', `{ facilityInventory(filter: {}) { totalCount } }`],
    ['months', `{ _entities(representations: [{ __typename: "City", code: "320100" }]) { ... on City { renovationTrend(months: 0) { month } } } }`],
    ['months', `{ _entities(representations: [{ __typename: "District", code: "320104" }]) { ... on District { renovationTrend(months: 61) { month } } } }`],
    ['months', `{ _entities(representations: [{ __typename: "Community", id: "cm_test_c" }]) { ... on Community { renovationTrend(months: -3) { month } } } }`],
  ])('refuses a bad %s argument with BAD_USER_INPUT', async (field, query) => {
    const res = await gql(sg.url, query);
    expect(res.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0].message.startsWith(`${field}:`)).toBe(true);
  });
});
