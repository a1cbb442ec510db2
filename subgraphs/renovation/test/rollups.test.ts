/**
 * Property test of the statistics rollups: a seeded random sequence of more than 1,000 writes through
 * every mutation of the subgraph (creates and retried creates, milestones, spend with retried keys,
 * acceptance, funding, status moves, facilities; refused inputs and concurrent bursts included), on a
 * small synthetic city, with the product clock moving forward between writes. Then, at several
 * instants (also later, without writes: "late" changes as time passes):
 * (a) the rollup collection equals a full rebuild from the raw rows;
 * (b) every statistics field (City, District and Query statistics for every plan year and all years,
 *     facility gaps, 小区 summaries, trends of 1, 12 and 60 months) equals the raw-row reference.
 * Runtime: about 40-60 s on a 2-core machine (most of it the writes over HTTP).
 * `ROLLUP_SEED=<n>` replays a sequence; a failure names its seed.
 */
import { subgraph } from '..';
import { cstDayStart, cstYear, DAY_MS, freezeClock, HOUR_MS, lastMonthsIncludingCurrent, now } from '../../../lib/clock';
import { Rng } from '../../../lib/random';
import { generateCity } from '../../../scripts/synthetic/city';
import { pinClock } from '../../../test/helpers/clock';
import { gql, startSubgraph, startTestDatabase, type Engine, type RunningSubgraph } from '../../../test/helpers/subgraph';
import { FACILITY_TYPES, FUNDING_TYPES, ITEM_CLASSES, MILESTONE_TYPES, PROJECT_STATUSES, registerModels, type Models } from '../models';
import { DEMO, DEMO_PROJECTS } from '../seed';
import { META_ID } from '../stats/model';
import { partDoc } from '../stats/parts';
import { computeRollups, rebuildStats } from '../stats/rebuild';
import { createReference } from '../stats/reference';
import { emptyStats, type StatsRow, type SummaryRow, type TrendMonthRow } from '../stats/types';
import { seedSynthetic } from '../synthetic';

const SEED = Number(process.env.ROLLUP_SEED ?? 20261203);
const WRITES = 1000;
const pinned = pinClock(now());
const START = now();

let engine: Engine;
let sg: RunningSubgraph;
let m: Models;

const city = generateCity(90, 11);
// More old 小区 than a real city, so the synthetic generator gives more projects to start from.
const communities = city.communities.map((c, i) => ({ ...c, isOld: c.isOld || i % 2 === 0 }));
const districtOf = new Map(communities.map((c) => [c.id, c.districtCode]));
districtOf.set(DEMO.ruijin, '320104');
districtOf.set(DEMO.xinhai, '320706');
districtOf.set(DEMO.dongfang, '320706');
districtOf.set(DEMO.yijiang, '320113');
const CITIES = ['320100', '320700'];
const cityOf = (district: string) => `${district.slice(0, 4)}00`;

beforeAll(async () => {
  engine = await startTestDatabase();
  sg = await startSubgraph(subgraph, engine.uri);
  m = registerModels(sg.conn);
  await seedSynthetic(sg.conn, communities, 5, { asOf: START });
}, 120_000);
afterAll(async () => {
  await sg?.close();
  await engine?.stop();
  pinned.restore();
});

// ---- the random writes -----------------------------------------------------------------------------

const P = `id status planYear fundingSources { type spent { fen } } milestones { type actualAt }`;
const OPS = {
  create: `mutation($input: CreateRenovationProjectInput!) { createRenovationProject(input: $input) { ${P} } }`,
  milestone: `mutation($input: RecordMilestoneInput!) { recordMilestone(input: $input) { ${P} } }`,
  spend: `mutation($input: RecordSpendInput!) { recordSpend(input: $input) { ${P} } }`,
  accept: `mutation($input: RecordAcceptanceInput!) { recordAcceptance(input: $input) { ${P} } }`,
  funding: `mutation($input: UpsertFundingSourceInput!) { upsertFundingSource(input: $input) { ${P} } }`,
  advance: `mutation($input: AdvanceProjectStatusInput!) { advanceProjectStatus(input: $input) { ${P} } }`,
  facility: `mutation($input: UpsertFacilityInput!) { upsertFacility(input: $input) { id } }`,
} as const;

interface ProjectState {
  id: string;
  status: string;
  funding: Map<string, number>; // type → spent fen
  completionAt: Date | null;
}

const iso = (d: Date) => d.toISOString();

function sequence(rng: Rng) {
  const projects = new Map<string, ProjectState>();
  const clientKeys: string[] = [];
  const spendKeys: { projectId: string; input: Record<string, unknown> }[] = [];
  const facilityKeys: { communityId: string; type: string; buildingId: string | null }[] = [];
  const counts: Record<string, { ok: number; refused: number }> = {};
  let created = 0;

  const remember = (p: any) => {
    if (!p?.id) return;
    projects.set(p.id, {
      id: p.id,
      status: p.status,
      funding: new Map(p.fundingSources.map((f: any) => [f.type, f.spent.fen])),
      completionAt: (() => {
        const c = p.milestones.find((x: any) => x.type === 'COMPLETION');
        return c?.actualAt ? new Date(c.actualAt) : null;
      })(),
    });
  };
  const run = async (name: keyof typeof OPS, input: Record<string, unknown>) => {
    const res = await gql(sg.url, OPS[name], { input });
    const c = (counts[name] ??= { ok: 0, refused: 0 });
    if (res.errors) {
      // Refused input is part of the sequence; anything else is a failure.
      expect({ seed: SEED, op: name, code: res.errors[0].extensions?.code }).toEqual({ seed: SEED, op: name, code: 'BAD_USER_INPUT' });
      c.refused++;
      return null;
    }
    c.ok++;
    const out = Object.values(res.data!)[0];
    if (name !== 'facility') remember(out);
    return out;
  };

  const someProject = () => rng.pick([...projects.values()]);
  const someCommunity = () => rng.pick([...districtOf.keys()]);
  const money = () => ({ fen: rng.int(1, 400) * 10_000 * (rng.chance(0.1) ? 0 : 1), approx: rng.chance(0.1) });
  /** A planned instant around now: often today (so "late as of now" crosses the day), any hour. */
  const planned = (t: Date) => (rng.chance(0.3) ? new Date(cstDayStart(t).getTime() + rng.int(0, 23) * HOUR_MS + rng.int(0, 59) * 60_000) : new Date(t.getTime() + rng.int(-90, 90) * DAY_MS + rng.int(0, 23) * HOUR_MS));
  const past = (t: Date, days: number) => new Date(t.getTime() - rng.int(0, days) * DAY_MS - rng.int(0, 23) * HOUR_MS);

  async function createInput(t: Date) {
    const first = someCommunity();
    const district = districtOf.get(first)!;
    const sameCity = [...districtOf].filter(([, d]) => cityOf(d) === cityOf(district)).map(([id]) => id);
    const ids = [...new Set([first, ...rng.shuffled(sameCity).slice(0, rng.int(0, 2))])];
    const types = rng.shuffled(FUNDING_TYPES).slice(0, rng.int(0, 4));
    const ms = rng.shuffled(MILESTONE_TYPES).slice(0, rng.int(0, 4));
    const key = `k${SEED}_${created++}`;
    clientKeys.push(key);
    return {
      clientKey: key,
      name: `性质测试项目 ${created}`,
      cityCode: cityOf(district),
      communities: ids.map((id) => ({ id, districtCode: districtOf.get(id)! })),
      planYear: cstYear(t) + rng.int(-2, 1),
      status: rng.pick(PROJECT_STATUSES),
      sponsor: rng.pick(['GOVERNMENT', 'OWNERS', 'MIXED', null]),
      scope: rng.chance(0.8) ? { households: rng.chance(0.1) ? 0 : rng.int(20, 900), buildings: rng.int(1, 20) } : null,
      budget: rng.chance(0.8) ? money() : null,
      items: Array.from({ length: rng.int(0, 4) }, () => ({ class: rng.pick(ITEM_CLASSES), itemType: 'PIPELINE', cost: rng.chance(0.7) ? money() : null })),
      fundingSources: types.map((type) => ({ type, amount: money(), confirmed: rng.chance(0.5) })),
      milestones: ms.map((type) => ({ type, plannedAt: rng.chance(0.8) ? iso(planned(t)) : null, actualAt: rng.chance(0.3) ? iso(past(t, 60)) : null })),
    };
  }

  async function step(t: Date): Promise<void> {
    const kind = rng.weighted([
      ['create', 11],
      ['retryCreate', 3],
      ['milestone', 20],
      ['spend', 17],
      ['retrySpend', 3],
      ['accept', 6],
      ['funding', 10],
      ['advance', 10],
      ['facility', 20],
      ['burst', 2],
    ] as const);
    switch (kind) {
      case 'create':
        await run('create', await createInput(t));
        return;
      case 'retryCreate': {
        // A replay (same key, maybe other content) returns the first project and writes nothing.
        const input = await createInput(t);
        await run('create', { ...input, clientKey: rng.pick(clientKeys.length ? clientKeys : [input.clientKey]) });
        return;
      }
      case 'milestone': {
        const p = someProject();
        const input: Record<string, unknown> = { projectId: p.id, type: rng.pick(MILESTONE_TYPES) };
        if (rng.chance(0.6)) input.plannedAt = iso(planned(t));
        if (rng.chance(0.5) || !input.plannedAt) input.actualAt = iso(rng.chance(0.05) ? new Date(t.getTime() + 3 * DAY_MS) : past(t, 40));
        await run('milestone', input);
        return;
      }
      case 'spend': {
        const p = someProject();
        const types = [...p.funding.keys()];
        const input: Record<string, unknown> = {
          projectId: p.id,
          fundingType: types.length && rng.chance(0.95) ? rng.pick(types) : rng.pick(FUNDING_TYPES),
          amount: { fen: rng.int(1, 200) * 1_000, approx: rng.chance(0.1) },
          at: rng.chance(0.15) ? null : iso(past(t, 200)),
        };
        if (rng.chance(0.5)) {
          input.clientKey = `s${SEED}_${spendKeys.length}`;
          spendKeys.push({ projectId: p.id, input });
        }
        await run('spend', input);
        return;
      }
      case 'retrySpend': {
        if (!spendKeys.length) return;
        await run('spend', rng.pick(spendKeys).input);
        return;
      }
      case 'accept': {
        const done = [...projects.values()].filter((p) => ['COMPLETED', 'ACCEPTED', 'LONG_TERM_MGMT'].includes(p.status) || p.completionAt);
        const p = done.length && rng.chance(0.9) ? rng.pick(done) : someProject();
        const after = p.completionAt ?? new Date(t.getTime() - 30 * DAY_MS);
        const at = new Date(Math.min(t.getTime(), after.getTime() + rng.int(0, 20) * DAY_MS));
        await run('accept', { projectId: p.id, at: iso(at), result: rng.pick(['PASSED', 'RECTIFY', 'FAILED']), residentSatisfaction: rng.next(), inspectorsOrgs: ['住建局'] });
        return;
      }
      case 'funding': {
        const p = someProject();
        const type = rng.chance(0.6) && p.funding.size ? rng.pick([...p.funding.keys()]) : rng.pick(FUNDING_TYPES);
        const spent = p.funding.get(type) ?? 0;
        // Sometimes below what is spent: refused.
        await run('funding', { projectId: p.id, type, amount: { fen: rng.chance(0.1) ? Math.max(0, spent - 1) : spent + rng.int(0, 300) * 10_000, approx: rng.chance(0.1) }, confirmed: rng.chance(0.5) });
        return;
      }
      case 'advance': {
        const p = someProject();
        const next = PROJECT_STATUSES[Math.min(PROJECT_STATUSES.length - 1, PROJECT_STATUSES.indexOf(p.status as never) + rng.int(-1, 2))];
        await run('advance', { projectId: p.id, status: next });
        return;
      }
      case 'facility': {
        const fresh = !facilityKeys.length || rng.chance(0.35);
        const k = fresh
          ? { communityId: someCommunity(), type: rng.pick(FACILITY_TYPES), buildingId: rng.chance(0.3) ? `b${rng.int(1, 3)}` : null }
          : rng.pick(facilityKeys);
        if (fresh) facilityKeys.push(k);
        const district = districtOf.get(k.communityId)!;
        await run('facility', {
          ...k,
          districtCode: rng.chance(0.5) ? (rng.chance(0.05) ? '320102' : district) : undefined,
          condition: rng.pick(['GOOD', 'AGING', 'BROKEN', 'MISSING', 'BROKEN', 'MISSING', null]),
          quantity: rng.int(0, 9),
        });
        return;
      }
      case 'burst': {
        // Concurrent writes on one project: the revision guard and the atomic spend keep them exact.
        const p = someProject();
        const types = [...p.funding.keys()];
        const key = `burst${SEED}_${spendKeys.length}`;
        const input = types.length ? { projectId: p.id, fundingType: types[0], amount: { fen: 5_000 }, at: iso(past(t, 30)), clientKey: key } : null;
        if (input) spendKeys.push({ projectId: p.id, input });
        await Promise.all([
          ...(input ? [run('spend', input), run('spend', input)] : []),
          run('milestone', { projectId: p.id, type: 'DESIGN', plannedAt: iso(planned(t)) }),
          run('funding', { projectId: p.id, type: 'BANK_LOAN', amount: { fen: rng.int(1, 9) * 100_000 }, confirmed: true }),
          run('advance', { projectId: p.id, status: p.status }),
        ]);
        return;
      }
    }
  }

  return {
    projects,
    counts,
    async load() {
      for (const p of await m.Project.find({}).lean<any[]>()) {
        remember({ id: p._id, status: p.status, fundingSources: (p.fundingSources ?? []).map((f: any) => ({ type: f.type, spent: { fen: 0 } })), milestones: p.milestones ?? [] });
      }
    },
    step,
  };
}

// ---- the comparisons -------------------------------------------------------------------------------

async function expectRollupsEqualRebuild(label: string) {
  const stored = (await m.Rollup.find({ _id: { $ne: META_ID } }).sort({ _id: 1 }).lean<any[]>()).map((d) => ({ ...d, c: d.c ?? {} }));
  const rebuilt = [...(await computeRollups(m)).values()].map(partDoc).sort((a, b) => (a._id < b._id ? -1 : a._id > b._id ? 1 : 0));
  expect({ seed: SEED, label, ids: stored.map((d) => d._id) }).toEqual({ seed: SEED, label, ids: rebuilt.map((d) => d._id) });
  expect({ seed: SEED, label, docs: stored }).toEqual({ seed: SEED, label, docs: rebuilt });
}

const M = `fen approx`;
const STATS = `year projects projectsWithBudget byStatus { status count } byFundingSource { type committed { ${M} } confirmed { ${M} } spent { ${M} } }
  byItemClass { class items cost { ${M} } } budget { ${M} } spent { ${M} } households costPerHousehold { ${M} } lateProjects`;
const TREND = `month spent { ${M} } spentYearToDate { ${M} } budget { ${M} }`;
const money = (fen: number, approx = false) => ({ fen, approx });
const fmtStats = (s: StatsRow) => ({
  year: s.year,
  projects: s.projects,
  projectsWithBudget: s.projectsWithBudget,
  byStatus: s.byStatus,
  byFundingSource: s.byFundingSource.map((f) => ({ type: f.type, committed: money(f.committedFen, f.committedApprox), confirmed: money(f.confirmedFen, f.committedApprox), spent: money(f.spentFen) })),
  byItemClass: s.byItemClass.map((i) => ({ class: i.class, items: i.items, cost: money(i.costFen, i.costApprox) })),
  budget: money(s.budgetFen, s.budgetApprox),
  spent: money(s.spentFen),
  households: s.households,
  costPerHousehold: s.costPerHouseholdFen == null ? null : money(s.costPerHouseholdFen, s.budgetApprox),
  lateProjects: s.lateProjects,
});
const fmtTrend = (rows: TrendMonthRow[]) => rows.map((r) => ({ month: r.month, spent: money(r.spentFen), spentYearToDate: money(r.spentYearToDateFen), budget: money(r.budgetFen, r.budgetApprox) }));
const fmtSummary = (s: SummaryRow) => ({
  projects: s.projects,
  status: s.status,
  latestProjectYear: s.latestProjectYear,
  totalBudget: money(s.budgetFen, s.budgetApprox),
  projectsWithBudget: s.projectsWithBudget,
  spent: money(s.spentFen),
});

/** Every plan year (or, with `someYears`, all years together and the current and the last one). */
async function expectStatsEqualReference(label: string, someYears = false) {
  const at = now();
  const ref = createReference(m);
  const projects = await m.Project.find({}, { planYear: 1, districtCodes: 1 }).lean<any[]>();
  const years: (number | null)[] = someYears ? [null, cstYear(at), cstYear(at) - 1] : [null, ...[...new Set(projects.map((p) => p.planYear as number))].sort()];
  const districts = [...new Set([...projects.flatMap((p) => p.districtCodes ?? []), ...districtOf.values()])].sort();
  const reps = [...CITIES.map((code) => ({ __typename: 'City', code })), ...districts.map((code) => ({ __typename: 'District', code }))];
  // The subgraph allows 30 aliases per operation (lib/limits.ts): the years go in chunks of 10,
  // and each entity's answers are merged.
  const entities: Record<string, unknown>[] = reps.map(() => ({}));
  for (let from = 0; from < years.length || from === 0; from += 10) {
    const chunk = years.slice(from, from + 10).map((y, k) => `s${from + k}: renovationStats${y == null ? '' : `(year: ${y})`} { ${STATS} }`);
    const fields = `${chunk.join('\n')}
      ${from === 0 ? `facilityGapStats { type missing broken communities }
      t1: renovationTrend(months: 1) { ${TREND} } t12: renovationTrend { ${TREND} } t60: renovationTrend(months: 60) { ${TREND} }` : ''}`;
    const part = await gql(sg.url, `query($r: [_Any!]!) { _entities(representations: $r) { ... on City { ${fields} } ... on District { ${fields} } } }`, { r: reps });
    expect(part.errors).toBeUndefined();
    (part.data!._entities as Record<string, unknown>[]).forEach((e, k) => Object.assign(entities[k], e));
  }
  const res = { data: { _entities: entities } };
  for (const [level, codes, offset] of [
    ['CITY', CITIES, 0],
    ['DISTRICT', districts, CITIES.length],
  ] as const) {
    const got = res.data!._entities.slice(offset, offset + codes.length);
    const want = codes.map(() => ({}) as Record<string, unknown>);
    for (const [i, y] of years.entries()) {
      const rows = await ref.areaStats(level, codes, y, at);
      codes.forEach((code, k) => (want[k][`s${i}`] = fmtStats(rows.find((r) => r.code === code) ?? emptyStats(code, y))));
    }
    const gaps = await ref.gapStats(level, codes);
    // Every window ends with the current month: 1 and 12 months are the tail of 60.
    const trends = await ref.trends(level, codes, lastMonthsIncludingCurrent(at, 60));
    for (const [k, code] of codes.entries()) {
      want[k].facilityGapStats = gaps.filter((g) => g.code === code).map(({ code: _c, ...g }) => g);
      for (const n of [1, 12, 60]) want[k][`t${n}`] = fmtTrend(trends.get(code)!.slice(-n));
    }
    expect({ seed: SEED, label, level, got }).toEqual({ seed: SEED, label, level, got: want });
  }

  // Query.renovationStats (city, district, year) reads the same rollups.
  const q = await gql(sg.url, `{ a: renovationStats(cityCode: "320100") { ${STATS} } b: renovationStats(cityCode: "320100", districtCode: "320104", year: ${cstYear(at)}) { ${STATS} } }`);
  const [a] = await ref.areaStats('CITY', ['320100'], null, at);
  const [b] = await ref.areaStats('DISTRICT', ['320104'], cstYear(at), at);
  expect({ seed: SEED, label, q: q.data }).toEqual({ seed: SEED, label, q: { a: fmtStats(a ?? emptyStats('320100', null)), b: fmtStats(b ?? emptyStats('320104', cstYear(at))) } });

  // 小区: summaries and trends.
  const ids = [...districtOf.keys()].sort();
  const c = await gql(
    sg.url,
    `query($r: [_Any!]!) { _entities(representations: $r) { ... on Community { id renovationSummary { projects status latestProjectYear totalBudget { ${M} } projectsWithBudget spent { ${M} } }
      t12: renovationTrend { ${TREND} } } } }`,
    { r: ids.map((id) => ({ __typename: 'Community', id })) },
  );
  expect(c.errors).toBeUndefined();
  const summaries = await ref.summaries(ids);
  const trends = await ref.trends('COMMUNITY', ids, lastMonthsIncludingCurrent(at, 12));
  const wantC = ids.map((id) => {
    const s = summaries.find((x) => x.communityId === id);
    return { id, renovationSummary: s ? fmtSummary(s) : null, t12: fmtTrend(trends.get(id)!) };
  });
  expect({ seed: SEED, label, communities: c.data!._entities }).toEqual({ seed: SEED, label, communities: wantC });
}

describe(`statistics rollups under random writes (ROLLUP_SEED=${SEED})`, () => {
  it('start from a rebuild equal to the raw-row reference', async () => {
    await expectRollupsEqualRebuild('after the seed');
    await expectStatsEqualReference('after the seed');
  });

  it(`stay equal to a rebuild and to the reference through ${WRITES} writes with the clock moving on`, async () => {
    const rng = new Rng(SEED);
    const seq = sequence(rng);
    await seq.load();
    let t = now();
    for (let i = 1; i <= WRITES; i++) {
      const r = rng.next();
      t = new Date(t.getTime() + (r < 0.6 ? rng.int(0, 6 * 60) * 60_000 : r < 0.9 ? rng.int(0, 48) * HOUR_MS : rng.int(1, 20) * DAY_MS));
      freezeClock(t);
      await seq.step(t);
      if (i % 250 === 0) await expectRollupsEqualRebuild(`after write ${i}`);
    }
    const total = Object.values(seq.counts).reduce((s, c) => s + c.ok + c.refused, 0);
    expect(total).toBeGreaterThanOrEqual(WRITES);
    for (const name of Object.keys(OPS)) expect({ seed: SEED, name, ok: (seq.counts[name]?.ok ?? 0) > 0 }).toEqual({ seed: SEED, name, ok: true });
    expect(seq.counts.spend.refused + seq.counts.milestone.refused + seq.counts.funding.refused).toBeGreaterThan(0);
    await expectRollupsEqualRebuild(`after ${WRITES} writes`);
    await expectStatsEqualReference(`after ${WRITES} writes`);
  }, 900_000); // a time limit, not a speed target

  it('answer like the reference as time passes without writes (late as of now, trend windows)', async () => {
    // Instants just before and just after the earliest open milestone of some projects, later the
    // same CST day: they are in that day's bucket, late only once their planned instant has passed.
    // (The statistics are defined as of any instant; the writes are done, so the clock may go back.)
    const t = now();
    const open = await m.Project.find({ hasLateDoneMilestone: { $ne: true }, earliestOpenPlannedAt: { $ne: null } }, { earliestOpenPlannedAt: 1 })
      .sort({ earliestOpenPlannedAt: 1 })
      .lean<{ earliestOpenPlannedAt: Date }[]>();
    const sameDay = open.map((p) => p.earliestOpenPlannedAt).filter((e) => cstDayStart(e).getTime() < e.getTime() - 60_000);
    expect(sameDay.length).toBeGreaterThan(2);
    const [e1, e2] = [sameDay[Math.floor(sameDay.length / 3)], sameDay[Math.floor((2 * sameDay.length) / 3)]];
    const instants = [new Date(e1.getTime() - 60_000), new Date(e1.getTime() + 60_000), new Date(e2.getTime() + 60_000), new Date(t.getTime() + 400 * DAY_MS)];
    for (const at of instants) {
      freezeClock(at);
      await expectStatsEqualReference(`at ${at.toISOString()}, no writes since ${t.toISOString()}`, true);
    }
  }, 120_000);

  it('follow the demo seed when it puts back rows the writes changed, and rebuildStats gives the same documents', async () => {
    // Change the article's rows through the mutations; reseeding puts them back and applies each
    // change to the built rollups.
    const t = now();
    for (const [name, input] of [
      ['spend', { projectId: DEMO_PROJECTS.xinhai2019, fundingType: 'PROPERTY_COMPANY', amount: { fen: 12_345 }, at: t.toISOString() }],
      ['funding', { projectId: DEMO_PROJECTS.ruijin2019, type: 'SOCIAL_CAPITAL', amount: { fen: 9_000_000_000 }, confirmed: true }],
      ['milestone', { projectId: DEMO_PROJECTS.ruijin2019, type: 'HANDOVER', plannedAt: new Date(t.getTime() - DAY_MS).toISOString() }],
      ['facility', { communityId: DEMO.xinhai, type: 'STREETLIGHT', condition: 'BROKEN' }],
      ['facility', { communityId: DEMO.dongfang, type: 'HEALTH_TRAIL', condition: 'MISSING' }],
    ] as const) {
      const res = await gql(sg.url, OPS[name], { input });
      expect({ name, errors: res.errors }).toEqual({ name, errors: undefined });
    }
    await subgraph.seed(sg.conn);
    expect((await m.Facility.findById(`fa_${DEMO.dongfang}_HEALTH_TRAIL`).lean<{ condition: string }>())!.condition).toBe('GOOD');
    await expectRollupsEqualRebuild('after reseeding the demo rows');

    const before = await m.Rollup.find({ _id: { $ne: META_ID } }).sort({ _id: 1 }).lean();
    const lines: string[] = [];
    const n = await rebuildStats(sg.conn, (l) => lines.push(l));
    expect(n).toBe(before.length);
    expect(lines.some((l) => l.includes('projects'))).toBe(true);
    expect(await m.Rollup.find({ _id: { $ne: META_ID } }).sort({ _id: 1 }).lean()).toEqual(before);
  });
});
