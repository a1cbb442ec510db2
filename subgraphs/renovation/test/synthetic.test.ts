/**
 * The synthetic renovation rows, generated as of the product clock's now (pinned for this file, so
 * the generator, the server and the assertions agree on one instant): plan years, statuses, spend,
 * lateness and inspections are relative to it, so they hold data on any date.
 */
import { subgraph } from '..';
import { cstDayStart, cstYear, DAY_MS, now, rangeStart } from '../../../lib/clock';
import { pinClock } from '../../../test/helpers/clock';
import { gql, startSubgraph, startTestDatabase, type Engine, type RunningSubgraph } from '../../../test/helpers/subgraph';
import { seedSynthetic } from '../seed';
import { SYNTHETIC_PAST_YEARS, type SyntheticCommunity } from '../synthetic';

const pinned = pinClock(now());
const AS_OF = now();
const YEAR = cstYear(AS_OF);

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

const N = 120;
const communities: SyntheticCommunity[] = Array.from({ length: N }, (_, i) => ({
  id: `cm_320102_${String(i + 1).padStart(4, '0')}`,
  cityCode: '320100',
  districtCode: i % 2 ? '320102' : '320105',
  isOld: i % 3 !== 0,
  householdCount: 200 + ((i * 37) % 900),
  residentCount: Math.round((200 + ((i * 37) % 900)) * 2.6),
  builtYear: i % 3 !== 0 ? 1990 : 2010,
  managementMode: 'MARKET',
}));
// The article's real 小区 are never overwritten by the generator.
communities.push({ id: 'cm_320706_0002', cityCode: '320700', districtCode: '320706', isOld: true, householdCount: 500, residentCount: 1300, builtYear: 1998, managementMode: 'MARKET' });

const strip = (docs: Record<string, unknown>[]) => docs.map(({ createdAt: _c, updatedAt: _u, ...rest }) => rest);

describe('seedSynthetic', () => {
  let projects: any[];
  let facilities: any[];

  beforeAll(async () => {
    const written = await seedSynthetic(sg.conn, communities, 42);
    projects = await sg.conn.collection('renovation_projects').find({ synthetic: true }).sort({ _id: 1 }).toArray();
    facilities = await sg.conn.collection('facilities').find({ synthetic: true }).sort({ _id: 1 }).toArray();
    expect(written).toBe(projects.length + facilities.length);
  });

  it('gives projects only to old 小区, at about 0.25 per year over the 5 years before the as-of year and the as-of year', () => {
    const old = new Set(communities.filter((c) => c.isOld).map((c) => c.id));
    expect(projects.length).toBeGreaterThan(0);
    for (const p of projects) {
      expect(old.has(p.communityIds[0])).toBe(true);
      expect(p.planYear).toBeGreaterThanOrEqual(YEAR - SYNTHETIC_PAST_YEARS);
      expect(p.planYear).toBeLessThanOrEqual(YEAR);
    }
    expect(new Set(projects.map((p) => p.planYear)).size).toBe(SYNTHETIC_PAST_YEARS + 1);
    const perOldPerYear = projects.length / (old.size - 1) / (SYNTHETIC_PAST_YEARS + 1); // the real 小区 is skipped
    expect(perOldPerYear).toBeGreaterThan(0.12);
    expect(perOldPerYear).toBeLessThan(0.4);
    expect(projects.some((p) => p.communityIds[0] === 'cm_320706_0002')).toBe(false);
  });

  it('funds every project exactly its budget, in fen, with spend no higher than committed', () => {
    for (const p of projects) {
      expect(Number.isSafeInteger(p.budgetFen)).toBe(true);
      expect(p.fundingSources.reduce((s: number, f: any) => s + f.amountFen, 0)).toBe(p.budgetFen);
      for (const s of p.spends ?? []) {
        const f = p.fundingSources.find((x: any) => x.type === s.type);
        expect(s.amountFen).toBeLessThanOrEqual(f.amountFen);
      }
      expect(p.milestones).toHaveLength(6);
      expect(p.items.length).toBeGreaterThanOrEqual(3);
      expect(['BASIC', 'IMPROVEMENT']).toEqual(expect.arrayContaining([...new Set(p.items.map((i: any) => i.class))].filter((c) => c !== 'UPGRADE')));
    }
  });

  it('writes 8-19 facility rows per 小区, GOOD for items of completed projects', () => {
    const per = new Map<string, number>();
    for (const f of facilities) per.set(f.communityId, (per.get(f.communityId) ?? 0) + 1);
    expect(per.size).toBe(N);
    for (const n of per.values()) {
      expect(n).toBeGreaterThanOrEqual(8);
      expect(n).toBeLessThanOrEqual(19);
    }
    const fromProjects = facilities.filter((f) => f.sourceProjectId);
    for (const f of fromProjects) expect(f.condition).toBe('GOOD');
    const gapsOld = facilities.filter((f) => f.condition !== 'GOOD' && !f.sourceProjectId);
    expect(gapsOld.length).toBeGreaterThan(0);
  });

  it('is deterministic and idempotent: a rerun with the same seed writes the same rows, no duplicates', async () => {
    await seedSynthetic(sg.conn, communities, 42);
    const again = await sg.conn.collection('renovation_projects').find({ synthetic: true }).sort({ _id: 1 }).toArray();
    const againF = await sg.conn.collection('facilities').find({ synthetic: true }).sort({ _id: 1 }).toArray();
    expect(strip(again)).toEqual(strip(projects));
    expect(strip(againF)).toEqual(strip(facilities));
    // A different seed gives a different city.
    await seedSynthetic(sg.conn, communities, 7);
    const other = await sg.conn.collection('renovation_projects').find({ synthetic: true }).sort({ _id: 1 }).toArray();
    expect(strip(other)).not.toEqual(strip(projects));
    await seedSynthetic(sg.conn, communities, 42);
  });

  it('serves the synthetic city through the statistics and the late filter', async () => {
    const res = await gql(
      sg.url,
      `{ renovationStats(cityCode: "320100") { projects budget { fen } spent { fen } households costPerHousehold { amount } lateProjects byFundingSource { type committed { fen } } }
         late: renovationProjectPage(filter: { cityCode: "320100", lateOnly: true }) { totalCount } }`,
    );
    expect(res.errors).toBeUndefined();
    const s = res.data!.renovationStats;
    const nanjing = projects.filter((p) => p.cityCode === '320100');
    expect(s.projects).toBe(nanjing.length + 1); // + 瑞金新村's 2019 project (budget unknown)
    expect(s.budget.fen).toBe(nanjing.reduce((a, p) => a + p.budgetFen, 0));
    expect(s.spent.fen).toBe(nanjing.reduce((a, p) => a + (p.spentFen ?? 0), 0));
    expect(s.households).toBe(nanjing.reduce((a, p) => a + p.scope.households, 0));
    // ≈ ¥2.7万 per household (lognormal around it).
    expect(s.costPerHousehold.amount).toBeGreaterThan(20_000);
    expect(s.costPerHousehold.amount).toBeLessThan(36_000);
    expect(s.byFundingSource.find((f: any) => f.type === 'CENTRAL_SUBSIDY').committed.fen).toBeGreaterThan(0);
    const at = now();
    const jsLate = nanjing.filter((p) => p.hasLateDoneMilestone || (p.earliestOpenPlannedAt != null && p.earliestOpenPlannedAt < at)).length;
    expect(s.lateProjects).toBe(jsLate);
    expect(jsLate).toBeGreaterThan(0);
    expect(res.data!.late.totalCount).toBe(s.lateProjects);
  });

  it('resolves every field of synthetic rows (compact bulk rows read back with their defaults)', async () => {
    const p = projects.find((x) => x.spends?.length) ?? projects[0];
    const res = await gql(
      sg.url,
      `query($id: ID!, $r: [_Any!]!) { renovationProject(id: $id) { id sponsor status budget { fen } spendToDate { fen } late acceptance { result }
          fundingSources { type confirmed spent { fen } } milestones { type done late } items { class cost { fen } } contractor { name } scope { households } }
        _entities(representations: $r) { ... on Community { renovationSummary { projects latestProjectYear } facilities { type condition quantityApprox history { condition } sourceProject { id } } } } }`,
      { id: p._id, r: [{ __typename: 'Community', id: p.communityIds[0] }] },
    );
    expect(res.errors).toBeUndefined();
    const got = res.data!.renovationProject;
    expect(got).toMatchObject({ id: p._id, status: p.status, budget: { fen: p.budgetFen } });
    expect(got.milestones).toHaveLength(6);
    const community = res.data!._entities[0];
    expect(community.renovationSummary.projects).toBe(projects.filter((x) => x.communityIds[0] === p.communityIds[0]).length);
    expect(community.facilities.length).toBeGreaterThanOrEqual(8);
  });

  it('dates everything relative to the as-of: nothing done after it, finished and unfinished works, inspections in the last 12 months', () => {
    const done = new Set(['COMPLETED', 'ACCEPTED', 'LONG_TERM_MGMT']);
    for (const p of projects) {
      for (const m of p.milestones) if (m.actualAt) expect(m.actualAt.getTime()).toBeLessThanOrEqual(AS_OF.getTime());
      for (const x of p.spends ?? []) expect(x.at.getTime()).toBeLessThanOrEqual(AS_OF.getTime());
      if (p.acceptance) expect(p.acceptance.at.getTime()).toBeLessThanOrEqual(AS_OF.getTime());
      // Handover is planned in February after the plan year: the as-of year's works are never handed over.
      if (p.planYear === YEAR) expect(p.status).not.toBe('LONG_TERM_MGMT');
    }
    expect(projects.some((p) => p.status === 'LONG_TERM_MGMT')).toBe(true);
    expect(projects.some((p) => !done.has(p.status))).toBe(true);
    expect(projects.some((p) => p.planYear === YEAR)).toBe(true);
    expect(projects.filter((p) => p.spends?.length).length).toBeGreaterThan(projects.length / 2);
    const since = rangeStart('LAST_12M', AS_OF)!;
    for (const f of facilities) {
      expect(f.lastInspectedAt.getTime()).toBeGreaterThanOrEqual(since.getTime());
      expect(f.lastInspectedAt.getTime()).toBeLessThanOrEqual(AS_OF.getTime());
      expect(f.lastInspectedAt).toEqual(cstDayStart(f.lastInspectedAt));
    }
  });

  it('replaces every synthetic row: a smaller city or none leaves no orphans, demo rows stay, the statistics follow', async () => {
    const synthetic = async () => ({
      projects: await sg.conn.collection('renovation_projects').find({ synthetic: true }).sort({ _id: 1 }).toArray(),
      facilities: await sg.conn.collection('facilities').find({ synthetic: true }).sort({ _id: 1 }).toArray(),
    });
    const cityProjects = async () => (await gql(sg.url, `{ renovationStats(cityCode: "320100") { projects } }`)).data!.renovationStats.projects;
    try {
      const smaller = communities.slice(0, 30);
      const kept = new Set(smaller.map((c) => c.id));
      await seedSynthetic(sg.conn, smaller, 42);
      const after = await synthetic();
      // Exactly the rows the first run wrote for these 30 小区 (each 小区 draws from its own stream).
      expect(strip(after.projects)).toEqual(strip(projects.filter((p) => kept.has(p.communityIds[0]))));
      expect(strip(after.facilities)).toEqual(strip(facilities.filter((f) => kept.has(f.communityId))));
      expect(new Set(after.facilities.map((f) => f.communityId))).toEqual(kept);
      expect(await cityProjects()).toBe(after.projects.filter((p) => p.cityCode === '320100').length + 1); // + 瑞金新村

      // `npm run seed -- --communities 0`: no synthetic row is left, the article's rows stay.
      await seedSynthetic(sg.conn, [], 42);
      const none = await synthetic();
      expect(none.projects).toHaveLength(0);
      expect(none.facilities).toHaveLength(0);
      expect(await sg.conn.collection('renovation_projects').countDocuments({ synthetic: false })).toBe(2);
      expect(await sg.conn.collection('facilities').countDocuments({ synthetic: false })).toBe(9);
      expect(await cityProjects()).toBe(1);
    } finally {
      await seedSynthetic(sg.conn, communities, 42);
    }
    expect(await cityProjects()).toBe(projects.filter((p) => p.cityCode === '320100').length + 1);
  });

  it('never runs out of years: an as-of twenty years on moves the plan years and the statuses with it', async () => {
    const later = new Date(AS_OF.getTime() + 20 * 365 * DAY_MS);
    const laterYear = cstYear(later);
    await seedSynthetic(sg.conn, communities, 42, { asOf: later });
    try {
      const rows = await sg.conn.collection('renovation_projects').find({ synthetic: true }).toArray();
      expect(rows.length).toBeGreaterThan(0);
      expect(new Set(rows.map((p) => p.planYear))).toEqual(new Set(Array.from({ length: SYNTHETIC_PAST_YEARS + 1 }, (_, i) => laterYear - SYNTHETIC_PAST_YEARS + i)));
      expect(rows.some((p) => p.status === 'LONG_TERM_MGMT')).toBe(true);
      expect(rows.some((p) => p.planYear === laterYear && p.status !== 'LONG_TERM_MGMT')).toBe(true);
      for (const p of rows) for (const m of p.milestones) if (m.actualAt) expect(m.actualAt.getTime()).toBeLessThanOrEqual(later.getTime());
    } finally {
      await seedSynthetic(sg.conn, communities, 42);
    }
  });
});
