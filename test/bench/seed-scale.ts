/**
 * `npm run bench:seed [-- --sizes 400,4000,40000 --seed 42]`: seeds the synthetic city at each size
 * into a fresh embedded engine with a data directory, in one run, and prints per size: seed time
 * per bureau, documents, database size on disk (snapshot + journal after a clean stop), and at
 * 4,000 小区 (or the size given by --latency-at) the latency of CityOverview and CommunityProfile
 * through the gateway (median and max of 3 after 2 warm-ups). Prints figures; asserts nothing.
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { disableApolloTelemetry } from '../../lib/config';
import { startStack } from '../../scripts/stack';
import { seedSyntheticCity, type SeedReport } from '../../scripts/synthetic/seed-city';

disableApolloTelemetry();

const CITY_OVERVIEW = `query CityOverview($city: ID!, $period: String!) { city(code: $city) { name communityCount oldCommunityCount propertyCoverageRate
  feeCollection(period: $period) { amountRate householdRate } satisfactionAvg(period: $period)
  ticketStats(range: LAST_30D) { opened resolved backlog medianHoursToResolve satisfiedRate }
  elderlyStats { registered livingAlone monthlyVisitRate overdueVisits }
  renovationStats(year: 2025) { projects byStatus { status count } budget { amount } spent { amount } } } }`;
const COMMUNITY_PROFILE = `query CommunityProfile($id: ID!) { community(id: $id) { name address builtYear builtDecade isOldCommunity housingType buildingCount residentCount
  servicePromise has24hServiceHotline commendationBannerCount currentContract { company { name nature hasPartyOrganization } selectionMethod startDate }
  feeHistory(last: 12) { period amountRate reportedRate reportedRateBasis } latestSatisfaction { percent isLowerBound cityTopPercent }
  committee { type termEnd lastDisclosureAt } partyAlliance { model members { orgType orgName } }
  jointMeetings(range: LAST_90D) { heldAt topics } patrolTeams { name memberCount } designations { level year }
  elderlyStats { registered livingAlone monthlyVisitRate } mealPrograms { type name }
  renovationProjects { planYear status budget { amount } fundingSources { type amount { amount } } } facilities(condition: [BROKEN, MISSING]) { type quantity } } }`;

function dirSize(dir: string): number {
  let total = 0;
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    const st = statSync(p);
    total += st.isDirectory() ? dirSize(p) : st.size;
  }
  return total;
}

async function timeOp(url: string, query: string, variables: object, runs = 3) {
  const times: number[] = [];
  for (let i = 0; i < runs + 2; i++) {
    const t = performance.now();
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'apollo-require-preflight': 'true' }, body: JSON.stringify({ query: `${query} # run ${i}`, variables }) });
    const body = (await res.json()) as { errors?: { message: string }[] };
    if (body.errors) throw new Error(`${query.slice(6, 30)}: ${body.errors[0].message}`);
    if (i >= 2) times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return { medianMs: times[Math.floor(times.length / 2)], maxMs: times[times.length - 1] };
}

async function main() {
  const { values } = parseArgs({ options: { sizes: { type: 'string', default: '400,4000,40000' }, seed: { type: 'string', default: '42' }, 'latency-at': { type: 'string', default: '4000' } } });
  const sizes = values.sizes!.split(',').map(Number);
  const seed = Number(values.seed);
  const latencyAt = Number(values['latency-at']);
  const rows: { n: number; report: SeedReport; bytes: number; latency?: Record<string, { medianMs: number; maxMs: number }> }[] = [];
  for (const n of sizes) {
    const dir = mkdtempSync(path.join(os.tmpdir(), `seed-${n}-`));
    const stack = await startStack({
      dbPath: path.join(dir, 'db'),
      seed: 'always',
      logLevel: 'silent',
      gatewayTuning: { subgraphTimeoutsMs: { properties: 120_000, governance: 120_000, elderly: 120_000, renovation: 120_000 } },
      beforeListen: async (conns) => {
        const report = await seedSyntheticCity(conns, { communities: n, seed, progress: (l) => console.log(`  [${n}] ${l}`) });
        rows.push({ n, report, bytes: 0 });
      },
    });
    const row = rows[rows.length - 1];
    if (n === latencyAt) {
      const someId = (await (await fetch(stack.gatewayUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ communities(first: 1, filter: { cityCode: "320100", isOldCommunity: true }) { edges { node { id } } } }' }) })).json()) as any;
      const id = someId.data.communities.edges[0].node.id;
      row.latency = {
        CityOverview: await timeOp(stack.gatewayUrl, CITY_OVERVIEW, { city: '320100', period: '2026-10' }),
        CommunityProfile: await timeOp(stack.gatewayUrl, COMMUNITY_PROFILE, { id }),
      };
    }
    await stack.stop();
    row.bytes = dirSize(path.join(dir, 'db'));
    rmSync(dir, { recursive: true, force: true });
    // Print each size as soon as it is done, so a later failure keeps the earlier figures.
    const docs = Object.values(row.report.documents).reduce((a, b) => a + b, 0);
    console.log(`  [${n}] done: ${docs} documents in ${(row.report.totalMs / 1000).toFixed(1)} s, ${(row.bytes / 1048576).toFixed(1)} MB on disk` +
      (row.latency ? `; CityOverview median ${row.latency.CityOverview.medianMs.toFixed(0)} ms, CommunityProfile median ${row.latency.CommunityProfile.medianMs.toFixed(0)} ms` : ''));
  }
  console.log('\n| 小区 | documents | seed time | properties | governance | elderly | renovation | on disk |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const docs = Object.values(r.report.documents).reduce((a, b) => a + b, 0);
    const s = (name: string) => (r.report.ms[name] === undefined ? '-' : `${(r.report.ms[name] / 1000).toFixed(1)} s`);
    console.log(`| ${r.n} | ${docs} | ${(r.report.totalMs / 1000).toFixed(1)} s | ${s('properties')} | ${s('governance')} | ${s('elderly')} | ${s('renovation')} | ${(r.bytes / 1048576).toFixed(1)} MB |`);
  }
  for (const r of rows.filter((x) => x.latency)) {
    for (const [op, t] of Object.entries(r.latency!)) console.log(`${op} at ${r.n} 小区: median ${t.medianMs.toFixed(0)} ms, max ${t.maxMs.toFixed(0)} ms (3 runs after 2 warm-ups)`);
  }
}

main().catch((err) => {
  console.error(`bench:seed failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
