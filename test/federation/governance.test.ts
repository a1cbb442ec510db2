/**
 * governance through the real gateway and the four subgraphs: the 美好家园 score's `@requires`
 * fields arrive from properties, elderly and renovation; tickets join property companies; the
 * scores the nightly mutation stores rank candidates whose names come from properties.
 */
import { startStack, type RunningStack } from '../../scripts/stack';
import { gql } from '../helpers/subgraph';

const RUIJIN = 'cm_320104_0001';
const YIJIANG = 'cm_320113_0001';
const DONGFANG = 'cm_320706_0001';
const XINHAI = 'cm_320706_0002';

let stack: RunningStack;
beforeAll(async () => {
  stack = await startStack({
    seed: 'always',
    logLevel: 'silent',
    gatewayTuning: { subgraphTimeoutsMs: { properties: 15_000, governance: 15_000, elderly: 15_000, renovation: 15_000 } },
  });
}, 120_000);
afterAll(async () => {
  await stack?.stop();
});

async function q(query: string, variables?: Record<string, unknown>) {
  const res = await gql(stack.gatewayUrl, query, variables);
  if (res.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(res.errors)}`);
  return res.data as any;
}

describe('governance in the federated graph', () => {
  it('scores each article 小区 with the fields the owning bureaus return (@requires)', async () => {
    const FIELDS = `name feeCollection { amountRate } latestSatisfaction { percent } elderlyStats { monthlyVisitRate } renovationSummary { status }
      beautifulHomeScore beautifulHome { score coverage breakdown { dimension indicators { key value score source } } }`;
    const res = await q(`{ ${[RUIJIN, YIJIANG, DONGFANG, XINHAI].map((id, i) => `c${i}: community(id: "${id}") { ${FIELDS} }`).join(' ')} }`);
    for (const c of Object.values(res) as any[]) {
      const ind = Object.fromEntries(c.beautifulHome.breakdown.flatMap((d: any) => d.indicators.map((i: any) => [i.key, i])));
      expect(ind.feeAmountRate).toMatchObject({ source: 'properties', value: c.feeCollection?.amountRate ?? null });
      expect(ind.satisfactionPercent).toMatchObject({ source: 'properties', value: c.latestSatisfaction?.percent ?? null });
      expect(ind.elderlyMonthlyVisitRate).toMatchObject({ source: 'elderly', value: c.elderlyStats?.monthlyVisitRate ?? null });
      const renovationScored = ind.renovationStatus.score != null;
      expect(renovationScored).toBe(c.renovationSummary?.status != null);
      expect(c.beautifulHomeScore).toBe(c.beautifulHome.score);
      expect(c.beautifulHome.coverage).toBeGreaterThan(0);
    }
    // 瑞金新村's 97% satisfaction (properties) reaches governance's service-quality indicator.
    const ruijin = res.c0.beautifulHome.breakdown.find((d: any) => d.dimension === 'SERVICE_QUALITY');
    expect(ruijin.indicators.find((i: any) => i.key === 'satisfactionPercent').value).toBe(97);
  });

  it('opens a ticket through the gateway and lists the backlog with the company from properties', async () => {
    const created = await q(`mutation { createServiceTicket(input: {
      communityId: "${RUIJIN}", channel: ONSITE_12345_DESK, serviceCode: EBIKE_CHARGING, description: "电动车充电难", clientKey: "fed-test-1" }) {
      id status open311Status dueAt community { name } company { uscc name } } }`);
    expect(created.createServiceTicket).toMatchObject({ status: 'RECEIVED', open311Status: 'open', community: { name: '瑞金新村' }, company: { name: '明商集团恒兆公司' } });
    const backlog = await q(`{ tickets(filter: { cityCode: "320100", status: [RECEIVED, DISPATCHED, IN_PROGRESS, SUPERVISING] }) {
      edges { node { id serviceCode dueAt community { name currentContract { company { name } } } } } } }`);
    expect(backlog.tickets.edges.map((e: any) => e.node)).toContainEqual({
      id: created.createServiceTicket.id,
      serviceCode: 'EBIKE_CHARGING',
      dueAt: created.createServiceTicket.dueAt,
      community: { name: '瑞金新村', currentContract: { company: { name: '明商集团恒兆公司' } } },
    });
    const overview = await q(`{ city(code: "320100") { name ticketStats(range: LAST_30D) { opened backlog } committeeStats { withOwnersCommittee withPMC } } }`);
    expect(overview.city).toMatchObject({ name: '南京市', ticketStats: { opened: 1, backlog: 1 }, committeeStats: { withOwnersCommittee: 1, withPMC: 1 } });
  });

  it('stores scores with the nightly mutation (governance’s own records only) and ranks candidates, names joined from properties', async () => {
    const run = await q(`mutation { recordBeautifulHomeScores(cityCode: "320700") { cityCode recorded } }`);
    expect(run.recordBeautifulHomeScores).toEqual({ cityCode: '320700', recorded: 2 });
    // A query no longer stores anything: persist: true is refused through the gateway too.
    const refused = await gql(stack.gatewayUrl, `{ community(id: "${DONGFANG}") { beautifulHome(persist: true) { score } } }`);
    expect(refused.errors?.map((e) => [e.extensions?.code, e.extensions?.field])).toEqual([['BAD_USER_INPUT', 'persist']]);
    // The stored scores are what governance computes without the other bureaus' figures.
    const governance = stack.subgraphs.find((s) => s.name === 'governance')!.url;
    const own = await gql(governance, `query($r: [_Any!]!) { _entities(representations: $r) { ... on Community { beautifulHome { score } } } }`, {
      r: [DONGFANG, XINHAI].map((id) => ({ __typename: 'Community', id })),
    });
    const scores = own.data!._entities.map((e: any) => e.beautifulHome.score as number);
    const ranked = await q(`{ typicalCaseCandidates(cityCode: "320700", excludeDesignated: false) { rank beautifulHomeScore community { name } } }`);
    expect(ranked.typicalCaseCandidates.map((c: any) => c.beautifulHomeScore)).toEqual([...scores].sort((a, b) => b - a));
    expect(ranked.typicalCaseCandidates.map((c: any) => c.community.name).sort()).toEqual(['东方瑞园', '新海花园']);
    const designatedOut = await q(`{ typicalCaseCandidates(cityCode: "320700") { rank } }`);
    expect(designatedOut.typicalCaseCandidates).toEqual([]); // both are national typical cases already
  });
});
