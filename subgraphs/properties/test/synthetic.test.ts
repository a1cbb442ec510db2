import { generateCity } from '../../../scripts/synthetic/city';
import { subgraph } from '..';
import { gql, startSubgraph, startTestDatabase, type Engine, type RunningSubgraph } from '../../../test/helpers/subgraph';
import { seedSyntheticProperties } from '../seed-synthetic';

let engine: Engine;
let sg: RunningSubgraph;
const city = generateCity(300, 7);

beforeAll(async () => {
  engine = await startTestDatabase();
  sg = await startSubgraph(subgraph, engine.uri);
  await seedSyntheticProperties(sg.conn, city, 7);
});
afterAll(async () => {
  await sg?.close();
  await engine?.stop();
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

  it('ranks districts by amount rate in the subgraph, best first, with rates from raw figures', async () => {
    const res = await gql(sg.url, '{ districtFeeRanking(cityCode: "320100", period: "2026-10") { rank district { code } feeCollection { amountRate receivableFen receivedFen } } }');
    expect(res.errors).toBeUndefined();
    const rows = res.data!.districtFeeRanking as any[];
    expect(rows.length).toBeGreaterThan(5);
    expect(rows.map((r) => r.rank)).toEqual(rows.map((_, i) => i + 1));
    for (let i = 1; i < rows.length; i++) expect(rows[i - 1].feeCollection.amountRate).toBeGreaterThanOrEqual(rows[i].feeCollection.amountRate);
    for (const r of rows) expect(r.feeCollection.amountRate).toBeCloseTo(r.feeCollection.receivedFen / r.feeCollection.receivableFen, 10);
  });
});
