/**
 * The synthetic register, generated as of the product clock (pinned for this file, so the generator,
 * the server and the assertions agree on one instant): visit plans, 30-day figures, overdue visits
 * and the holiday visits of the last 12 months are relative to it, so they hold data on any date.
 */
import { generateCity } from '../../../scripts/synthetic/city';
import { subgraph } from '..';
import { cstDayStart, DAY_MS, now, rangeStart } from '../../../lib/clock';
import { pinClock } from '../../../test/helpers/clock';
import { gql, startSubgraph, startTestDatabase, type Engine, type RunningSubgraph } from '../../../test/helpers/subgraph';
import { authHeader } from '../../../test/helpers/tokens';
import { registerModels, type Models } from '../models';
import { deriveRiskTier, isMajorEvent, nextVisitDue, VISIT_INTERVAL_DAYS, type RiskTier } from '../services/risk';
import { DEMO, seedSynthetic } from '../seed';

const pinned = pinClock(now());
/** The generator's default as-of: 00:00 CST of the current day. */
const AS_OF = cstDayStart(now());
const city = generateCity(200, 7);
let engine: Engine;
let sg: RunningSubgraph;
let m: Models;
let written: number;

beforeAll(async () => {
  engine = await startTestDatabase();
  sg = await startSubgraph(subgraph, engine.uri);
  m = registerModels(sg.conn);
  written = await seedSynthetic(sg.conn, city.communities, 7);
});
afterAll(async () => {
  await sg?.close();
  await engine?.stop();
  pinned.restore();
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
    const q = `{ _entities(representations: [{ __typename: "City", code: "320100" }]) { ... on City { elderlyStats {
      registered livingAlone highRisk visitedLast30d monthlyVisitRate overdueVisits holidayVisitsLast12m } } } }`;
    // Exact figures need individual-level access; an anonymous caller gets each figure or null
    // (complementary suppression can withhold even a city total on some dates).
    const res = await gql(sg.url, q, undefined, await authHeader('CIVIL_AFFAIRS'));
    expect(res.errors).toBeUndefined();
    const s = res.data!._entities[0].elderlyStats;
    const anonymous = await gql(sg.url, q);
    expect(anonymous.errors).toBeUndefined();
    for (const [k, v] of Object.entries(anonymous.data!._entities[0].elderlyStats)) if (v !== null) expect([k, v]).toEqual([k, s[k]]);
    expect(s.registered).toBe(await m.Resident.countDocuments({ cityCode: '320100', status: 'ACTIVE' }));
    expect(s.livingAlone).toBe(await m.Resident.countDocuments({ cityCode: '320100', livingArrangement: 'LIVING_ALONE' }));
    expect(s.overdueVisits).toBe(await m.Resident.countDocuments({ cityCode: '320100', nextVisitDue: { $lt: now() } }));
    expect(s.visitedLast30d).toBe(await m.Resident.countDocuments({ cityCode: '320100', lastVisitedAt: { $gte: rangeStart('LAST_30D', now())! } }));
    expect(s.monthlyVisitRate).toBeCloseTo(s.visitedLast30d / s.registered, 10);
    expect(s.monthlyVisitRate).toBeGreaterThan(0.25);
    expect(s.overdueVisits / s.registered).toBeGreaterThan(0.02);
    expect(s.overdueVisits / s.registered).toBeLessThan(0.2);
    expect(s.holidayVisitsLast12m).toBeGreaterThan(0);
    expect(s.holidayVisitsLast12m).toBe(
      await m.HomeVisit.countDocuments({ cityCode: '320100', occasion: 'HOLIDAY', visitedAt: { $gte: rangeStart('LAST_12M', now())! } }),
    );
  });

  it('dates every visit before the as-of, holiday visits on the festivals of the 12 months before it', async () => {
    const [newest] = await m.HomeVisit.find({}).sort({ visitedAt: -1 }).limit(1).lean();
    expect(newest.visitedAt.getTime()).toBeLessThan(AS_OF.getTime());
    const days = await m.HomeVisit.distinct('visitedAt', { occasion: 'HOLIDAY' });
    // 春节, 中秋 and 重阳 fall in any 365 days; each at 10:00 CST on its day.
    expect(days.length).toBeGreaterThanOrEqual(2);
    expect(days.length).toBeLessThanOrEqual(4);
    for (const d of days as Date[]) {
      expect(d.getTime()).toBeGreaterThanOrEqual(AS_OF.getTime() - 365 * DAY_MS);
      expect(d.getTime() - cstDayStart(d).getTime()).toBe(10 * 3600_000);
    }
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

  it('never runs out of festivals: holiday visits and current plans on an as-of decades on', async () => {
    const later = cstDayStart(new Date(AS_OF.getTime() + 30 * 365 * DAY_MS));
    await seedSynthetic(sg.conn, city.communities, 7, { asOf: later });
    try {
      const holidays = await m.HomeVisit.distinct('visitedAt', { occasion: 'HOLIDAY' });
      expect(holidays.length).toBeGreaterThanOrEqual(2);
      for (const d of holidays as Date[]) {
        expect(d.getTime()).toBeLessThan(later.getTime());
        expect(d.getTime()).toBeGreaterThanOrEqual(later.getTime() - 365 * DAY_MS);
      }
      const registered = await m.Resident.countDocuments({ status: 'ACTIVE' });
      const visited = await m.Resident.countDocuments({ lastVisitedAt: { $gte: rangeStart('LAST_30D', later)! } });
      const overdue = await m.Resident.countDocuments({ nextVisitDue: { $lt: later } });
      expect(visited / registered).toBeGreaterThan(0.25);
      expect(overdue).toBeGreaterThan(0);
      const [newest] = await m.HomeVisit.find({}).sort({ visitedAt: -1 }).limit(1).lean();
      expect(newest.visitedAt.getTime()).toBeLessThan(later.getTime());
      expect(newest.visitedAt.getTime()).toBeGreaterThan(later.getTime() - 7 * DAY_MS);
    } finally {
      await seedSynthetic(sg.conn, city.communities, 7);
    }
  });
});
