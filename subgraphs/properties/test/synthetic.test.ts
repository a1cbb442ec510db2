import { cstMonth, cstMonthStart, now } from '../../../lib/clock';
import { generateCity } from '../../../scripts/synthetic/city';
import { pinClock } from '../../../test/helpers/clock';
import { subgraph } from '..';
import { gql, startSubgraph, startTestDatabase, type Engine, type RunningSubgraph } from '../../../test/helpers/subgraph';
import { DEMO } from '../seed';
import { seedSyntheticProperties, syntheticPeriods } from '../seed-synthetic';

let engine: Engine;
let sg: RunningSubgraph;
const city = generateCity(300, 7);
// The synthetic rows are dated relative to the product clock: stop it so seed and assertions agree.
const pinned = pinClock(now());
/** Last month (CST): the newest synthetic fee period. */
const LAST_MONTH = cstMonth(cstMonthStart(now(), -1));

beforeAll(async () => {
  engine = await startTestDatabase();
  sg = await startSubgraph(subgraph, engine.uri);
  await seedSyntheticProperties(sg.conn, city, 7);
});
afterAll(async () => {
  await sg?.close();
  await engine?.stop();
  pinned.restore();
});

describe('properties synthetic city', () => {
  it('generates the same city for the same seed and a different one for another seed', () => {
    expect(generateCity(300, 7)).toEqual(city);
    expect(generateCity(300, 8).communities[0]).not.toEqual(city.communities[0]);
  });

  it('adds the synthetic 小区 on top of the four article 小区, and re-seeding does not duplicate', async () => {
    await seedSyntheticProperties(sg.conn, city, 7);
    const res = await gql(sg.url, '{ communities(first: 1) { totalCount } }');
    expect(res.data!.communities.totalCount).toBe(city.communities.length + 4);
  });

  it('computes city counts in the database that match the generated skeleton', async () => {
    const nanjing = city.communities.filter((c) => c.cityCode === '320100');
    const res = await gql(sg.url, '{ city(code: "320100") { communityCount oldCommunityCount } }');
    // +2: 瑞金新村 (old) and 怡江苑 (not old) from the article.
    expect(res.data!.city).toEqual({
      communityCount: nanjing.length + 2,
      oldCommunityCount: nanjing.filter((c) => c.isOld).length + 1,
    });
  });

  it('dates fee periods, surveys and contracts relative to the clock: the 12 complete months before this one', async () => {
    const periods = syntheticPeriods(now());
    expect(periods).toHaveLength(12);
    expect(periods[0]).toBe(LAST_MONTH);
    expect(periods[11]).toBe(cstMonth(cstMonthStart(now(), -12)));
    expect(periods).not.toContain(cstMonth(now())); // the current month is not complete
    const managed = city.communities.find((c) => c.managementMode === 'MARKET')!;
    const res = await gql(sg.url, `query($id: ID!) { community(id: $id) { feeHistory(last: 24) { period amountRate }
      latestSatisfaction { period percent } currentContract { startDate endDate } } }`, { id: managed.id });
    expect(res.errors).toBeUndefined();
    const c = res.data!.community;
    expect(c.feeHistory.map((f: { period: string }) => f.period)).toEqual(periods);
    for (const f of c.feeHistory) expect(f.amountRate).toBeGreaterThan(0);
    // Surveys each quarter: the latest is the newest quarter-end month among the periods.
    expect(c.latestSatisfaction.period).toBe(periods.find((p) => /-(03|06|09|12)$/.test(p)));
    // A running three-year contract: started before this month, ends after it.
    expect(new Date(c.currentContract.startDate).getTime()).toBeLessThan(now().getTime());
    expect(new Date(c.currentContract.endDate).getTime()).toBeGreaterThan(now().getTime());
    expect(new Date(c.currentContract.endDate).getTime() - new Date(c.currentContract.startDate).getTime()).toBeGreaterThan(3 * 365 * 86_400_000 - 2 * 86_400_000);
  });

  it('ranks districts by amount rate in the subgraph, best first, with rates from raw figures', async () => {
    const res = await gql(sg.url, `{ districtFeeRanking(cityCode: "320100", period: "${LAST_MONTH}") { rank district { code } feeCollection { amountRate receivableFen receivedFen } } }`);
    expect(res.errors).toBeUndefined();
    const rows = res.data!.districtFeeRanking as any[];
    expect(rows.length).toBeGreaterThan(5);
    expect(rows.map((r) => r.rank)).toEqual(rows.map((_, i) => i + 1));
    for (let i = 1; i < rows.length; i++) expect(rows[i - 1].feeCollection.amountRate).toBeGreaterThanOrEqual(rows[i].feeCollection.amountRate);
    for (const r of rows) expect(r.feeCollection.amountRate).toBeCloseTo(r.feeCollection.receivedFen / r.feeCollection.receivableFen, 10);
  });

  it("never writes synthetic rows for the article's 小区, even when a skeleton names one", async () => {
    const impostor = { ...city.communities.find((c) => c.managementMode === 'MARKET')!, id: DEMO.yijiang, name: '冒名小区' };
    await seedSyntheticProperties(sg.conn, { areas: [], communities: [impostor] }, 7);
    const res = await gql(sg.url, `{ community(id: "${DEMO.yijiang}") { name feeHistory { period } } communities(first: 0) { totalCount } }`);
    expect(res.data!.community).toEqual({ name: '怡江苑', feeHistory: [{ period: '2022' }] });
    expect(res.data!.communities.totalCount).toBe(4); // the earlier synthetic city was replaced by nothing
    await seedSyntheticProperties(sg.conn, city, 7); // back to the city the other tests use
  });
});
