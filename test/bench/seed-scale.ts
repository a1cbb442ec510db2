/**
 * `npm run bench:seed [-- --sizes 400,4000,40000 --seed 42]`: seeds the synthetic city at each size
 * into a fresh embedded engine with a data directory, in one run, and prints per size: seed time
 * per bureau, documents, database size on disk (snapshot + journal after a clean stop), and at
 * 4,000 and 40,000 小区 (`--latency-at`) the latency of CityOverview, a district dashboard and
 * CommunityProfile through the gateway: p50/p99 of `--runs` (20) requests after 2 warm-ups, with the
 * response cache OFF (`--cache` turns it on) and the default gateway configuration otherwise, so a
 * figure is what a first visit, a new filter or a write costs. Errors (e.g. a subgraph deadline) are
 * counted and shown, not hidden. Prints figures; asserts nothing.
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { disableApolloTelemetry } from '../../lib/config';
import { startStack } from '../../scripts/stack';
import { cstMonth, cstMonthStart, cstYear, now } from '../../lib/clock';
import { DEFAULT_TUNING } from '../../gateway/tuning';
import { seedSyntheticCity, type SeedReport } from '../../scripts/synthetic/seed-city';

disableApolloTelemetry();

const CITY_OVERVIEW = `query CityOverview($city: ID!, $period: String!, $year: Int!) { city(code: $city) { name communityCount oldCommunityCount propertyCoverageRate
  feeCollection(period: $period) { amountRate householdRate } satisfactionAvg(period: $period)
  ticketStats(range: LAST_30D) { opened resolved backlog medianHoursToResolve satisfiedRate }
  elderlyStats { registered livingAlone monthlyVisitRate overdueVisits }
  renovationStats(year: $year) { projects byStatus { status count } budget { amount } spent { amount } } } }`;
/** The city overview a new user tried in the issue: twelve months of 12345 figures plus the committee and campaign figures. */
const CITY_OVERVIEW_12M = CITY_OVERVIEW.replace('query CityOverview', 'query CityOverview12M').replace('ticketStats(range: LAST_30D)', 'ticketStats(range: LAST_12M)').replace(
  'elderlyStats {',
  'committeeStats { communities withOwnersCommittee none active expiredTerms disclosedLast12m } jointMeetingsLast90d elderlyStats {',
);
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

const DISTRICT_DASHBOARD = `query DistrictDashboard($district: ID!, $period: String!, $year: Int!) { district(code: $district) { name communityCount oldCommunityCount propertyCoverageRate
  feeCollection(period: $period) { amountRate householdRate clearanceRate } satisfactionAvg(period: $period)
  ticketStats(range: LAST_30D, groupBy: SERVICE_CODE) { opened resolved backlog overdue medianHoursToResolve p90HoursToResolve satisfiedRate groups { key opened } }
  elderlyStats { registered livingAlone highRisk monthlyVisitRate overdueVisits }
  renovationStats(year: $year) { projects byStatus { status count } budget { amount } spent { amount } } } }`;

interface Timing {
  p50Ms: number;
  p99Ms: number;
  runs: number;
  errors: number;
  firstError?: string;
}

/** `runs` measured requests after 2 warm-ups; errors are counted, not thrown (a timeout is a figure too). */
async function timeOp(url: string, query: string, variables: object, runs: number): Promise<Timing> {
  const times: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  for (let i = 0; i < runs + 2; i++) {
    const t = performance.now();
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'apollo-require-preflight': 'true' }, body: JSON.stringify({ query, variables }) });
    const body = (await res.json()) as { errors?: { message: string; extensions?: { code?: string } }[] };
    const ms = performance.now() - t;
    if (i < 2) continue;
    times.push(ms);
    if (body.errors?.length) {
      errors++;
      firstError ??= `${body.errors[0].extensions?.code ?? ''} ${body.errors[0].message}`.trim();
    }
  }
  times.sort((a, b) => a - b);
  const at = (p: number) => times[Math.min(times.length - 1, Math.max(0, Math.ceil(p * times.length) - 1))];
  return { p50Ms: at(0.5), p99Ms: at(0.99), runs, errors, firstError };
}

async function main() {
  const { values } = parseArgs({
    options: {
      sizes: { type: 'string', default: '400,4000,40000' },
      seed: { type: 'string', default: '42' },
      'latency-at': { type: 'string', default: '4000,40000' },
      runs: { type: 'string', default: '20' },
      /** Response cache: off by default (every request reaches the subgraphs and the database). */
      cache: { type: 'boolean', default: false },
      /** Subgraph deadline override in ms (default: the gateway's default), e.g. to time a slow "before". */
      'deadline-ms': { type: 'string' },
    },
  });
  const sizes = values.sizes!.split(',').map(Number);
  const seed = Number(values.seed);
  const latencyAt = new Set(values['latency-at']!.split(',').map(Number));
  const runs = Number(values.runs);
  const deadlineMs = values['deadline-ms'] ? Number(values['deadline-ms']) : undefined;
  // Domain time from the product clock: last complete CST month and the current CST year.
  const period = cstMonth(cstMonthStart(now(), -1));
  const year = cstYear(now());
  console.log(`bench:seed: response cache ${values.cache ? 'ON' : 'OFF'}, default gateway configuration otherwise (subgraph deadline ${deadlineMs ?? DEFAULT_TUNING.subgraph.timeoutMs} ms${deadlineMs ? ', overridden' : ''}); period ${period}, year ${year}`);
  const rows: { n: number; report: SeedReport; bytes: number; latency?: Record<string, Timing> }[] = [];
  for (const n of sizes) {
    const dir = mkdtempSync(path.join(os.tmpdir(), `seed-${n}-`));
    const stack = await startStack({
      dbPath: path.join(dir, 'db'),
      seed: 'always',
      logLevel: 'silent',
      gatewayTuning: {
        ...(values.cache ? {} : { responseCacheMaxTtlSeconds: 0 }),
        ...(deadlineMs ? { subgraph: { ...DEFAULT_TUNING.subgraph, timeoutMs: deadlineMs } } : {}),
      },
      beforeListen: async (conns) => {
        const report = await seedSyntheticCity(conns, { communities: n, seed, progress: (l) => console.log(`  [${n}] ${l}`) });
        rows.push({ n, report, bytes: 0 });
      },
    });
    const row = rows[rows.length - 1];
    if (latencyAt.has(n)) {
      const someId = (await (await fetch(stack.gatewayUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ communities(first: 1, filter: { cityCode: "320100", isOldCommunity: true }) { edges { node { id } } } }' }) })).json()) as any;
      const id = someId.data.communities.edges[0].node.id;
      row.latency = {
        CityOverview: await timeOp(stack.gatewayUrl, CITY_OVERVIEW, { city: '320100', period, year }, runs),
        CityOverview12M: await timeOp(stack.gatewayUrl, CITY_OVERVIEW_12M, { city: '320100', period, year }, runs),
        DistrictDashboard: await timeOp(stack.gatewayUrl, DISTRICT_DASHBOARD, { district: '320115', period, year }, runs),
        CommunityProfile: await timeOp(stack.gatewayUrl, COMMUNITY_PROFILE, { id }, runs),
      };
    }
    await stack.stop();
    row.bytes = dirSize(path.join(dir, 'db'));
    rmSync(dir, { recursive: true, force: true });
    // Print each size as soon as it is done, so a later failure keeps the earlier figures.
    const docs = Object.values(row.report.documents).reduce((a, b) => a + b, 0);
    console.log(`  [${n}] done: ${docs} documents in ${(row.report.totalMs / 1000).toFixed(1)} s, ${(row.bytes / 1048576).toFixed(1)} MB on disk`);
    for (const [op, t] of Object.entries(row.latency ?? {})) console.log(`  [${n}] ${op}: p50 ${t.p50Ms.toFixed(0)} ms, p99 ${t.p99Ms.toFixed(0)} ms, ${t.errors}/${t.runs} with errors${t.firstError ? ` (${t.firstError})` : ''}`);
  }
  console.log('\n| 小区 | documents | seed time | properties | governance | elderly | renovation | on disk |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const docs = Object.values(r.report.documents).reduce((a, b) => a + b, 0);
    const s = (name: string) => (r.report.ms[name] === undefined ? '-' : `${(r.report.ms[name] / 1000).toFixed(1)} s`);
    console.log(`| ${r.n} | ${docs} | ${(r.report.totalMs / 1000).toFixed(1)} s | ${s('properties')} | ${s('governance')} | ${s('elderly')} | ${s('renovation')} | ${(r.bytes / 1048576).toFixed(1)} MB |`);
  }
  console.log(`\n| 小区 | operation | p50 | p99 | requests with errors | (response cache ${values.cache ? 'on' : 'off'}, ${runs} runs after 2 warm-ups) |`);
  console.log('|---|---|---|---|---|---|');
  for (const r of rows.filter((x) => x.latency)) {
    for (const [op, t] of Object.entries(r.latency!)) console.log(`| ${r.n} | ${op} | ${t.p50Ms.toFixed(0)} ms | ${t.p99Ms.toFixed(0)} ms | ${t.errors}/${t.runs} | ${t.firstError ?? ''} |`);
  }
}

main().catch((err) => {
  console.error(`bench:seed failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
