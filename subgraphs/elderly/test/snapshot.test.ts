/**
 * The disclosure snapshot of a city (services/disclosure.ts) is computed once per rollup version,
 * not per request: anonymous requests read the city's version stamp (stats/model.ts
 * `elderly_stats_versions`) and reuse the cached snapshot; every rollup write and every rebuild
 * increments the stamp, and the next anonymous request sees the write; concurrent requests after a
 * write share one computation; a caller with individual-level access gets exact figures without
 * the snapshot; a new period with unchanged rollups, and a large city after a write, are served the
 * previous snapshot while the next one is computed.
 */
import { pinClock } from '../../../test/helpers/clock';
import { authHeader } from '../../../test/helpers/tokens';
import { gql, startSubgraph, startTestDatabase, type Engine, type RunningSubgraph } from '../../../test/helpers/subgraph';
import { subgraph, createElderlyServer } from '..';
import { registerModels, type Models } from '../models';
import { rebuildStats } from '../stats';
import { DEMO } from '../seed';
import { setStaleAfterWriteMinAreas, SNAPSHOT_PERIOD_MS, snapshotsSettled, snapshotStats } from '../services/disclosure';

// On a period's start: the snapshot's instant is the clock's, so anonymous and exact figures agree.
let clock = new Date('2026-03-01T08:00:00.000Z');
const pinned = pinClock(clock);
const CITY = '320700';

let engine: Engine;
let sg: RunningSubgraph;
let m: Models;
let civil: Record<string, string>;

beforeAll(async () => {
  engine = await startTestDatabase();
  sg = await startSubgraph({ ...subgraph, create: (conn, logger) => createElderlyServer(conn, logger, { now: () => clock }) }, engine.uri);
  m = registerModels(sg.conn);
  civil = await authHeader('CIVIL_AFFAIRS');
});
afterAll(async () => {
  await sg?.close();
  await engine?.stop();
  pinned.restore();
});

const STATS = 'registered livingAlone highRisk keyRisk visitedLast30d overdueVisits';
const AREAS = `_entities(representations: [{ __typename: "City", code: "${CITY}" }, { __typename: "District", code: "320706" }, { __typename: "Community", id: "${DEMO.dongfang}" }])`;
const QUERY = `{ ${AREAS} { ... on City { elderlyStats { ${STATS} } } ... on District { elderlyStats { ${STATS} } } ... on Community { elderlyStats { ${STATS} } } } }`;

async function figures(headers: Record<string, string> = {}) {
  const res = await gql(sg.url, QUERY, undefined, headers);
  expect(res.errors).toBeUndefined();
  return (res.data!._entities as { elderlyStats: Record<string, number | null> }[]).map((e) => e.elderlyStats);
}
const version = async () => ((await m.StatsVersion.collection.findOne({ _id: CITY as never })) as { v: number; epoch: string } | null);

let keySeq = 0;
async function register() {
  const res = await gql(
    sg.url,
    `mutation($input: RegisterElderlyResidentInput!) { registerElderlyResident(input: $input) { id } }`,
    { input: { clientKey: `snapshot-${++keySeq}`, communityId: DEMO.dongfang, ageBand: 'AGE_80_89', livingArrangement: 'LIVING_ALONE', consentRecordedAt: '2026-02-28T09:00:00Z' } },
    civil,
  );
  expect(res.errors).toBeUndefined();
}

/** Anonymous figures equal the exact ones wherever they are published. */
function expectPublishedExact(anonymous: Record<string, number | null>[], exact: Record<string, number | null>[]) {
  anonymous.forEach((area, i) => {
    for (const [k, v] of Object.entries(area)) if (v !== null) expect([i, k, v]).toEqual([i, k, exact[i][k]]);
  });
}

describe('disclosure snapshot per rollup version', () => {
  it('serves repeated anonymous requests from one snapshot, and computes a new one only after a write', async () => {
    await figures();
    await snapshotsSettled();
    const computed = snapshotStats.computed;
    const hits = snapshotStats.hits;
    for (let i = 0; i < 4; i++) await figures();
    expect(snapshotStats.computed).toBe(computed);
    expect(snapshotStats.hits).toBe(hits + 4);

    const before = await version();
    const exactBefore = await figures(civil);
    for (let i = 0; i < 6; i++) await register();
    // Every write increments the city's version (created by the first write, then the same epoch).
    const after = await version();
    if (before) expect(after!.epoch).toBe(before.epoch);
    expect(after!.v).toBe((before?.v ?? 0) + 6);
    const exactAfter = await figures(civil);
    expect(exactAfter[2].registered).toBe(exactBefore[2].registered! + 6);

    const anonymous = await figures();
    expect(snapshotStats.computed).toBe(computed + 1);
    // Before, the city had nobody registered: every figure was suppressed. Now six older people
    // living alone: some figures are published, each equal to the new exact one.
    expect(exactBefore[0].registered).toBe(0);
    expect(anonymous.flatMap((a) => Object.values(a)).filter((v) => v !== null).length).toBeGreaterThan(0);
    expectPublishedExact(anonymous, exactAfter);
  });

  it('lets concurrent anonymous requests after a write share one computation', async () => {
    await register();
    const computed = snapshotStats.computed;
    const answers = await Promise.all(Array.from({ length: 6 }, () => figures()));
    expect(snapshotStats.computed).toBe(computed + 1);
    for (const a of answers) expect(a).toEqual(answers[0]);
  });

  it('gives callers with individual-level access exact figures without reading or computing a snapshot', async () => {
    const counts = { ...snapshotStats };
    const exact = await figures(civil);
    expect(snapshotStats).toEqual(counts);
    expect(exact.every((area) => Object.values(area).every((v) => typeof v === 'number'))).toBe(true);
  });

  it('increments the version on a rebuild, so the next anonymous request computes a new snapshot', async () => {
    await figures();
    const before = await version();
    await rebuildStats(sg.conn);
    expect((await version())!.v).toBeGreaterThan(before!.v);
    const computed = snapshotStats.computed;
    await figures();
    expect(snapshotStats.computed).toBe(computed + 1);
  });

  it('serves the previous period\'s snapshot while the next period\'s is computed, then the new one', async () => {
    const current = await figures();
    await snapshotsSettled();
    clock = new Date(clock.getTime() + SNAPSHOT_PERIOD_MS);
    const { computed, stale } = snapshotStats;
    expect(await figures()).toEqual(current);
    expect(snapshotStats.stale).toBe(stale + 1);
    await snapshotsSettled();
    expect(snapshotStats.computed).toBe(computed + 1);
    const hits = snapshotStats.hits;
    await figures();
    expect(snapshotStats.hits).toBe(hits + 1);
    expect(snapshotStats.computed).toBe(computed + 1);
  });

  it('in a large city, serves the latest snapshot while the new version\'s is computed after a write, then the new one', async () => {
    setStaleAfterWriteMinAreas(1); // every city counts as large
    try {
      const before = await figures();
      await snapshotsSettled();
      await register();
      const { computed, stale } = snapshotStats;
      expect(await figures()).toEqual(before);
      expect(snapshotStats.stale).toBe(stale + 1);
      expect(snapshotStats.computed).toBe(computed + 1);
      await snapshotsSettled();
      const after = await figures();
      expect(snapshotStats.computed).toBe(computed + 1);
      expectPublishedExact(after, await figures(civil));
      expect(after).not.toEqual(before);
    } finally {
      setStaleAfterWriteMinAreas();
    }
  });

  it('computes the current period\'s snapshot before answering when the clock moved on by more than a period', async () => {
    await figures();
    await snapshotsSettled();
    clock = new Date(clock.getTime() + 3 * SNAPSHOT_PERIOD_MS);
    const { computed, stale } = snapshotStats;
    expectPublishedExact(await figures(), await figures(civil));
    expect(snapshotStats.stale).toBe(stale);
    expect(snapshotStats.computed).toBe(computed + 1);
  });
});
