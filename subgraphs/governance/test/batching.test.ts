/**
 * No N+1: resolving governance's fields for 40 小区 costs the same database commands as for 4,
 * because every hop goes through a per-request DataLoader.
 */
import { countCommands } from '../../../lib/db';
import { startTestDatabase, type Engine } from '../../../test/helpers/subgraph';
import { DEMO } from '../seed';
import { startGovernance, type GovernanceUnderTest } from './helpers';

let engine: Engine;
let g: GovernanceUnderTest;
let counter: ReturnType<typeof countCommands>;
beforeAll(async () => {
  engine = await startTestDatabase();
  g = await startGovernance(engine.uri, '2026-03-20T02:00:00Z', { monitorCommands: true });
  counter = countCommands(g.conn);
  await g.q(`mutation { upsertEvaluationRubric(input: { id: "rb_alt", name: "alt", weights: [
    { dimension: PARTY_LEADERSHIP, weight: 0.2 }, { dimension: COMMITTEE_GOVERNANCE, weight: 0.2 }, { dimension: SERVICE_QUALITY, weight: 0.3 },
    { dimension: RESIDENT_PARTICIPATION, weight: 0.2 }, { dimension: ENVIRONMENT_SAFETY, weight: 0.1 }] }) { id } }`);
});
afterAll(async () => {
  await g?.close();
  await engine?.stop();
});

const FIELDS = `... on Community {
  committee { type roles { role } } partyAlliance { model members { orgType } } partyOrganizations { kind }
  jointMeetings(range: ALL) { id } jointMeetingsLast3m meetsCadence jointMeetingCompliance { compliantMonths }
  patrolTeams { name } patrolReports { id } patrolStats { reports } activities { type } designations { level }
  gridLevel liaisonCadreRole coGovernanceTopics intakePoints { kind }
  tickets { id } ticketStats(range: LAST_12M, groupBy: SERVICE_CODE) { opened groups { key } }
  beautifulHomeScore(rubricId: "rb_alt") beautifulHome(rubricId: "rb_alt") { score } }`;

function reps(n: number) {
  const ids: string[] = [DEMO.ruijin, DEMO.yijiang, DEMO.dongfang, DEMO.xinhai];
  for (let i = ids.length; i < n; i++) ids.push(`cm_320104_${String(i).padStart(4, '0')}`);
  return ids.map((id) => ({
    __typename: 'Community', id,
    feeCollection: { amountRate: 0.9 }, latestSatisfaction: { percent: 90 }, elderlyStats: { monthlyVisitRate: 0.5 }, renovationSummary: { status: 'COMPLETED' },
  }));
}

async function commandsFor(n: number): Promise<number> {
  await g.q(`query($r: [_Any!]!) { _entities(representations: $r) { ${FIELDS} } }`, { r: reps(n) }); // warm-up (indexes, connections)
  counter.reset();
  const res = await g.q(`query($r: [_Any!]!) { _entities(representations: $r) { ${FIELDS} } }`, { r: reps(n) });
  expect(res._entities).toHaveLength(n);
  return counter.count;
}

it('costs the same database commands for 4 or 40 小区', async () => {
  const four = await commandsFor(4);
  const forty = await commandsFor(40);
  expect(four).toBeGreaterThan(0);
  expect(forty).toBe(four);
});
