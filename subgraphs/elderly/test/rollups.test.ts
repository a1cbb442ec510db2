/**
 * Property test of the statistics rollups (stats/): a random sequence of writes through every
 * mutation of the subgraph (registrations, home visits of every outcome and occasion, back-dated
 * and out-of-order visits, tier overrides and their removal, changes of circumstances, moving out
 * and back, deaths, idempotent replays with clientKey, refused writes) on a small synthetic city,
 * with the product clock moving forward between writes (minutes to days, sometimes exactly to a
 * CST midnight or the millisecond before). Then:
 *   (a) the rollup documents (areas and ledger) equal a full rebuild from the raw rows;
 *   (b) every statistics field (elderlyStats at 小区, district and city level; visitTrend over 1
 *       and 12 months everywhere and 60 for cities and districts; visitCoverage of every city and
 *       district, at several thresholds and paged) equals the raw-row reference
 *       (stats/reference.ts), for an anonymous caller (complementary suppression, figures as of
 *       the instant of the city's disclosure snapshot) and for civil affairs (individual-level
 *       access, figures as of now),
 * at the end and at several later instants without writes (across a CST midnight and a month's
 * end, 45 days and 400 days on); lighter checks (a, and b for civil affairs) run during the sequence.
 * The sequence draws from lib/random.ts with a seed printed in the test names; rerun one with
 * ELDERLY_ROLLUP_SEED=<seed>.
 */
import { cstDayStart, cstMonthStart, DAY_MS, freezeClock, HOUR_MS, now } from '../../../lib/clock';
import { Rng } from '../../../lib/random';
import { generateCity } from '../../../scripts/synthetic/city';
import { pinClock } from '../../../test/helpers/clock';
import { gql, startSubgraph, startTestDatabase, type Engine, type RunningSubgraph } from '../../../test/helpers/subgraph';
import { authHeader } from '../../../test/helpers/tokens';
import { subgraph } from '..';
import { registerModels, type Models } from '../models';
import { EMPTY_RAW_STATS } from '../services/privacy';
import { CURRENT_SPEC, MONTH_SPEC, snapshotInstant, snapshotsSettled } from '../services/disclosure';
import { suppressionPattern, type AreaNode } from '../../../lib/disclosure';
import { MONTHLY_VISIT_RATE_TARGET } from '../services/risk';
import { seedSynthetic } from '../seed';
import { rebuildStats, type AreaDoc } from '../stats';
import { encodeContribution } from '../stats/contribution';
import { addCoverageEntries, addToAreas, allContributions } from '../stats/rebuild';
import { referenceCoverage, referenceElderlyStats, referenceHolidayVisits, referenceTrends } from '../stats/reference';
import type { StatsLevel } from '../stats/read';

const SEED = Number(process.env.ELDERLY_ROLLUP_SEED ?? 20261203);
/** Accepted writes (replays included) the sequence runs to; refused ones come on top. */
const WRITES = 1040;
const rng = new Rng(SEED);
const pinned = pinClock(now());
/** The sequence starts about 16 months before the file's instant and ends about then. */
let t = new Date(cstDayStart(now(), -480).getTime() + rng.int(0, DAY_MS - 1));
freezeClock(t);

let engine: Engine;
let sg: RunningSubgraph;
let m: Models;
let civil: Record<string, string>;
const city = generateCity(16, SEED % 100_000);

interface Known {
  status: string;
  registeredAt: Date;
  communityId: string;
}
const residents = new Map<string, Known>();
const communities: string[] = [];

beforeAll(async () => {
  engine = await startTestDatabase();
  sg = await startSubgraph(subgraph, engine.uri);
  m = registerModels(sg.conn);
  await seedSynthetic(sg.conn, city.communities, SEED % 100_000, { registerShare: 0.05, asOf: cstDayStart(t) });
  civil = await authHeader('CIVIL_AFFAIRS');
  for (const r of await m.Resident.find({}).lean()) residents.set(r._id, { status: r.status!, registeredAt: r.registeredAt, communityId: r.communityId });
  for (const c of await m.CommunityRef.find({}).sort({ _id: 1 }).lean()) communities.push(c._id);
}, 60_000);
afterAll(async () => {
  await sg?.close();
  await engine?.stop();
  pinned.restore();
});

// ---- the writes ------------------------------------------------------------------------------

const RESIDENT = 'id status community { id }';
const REGISTER = `mutation($input: RegisterElderlyResidentInput!) { registerElderlyResident(input: $input) { ${RESIDENT} } }`;
const VISIT = `mutation($elderId: ID!, $mode: VisitMode!, $occasion: VisitOccasion!, $outcome: VisitOutcome!, $visitedAt: DateTime, $clientKey: String) {
  recordHomeVisit(elderId: $elderId, mode: $mode, occasion: $occasion, outcome: $outcome, visitedAt: $visitedAt, clientKey: $clientKey) {
    visit { id } elder { ${RESIDENT} } } }`;
const OVERRIDE = `mutation($elderId: ID!, $tier: RiskTier, $reason: String) { overrideRiskTier(elderId: $elderId, tier: $tier, reason: $reason) { ${RESIDENT} } }`;
const UPDATE = `mutation($input: UpdateElderlyCircumstancesInput!) { updateElderlyCircumstances(input: $input) { ${RESIDENT} } }`;

const AGE_BANDS = ['AGE_60_69', 'AGE_70_79', 'AGE_80_89', 'AGE_90_PLUS'] as const;
const ARRANGEMENTS = [['LIVING_ALONE', 3], ['EMPTY_NEST', 3], ['LEFT_BEHIND', 1], ['WITH_FAMILY', 5]] as const;
const FLAGS = ['LOW_INCOME_SUBSISTENCE', 'EXTREME_POVERTY', 'DISABLED', 'SEMI_DISABLED', 'DEMENTIA', 'SEVERE_DISABILITY', 'FAMILY_PLANNING_SPECIAL', 'CHRONIC_HIGH_RISK'];
const MODES = ['IN_PERSON', 'PHONE_VIDEO', 'THIRD_PARTY', 'PARTY_VOLUNTEER_PAIRING', 'NEIGHBOR_MUTUAL_AID', 'SMART_ALERT', 'HOTLINE_EMERGENCY'];
const OUTCOMES = [['OK', 70], ['NOT_HOME', 14], ['NEEDS_REFERRAL', 6], ['HOSPITALISED', 6], ['DECEASED', 1]] as const;
const OCCASIONS = [['ROUTINE', 70], ['HOLIDAY', 15], ['POST_EVENT_24H', 8], ['EMERGENCY', 7]] as const;

const iso = (d: Date) => d.toISOString();
const flagsFor = (band: string) => {
  const f = FLAGS.filter(() => rng.chance(0.08));
  if ((band === 'AGE_80_89' || band === 'AGE_90_PLUS') && rng.chance(0.5)) f.push('ADVANCED_AGE');
  return f;
};
let keySeq = 0;
const newKey = (p: string) => `${p}-${SEED}-${++keySeq}`;

/** Moves the product clock forward: minutes, hours or days; sometimes onto a CST midnight or just before one. */
function advance() {
  const r = rng.next();
  let next: number;
  if (r < 0.03) next = cstDayStart(t, 1).getTime();
  else if (r < 0.05) next = cstDayStart(t, 1).getTime() - 1;
  else if (r < 0.06) next = cstMonthStart(t, 1).getTime() - rng.int(0, 1);
  else if (r < 0.6) next = t.getTime() + rng.int(0, 60) * 60_000;
  else if (r < 0.9) next = t.getTime() + rng.int(1, 24) * HOUR_MS;
  else next = t.getTime() + rng.int(1, 5) * DAY_MS + rng.int(0, 3_600_000);
  t = new Date(Math.max(next, t.getTime()));
  freezeClock(t);
}

const pickResident = (pred: (k: Known) => boolean = () => true) => {
  const ids = [...residents.entries()].filter(([, k]) => pred(k)).map(([id]) => id);
  return ids.length ? rng.pick(ids) : null;
};
/** What the test knows of a resident after a write (the registration date from the registration). */
const remember = (r: { id: string; status: string; community: { id: string } }, registeredAt?: Date) =>
  residents.set(r.id, { status: r.status, registeredAt: registeredAt ?? residents.get(r.id)!.registeredAt, communityId: r.community.id });

const replays: { query: string; variables: Record<string, unknown>; id: (data: any) => string; first: string }[] = [];
const tally = { ok: 0, refused: 0, replays: 0, byKind: new Map<string, number>() };

/** One random write; returns its kind. Refusals must be BAD_USER_INPUT; anything else fails the test. */
async function write(step: number): Promise<void> {
  const kind = rng.weighted([
    ['register', 20], ['visit', 42], ['override', 8], ['update', 14], ['moveOut', 3], ['moveBack', 2], ['replay', 7], ['refused', 4],
  ] as const);
  let query = '';
  let variables: Record<string, unknown> = {};
  let idOf: ((data: any) => string) | null = null;
  let expectRefusal = false;
  let registeredAt: Date | undefined;
  switch (kind) {
    case 'register': {
      const band = rng.pick(AGE_BANDS);
      registeredAt = rng.chance(0.6) ? t : new Date(t.getTime() - rng.int(0, 90 * 24) * HOUR_MS);
      const omitted = rng.chance(0.2);
      const override = rng.chance(0.1) ? rng.pick(['HIGH', 'KEY', 'GENERAL']) : null;
      query = REGISTER;
      variables = {
        input: {
          clientKey: newKey('reg'), communityId: rng.pick(communities), ageBand: band, livingArrangement: rng.weighted(ARRANGEMENTS),
          difficultyFlags: flagsFor(band), consentRecordedAt: iso(registeredAt), registeredAt: omitted ? undefined : iso(registeredAt),
          ...(override ? { riskTierOverride: override, riskTierOverrideReason: '社区评估调整' } : {}),
        },
      };
      idOf = (d) => d.registerElderlyResident.id;
      if (omitted) registeredAt = t;
      break;
    }
    case 'visit': {
      const id = pickResident((k) => k.status === 'ACTIVE') ?? pickResident();
      if (!id) return write(step);
      const reg = residents.get(id)!.registeredAt;
      const back = rng.chance(0.45) ? new Date(Math.max(reg.getTime(), t.getTime() - rng.int(0, 40 * 24 * 60) * 60_000)) : null;
      query = VISIT;
      variables = {
        elderId: id, mode: rng.pick(MODES), occasion: rng.weighted(OCCASIONS), outcome: rng.weighted(OUTCOMES),
        visitedAt: back ? iso(back) : undefined, clientKey: rng.chance(0.6) ? newKey('visit') : undefined,
      };
      idOf = (d) => d.recordHomeVisit.visit.id;
      break;
    }
    case 'override': {
      const id = pickResident();
      if (!id) return write(step);
      const tier = rng.chance(0.7) ? rng.pick(['HIGH', 'KEY', 'GENERAL']) : null;
      query = OVERRIDE;
      variables = { elderId: id, tier, reason: tier ? '家访后评估' : undefined };
      break;
    }
    case 'update': {
      const id = pickResident();
      if (!id) return write(step);
      const input: Record<string, unknown> = { elderId: id };
      const band = rng.pick(AGE_BANDS);
      if (rng.chance(0.5)) input.ageBand = band;
      if (rng.chance(0.5)) input.livingArrangement = rng.weighted(ARRANGEMENTS);
      if (rng.chance(0.5) || input.ageBand) input.difficultyFlags = flagsFor(band);
      query = UPDATE;
      variables = { input };
      break;
    }
    case 'moveOut':
    case 'moveBack': {
      const id = pickResident((k) => k.status === (kind === 'moveOut' ? 'ACTIVE' : 'MOVED_OUT'));
      if (!id) return write(step);
      query = UPDATE;
      variables = { input: { elderId: id, status: kind === 'moveOut' ? 'MOVED_OUT' : 'ACTIVE' } };
      break;
    }
    case 'replay': {
      if (!replays.length) return write(step);
      const r = rng.pick(replays);
      const res = await gql(sg.url, r.query, r.variables);
      if (res.errors) throw new Error(`seed ${SEED} step ${step}: replay refused: ${JSON.stringify(res.errors)}`);
      if (r.id(res.data) !== r.first) throw new Error(`seed ${SEED} step ${step}: a replay created a new row`);
      tally.replays++;
      tally.ok++;
      return;
    }
    case 'refused': {
      const id = pickResident();
      if (!id) return write(step);
      expectRefusal = true;
      const c = rng.int(0, 2);
      if (c === 0) ({ query, variables } = { query: VISIT, variables: { elderId: id, mode: 'IN_PERSON', occasion: 'ROUTINE', outcome: 'OK', visitedAt: iso(new Date(t.getTime() + DAY_MS)) } });
      else if (c === 1) ({ query, variables } = { query: OVERRIDE, variables: { elderId: id, tier: 'HIGH' } });
      else ({ query, variables } = { query: REGISTER, variables: { input: { clientKey: newKey('bad'), communityId: 'cm_000000_0000', ageBand: 'AGE_60_69', livingArrangement: 'WITH_FAMILY', consentRecordedAt: iso(t) } } });
      break;
    }
  }
  tally.byKind.set(kind, (tally.byKind.get(kind) ?? 0) + 1);
  const res = await gql(sg.url, query, variables);
  if (res.errors) {
    const code = res.errors[0].extensions?.code;
    if (code !== 'BAD_USER_INPUT') throw new Error(`seed ${SEED} step ${step} (${kind}): ${JSON.stringify(res.errors)}`);
    tally.refused++;
    return;
  }
  if (expectRefusal) throw new Error(`seed ${SEED} step ${step}: a write that must be refused was accepted`);
  tally.ok++;
  const data = res.data as any;
  const resident = data.registerElderlyResident ?? data.recordHomeVisit?.elder ?? data.overrideRiskTier ?? data.updateElderlyCircumstances;
  if (resident) remember(resident, registeredAt);
  const key = (variables.input as { clientKey?: string } | undefined)?.clientKey ?? (variables.clientKey as string | undefined);
  if (idOf && key) replays.push({ query, variables, id: idOf, first: idOf(data) });
}

// ---- the checks ------------------------------------------------------------------------------

/** The rollups a rebuild would write, computed in memory from the raw rows. */
async function rebuiltInMemory() {
  const areas = new Map<string, AreaDoc>();
  const ledger: Record<string, unknown>[] = [];
  for await (const chunk of allContributions(m)) {
    for (const { id, c } of chunk) {
      if (!c) continue;
      ledger.push({ _id: id, c: encodeContribution(c) });
      addToAreas(areas, c);
    }
  }
  addCoverageEntries(areas);
  return { areas: [...areas.values()].sort((a, b) => (a._id < b._id ? -1 : 1)), ledger: ledger.sort((a, b) => ((a._id as string) < (b._id as string) ? -1 : 1)) };
}
const stored = async () => ({
  areas: await m.StatsArea.collection.find().sort({ _id: 1 }).toArray(),
  ledger: await m.StatsLedger.collection.find().sort({ _id: 1 }).toArray(),
});

/** (a): stored rollups equal the rebuild; on a difference, shows the first differing document. */
function expectSameRollups(actual: { areas: object[]; ledger: object[] }, expected: { areas: object[]; ledger: object[] }, label: string) {
  for (const part of ['areas', 'ledger'] as const) {
    const a = actual[part] as { _id: string }[];
    const e = expected[part] as { _id: string }[];
    expect([label, part, a.map((d) => d._id)]).toEqual([label, part, e.map((d) => d._id)]);
    const i = a.findIndex((d, j) => !sameDoc(d, e[j]));
    expect([label, part, i < 0 ? null : a[i]]).toEqual([label, part, i < 0 ? null : e[i]]);
  }
}
const sameDoc = (a: unknown, b: unknown) => {
  try {
    expect(a).toEqual(b);
    return true;
  } catch {
    return false;
  }
};

interface Area {
  level: StatsLevel;
  code: string;
  typename: 'City' | 'District' | 'Community';
}
async function areasOfCity(): Promise<Area[]> {
  const refs = await m.CommunityRef.find({}).lean();
  const cities = [...new Set(refs.map((r) => r.cityCode))].sort();
  const districts = [...new Set(refs.map((r) => r.districtCode))].sort();
  return [
    ...cities.map((code) => ({ level: 'CITY' as const, code, typename: 'City' as const })),
    ...districts.map((code) => ({ level: 'DISTRICT' as const, code, typename: 'District' as const })),
    ...refs.map((r) => r._id).sort().map((code) => ({ level: 'COMMUNITY' as const, code, typename: 'Community' as const })),
    { level: 'COMMUNITY', code: 'cm_999999_0001', typename: 'Community' }, // unknown: zeros
  ];
}

const STATS = 'registered livingAlone difficulty highRisk keyRisk visitedLast30d monthlyVisitRate overdueVisits holidayVisitsLast12m monthlyVisitRateTarget';
const MONTH = 'month registered visited visitCoverage overdue';

/** (b): every statistics field of every area and every ranking equals the raw-row reference. */
async function expectFiguresMatch(label: string, opts: { pages: boolean; light?: boolean }) {
  const at = now();
  const areas = await areasOfCity();
  const reps = areas.map((a) => (a.level === 'COMMUNITY' ? { __typename: a.typename, id: a.code } : { __typename: a.typename, code: a.code }));
  // 60 months for cities and districts; 12 (the default) and 1 everywhere.
  const fields = `elderlyStats { ${STATS} } m1: visitTrend(months: 1) { ${MONTH} } m12: visitTrend { ${MONTH} }`;
  const long = `m60: visitTrend(months: 60) { ${MONTH} }`;
  const q = `query($r: [_Any!]!) { _entities(representations: $r) { ... on City { ${fields} ${long} } ... on District { ${fields} ${long} } ... on Community { ${fields} } } }`;

  const refs = await m.CommunityRef.find({}).lean();
  const callers = opts.light ? ([['civil affairs', civil]] as const) : ([['anonymous', {}], ['civil affairs', civil]] as const);
  for (const [who, headers] of callers) {
    const exact = who !== 'anonymous';
    // An anonymous caller is served the city's disclosure snapshot (services/disclosure.ts), whose
    // figures are as of the start of its period: once any snapshot computation under way is over,
    // the current period's (a first request may have been served the previous period's meanwhile).
    let figuresAt = at;
    if (!exact) {
      await gql(sg.url, q, { r: reps }, headers);
      await snapshotsSettled();
      figuresAt = snapshotInstant(at.getTime());
    }
    await expectFiguresAt(label, who, exact, headers, figuresAt, at, areas, refs, reps, q, opts);
  }
}

async function expectFiguresAt(
  label: string,
  who: string,
  exact: boolean,
  headers: Record<string, string>,
  figuresAt: Date,
  at: Date,
  areas: Area[],
  refs: { _id: string; cityCode: string; districtCode: string }[],
  reps: object[],
  q: string,
  opts: { pages: boolean; light?: boolean },
) {
  // The reference, per level.
  const stats = new Map<string, typeof EMPTY_RAW_STATS>();
  const holidays = new Map<string, number>();
  for (const level of ['CITY', 'DISTRICT', 'COMMUNITY'] as const) {
    const codes = areas.filter((a) => a.level === level).map((a) => a.code);
    for (const s of await referenceElderlyStats(m, level, codes, figuresAt)) stats.set(`${level}|${s.code}`, s);
    for (const h of await referenceHolidayVisits(m, level, codes, figuresAt)) holidays.set(`${level}|${h.code}`, h.count);
  }
  const trends = await referenceTrends(m, areas, 60, figuresAt);

  // What an anonymous caller sees: the reference figures under the complementary suppression
  // pattern (lib/disclosure.ts) of the 小区 → district → city hierarchy, computed here from the
  // reference figures of the 小区 alone; the current month of a trend shares the current pattern.
  const tree: AreaNode[] = [
    ...[...new Set(refs.map((r) => r.cityCode))].map((c) => ({ id: `CITY|${c}`, parent: null })),
    ...[...new Set(refs.map((r) => `${r.cityCode}|${r.districtCode}`))].map((x) => ({ id: `DISTRICT|${x.split('|')[1]}`, parent: `CITY|${x.split('|')[0]}` })),
    ...refs.map((r) => ({ id: `COMMUNITY|${r._id}`, parent: `DISTRICT|${r.districtCode}` })),
  ];
  const leaves = refs.map((r) => `COMMUNITY|${r._id}`);
  const current = suppressionPattern(
    CURRENT_SPEC,
    tree,
    new Map(leaves.map((k) => [k, { ...(stats.get(k) ?? EMPTY_RAW_STATS), visitedThisMonth: trends.get(k)!.at(-1)!.visited, holidayVisitsLast12m: holidays.get(k) ?? 0 }])),
  );
  const monthly = Array.from({ length: 60 }, (_, j) => suppressionPattern(MONTH_SPEC, tree, new Map(leaves.map((k) => { const mo = trends.get(k)![j]; return [k, { registered: mo.registered, visited: mo.visited, overdue: mo.overdue }]; }))));
  const shown = (p: typeof current, key: string, variable: string, value: number) => (p.suppressed(key, variable) ? null : value);
  const rateOf = (visited: number | null, registered: number | null) => (visited == null || !registered ? null : visited / registered);

  {
    const res = await gql(sg.url, q, { r: reps }, headers);
    expect([label, who, res.errors]).toEqual([label, who, undefined]);
    const expected = areas.map((a) => {
      const key = `${a.level}|${a.code}`;
      const { registered, livingAlone, difficulty, highRisk, keyRisk, visitedLast30d, overdueVisits } = stats.get(key) ?? EMPTY_RAW_STATS;
      const trend = trends.get(key)!.map((mo, j) => {
        const last = j === 59;
        const p = last ? current : monthly[j];
        const r = exact ? mo.registered : shown(p, key, 'registered', mo.registered);
        const v = exact ? mo.visited : shown(p, key, last ? 'visitedThisMonth' : 'visited', mo.visited);
        const o = exact ? mo.overdue : shown(p, key, last ? 'overdueVisits' : 'overdue', mo.overdue);
        return { month: mo.month, registered: r, visited: v, visitCoverage: rateOf(v, r), overdue: o };
      });
      const fig = (variable: string, value: number) => (exact ? value : shown(current, key, variable, value));
      const holiday = holidays.get(key) ?? 0;
      return {
        area: key,
        elderlyStats: {
          registered: fig('registered', registered),
          livingAlone: fig('livingAlone', livingAlone),
          difficulty: fig('difficulty', difficulty),
          highRisk: fig('highRisk', highRisk),
          keyRisk: fig('keyRisk', keyRisk),
          visitedLast30d: fig('visitedLast30d', visitedLast30d),
          monthlyVisitRate: rateOf(fig('visitedLast30d', visitedLast30d), fig('registered', registered)),
          overdueVisits: fig('overdueVisits', overdueVisits),
          holidayVisitsLast12m: fig('holidayVisitsLast12m', holiday),
          monthlyVisitRateTarget: MONTHLY_VISIT_RATE_TARGET,
        },
        m1: trend.slice(-1),
        m12: trend.slice(-12),
        ...(a.level === 'COMMUNITY' ? {} : { m60: trend }),
      };
    });
    const actual = (res.data!._entities as any[]).map((e, i) => ({ area: `${areas[i].level}|${areas[i].code}`, ...e }));
    expect([label, who, actual]).toEqual([label, who, expected]);

    // visitCoverage of every city and district.
    for (const a of opts.light ? [] : areas.filter((x) => x.level !== 'COMMUNITY')) {
      const arg = a.level === 'CITY' ? `cityCode: "${a.code}"` : `districtCode: "${a.code}"`;
      for (const below of opts.pages ? [1, 0.9, 0.5] : [1]) {
        const hidden = exact ? null : refs.map((r) => r._id).filter((c) => current.suppressed(`COMMUNITY|${c}`, 'registered') || current.suppressed(`COMMUNITY|${c}`, 'visitedLast30d'));
        const ref = await referenceCoverage(m, a.level as 'CITY' | 'DISTRICT', a.code, below, 0, 500, hidden, at);
        const seen: string[] = [];
        let after: string | null = null;
        let total = -1;
        const size = opts.pages ? 7 : 500;
        do {
          const page: any = await gql(sg.url, `query($a: String) { visitCoverage(${arg}, below: ${below}, first: ${size}, after: $a) {
            totalCount edges { node { community { id } elderlyStats { registered visitedLast30d } } } pageInfo { hasNextPage endCursor } } }`, { a: after }, headers);
          expect([label, who, page.errors]).toEqual([label, who, undefined]);
          const c = page.data.visitCoverage;
          total = c.totalCount;
          for (const e of c.edges) seen.push(e.node.community.id);
          after = c.pageInfo.hasNextPage ? c.pageInfo.endCursor : null;
        } while (after);
        expect([label, who, a.code, below, total, seen]).toEqual([label, who, a.code, below, ref.totalCount, ref.rows.map((r) => r.communityId)]);
      }
    }
  }
}

describe(`elderly statistics rollups under random writes (seed ${SEED})`, () => {
  it(`keeps every rollup equal to a rebuild and every statistic equal to the raw-row reference over ${WRITES} accepted writes (seed ${SEED})`, async () => {
    const started = performance.now();
    await expectFiguresMatch('after the seed', { pages: false });
    for (let step = 1; tally.ok < WRITES; step++) {
      advance();
      await write(step);
      if (step % 400 === 0) {
        expectSameRollups(await stored(), await rebuiltInMemory(), `step ${step}`);
        await expectFiguresMatch(`step ${step} at ${iso(now())}`, { pages: false, light: true });
      }
    }
    expect(tally.ok).toBeGreaterThanOrEqual(1000);
    for (const kind of ['register', 'visit', 'override', 'update', 'moveOut', 'moveBack', 'refused']) expect([kind, (tally.byKind.get(kind) ?? 0) > 0]).toEqual([kind, true]);
    expect(tally.replays).toBeGreaterThan(0);
    // Deaths, holiday visits and overdue residents happened (the sequence covers them).
    expect(await m.Resident.countDocuments({ status: 'DECEASED' })).toBeGreaterThan(0);
    expect(await m.Resident.countDocuments({ status: 'MOVED_OUT' })).toBeGreaterThan(0);

    // (a) the stored rollups equal a rebuild: in memory, then by the rebuild command itself.
    const before = await stored();
    expectSameRollups(before, await rebuiltInMemory(), 'end');
    await rebuildStats(sg.conn);
    expectSameRollups(before, await stored(), 'rebuilt');

    // (b) now, then as time passes without writes (the point-in-time figures move on their own).
    await expectFiguresMatch(`end at ${iso(now())}`, { pages: true });
    const end = t;
    // The next CST midnight; the last millisecond of the month and its next month's first; 45 days
    // on (rankings paged); a year and more on.
    const laterInstants = [
      cstDayStart(end, 1),
      new Date(cstMonthStart(end, 1).getTime() - 1),
      cstMonthStart(end, 1),
      new Date(end.getTime() + 45 * DAY_MS + 5 * HOUR_MS),
      new Date(end.getTime() + 400 * DAY_MS),
    ];
    for (const [i, later] of laterInstants.entries()) {
      freezeClock(later);
      await expectFiguresMatch(`no writes, at ${iso(later)}`, { pages: i === 3, light: i === 0 });
    }
    // eslint-disable-next-line no-console
    console.log(`seed ${SEED}: ${tally.ok} writes accepted (${tally.replays} replays), ${tally.refused} refused, ${residents.size} residents, ` +
      `${[...tally.byKind].map(([k, n]) => `${k} ${n}`).join(', ')}; ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }, 900_000); // a time limit, not a speed target: 25-60 s on a quiet 2-core machine, minutes under load

  it('refuses a trend of 0 or 61 months with BAD_USER_INPUT naming months', async () => {
    for (const months of [0, 61]) {
      const res = await gql(sg.url, `{ _entities(representations: [{ __typename: "City", code: "320100" }]) { ... on City { visitTrend(months: ${months}) { month } } } }`);
      expect(res.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
      expect(res.errors?.[0].message).toContain('months');
    }
  });
});
