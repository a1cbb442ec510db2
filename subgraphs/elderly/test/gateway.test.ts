/**
 * The elderly operations (docs/domain.md, "Bureaus and entities") through a real gateway (all four subgraphs on the embedded
 * engine) on a small synthetic city whose answers are read back from the database: LivingAlone-
 * Coverage (4), OverdueVisitsWorklist (5), RecordHomeVisit (6), MealProgramReach (19) and the
 * elderly part of CityOverview (1).
 */
import { startStack, type RunningStack } from '../../../scripts/stack';
import { DAY_MS, HOUR_MS, now, rangeStart } from '../../../lib/clock';
import { pinClock } from '../../../test/helpers/clock';
import { generateCity } from '../../../scripts/synthetic/city';
import { seedSyntheticProperties } from '../../properties/seed-synthetic';
import { authHeader } from '../../../test/helpers/tokens';
import { gql } from '../../../test/helpers/subgraph';
import { registerModels, type Models } from '../models';
import { seedSynthetic } from '../seed';

// Seed, servers and assertions share one instant of the product clock.
const pinned = pinClock(now());
const city = generateCity(60, 11);
const names = new Map(city.communities.map((c) => [c.id, c.name]));
let stack: RunningStack;
let m: Models;

beforeAll(async () => {
  stack = await startStack({
    seed: 'always',
    logLevel: 'silent',
    gatewayTuning: { subgraphTimeoutsMs: { properties: 15_000, governance: 15_000, elderly: 15_000, renovation: 15_000 } },
    beforeListen: async (conns) => {
      await seedSyntheticProperties(conns.get('properties')!, city, 11, 1);
      // A larger register share so most 小区 have figures above the suppression threshold.
      await seedSynthetic(conns.get('elderly')!, city.communities, 11, { registerShare: 0.15 });
    },
  });
  m = registerModels(stack.subgraphs.find((s) => s.name === 'elderly')!.conn);
}, 180_000);
afterAll(async () => {
  await stack?.stop();
  pinned.restore();
});

describe('elderly operations through the gateway', () => {
  it('CityOverview: 南京’s register figures equal the database counts (exact for civil affairs; anonymous: each published or suppressed)', async () => {
    const q = `{ city(code: "320100") { name elderlyStats { registered livingAlone monthlyVisitRate overdueVisits } } }`;
    // Exact figures need individual-level access; an anonymous caller gets each figure or null
    // (complementary suppression can withhold even a city total, e.g. at 00:30 on 1 January, when no
    // 小区 has a visit this month yet).
    const res = await gql(stack.gatewayUrl, q, undefined, await authHeader('CIVIL_AFFAIRS'));
    expect(res.errors).toBeUndefined();
    const s = res.data!.city.elderlyStats;
    const anonymous = await gql(stack.gatewayUrl, q);
    expect(anonymous.errors).toBeUndefined();
    for (const [k, v] of Object.entries(anonymous.data!.city.elderlyStats)) if (v !== null) expect([k, v]).toEqual([k, s[k]]);
    expect(res.data!.city.name).toBe('南京市');
    expect(s.registered).toBe(await m.Resident.countDocuments({ cityCode: '320100', status: 'ACTIVE' }));
    expect(s.livingAlone).toBe(await m.Resident.countDocuments({ cityCode: '320100', status: 'ACTIVE', livingArrangement: 'LIVING_ALONE' }));
    expect(s.overdueVisits).toBe(await m.Resident.countDocuments({ cityCode: '320100', status: 'ACTIVE', nextVisitDue: { $lt: now() } }));
    expect(s.monthlyVisitRate).toBeGreaterThan(0);
    expect(s.monthlyVisitRate).toBeLessThan(1);
  });

  it('LivingAloneCoverage: 小区 below the 100% monthly visit target, lowest first, with names from properties', async () => {
    const res = await gql(stack.gatewayUrl, `{ visitCoverage(cityCode: "320100", first: 10) { totalCount edges { node {
      community { id name } elderlyStats { registered visitedLast30d monthlyVisitRate } } } } }`);
    expect(res.errors).toBeUndefined();
    const rows = res.data!.visitCoverage.edges.map((e: any) => e.node);
    expect(rows.length).toBeGreaterThan(0);
    const since = rangeStart('LAST_30D', now())!;
    const raw: number[] = [];
    for (const row of rows) {
      expect(row.community.name).toBe(names.get(row.community.id));
      const registered = await m.Resident.countDocuments({ communityId: row.community.id, status: 'ACTIVE' });
      const visited = await m.Resident.countDocuments({ communityId: row.community.id, status: 'ACTIVE', lastVisitedAt: { $gte: since } });
      raw.push(visited / registered);
      // Ranked rows are never suppressed ones (visitCoverage leaves those out for anonymous callers).
      expect(row.elderlyStats.registered).toBe(registered);
      expect(row.elderlyStats.monthlyVisitRate).toBeCloseTo(visited / registered, 10);
    }
    expect(raw).toEqual([...raw].sort((a, b) => a - b));
    expect(raw.every((r) => r < 1)).toBe(true);
  });

  it('OverdueVisitsWorklist then RecordHomeVisit: the visited resident leaves the worklist with a new due date one interval later', async () => {
    const at = now();
    const [due] = await m.Resident.find({ status: 'ACTIVE', nextVisitDue: { $lt: at }, riskTier: 'HIGH' }).sort({ communityId: 1 }).limit(1).lean();
    expect(due).toBeDefined();
    const expected = await m.Resident.find({ communityId: due.communityId, status: 'ACTIVE', nextVisitDue: { $lt: at } }).sort({ nextVisitDue: 1, _id: 1 }).lean();
    // The worklist is individual-level data: the care team serving the 小区 reads it.
    const team = await authHeader('CARE_TEAM', { team: 'ct_gateway_test', communities: [due.communityId] });
    const list = await gql(stack.gatewayUrl, `query($c: ID!, $b: DateTime) { elderlyDue(communityId: $c, before: $b) { id ageBand livingArrangement riskTier nextVisitDue } }`, {
      c: due.communityId, b: at.toISOString(),
    }, team);
    expect(list.errors).toBeUndefined();
    expect(list.data!.elderlyDue.map((r: any) => r.id)).toEqual(expected.map((r) => r._id));
    expect(list.data!.elderlyDue.find((r: any) => r.id === due._id)).toEqual({
      id: due._id, ageBand: due.ageBand, livingArrangement: due.livingArrangement, riskTier: 'HIGH', nextVisitDue: due.nextVisitDue!.toISOString(),
    });

    const visitedAt = new Date(at.getTime() - HOUR_MS).toISOString();
    const rec = await gql(stack.gatewayUrl, `mutation($e: ID!, $at: DateTime) { recordHomeVisit(elderId: $e, mode: IN_PERSON, occasion: HOLIDAY, outcome: OK, visitedAt: $at, clientKey: "gw-visit-0001") {
      nextVisitDue visit { occasion community { name } } } }`, { e: due._id, at: visitedAt });
    expect(rec.errors).toBeUndefined();
    expect(rec.data!.recordHomeVisit.nextVisitDue).toBe(new Date(new Date(visitedAt).getTime() + 7 * DAY_MS).toISOString());
    expect(rec.data!.recordHomeVisit.visit).toEqual({ occasion: 'HOLIDAY', community: { name: names.get(due.communityId) } });
    const after = await gql(stack.gatewayUrl, `query($c: ID!) { elderlyDue(communityId: $c) { id } }`, { c: due.communityId }, team);
    expect(after.data!.elderlyDue.map((r: any) => r.id)).not.toContain(due._id);
  });

  it('MealProgramReach: 东方瑞园’s 爱心餐桌 with its operator from properties', async () => {
    const res = await gql(stack.gatewayUrl, `{ mealPrograms(cityCode: "320700", type: LOVE_TABLE) { type name venue operator { name } communitiesServed { name elderlyStats { registered } } eligibility } }`);
    expect(res.errors).toBeUndefined();
    const demo = res.data!.mealPrograms.find((p: any) => p.name === '温馨之家');
    expect(demo).toEqual({
      type: 'LOVE_TABLE', name: '温馨之家', venue: '“温馨之家”食堂', operator: { name: '江苏杨辉物业服务有限公司' },
      // Nobody registered: a zero is a small count, suppressed for an anonymous caller.
      communitiesServed: [{ name: '东方瑞园', elderlyStats: { registered: null } }], eligibility: ['LIVING_ALONE_DIFFICULTY'],
    });
  });

  it('Life circle: a 小区’s meal programmes within 1,000 m equal the engine’s own $geoNear answer, nearest first', async () => {
    // a synthetic 小区 hosting a meal programme with a venue (so at least one is near it)
    const host = await m.MealProgram.findOne({ synthetic: true, location: { $exists: true } }).sort({ _id: 1 }).lean();
    expect(host).not.toBeNull();
    const id = host!.communityIds[0];
    const ref = await m.CommunityRef.findById(id).lean();
    const expected = await m.MealProgram.aggregate([
      { $geoNear: { near: ref!.location as { type: 'Point'; coordinates: [number, number] }, distanceField: 'd', maxDistance: 1000, key: 'location' } },
      { $project: { d: 1 } },
    ]);
    expect(expected.length).toBeGreaterThan(0);
    const res = await gql(stack.gatewayUrl, `query($id: ID!) { community(id: $id) { name mealProgramsWithin { distanceM mealProgram { id name location { longitude latitude } } } } }`, { id });
    expect(res.errors).toBeUndefined();
    const rows = res.data!.community.mealProgramsWithin;
    expect(rows.map((r: any) => r.mealProgram.id)).toEqual(expected.map((e) => e._id));
    rows.forEach((r: any, i: number) => expect(r.distanceM).toBe(Math.round(expected[i].d)));
    expect(rows[0].mealProgram.location.longitude).toBeCloseTo(host!.location!.coordinates[0], 6);
  });

  it('Life circle: 东方瑞园’s canteen is at the 小区 (0 m); care facilities within 3 km match the database', async () => {
    const res = await gql(stack.gatewayUrl, `{ community(id: "cm_320706_0001") { mealProgramsWithin(metres: 50) { distanceM mealProgram { name } } } }`);
    expect(res.errors).toBeUndefined();
    expect(res.data!.community.mealProgramsWithin).toEqual([{ distanceM: 0, mealProgram: { name: '温馨之家' } }]);
    const sp = await m.ServiceProvider.findOne({ synthetic: true, location: { $exists: true } }).sort({ _id: 1 }).lean();
    const ref = await m.CommunityRef.findById(sp!.communityIds[0]).lean();
    const near = await m.ServiceProvider.find({ location: { $nearSphere: { $geometry: ref!.location, $maxDistance: 3000 } } }).lean();
    const fac = await gql(stack.gatewayUrl, `query($id: ID!) { community(id: $id) { careFacilitiesWithin(metres: 3000) { distanceM serviceProvider { id distanceM } } } }`, { id: ref!._id });
    expect(fac.errors).toBeUndefined();
    const got = fac.data!.community.careFacilitiesWithin;
    expect(got.map((r: any) => r.serviceProvider.id)).toEqual(near.map((d) => d._id));
    // the provider placed `distanceM` from its 小区 is found at that distance (within rounding)
    const own = got.find((r: any) => r.serviceProvider.id === sp!._id);
    expect(Math.abs(own.distanceM - sp!.distanceM!)).toBeLessThanOrEqual(2);
  });

  it('Life circle: a district’s coverage is the share of its located 小区 with a meal programme within 1,000 m', async () => {
    const districtCode = city.communities[0].districtCode;
    const refs = await m.CommunityRef.find({ districtCode, location: { $exists: true } }).lean();
    let covered = 0;
    for (const r of refs) {
      const hit = await m.MealProgram.findOne({ location: { $nearSphere: { $geometry: r.location, $maxDistance: 1000 } } }).lean();
      if (hit) covered++;
    }
    const res = await gql(stack.gatewayUrl, `query($c: ID!) { district(code: $c) { lifeCircleCoverage { metres communitiesWithLocation covered share } } }`, { c: districtCode });
    expect(res.errors).toBeUndefined();
    expect(res.data!.district.lifeCircleCoverage).toEqual({ metres: 1000, communitiesWithLocation: refs.length, covered, share: covered / refs.length });
    expect(refs.length).toBeGreaterThan(0);
  });

  it('Life circle: a radius outside 1-5000 m is BAD_USER_INPUT naming metres', async () => {
    const res = await gql(stack.gatewayUrl, `{ community(id: "cm_320706_0001") { mealProgramsWithin(metres: 0) { distanceM } } }`);
    expect(res.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0].message).toContain('metres');
    const d = await gql(stack.gatewayUrl, `{ district(code: "320706") { lifeCircleCoverage(metres: 9000) { share } } }`);
    expect(d.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('refuses bad input through the gateway with BAD_USER_INPUT naming the field', async () => {
    const res = await gql(stack.gatewayUrl, `mutation { recordHomeVisit(elderId: "el_nope", mode: IN_PERSON, occasion: ROUTINE, outcome: OK) { nextVisitDue } }`);
    expect(res.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0].message).toContain('elderId');
  });
});
