/**
 * Property test of the statistics rollups: a seeded random sequence of writes through every
 * mutation of the subgraph (fee rows created and corrected, identical replays, surveys recorded,
 * retried with the same and with a different payload, refused inputs; some sent concurrently) on a
 * small synthetic city, with the product clock moving forward between writes. Then (a) the
 * maintained rollup collection equals a full rebuild from the raw rows, and (b) every statistics
 * field (city, district and street; every period written and the latest; the district ranking by
 * each rate; the trends of cities, districts and every 小区) equals the raw-row reference.
 * Reproduce a failure with PROPERTIES_ROLLUP_SEED=<the seed printed>.
 */
import type { Collection } from 'mongodb';
import { cstYear, freezeClock, lastMonthsIncludingCurrent, now } from '../../../lib/clock';
import { Rng } from '../../../lib/random';
import { generateCity } from '../../../scripts/synthetic/city';
import { pinClock } from '../../../test/helpers/clock';
import { gql, startSubgraph, startTestDatabase, type Engine, type RunningSubgraph } from '../../../test/helpers/subgraph';
import { subgraph } from '..';
import { registerModels } from '../models';
import { DEMO } from '../seed';
import { seedSyntheticProperties } from '../seed-synthetic';
import { createRollupWriter, META_ID, rebuildStats, type RollupDoc } from '../stats';
import { createReference, type ReferenceLevel } from '../stats/reference';

const SEED = Number(process.env.PROPERTIES_ROLLUP_SEED ?? 20_261_203);
const WRITES = 1_100;
const CITY = generateCity(50, 11);
const pinned = pinClock(now());

let engine: Engine;
let sg: RunningSubgraph;
let communityIds: string[] = [];
const log: string[] = [];

beforeAll(async () => {
  console.log(`properties rollup property test: seed ${SEED} (PROPERTIES_ROLLUP_SEED to reproduce), clock starts ${now().toISOString()}`);
  engine = await startTestDatabase();
  sg = await startSubgraph(subgraph, engine.uri, { monitorCommands: true });
  await seedSyntheticProperties(sg.conn, CITY, 11);
  communityIds = [...CITY.communities.map((c) => c.id), ...Object.values(DEMO)].sort();
}, 120_000);
afterAll(async () => {
  await sg?.close();
  await engine?.stop();
  pinned.restore();
});

// ---- the random writes ---------------------------------------------------------------------------

const FEE = `mutation($i: FeeCollectionInput!) { upsertFeeCollection(input: $i) { id period } }`;
const SURVEY = `mutation($i: SatisfactionSurveyInput!) { recordSatisfactionSurvey(input: $i) { id period percent } }`;

interface Op {
  kind: string;
  query: string;
  input: Record<string, unknown>;
  /** The raw row it writes (fee id or survey clientKey): two ops on one row are never concurrent. */
  row: string;
  expectError?: string;
}

/** Periods around the moving clock: the last 15 months, the current year, now and then next month. */
function periodsAt(at: Date): string[] {
  return [...lastMonthsIncludingCurrent(at, 16).map((w) => w.month), String(cstYear(at)), String(cstYear(at) - 1)];
}

function feeFigures(r: Rng): Record<string, unknown> {
  const chargeable = r.chance(0.1) ? null : r.int(0, 3000);
  const receivable = r.chance(0.1) ? null : r.int(0, 5_000_000);
  const arrears = r.chance(0.15) ? null : r.int(0, 2_000_000);
  return {
    chargeableHouseholds: chargeable,
    paidHouseholds: chargeable === null ? (r.chance(0.5) ? null : r.int(0, 100)) : r.int(0, chargeable),
    receivableFen: receivable,
    receivedFen: receivable === null ? null : r.int(0, receivable),
    historicalArrearsFen: arrears,
    arrearsRecoveredFen: arrears === null || r.chance(0.1) ? null : r.int(0, 500_000),
    prepaidFen: r.chance(0.5) ? null : r.int(0, 10_000),
    ...(r.chance(0.1) ? { reportedRate: +r.next().toFixed(2), reportedRateBasis: r.pick(['HOUSEHOLD', 'AMOUNT', 'UNKNOWN']) } : {}),
  };
}

function makeOps(r: Rng, at: Date, fees: Map<string, Record<string, unknown>>, surveys: Map<string, Record<string, unknown>>, n: number): Op[] {
  const ops: Op[] = [];
  const periods = periodsAt(at);
  // A few busy 小区 make ties (several surveys of one 小区 and period) and corrections likely.
  const community = () => (r.chance(0.3) ? communityIds[r.int(0, 5)] : r.pick(communityIds));
  for (let i = 0; i < n; i++) {
    const kind = r.weighted([
      ['feeNew', 30], ['feeCorrection', 14], ['feeReplay', 5], ['surveyNew', 26], ['surveyRetry', 8], ['surveyRetryChanged', 4], ['invalid', 8],
    ] as const);
    if ((kind === 'feeCorrection' || kind === 'feeReplay') && fees.size) {
      const [id, prev] = r.pick([...fees.entries()]);
      const input = kind === 'feeReplay' ? prev : { communityId: prev.communityId, period: prev.period, ...feeFigures(r) };
      ops.push({ kind, query: FEE, input, row: id });
    } else if ((kind === 'surveyRetry' || kind === 'surveyRetryChanged') && surveys.size) {
      const [key, prev] = r.pick([...surveys.entries()]);
      const input = kind === 'surveyRetry' ? prev : { ...prev, percent: r.int(0, 100), period: r.pick(periods) };
      ops.push({ kind, query: SURVEY, input, row: key });
    } else if (kind === 'surveyNew' || kind === 'surveyRetry' || kind === 'surveyRetryChanged') {
      const clientKey = `prop-${SEED}-${r.int(0, 1e9)}-${i}`;
      const withPercent = r.chance(0.85);
      const input = {
        clientKey, communityId: community(), period: r.pick(periods), method: r.pick(['QUESTIONNAIRE', 'APP', 'PHONE_RETURN_VISIT', 'THIRD_PARTY']),
        sampleSize: r.chance(0.7) ? r.int(1, 400) : null,
        percent: withPercent ? (r.chance(0.5) ? r.int(0, 100) : +(r.next() * 100).toFixed(r.int(1, 4))) : null,
        cityTopPercent: withPercent && r.chance(0.8) ? null : r.int(1, 50),
      };
      ops.push({ kind: 'surveyNew', query: SURVEY, input, row: clientKey });
    } else if (kind === 'invalid') {
      const bad = r.weighted([
        [{ query: FEE, input: { communityId: community(), period: r.pick(periods), chargeableHouseholds: 10, paidHouseholds: 11 }, field: 'input.paidHouseholds' }, 1],
        [{ query: FEE, input: { communityId: community(), period: '2026-13' }, field: 'input.period' }, 1],
        [{ query: FEE, input: { communityId: 'cm_missing', period: r.pick(periods) }, field: 'input.communityId' }, 1],
        [{ query: SURVEY, input: { clientKey: `bad-${SEED}-${i}-${r.int(0, 1e9)}`, communityId: community(), period: r.pick(periods), method: 'APP', percent: 101 }, field: 'input.percent' }, 1],
      ] as const);
      ops.push({ kind, query: bad.query, input: bad.input as Record<string, unknown>, row: `invalid-${i}`, expectError: bad.field });
    } else {
      const communityId = community();
      const period = r.pick(periods);
      ops.push({ kind: 'feeNew', query: FEE, input: { communityId, period, ...feeFigures(r) }, row: `fee_${communityId}_${period}` });
    }
  }
  return ops;
}

async function runWrites(r: Rng, count: number, fees: Map<string, Record<string, unknown>>, surveys: Map<string, Record<string, unknown>>) {
  const kinds = new Map<string, number>();
  let done = 0;
  while (done < count) {
    // Move the product clock forward (0-6 hours), then send 1-4 writes at once (distinct rows).
    freezeClock(new Date(now().getTime() + Math.floor(r.next() * 6 * 3600_000)));
    const batch = makeOps(r, now(), fees, surveys, r.int(1, 4)).filter((op, i, all) => all.findIndex((o) => o.row === op.row) === i);
    const results = await Promise.all(batch.map((op) => gql(sg.url, op.query, { i: op.input })));
    batch.forEach((op, i) => {
      const res = results[i];
      const where = `write ${done + i} (${op.kind}, seed ${SEED}): ${JSON.stringify(op.input)}`;
      if (op.expectError) {
        if (res.errors?.[0]?.extensions?.code !== 'BAD_USER_INPUT' || res.errors[0].extensions.field !== op.expectError) throw new Error(`${where} should be refused: ${JSON.stringify(res)}`);
      } else if (res.errors) {
        throw new Error(`${where} failed: ${JSON.stringify(res.errors)}`);
      } else if (op.query === FEE) {
        fees.set(res.data!.upsertFeeCollection.id, op.input);
      } else if (!surveys.has(op.row)) {
        surveys.set(op.row, op.input);
      } else {
        // A retry answers with the first record, whatever it sends.
        const first = surveys.get(op.row)!;
        expect(res.data!.recordSatisfactionSurvey).toMatchObject({ period: first.period, percent: first.percent ?? null });
      }
      kinds.set(op.kind, (kinds.get(op.kind) ?? 0) + 1);
    });
    done += batch.length;
  }
  log.push(`${done} writes: ${[...kinds].map(([k, n]) => `${k} ${n}`).join(', ')}`);
  return done;
}

// ---- the checks ------------------------------------------------------------------------------------

async function rollupDocs(): Promise<Omit<RollupDoc, 'gen'>[]> {
  const docs = await (sg.conn.collection('properties_stats') as unknown as Collection<RollupDoc>).find({ _id: { $ne: META_ID } }).toArray();
  return docs
    .filter((d) => Object.keys(d.f ?? {}).length > 0)
    .map(({ gen: _gen, ...rest }) => rest)
    .sort((a, b) => (a._id < b._id ? -1 : 1));
}

/** (a) The maintained collection equals a rebuild from the raw rows (exactly: same sums in the same order). */
async function expectRollupsEqualRebuild() {
  const maintained = await rollupDocs();
  await rebuildStats(sg.conn);
  const rebuilt = await rollupDocs();
  expect(maintained.length).toBe(rebuilt.length);
  expect(maintained).toEqual(rebuilt);
  return rebuilt.length;
}

const SUMMARY = 'period communities chargeableHouseholds paidHouseholds receivableFen receivedFen householdRate amountRate clearanceRate';
const MONTH = 'month communities householdRate amountRate clearanceRate surveys satisfactionAvg';

/** Numbers equal, floats to 1e-9 (the satisfaction sums may differ from the database's in the last bit). */
function expectClose(actual: unknown, expected: unknown, path: string) {
  if (typeof expected === 'number' && typeof actual === 'number') {
    if (Math.abs(actual - expected) > 1e-9 * Math.max(1, Math.abs(expected))) throw new Error(`${path}: ${actual} != ${expected} (seed ${SEED})`);
    return;
  }
  if (expected && typeof expected === 'object') {
    if (!actual || typeof actual !== 'object') throw new Error(`${path}: ${JSON.stringify(actual)} != ${JSON.stringify(expected)} (seed ${SEED})`);
    const keys = new Set([...Object.keys(expected), ...Object.keys(actual)]);
    for (const k of keys) expectClose((actual as any)[k], (expected as any)[k], `${path}.${k}`);
    return;
  }
  if (actual !== expected) throw new Error(`${path}: ${JSON.stringify(actual)} != ${JSON.stringify(expected)} (seed ${SEED})`);
}

/** (b) Every statistics field against the raw-row reference. Returns the number of figures compared. */
async function expectFieldsEqualReference(periods: string[]): Promise<number> {
  const ref = createReference(registerModels(sg.conn));
  const months18 = lastMonthsIncludingCurrent(now(), 18).map((w) => w.month);
  // The subgraph allows 30 aliases per operation (lib/limits.ts): three periods per query, the
  // answers merged level by level.
  const merge = (into: any, from: any): any => {
    if (Array.isArray(from)) return from.map((x, i) => merge(into?.[i], x));
    if (from && typeof from === 'object' && !(from instanceof Date)) {
      const out = { ...(into ?? {}) };
      for (const [k, v] of Object.entries(from)) out[k] = merge(out[k], v);
      return out;
    }
    return from;
  };
  let data: any = null;
  for (let from = 0; from < periods.length || from === 0; from += 3) {
    const fields = [
      'code communityCount oldCommunityCount propertyCoverageRate',
      ...(from === 0 ? [`latestFee: feeCollection { ${SUMMARY} } latestSat: satisfactionAvg`] : []),
      ...periods.slice(from, from + 3).map((p, k) => `f${from + k}: feeCollection(period: "${p}") { ${SUMMARY} } s${from + k}: satisfactionAvg(period: "${p}")`),
    ].join('\n');
    const trends = from === 0 ? `t12: propertyTrend { ${MONTH} } t18: propertyTrend(months: 18) { ${MONTH} }` : '';
    const part = await gql(sg.url, `{ cities { ${fields} ${trends} districts { ${fields} ${trends} streets { ${fields} } } } }`);
    expect(part.errors).toBeUndefined();
    data = merge(data, part.data);
  }
  const res = { data };
  const byLevel: Record<ReferenceLevel, any[]> = { CITY: res.data!.cities, DISTRICT: [], STREET: [] };
  byLevel.DISTRICT = byLevel.CITY.flatMap((c) => c.districts);
  byLevel.STREET = byLevel.DISTRICT.flatMap((d) => d.streets);
  expect(byLevel.STREET.length).toBeGreaterThan(5);
  let compared = 0;
  for (const level of ['CITY', 'DISTRICT', 'STREET'] as const) {
    const areas = byLevel[level];
    const codes = areas.map((a) => a.code);
    const counts = new Map((await ref.areaCounts(level, codes)).map((c) => [c.code, c]));
    const summary = (rows: any[], code: string) => {
      const r = rows.find((x) => x.code === code);
      if (!r) return null;
      const { householdRate, amountRate, clearanceRate } = rateFields(r);
      return { period: r.period, communities: r.communities, chargeableHouseholds: r.chargeableHouseholds, paidHouseholds: r.paidHouseholds, receivableFen: r.receivableFen, receivedFen: r.receivedFen, householdRate, amountRate, clearanceRate };
    };
    const trends = level === 'STREET' ? null : await ref.areaTrends(level, codes, months18);
    const perPeriod = await Promise.all(
      [null, ...periods].map(async (p) => ({ fees: await ref.feeSummaries(level, codes, p), sats: await ref.satisfactionAverages(level, codes, p) })),
    );
    for (const a of areas) {
      const c = counts.get(a.code);
      const where = `${level} ${a.code}`;
      expectClose(
        { communityCount: a.communityCount, oldCommunityCount: a.oldCommunityCount, propertyCoverageRate: a.propertyCoverageRate },
        { communityCount: c?.communityCount ?? 0, oldCommunityCount: c?.oldCommunityCount ?? 0, propertyCoverageRate: c && c.modeKnown > 0 ? c.managed / c.modeKnown : null },
        where,
      );
      [null, ...periods].forEach((p, i) => {
        const got = p === null ? { fee: a.latestFee, sat: a.latestSat } : { fee: a[`f${i - 1}`], sat: a[`s${i - 1}`] };
        const sat = perPeriod[i].sats.find((s) => s.code === a.code);
        expectClose(got, { fee: summary(perPeriod[i].fees, a.code), sat: sat?.avg ?? null }, `${where} period ${p ?? 'latest'}`);
        compared += 2;
      });
      if (trends) {
        // The 12-month trend is the last 12 months of the 18-month one.
        expectClose(a.t12, trends.get(a.code)!.slice(-12), `${where} trend 12`);
        expectClose(a.t18, trends.get(a.code), `${where} trend 18`);
        compared += 30;
      }
      compared += 3;
    }
  }
  // The district ranking, for each city, period and rate (requests of at most 30 aliases, the
  // subgraph's limit: lib/limits.ts).
  for (const city of byLevel.CITY) {
    const cases = periods.flatMap((p) => (['AMOUNT', 'HOUSEHOLD', 'CLEARANCE'] as const).map((by) => ({ p, by })));
    const r: { data: Record<string, unknown> } = { data: {} };
    for (let from = 0; from < cases.length; from += 30) {
      const part = await gql(
        sg.url,
        `{ ${cases.slice(from, from + 30).map((c, k) => `r${from + k}: districtFeeRanking(cityCode: "${city.code}", period: "${c.p}", by: ${c.by}) { rank district { code } feeCollection { ${SUMMARY} } }`).join('\n')} }`,
      );
      expect(part.errors).toBeUndefined();
      Object.assign(r.data, part.data);
    }
    for (const [i, c] of cases.entries()) {
      const expected = (await ref.districtFeeRanking(city.code, c.p, c.by)).map((x) => ({ rank: x.rank, district: { code: x.districtCode }, feeCollection: summary2(x.summary) }));
      expectClose(r.data![`r${i}`], expected, `ranking ${city.code} ${c.p} ${c.by}`);
      compared++;
    }
  }
  // Every 小区's trend (its own rows).
  const cm = await gql(sg.url, `{ communities(first: 500) { edges { node { id synthetic propertyTrend(months: 18) { ${MONTH} } } } } }`);
  expect(cm.errors).toBeUndefined();
  for (const { node } of cm.data!.communities.edges) {
    expectClose(node.propertyTrend, await ref.communityTrend(node.id, months18), `community ${node.id} trend`);
    expect(node.synthetic).toBe(!Object.values(DEMO).includes(node.id as never));
    compared += 18;
  }
  return compared;
}

const rateFields = (r: { paidHouseholds: number; chargeableHouseholds: number; receivedFen: number; receivableFen: number; arrearsRecoveredFen: number; historicalArrearsFen: number }) => ({
  householdRate: r.chargeableHouseholds === 0 ? null : r.paidHouseholds / r.chargeableHouseholds,
  amountRate: r.receivableFen === 0 ? null : r.receivedFen / r.receivableFen,
  clearanceRate: r.arrearsRecoveredFen + r.historicalArrearsFen === 0 ? null : r.arrearsRecoveredFen / (r.arrearsRecoveredFen + r.historicalArrearsFen),
});
const summary2 = (r: any) => ({
  period: r.period, communities: r.communities, chargeableHouseholds: r.chargeableHouseholds, paidHouseholds: r.paidHouseholds,
  receivableFen: r.receivableFen, receivedFen: r.receivedFen, ...rateFields(r),
});

// ---- the test --------------------------------------------------------------------------------------

describe('properties statistics rollups', () => {
  it(`stay equal to a rebuild and to the raw-row reference through ${WRITES} random writes (seed ${SEED})`, async () => {
    const started = performance.now();
    const r = new Rng(SEED);
    const fees = new Map<string, Record<string, unknown>>();
    const surveys = new Map<string, Record<string, unknown>>();
    // The synthetic seed ended with a rebuild: the fields answer like the reference before any write.
    const periods0 = periodsAt(now());
    await expectFieldsEqualReference(periods0.slice(-6));

    // First half, then (a) — which also replaces the collection by a rebuild (generations back to
    // 0) — and the second half on top of the rebuilt collection.
    await runWrites(r, WRITES / 2, fees, surveys);
    const mid = await expectRollupsEqualRebuild();
    await runWrites(r, WRITES / 2, fees, surveys);
    const docs = await expectRollupsEqualRebuild();

    // (b) Every period written (and the latest) at every level, the ranking, the trends.
    const written = [...new Set([...fees.values(), ...surveys.values()].map((i) => i.period as string))].sort();
    const compared = await expectFieldsEqualReference(written);
    console.log(
      `properties rollup property test (seed ${SEED}): ${log.join('; ')}; ${fees.size} fee rows and ${surveys.size} surveys written; ` +
        `${mid} then ${docs} rollup documents equal to a rebuild; ${compared} figures over ${written.length} periods equal to the reference; ` +
        `${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
    expect(fees.size).toBeGreaterThan(200);
    expect(surveys.size).toBeGreaterThan(200);
  }, 900_000); // a time limit, not a speed target

  it('stay exact when writers that share no queue (as separate processes would) refresh one city at once', async () => {
    // Two writer instances coalesce nothing between them: every refresh of the same city races on
    // the same documents and only the compare-and-set on `gen` keeps the sums right.
    const m = registerModels(sg.conn);
    const writers = [createRollupWriter(m), createRollupWriter(m), createRollupWriter(m)];
    const r = new Rng(SEED + 1);
    const nanjing = communityIds.filter((id) => id.startsWith('cm_3201'));
    const period = lastMonthsIncludingCurrent(now(), 3)[0].month;
    for (let round = 0; round < 15; round++) {
      const batch = Array.from({ length: 6 }, (_, i) => ({ id: nanjing[r.int(0, nanjing.length - 1)], i }));
      await Promise.all(
        batch.map(async ({ id, i }) => {
          const chargeable = r.int(1, 500);
          await m.Fee.updateOne(
            { _id: `fee_${id}_${period}` },
            { $set: { communityId: id, cityCode: '320100', districtCode: id.slice(3, 9), period, chargeableHouseholds: chargeable, paidHouseholds: r.int(0, chargeable) } },
            { upsert: true },
          );
          await writers[i % writers.length].rowWritten(id, period);
        }),
      );
    }
    await expectRollupsEqualRebuild();
    await expectFieldsEqualReference([period]);
  }, 120_000);

  it('statistics of a city read only the rollups: one query for the area, one for all its figures', async () => {
    const seen: string[] = [];
    const client = sg.conn.getClient();
    const listen = (ev: { commandName: string; command: Record<string, unknown> }) => {
      if (['find', 'aggregate', 'count', 'distinct'].includes(ev.commandName)) seen.push(`${ev.commandName}:${String(ev.command[ev.commandName])}`);
    };
    client.on('commandStarted', listen);
    const p = lastMonthsIncludingCurrent(now(), 2)[0].month;
    const res = await gql(sg.url, `{ city(code: "320100") { communityCount oldCommunityCount propertyCoverageRate
      feeCollection(period: "${p}") { amountRate householdRate } satisfactionAvg(period: "${p}") latest: feeCollection { amountRate }
      propertyTrend { month amountRate } } }`);
    client.off('commandStarted', listen);
    expect(res.errors).toBeUndefined();
    expect(res.data!.city.communityCount).toBeGreaterThan(0);
    expect(seen.sort()).toEqual(['aggregate:admin_areas', 'find:properties_stats']);
  });

  it('refuses trend lengths outside 1-60 with BAD_USER_INPUT naming months', async () => {
    for (const months of [0, 61]) {
      const res = await gql(sg.url, `{ city(code: "320100") { propertyTrend(months: ${months}) { month } } }`);
      expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'months' });
    }
    const ok = await gql(sg.url, `{ community(id: "${DEMO.ruijin}") { propertyTrend(months: 60) { month } } }`);
    expect(ok.data!.community.propertyTrend).toHaveLength(60);
    expect(ok.data!.community.propertyTrend[59].month).toBe(lastMonthsIncludingCurrent(now(), 1)[0].month);
  });
});
