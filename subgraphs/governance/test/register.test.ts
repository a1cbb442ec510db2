/**
 * syncCommunityRegister: the properties register copied into governance's own (codes, serving
 * company, households), idempotent, all or nothing; what it enables (tickets for a new 小区, the
 * company attribution, perThousandHouseholds on the article's 小区).
 */
import { startTestDatabase, type Engine } from '../../../test/helpers/subgraph';
import { registerModels, type Models } from '../models';
import { DEMO, DEMO_COMPANIES } from '../seed';
import { startGovernance, type GovernanceUnderTest } from './helpers';

let engine: Engine;
let g: GovernanceUnderTest;
let m: Models;

beforeAll(async () => {
  engine = await startTestDatabase();
  g = await startGovernance(engine.uri, '2026-03-20T02:00:00Z');
  m = registerModels(g.conn);
});
afterAll(async () => {
  await g?.close();
  await engine?.stop();
});

const SYNC = `mutation($i: [RegisterCommunityInput!]!) { syncCommunityRegister(input: $i) }`;
const NEW = { id: 'cm_320104_0100', cityCode: '320100', districtCode: '320104', streetCode: '320104001', companyUscc: '91320100MA1XXXXX0A', householdCount: 800 };

describe('syncCommunityRegister', () => {
  it('upserts 小区 by id, keeping what only governance records, and writes no duplicates on a retry', async () => {
    const input = [NEW, { id: DEMO.ruijin, cityCode: '320100', districtCode: '320104', companyUscc: DEMO_COMPANIES.hengzhao, householdCount: 500 }];
    expect((await g.q(SYNC, { i: input })).syncCommunityRegister).toBe(2);
    expect((await g.q(SYNC, { i: input })).syncCommunityRegister).toBe(2);
    expect(await m.Community.countDocuments({}).exec()).toBe(5);
    const ruijin = await m.Community.findById(DEMO.ruijin).lean().exec();
    expect(ruijin).toMatchObject({ householdCount: 500, companyUscc: DEMO_COMPANIES.hengzhao, coGovernanceTopics: ['EV_CHARGING', 'SANITATION', 'CLUTTER'] });
    expect(ruijin!.intakePoints.map((p) => p.kind)).toEqual(['ONSITE_12345_DESK', 'INTEGRITY_LINE']);
    expect(await m.Community.findById(NEW.id).lean().exec()).toMatchObject({ ...{ cityCode: '320100', districtCode: '320104', streetCode: '320104001' }, householdCount: 800, synthetic: false });
  });

  it('lets a synced 小区 take tickets attributed to its company, and rates them per 1,000 households', async () => {
    for (const id of [NEW.id, NEW.id, DEMO.ruijin]) {
      await g.q(`mutation { createServiceTicket(input: { communityId: "${id}", serviceCode: REPAIR, channel: HOTLINE_12345, description: "报修" }) { id } }`);
    }
    const F = 'ticketStats(range: LAST_30D) { opened perThousandHouseholds households }';
    const res = await g.q(`{ _entities(representations: [
      { __typename: "Community", id: "${NEW.id}" }, { __typename: "District", code: "320104" },
      { __typename: "PropertyCompany", uscc: "${NEW.companyUscc}" }]) { ... on Community { ${F} } ... on District { ${F} } ... on PropertyCompany { ${F} } } }`);
    expect(res._entities.map((e: any) => e.ticketStats)).toEqual([
      { opened: 2, perThousandHouseholds: 2.5, households: 800 },
      { opened: 3, perThousandHouseholds: 2.308, households: 1300 }, // 3 / 1,300 × 1,000
      { opened: 2, perThousandHouseholds: 2.5, households: 800 },
    ]);
  });

  it.each([
    ['input', []],
    ['input[0].id', [{ ...NEW, id: 'bad id' }]],
    ['input[1].id', [NEW, NEW]],
    ['input[0].cityCode', [{ ...NEW, cityCode: '320104' }]],
    ['input[0].districtCode', [{ ...NEW, districtCode: '320706' }]],
    ['input[0].streetCode', [{ ...NEW, streetCode: '320113001' }]],
    ['input[0].neighborhoodCode', [{ ...NEW, neighborhoodCode: '320104999' }]],
    ['input[0].companyUscc', [{ ...NEW, companyUscc: 'not-a-uscc' }]],
    ['input[0].householdCount', [{ ...NEW, householdCount: -1 }]],
    ['input[1].householdCount', [{ ...NEW, id: 'cm_320104_0101', householdCount: 5 }, { ...NEW, id: 'cm_320104_0102', householdCount: 1_000_000 }]],
  ] as [string, unknown[]][])('refuses a batch with a bad %s, writing nothing', async (field, input) => {
    const before = JSON.stringify(await m.Community.find({}).sort({ _id: 1 }).lean().exec());
    const res = await g.raw(SYNC, { i: input });
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect(JSON.stringify(await m.Community.find({}).sort({ _id: 1 }).lean().exec())).toBe(before);
  });
});
