/**
 * Cost of the complementary suppression of elderly statistics for anonymous callers, through the
 * gateway, on the synthetic city of `--communities` 小区 (default 4,000; seeded like `bench:seed`,
 * response cache off): CityOverview, the district dashboard and CommunityProfile as `bench:seed`
 * sends them.
 *  - hit: p50/p99 of `--runs` anonymous requests after 2 warm-ups, no writes in between;
 *  - miss: the first anonymous request after a write (a resident registered through the gateway by
 *    civil affairs), `--misses` times per operation: the city's snapshot is recomputed then.
 * The same script runs unchanged on a tree without the snapshot (cell-by-cell suppression), where
 * "miss" is just a request after a write: run it on both trees back to back to compare.
 * `npx tsx test/bench/disclosure-bench.ts [--communities 4000 --runs 20 --misses 5 --seed 42]
 * [--db-dir DIR [--seed-only]]` (with --db-dir the data is kept, and reused by the next run).
 * Prints figures; asserts nothing.
 */
import { execSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startStack } from '../../scripts/stack';
import { seedSyntheticCity } from '../../scripts/synthetic/seed-city';
import { signLocalToken } from '../../lib/auth/token';
import { disableApolloTelemetry, loadConfig } from '../../lib/config';
import { cstMonth, cstMonthStart, cstYear, now } from '../../lib/clock';

disableApolloTelemetry();

const CITY_OVERVIEW = `query CityOverview($city: ID!, $period: String!, $year: Int!) { city(code: $city) { name communityCount oldCommunityCount propertyCoverageRate
  feeCollection(period: $period) { amountRate householdRate } satisfactionAvg(period: $period)
  ticketStats(range: LAST_30D) { opened resolved backlog medianHoursToResolve satisfiedRate }
  elderlyStats { registered livingAlone monthlyVisitRate overdueVisits }
  renovationStats(year: $year) { projects byStatus { status count } budget { amount } spent { amount } } } }`;
const DISTRICT_DASHBOARD = `query DistrictDashboard($district: ID!, $period: String!, $year: Int!) { district(code: $district) { name communityCount oldCommunityCount propertyCoverageRate
  feeCollection(period: $period) { amountRate householdRate clearanceRate } satisfactionAvg(period: $period)
  ticketStats(range: LAST_30D, groupBy: SERVICE_CODE) { opened resolved backlog overdue medianHoursToResolve p90HoursToResolve satisfiedRate groups { key opened } }
  elderlyStats { registered livingAlone highRisk monthlyVisitRate overdueVisits }
  renovationStats(year: $year) { projects byStatus { status count } budget { amount } spent { amount } } } }`;
const COMMUNITY_PROFILE = `query CommunityProfile($id: ID!) { community(id: $id) { name address builtYear builtDecade isOldCommunity housingType buildingCount residentCount
  servicePromise has24hServiceHotline commendationBannerCount currentContract { company { name nature hasPartyOrganization } selectionMethod startDate }
  feeHistory(last: 12) { period amountRate reportedRate reportedRateBasis } latestSatisfaction { percent isLowerBound cityTopPercent }
  committee { type termEnd lastDisclosureAt } partyAlliance { model members { orgType orgName } }
  jointMeetings(range: LAST_90D) { heldAt topics } patrolTeams { name memberCount } designations { level year }
  elderlyStats { registered livingAlone monthlyVisitRate } mealPrograms { type name }
  renovationProjects { planYear status budget { amount } fundingSources { type amount { amount } } } facilities(condition: [BROKEN, MISSING]) { type quantity } } }`;
const REGISTER = `mutation($input: RegisterElderlyResidentInput!) { registerElderlyResident(input: $input) { id } }`;

const { values } = parseArgs({
  options: {
    communities: { type: 'string', default: '4000' },
    runs: { type: 'string', default: '20' },
    misses: { type: 'string', default: '5' },
    seed: { type: 'string', default: '42' },
    /** Keep the seeded data here, or reuse it when the directory exists (compare two trees on the same data). */
    'db-dir': { type: 'string' },
    /** Seed (into --db-dir) and stop. */
    'seed-only': { type: 'boolean', default: false },
  },
});
const n = Number(values.communities);
const runs = Number(values.runs);
const misses = Number(values.misses);

const load = () => execSync('uptime').toString().trim();
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))];
};

async function main() {
  console.log(`disclosure-bench in ${process.cwd()}: ${n} 小区, ${runs} hit runs, ${misses} misses per operation; ${load()}`);
  const keep = values['db-dir'];
  const reuse = keep !== undefined && existsSync(path.join(keep, 'db'));
  const dir = keep ?? mkdtempSync(path.join(os.tmpdir(), `disclosure-bench-${n}-`));
  const t0 = performance.now();
  const stack = await startStack({
    dbPath: path.join(dir, 'db'),
    seed: reuse ? 'never' : 'always',
    logLevel: 'silent',
    gatewayTuning: { responseCacheMaxTtlSeconds: 0 },
    beforeListen: async (conns) => {
      if (!reuse) await seedSyntheticCity(conns, { communities: n, seed: Number(values.seed) });
    },
  });
  console.log(`${reuse ? 'started on the data in' : 'seeded and started in'} ${reuse ? dir : `${((performance.now() - t0) / 1000).toFixed(0)} s`}`);
  try {
    if (values['seed-only']) return;
    const url = stack.gatewayUrl;
    const civil = `Bearer ${await signLocalToken(loadConfig().auth, { role: 'CIVIL_AFFAIRS' })}`;
    const post = async (query: string, variables: object, auth?: string) => {
      const t = performance.now();
      const send = () => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'apollo-require-preflight': 'true', ...(auth ? { authorization: auth } : {}) }, body: JSON.stringify({ query, variables }) });
      // A kept-alive connection the gateway closed while idle fails once: send again.
      const res = await send().catch(() => send());
      const body = (await res.json()) as { data?: any; errors?: { message: string; extensions?: { code?: string } }[] };
      return { ms: performance.now() - t, body };
    };
    const some = await post('{ communities(first: 1, filter: { cityCode: "320100", isOldCommunity: true }) { edges { node { id } } } }', {});
    const id = some.body.data.communities.edges[0].node.id as string;
    const period = cstMonth(cstMonthStart(now(), -1));
    const year = cstYear(now());
    const ops: [string, string, object][] = [
      ['CityOverview', CITY_OVERVIEW, { city: '320100', period, year }],
      ['DistrictDashboard', DISTRICT_DASHBOARD, { district: '320115', period, year }],
      ['CommunityProfile', COMMUNITY_PROFILE, { id }],
    ];
    let seq = 0;
    let writeFailures = 0;
    /** A registration; retried with the same clientKey (idempotent) when it times out under load. */
    const write = async () => {
      const input = { clientKey: `bench-${process.pid}-${++seq}`, communityId: id, ageBand: 'AGE_70_79', livingArrangement: 'WITH_FAMILY', consentRecordedAt: now().toISOString() };
      for (let attempt = 0; attempt < 3; attempt++) {
        const r = await post(REGISTER, { input }, civil);
        if (!r.body.errors) return;
        console.log(`  write attempt ${attempt + 1} failed: ${r.body.errors[0].message}`);
      }
      writeFailures++;
    };
    // The snapshot counters when this tree has them (same process as the subgraphs).
    const snap = await import('../../subgraphs/elderly/services/disclosure').then((x: any) => x.snapshotStats as Record<string, number> | undefined).catch(() => undefined);
    const computeMs: number[] = [];
    const rows: string[] = [];
    for (const [name, query, variables] of ops) {
      // Misses first (each right after a write), then hits (no writes).
      const missMs: number[] = [];
      let missErrors = 0;
      for (let i = 0; i < misses; i++) {
        await write();
        const before = snap ? { ...snap } : undefined;
        const r = await post(query, variables);
        missMs.push(r.ms);
        if (r.body.errors) missErrors++;
        if (snap && before) {
          const waitUntil = performance.now() + 30_000;
          while (snap.computed === before.computed && performance.now() < waitUntil) await new Promise((res) => setTimeout(res, 20));
          const prior = snap.lastComputeMs;
          while (snap.lastComputeMs === prior && performance.now() < waitUntil) await new Promise((res) => setTimeout(res, 20));
          computeMs.push(snap.lastComputeMs);
          console.log(`  ${name} after a write: ${r.ms.toFixed(0)} ms (${snap.stale - before.stale ? 'previous snapshot served' : 'waited for the new one'}), snapshot computed in ${snap.lastComputeMs.toFixed(0)} ms`);
        }
      }
      const hitMs: number[] = [];
      let hitErrors = 0;
      let firstError = '';
      for (let i = 0; i < runs + 2; i++) {
        const r = await post(query, variables);
        if (i < 2) continue;
        hitMs.push(r.ms);
        if (r.body.errors) {
          hitErrors++;
          firstError ||= `${r.body.errors[0].extensions?.code ?? ''} ${r.body.errors[0].message}`;
        }
      }
      const row = `| ${name} | ${pct(hitMs, 0.5).toFixed(0)} ms | ${pct(hitMs, 0.99).toFixed(0)} ms | ${hitErrors}/${runs} | ${pct(missMs, 0.5).toFixed(0)} ms | ${Math.max(...missMs).toFixed(0)} ms | ${missErrors}/${misses} | ${firstError}`;
      console.log(row);
      rows.push(row);
    }
    console.log(`\n| operation (anonymous, ${n} 小区) | hit p50 | hit p99 | hit errors | miss p50 | miss max | miss errors | first error |`);
    console.log('|---|---|---|---|---|---|---|---|');
    for (const r of rows) console.log(r);
    if (computeMs.length) console.log(`snapshot computations after writes: p50 ${pct(computeMs, 0.5).toFixed(0)} ms, max ${Math.max(...computeMs).toFixed(0)} ms`);
    console.log(`writes that failed 3 times: ${writeFailures}; load at the end: ${load()}`);
  } finally {
    await stack.stop();
    if (keep === undefined) rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
