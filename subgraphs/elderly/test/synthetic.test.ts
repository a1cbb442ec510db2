import { generateCity } from '../../../scripts/synthetic/city';
import { createElderlyServer, subgraph } from '..';
import { gql, startSubgraph, startTestDatabase, type Engine, type RunningSubgraph } from '../../../test/helpers/subgraph';
import { registerModels, type Models } from '../models';
import { deriveRiskTier, isMajorEvent, nextVisitDue, VISIT_INTERVAL_DAYS, type RiskTier } from '../services/risk';
import { DEMO, seedSynthetic } from '../seed';

const AS_OF = new Date('2026-11-01T00:00:00Z');
const city = generateCity(200, 7);
let engine: Engine;
let sg: RunningSubgraph;
let m: Models;
let written: number;

beforeAll(async () => {
  engine = await startTestDatabase();
  sg = await startSubgraph({ ...subgraph, create: (conn, logger) => createElderlyServer(conn, logger, { now: () => AS_OF }) }, engine.uri);
  m = registerModels(sg.conn);
  written = await seedSynthetic(sg.conn, city.communities, 7, { asOf: AS_OF });
});
afterAll(async () => {
  await sg?.close();
  await engine?.stop();
});

const fingerprint = async () =>
  (await m.Resident.find({}, { _id: 1, riskTier: 1, livingArrangement: 1, nextVisitDue: 1, phone: 1 }).sort({ _id: 1 }).lean()).map((r) => JSON.stringify(r));

describe('elderly synthetic city', () => {
  it('writes a register, visits, teams, meal programmes and providers for the synthetic 小区, leaving the demo rows alone', async () => {
    const [refs, residents, visits, teams, meals, providers] = await Promise.all([
      m.CommunityRef.countDocuments(), m.Resident.countDocuments(), m.HomeVisit.countDocuments(),
      m.CareTeam.countDocuments(), m.MealProgram.countDocuments(), m.ServiceProvider.countDocuments(),
    ]);
    expect(refs).toBe(city.communities.length + 4);
    expect(residents).toBeGreaterThan(city.communities.length * 3);
    expect(visits).toBeGreaterThanOrEqual(residents);
    expect(written).toBe(refs - 4 + residents + visits + (teams - 1) + (meals - 1) + (providers - 3));
    expect(await m.Resident.countDocuments({ communityId: { $in: Object.values(DEMO) } })).toBe(0);
    expect(await m.CareTeam.countDocuments({ synthetic: { $ne: true } })).toBe(1);
  });

  it('is deterministic for a seed and re-seeding does not duplicate', async () => {
    const before = await fingerprint();
    const count = await m.HomeVisit.countDocuments();
    await seedSynthetic(sg.conn, city.communities, 7, { asOf: AS_OF });
    expect(await fingerprint()).toEqual(before);
    expect(await m.HomeVisit.countDocuments()).toBe(count);
  });

  it('keeps PII synthetic: test phone range, hashed ID only', async () => {
    const sample = await m.Resident.find({}).limit(200).lean();
    for (const r of sample) {
      expect(r.phone).toMatch(/^1380000\d{4}$/);
      expect(r.idCardHash).toMatch(/^[0-9a-f]{64}$/);
      if (r.emergencyContact) expect(r.emergencyContact.phone).toMatch(/^1380000\d{4}$/);
    }
  });

  it('follows the tier rules: tier, interval and next due date agree with the latest contact', async () => {
    const residents = await m.Resident.find({}).lean();
    const latest = await m.HomeVisit.aggregate<{ _id: string; at: Date; outcome: string }>([
      { $sort: { elderId: 1, visitedAt: -1 } },
      { $group: { _id: '$elderId', at: { $first: '$visitedAt' }, outcome: { $first: '$outcome' } } },
    ]);
    const byElder = new Map(latest.map((l) => [l._id, l]));
    for (const r of residents) {
      const tier = deriveRiskTier({ ageBand: r.ageBand, livingArrangement: r.livingArrangement, difficultyFlags: r.difficultyFlags });
      expect(r.riskTier).toBe(tier);
      expect(r.visitIntervalDays).toBe(VISIT_INTERVAL_DAYS[tier as RiskTier]);
      const l = byElder.get(r._id)!;
      expect(r.lastVisitedAt).toEqual(l.at);
      expect(r.nextVisitDue).toEqual(nextVisitDue(l.at, tier, isMajorEvent(l.outcome)));
    }
    const share = (n: number) => n / residents.length;
    expect(share(residents.filter((r) => r.livingArrangement === 'LIVING_ALONE').length)).toBeGreaterThan(0.03);
    expect(share(residents.filter((r) => r.livingArrangement === 'LIVING_ALONE').length)).toBeLessThan(0.1);
    expect(share(residents.filter((r) => r.riskTier === 'KEY').length)).toBeGreaterThan(0.1);
  });

  it('answers city statistics from the database consistent with the rows, with most visits on time', async () => {
    const res = await gql(sg.url, `{ _entities(representations: [{ __typename: "City", code: "320100" }]) { ... on City { elderlyStats {
      registered livingAlone highRisk visitedLast30d monthlyVisitRate overdueVisits holidayVisitsLast12m } } } }`);
    expect(res.errors).toBeUndefined();
    const s = res.data!._entities[0].elderlyStats;
    expect(s.registered).toBe(await m.Resident.countDocuments({ cityCode: '320100', status: 'ACTIVE' }));
    expect(s.livingAlone).toBe(await m.Resident.countDocuments({ cityCode: '320100', livingArrangement: 'LIVING_ALONE' }));
    expect(s.overdueVisits).toBe(await m.Resident.countDocuments({ cityCode: '320100', nextVisitDue: { $lt: AS_OF } }));
    expect(s.monthlyVisitRate).toBeCloseTo(s.visitedLast30d / s.registered, 10);
    expect(s.overdueVisits / s.registered).toBeGreaterThan(0.02);
    expect(s.overdueVisits / s.registered).toBeLessThan(0.2);
    expect(s.holidayVisitsLast12m).toBeGreaterThan(0);
  });

  it('ranks 小区 by visit coverage, lowest first, and lists meal programmes with the 小区 they serve', async () => {
    const cov = await gql(sg.url, `{ visitCoverage(cityCode: "320100", first: 20) { totalCount edges { node { community { id } } } } }`);
    expect(cov.errors).toBeUndefined();
    expect(cov.data!.visitCoverage.totalCount).toBeGreaterThan(0);
    const meals = await gql(sg.url, `{ mealPrograms(cityCode: "320100") { type communitiesServed { id } beneficiaryCount } }`);
    expect(meals.errors).toBeUndefined();
    for (const p of meals.data!.mealPrograms) {
      expect(p.communitiesServed.length).toBeGreaterThanOrEqual(1);
      expect(p.communitiesServed.length).toBeLessThanOrEqual(4);
      expect(p.beneficiaryCount).toBeGreaterThanOrEqual(20);
    }
  });
});
