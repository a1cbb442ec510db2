import { subgraph } from '..';
import { gql, startSubgraph, startTestDatabase, type Engine, type RunningSubgraph } from '../../../test/helpers/subgraph';
import { DEMO } from '../seed';

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

const UPSERT = `mutation($i: FeeCollectionInput!) { upsertFeeCollection(input: $i) {
  id period householdRate amountRate clearanceRate chargeableHouseholds } }`;
const SURVEY = `mutation($i: SatisfactionSurveyInput!) { recordSatisfactionSurvey(input: $i) { id period percent method } }`;
const countFees = async () => (await sg.conn.collection('fee_collection').countDocuments({}));
const countSurveys = async () => (await sg.conn.collection('surveys').countDocuments({}));

describe('upsertFeeCollection', () => {
  it('derives the three rates from raw figures (hand-computed)', async () => {
    const res = await gql(sg.url, UPSERT, {
      i: {
        communityId: DEMO.yijiang, period: '2026-09', chargeableHouseholds: 1300, paidHouseholds: 1261,
        receivableFen: 8_000_000, receivedFen: 7_760_000, historicalArrearsFen: 300_000, arrearsRecoveredFen: 100_000,
      },
    });
    expect(res.errors).toBeUndefined();
    const f = res.data!.upsertFeeCollection;
    expect(f.householdRate).toBeCloseTo(1261 / 1300, 12); // 0.97
    expect(f.amountRate).toBeCloseTo(0.97, 12); // 7,760,000 / 8,000,000
    expect(f.clearanceRate).toBeCloseTo(0.25, 12); // 100,000 / (100,000 + 300,000)
  });

  it('answers null rates, not a division by zero, when denominators are zero', async () => {
    const res = await gql(sg.url, UPSERT, {
      i: { communityId: DEMO.xinhai, period: '2026-09', chargeableHouseholds: 0, paidHouseholds: 0, receivableFen: 0, receivedFen: 0, historicalArrearsFen: 0, arrearsRecoveredFen: 0 },
    });
    expect(res.data!.upsertFeeCollection).toMatchObject({ householdRate: null, amountRate: null, clearanceRate: null });
  });

  it('replaces the same community and period instead of adding a row', async () => {
    const before = await countFees();
    const res = await gql(sg.url, UPSERT, { i: { communityId: DEMO.yijiang, period: '2026-09', chargeableHouseholds: 1300, paidHouseholds: 1300 } });
    expect(res.data!.upsertFeeCollection).toMatchObject({ householdRate: 1, amountRate: null });
    expect(await countFees()).toBe(before);
  });

  it.each([
    [{ period: '2026-13' }, 'input.period'],
    [{ paidHouseholds: -1 }, 'input.paidHouseholds'],
    [{ chargeableHouseholds: 10, paidHouseholds: 11 }, 'input.paidHouseholds'],
    [{ reportedRate: 1.5 }, 'input.reportedRate'],
    [{ communityId: 'cm_missing' }, 'input.communityId'],
    [{ source: '物业上报，联系人电话 025-84561234' }, 'input.source'],
  ])('refuses %j with BAD_USER_INPUT naming %s and writes nothing', async (patch, field) => {
    const before = await countFees();
    const res = await gql(sg.url, UPSERT, { i: { communityId: DEMO.ruijin, period: '2026-08', ...patch } });
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect(await countFees()).toBe(before);
  });

  it('refuses a missing required field before running (GraphQL validation)', async () => {
    const res = await gql(sg.url, UPSERT, { i: { communityId: DEMO.ruijin } });
    expect(res.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0].message).toMatch(/period/);
  });
});

describe('recordSatisfactionSurvey', () => {
  it('records once per clientKey: a retry returns the first record', async () => {
    const i = { clientKey: 'survey-retry-0001', communityId: DEMO.xinhai, period: '2026-09', method: 'QUESTIONNAIRE', percent: 91.5, sampleSize: 120 };
    const before = await countSurveys();
    const a = await gql(sg.url, SURVEY, { i });
    const b = await gql(sg.url, SURVEY, { i });
    expect(a.errors).toBeUndefined();
    expect(b.data!.recordSatisfactionSurvey).toEqual(a.data!.recordSatisfactionSurvey);
    expect(await countSurveys()).toBe(before + 1);
    const latest = await gql(sg.url, `{ community(id: "${DEMO.xinhai}") { latestSatisfaction { percent period } } }`);
    expect(latest.data!.community.latestSatisfaction).toEqual({ percent: 91.5, period: '2026-09' });
  });

  it.each([
    [{ percent: 101 }, 'input.percent'],
    [{ sampleSize: 0 }, 'input.sampleSize'],
    [{ clientKey: 'short' }, 'input.clientKey'],
    [{ percent: null }, 'input.percent'],
    [{ communityId: 'cm_missing' }, 'input.communityId'],
    [{ scope: '3号楼502等 40 户' }, 'input.scope'],
  ])('refuses %j with BAD_USER_INPUT naming %s and writes nothing', async (patch, field) => {
    const before = await countSurveys();
    const res = await gql(sg.url, SURVEY, {
      i: { clientKey: `survey-bad-${field}-${Math.random()}`, communityId: DEMO.ruijin, period: '2026-09', method: 'APP', percent: 80, ...patch },
    });
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect(await countSurveys()).toBe(before);
  });
});
