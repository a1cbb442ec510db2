/**
 * The register and its visit plan (phase 2): tier rules → due dates, home visits, overrides,
 * worklist, paged lists, coverage ranking, and bad input for every mutation (nothing written).
 * The file runs in a world of its own: the product clock (lib/clock.ts) is frozen at 2026-03-01
 * 08:00 UTC and the subgraph is given that instant too, so due dates can be asserted exactly on
 * any day the suite runs; "the future" below is relative to it.
 */
import { DAY_MS as DAY } from '../../../lib/clock';
import { createLogger } from '../../../lib/logger';
import { pinClock } from '../../../test/helpers/clock';
import { subgraph, createElderlyServer } from '..';
import { authHeader } from '../../../test/helpers/tokens';
import { gql, startSubgraph, startTestDatabase, type Engine, type RunningSubgraph } from '../../../test/helpers/subgraph';
import { registerModels, type Models } from '../models';
import { rebuildStats } from '../stats';
import { deriveRiskTier, nextVisitDue } from '../services/risk';
import { DEMO, DEMO_IDS } from '../seed';

let clock = new Date('2026-03-01T08:00:00.000Z');
const pinned = pinClock(clock);
const at = (iso: string) => new Date(iso).toISOString();
const plusDays = (iso: string, d: number) => new Date(new Date(iso).getTime() + d * DAY).toISOString();
/** An instant `d` days after the file's clock (what the server calls now). */
const afterClock = (d: number) => plusDays(clock.toISOString(), d);

let engine: Engine;
let sg: RunningSubgraph;
let m: Models;

beforeAll(async () => {
  engine = await startTestDatabase();
  sg = await startSubgraph({ ...subgraph, create: (conn, logger) => createElderlyServer(conn, logger, { now: () => clock }) }, engine.uri);
  m = registerModels(sg.conn);
});
afterAll(async () => {
  await sg?.close();
  await engine?.stop();
  pinned.restore();
});

const REGISTER = `mutation($input: RegisterElderlyResidentInput!) { registerElderlyResident(input: $input) {
  id ageBand livingArrangement riskTier riskTierOverridden visitIntervalDays lastVisitedAt nextVisitDue status community { id } } }`;
const VISIT = `mutation($elderId: ID!, $mode: VisitMode!, $occasion: VisitOccasion!, $outcome: VisitOutcome!, $visitedAt: DateTime, $teamId: ID, $clientKey: String, $ref: ID) {
  recordHomeVisit(elderId: $elderId, mode: $mode, occasion: $occasion, outcome: $outcome, visitedAt: $visitedAt, teamId: $teamId, clientKey: $clientKey, referralTicketId: $ref) {
    nextVisitDue visit { id mode occasion visitedAt team { id } community { id } elder { id } } elder { id lastVisitedAt nextVisitDue status } } }`;

let keySeq = 0;
const base = (over: Record<string, unknown> = {}) => ({
  clientKey: `test-key-${String(++keySeq).padStart(4, '0')}`,
  communityId: DEMO.dongfang,
  ageBand: 'AGE_70_79',
  livingArrangement: 'WITH_FAMILY',
  consentRecordedAt: at('2026-02-28T09:00:00Z'),
  ...over,
});
async function register(over: Record<string, unknown> = {}) {
  const res = await gql(sg.url, REGISTER, { input: base(over) });
  expect(res.errors).toBeUndefined();
  return res.data!.registerElderlyResident;
}
async function visit(vars: Record<string, unknown>) {
  return gql(sg.url, VISIT, { mode: 'IN_PERSON', occasion: 'ROUTINE', outcome: 'OK', ...vars });
}
const expectBadInput = (res: { errors?: { message: string; extensions?: Record<string, any> }[] }, field: string) => {
  expect(res.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  expect(res.errors?.[0].message).toContain(field);
};
async function snapshot() {
  return { residents: await m.Resident.countDocuments(), visits: await m.HomeVisit.countDocuments(), docs: await m.Resident.find().sort({ _id: 1 }).lean() };
}

describe('tier rules', () => {
  it('derives HIGH for 80+ living alone/空巢/留守 or a life-threatening illness, KEY for 失能失智/特困/计生特殊, else GENERAL', () => {
    expect(deriveRiskTier({ ageBand: 'AGE_80_89', livingArrangement: 'LIVING_ALONE', difficultyFlags: [] })).toBe('HIGH');
    expect(deriveRiskTier({ ageBand: 'AGE_90_PLUS', livingArrangement: 'EMPTY_NEST', difficultyFlags: [] })).toBe('HIGH');
    expect(deriveRiskTier({ ageBand: 'AGE_80_89', livingArrangement: 'LEFT_BEHIND', difficultyFlags: [] })).toBe('HIGH');
    expect(deriveRiskTier({ ageBand: 'AGE_60_69', livingArrangement: 'WITH_FAMILY', difficultyFlags: ['CHRONIC_HIGH_RISK'] })).toBe('HIGH');
    expect(deriveRiskTier({ ageBand: 'AGE_80_89', livingArrangement: 'WITH_FAMILY', difficultyFlags: [] })).toBe('GENERAL');
    expect(deriveRiskTier({ ageBand: 'AGE_70_79', livingArrangement: 'LIVING_ALONE', difficultyFlags: [] })).toBe('GENERAL');
    for (const f of ['DISABLED', 'SEMI_DISABLED', 'DEMENTIA', 'SEVERE_DISABILITY', 'EXTREME_POVERTY', 'FAMILY_PLANNING_SPECIAL']) {
      expect(deriveRiskTier({ ageBand: 'AGE_60_69', livingArrangement: 'WITH_FAMILY', difficultyFlags: [f] })).toBe('KEY');
    }
    expect(deriveRiskTier({ ageBand: 'AGE_60_69', livingArrangement: 'WITH_FAMILY', difficultyFlags: ['LOW_INCOME_SUBSISTENCE'] })).toBe('GENERAL');
  });

  it('puts the next visit 7, 30 or 90 days after the last contact, and at most 24 h after a major event', () => {
    const t = new Date('2026-01-10T10:00:00Z');
    expect(nextVisitDue(t, 'HIGH').toISOString()).toBe('2026-01-17T10:00:00.000Z');
    expect(nextVisitDue(t, 'KEY').toISOString()).toBe('2026-02-09T10:00:00.000Z');
    expect(nextVisitDue(t, 'GENERAL').toISOString()).toBe('2026-04-10T10:00:00.000Z');
    expect(nextVisitDue(t, 'GENERAL', true).toISOString()).toBe('2026-01-11T10:00:00.000Z');
  });
});

describe('registerElderlyResident', () => {
  it('derives the tier and schedules the first visit one interval after registration', async () => {
    const reg = '2026-02-28T10:00:00.000Z';
    const high = await register({ ageBand: 'AGE_80_89', livingArrangement: 'LIVING_ALONE', registeredAt: reg });
    const key = await register({ ageBand: 'AGE_60_69', difficultyFlags: ['DEMENTIA'], registeredAt: reg });
    const general = await register({ ageBand: 'AGE_70_79', registeredAt: reg });
    expect(high).toMatchObject({ riskTier: 'HIGH', visitIntervalDays: 7, nextVisitDue: plusDays(reg, 7), lastVisitedAt: null, status: 'ACTIVE', riskTierOverridden: false, community: { id: DEMO.dongfang } });
    expect(key).toMatchObject({ riskTier: 'KEY', visitIntervalDays: 30, nextVisitDue: plusDays(reg, 30) });
    expect(general).toMatchObject({ riskTier: 'GENERAL', visitIntervalDays: 90, nextVisitDue: plusDays(reg, 90) });
    expect(high.id).toMatch(/^el_/);
  });

  it('records the registering care team when it serves the 小区', async () => {
    const res = await gql(sg.url, `mutation($input: RegisterElderlyResidentInput!) { registerElderlyResident(input: $input) { registeredBy { id name } } }`, {
      input: base({ registeredByTeamId: DEMO_IDS.dongfangTeam }),
    });
    expect(res.errors).toBeUndefined();
    expect(res.data!.registerElderlyResident.registeredBy).toEqual({ id: DEMO_IDS.dongfangTeam, name: '东方瑞园居家养老服务队伍' });
  });

  it('honours an override given at registration', async () => {
    const r = await register({ riskTierOverride: 'KEY', riskTierOverrideReason: '子女长期在外，社区评估', registeredAt: at('2026-02-28T10:00:00Z') });
    expect(r).toMatchObject({ riskTier: 'KEY', riskTierOverridden: true, visitIntervalDays: 30, nextVisitDue: plusDays('2026-02-28T10:00:00Z', 30) });
  });

  it('is idempotent on clientKey: a retry returns the first resident and writes nothing', async () => {
    const input = base({ clientKey: 'retry-key-0001' });
    const first = await gql(sg.url, REGISTER, { input });
    const before = await m.Resident.countDocuments();
    const again = await gql(sg.url, REGISTER, { input });
    expect(again.data!.registerElderlyResident.id).toBe(first.data!.registerElderlyResident.id);
    expect(await m.Resident.countDocuments()).toBe(before);
    expect(await m.Resident.countDocuments({ clientKey: 'retry-key-0001' })).toBe(1);
  });

  it('keeps one resident when the same registration is retried concurrently (unique clientKey index)', async () => {
    const input = base({ clientKey: 'concurrent-key-0001' });
    const results = await Promise.all([1, 2, 3, 4].map(() => gql(sg.url, REGISTER, { input })));
    for (const r of results) expect(r.errors).toBeUndefined();
    expect(new Set(results.map((r) => r.data!.registerElderlyResident.id)).size).toBe(1);
    expect(await m.Resident.countDocuments({ clientKey: 'concurrent-key-0001' })).toBe(1);
    await expect(m.Resident.collection.insertOne({ _id: 'el_dup_probe', clientKey: 'concurrent-key-0001' } as never)).rejects.toMatchObject({ code: 11000 });
  });

  it.each([
    ['clientKey', { clientKey: 'short' }],
    ['clientKey', { clientKey: 'retry-key-0001', communityId: DEMO.ruijin }],
    ['communityId', { communityId: 'cm_000000_9999' }],
    ['difficultyFlags', { ageBand: 'AGE_60_69', difficultyFlags: ['ADVANCED_AGE'] }],
    ['difficultyFlags', { difficultyFlags: ['DISABLED', 'DISABLED'] }],
    ['consentRecordedAt', { consentRecordedAt: afterClock(1) }],
    ['consentRecordedAt', { consentRecordedAt: '1999-01-01T00:00:00Z' }],
    ['consentRecordedAt', { consentRecordedAt: '2026-02-28T12:00:00Z', registeredAt: '2026-02-28T10:00:00Z' }],
    ['registeredAt', { registeredAt: afterClock(1) }],
    ['riskTierOverrideReason', { riskTierOverride: 'HIGH' }],
    ['riskTierOverrideReason', { riskTierOverrideReason: 'no override given' }],
    ['registeredByTeamId', { registeredByTeamId: 'ct_nope' }],
    ['registeredByTeamId', { communityId: DEMO.ruijin, registeredByTeamId: DEMO_IDS.dongfangTeam }],
    ['buildingRef', { buildingRef: 'x'.repeat(65) }],
  ])('refuses bad %s with BAD_USER_INPUT and writes nothing (%j)', async (field, over) => {
    const before = await snapshot();
    const res = await gql(sg.url, REGISTER, { input: base(over) });
    expectBadInput(res, field);
    expect(res.data).toBeNull();
    expect(await snapshot()).toEqual(before);
  });

  it('refuses a malformed enum or a missing required field before the resolver runs', async () => {
    const before = await snapshot();
    const badEnum = await gql(sg.url, REGISTER, { input: base({ ageBand: 'AGE_50_59' }) });
    expect(badEnum.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(badEnum.errors?.[0].message).toContain('ageBand');
    const { consentRecordedAt: _c, ...noConsent } = base();
    const missing = await gql(sg.url, REGISTER, { input: noConsent });
    expect(missing.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(missing.errors?.[0].message).toContain('consentRecordedAt');
    expect(await snapshot()).toEqual(before);
  });
});

describe('recordHomeVisit', () => {
  it('moves the next visit due date by the tier interval and returns it; NOT_HOME does not count; a major event calls for a 24 h follow-up', async () => {
    const high = await register({ ageBand: 'AGE_90_PLUS', livingArrangement: 'EMPTY_NEST', registeredAt: at('2026-02-01T08:00:00Z'), consentRecordedAt: at('2026-02-01T08:00:00Z') });
    const v1 = await visit({ elderId: high.id, visitedAt: '2026-02-20T09:00:00Z', teamId: DEMO_IDS.dongfangTeam, occasion: 'HOLIDAY' });
    expect(v1.errors).toBeUndefined();
    const p1 = v1.data!.recordHomeVisit;
    expect(p1.nextVisitDue).toBe('2026-02-27T09:00:00.000Z');
    expect(p1.elder).toEqual({ id: high.id, lastVisitedAt: '2026-02-20T09:00:00.000Z', nextVisitDue: '2026-02-27T09:00:00.000Z', status: 'ACTIVE' });
    expect(p1.visit).toMatchObject({ mode: 'IN_PERSON', occasion: 'HOLIDAY', team: { id: DEMO_IDS.dongfangTeam }, community: { id: DEMO.dongfang }, elder: { id: high.id } });

    const notHome = await visit({ elderId: high.id, visitedAt: '2026-02-25T09:00:00Z', outcome: 'NOT_HOME' });
    expect(notHome.data!.recordHomeVisit.nextVisitDue).toBe('2026-02-27T09:00:00.000Z');

    const older = await visit({ elderId: high.id, visitedAt: '2026-02-10T09:00:00Z', mode: 'PHONE_VIDEO' });
    expect(older.data!.recordHomeVisit.nextVisitDue).toBe('2026-02-27T09:00:00.000Z');

    const key = await register({ ageBand: 'AGE_70_79', difficultyFlags: ['SEMI_DISABLED'], registeredAt: at('2026-02-01T08:00:00Z'), consentRecordedAt: at('2026-02-01T08:00:00Z') });
    const kv = await visit({ elderId: key.id, visitedAt: '2026-02-15T10:00:00Z', mode: 'PARTY_VOLUNTEER_PAIRING' });
    expect(kv.data!.recordHomeVisit.nextVisitDue).toBe('2026-03-17T10:00:00.000Z');
    const hosp = await visit({ elderId: key.id, visitedAt: '2026-02-20T10:00:00Z', outcome: 'HOSPITALISED', ref: 'tk_12345_0001' });
    expect(hosp.data!.recordHomeVisit.nextVisitDue).toBe('2026-02-21T10:00:00.000Z');

    const general = await register({ registeredAt: at('2026-02-01T08:00:00Z'), consentRecordedAt: at('2026-02-01T08:00:00Z') });
    const gv = await visit({ elderId: general.id, visitedAt: '2026-02-02T10:00:00Z', mode: 'NEIGHBOR_MUTUAL_AID' });
    expect(gv.data!.recordHomeVisit.nextVisitDue).toBe('2026-05-03T10:00:00.000Z');
  });

  it('defaults visitedAt to now, closes the plan on DECEASED and refuses later visits', async () => {
    const r = await register({ registeredAt: at('2026-02-01T08:00:00Z'), consentRecordedAt: at('2026-02-01T08:00:00Z') });
    const now = await visit({ elderId: r.id });
    expect(now.data!.recordHomeVisit.visit.visitedAt).toBe(clock.toISOString());
    expect(now.data!.recordHomeVisit.nextVisitDue).toBe(new Date(clock.getTime() + 90 * DAY).toISOString());
    const dead = await visit({ elderId: r.id, outcome: 'DECEASED', visitedAt: '2026-02-28T08:00:00Z' });
    expect(dead.data!.recordHomeVisit).toMatchObject({ nextVisitDue: null, elder: { status: 'DECEASED', nextVisitDue: null } });
    const before = await snapshot();
    expectBadInput(await visit({ elderId: r.id }), 'elderId');
    expect(await snapshot()).toEqual(before);
  });

  it('is idempotent on clientKey', async () => {
    const r = await register({ registeredAt: at('2026-02-01T08:00:00Z'), consentRecordedAt: at('2026-02-01T08:00:00Z') });
    const a = await visit({ elderId: r.id, clientKey: 'visit-key-0001', visitedAt: '2026-02-28T12:00:00Z' });
    expect(a.errors).toBeUndefined();
    const count = await m.HomeVisit.countDocuments();
    const b = await visit({ elderId: r.id, clientKey: 'visit-key-0001', visitedAt: '2026-02-28T12:00:00Z' });
    expect(b.errors).toBeUndefined();
    expect(b.data!.recordHomeVisit.visit.id).toBe(a.data!.recordHomeVisit.visit.id);
    expect(await m.HomeVisit.countDocuments()).toBe(count);
  });

  it.each([
    ['elderId', { elderId: 'el_nope' }],
    ['visitedAt', { visitedAt: '2026-03-02T08:00:00Z' }],
    ['visitedAt', { visitedAt: '2026-01-01T08:00:00Z' }],
    ['teamId', { teamId: 'ct_nope' }],
    ['clientKey', { clientKey: 'bad key with spaces' }],
    ['clientKey', { clientKey: 'visit-key-0001' }],
    ['referralTicketId', { ref: 'x'.repeat(65) }],
  ])('refuses bad %s with BAD_USER_INPUT and writes nothing (%j)', async (field, over) => {
    const r = await register({ registeredAt: at('2026-02-01T08:00:00Z'), consentRecordedAt: at('2026-02-01T08:00:00Z') });
    const before = await snapshot();
    const res = await visit({ elderId: r.id, ...over });
    expectBadInput(res, field);
    expect(await snapshot()).toEqual(before);
  });

  it('answers a care team’s own visit with the resident as written, not as the area check read it before the write', async () => {
    const r = await register({ ageBand: 'AGE_90_PLUS', livingArrangement: 'LIVING_ALONE', registeredAt: at('2026-02-01T08:00:00Z'), consentRecordedAt: at('2026-02-01T08:00:00Z') });
    const team = await authHeader('CARE_TEAM', { team: DEMO_IDS.dongfangTeam, communities: [DEMO.dongfang] });
    const res = await gql(
      sg.url,
      `mutation($e: ID!) { recordHomeVisit(elderId: $e, mode: IN_PERSON, occasion: ROUTINE, outcome: OK, visitedAt: "2026-02-26T09:00:00Z") {
        nextVisitDue elder { lastVisitedAt nextVisitDue } visit { elder { lastVisitedAt nextVisitDue } } } }`,
      { e: r.id },
      team,
    );
    expect(res.errors).toBeUndefined();
    const expected = { lastVisitedAt: '2026-02-26T09:00:00.000Z', nextVisitDue: '2026-03-05T09:00:00.000Z' };
    expect(res.data!.recordHomeVisit).toEqual({ nextVisitDue: expected.nextVisitDue, elder: expected, visit: { elder: expected } });
    // The same care team cannot write for a resident of a 小区 it does not serve.
    const elsewhere = await register({ communityId: DEMO.ruijin });
    const before = await snapshot();
    const refused = await gql(sg.url, VISIT, { elderId: elsewhere.id, mode: 'IN_PERSON', occasion: 'ROUTINE', outcome: 'OK' }, team);
    expect(refused.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect(await snapshot()).toEqual(before);
  });

  it('records the calling care team as the visiting team when teamId is left out, so the team sees the visit it recorded', async () => {
    const r = await register({ registeredByTeamId: DEMO_IDS.dongfangTeam, registeredAt: at('2026-02-01T08:00:00Z'), consentRecordedAt: at('2026-02-01T08:00:00Z') });
    // The team's token names another 小区: it sees this resident because it registered them.
    const team = await authHeader('CARE_TEAM', { team: DEMO_IDS.dongfangTeam, communities: [DEMO.ruijin] });
    const res = await gql(sg.url, `mutation($e: ID!) { recordHomeVisit(elderId: $e, mode: IN_PERSON, occasion: ROUTINE, outcome: OK) { visit { id team { id } } } }`, { e: r.id }, team);
    expect([res.errors, res.data?.recordHomeVisit.visit.team]).toEqual([undefined, { id: DEMO_IDS.dongfangTeam }]);
    const visits = await gql(sg.url, `query($e: ID!) { homeVisits(filter: { elderId: $e }) { edges { node { id } } } }`, { e: r.id }, team);
    expect(visits.data!.homeVisits.edges).toEqual([{ node: { id: res.data!.recordHomeVisit.visit.id } }]);
  });

  it('refuses a care team that names another team as the visiting or registering team, writing nothing', async () => {
    const r = await register({ registeredAt: at('2026-02-01T08:00:00Z'), consentRecordedAt: at('2026-02-01T08:00:00Z') });
    const [other] = await m.CareTeam.find({ communityIds: DEMO.dongfang, _id: { $ne: DEMO_IDS.dongfangTeam } }).lean();
    const otherTeam = other?._id ?? 'ct_someone_else';
    const team = await authHeader('CARE_TEAM', { team: DEMO_IDS.dongfangTeam, communities: [DEMO.dongfang] });
    const before = await snapshot();
    const visitRes = await gql(sg.url, VISIT, { elderId: r.id, mode: 'IN_PERSON', occasion: 'ROUTINE', outcome: 'OK', teamId: otherTeam }, team);
    expectBadInput(visitRes, 'teamId');
    const regRes = await gql(sg.url, REGISTER, { input: base({ registeredByTeamId: otherTeam }) }, team);
    expectBadInput(regRes, 'registeredByTeamId');
    expect(await snapshot()).toEqual(before);
    // Its own team, named or left out, is accepted.
    const own = await gql(sg.url, VISIT, { elderId: r.id, mode: 'IN_PERSON', occasion: 'ROUTINE', outcome: 'OK', teamId: DEMO_IDS.dongfangTeam }, team);
    expect(own.errors).toBeUndefined();
  });

  it('refuses a team that does not serve the resident’s 小区', async () => {
    const r = await register({ communityId: DEMO.ruijin });
    const before = await snapshot();
    expectBadInput(await visit({ elderId: r.id, teamId: DEMO_IDS.dongfangTeam }), 'teamId');
    expect(await snapshot()).toEqual(before);
  });

  it('refuses an unknown enum value', async () => {
    const r = await register();
    const res = await visit({ elderId: r.id, mode: 'CARRIER_PIGEON' });
    expect(res.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0].message).toContain('mode');
  });
});

describe('overrideRiskTier and updateElderlyCircumstances', () => {
  const OVERRIDE = `mutation($id: ID!, $tier: RiskTier, $reason: String) { overrideRiskTier(elderId: $id, tier: $tier, reason: $reason) { riskTier riskTierOverridden visitIntervalDays nextVisitDue } }`;
  const UPDATE = `mutation($input: UpdateElderlyCircumstancesInput!) { updateElderlyCircumstances(input: $input) { riskTier visitIntervalDays nextVisitDue status ageBand livingArrangement } }`;

  it('overrides and clears the tier, rescheduling from the last contact', async () => {
    const r = await register({ registeredAt: at('2026-02-01T08:00:00Z'), consentRecordedAt: at('2026-02-01T08:00:00Z') });
    await visit({ elderId: r.id, visitedAt: '2026-02-10T08:00:00Z' });
    const up = await gql(sg.url, OVERRIDE, { id: r.id, tier: 'HIGH', reason: '近期跌倒，临时提高探访频次' });
    expect(up.data!.overrideRiskTier).toEqual({ riskTier: 'HIGH', riskTierOverridden: true, visitIntervalDays: 7, nextVisitDue: '2026-02-17T08:00:00.000Z' });
    const cleared = await gql(sg.url, OVERRIDE, { id: r.id, tier: null });
    expect(cleared.data!.overrideRiskTier).toEqual({ riskTier: 'GENERAL', riskTierOverridden: false, visitIntervalDays: 90, nextVisitDue: '2026-05-11T08:00:00.000Z' });
  });

  it('refuses an override without a reason, or for an unknown resident, writing nothing', async () => {
    const r = await register();
    const before = await snapshot();
    expectBadInput(await gql(sg.url, OVERRIDE, { id: r.id, tier: 'HIGH' }), 'reason');
    expectBadInput(await gql(sg.url, OVERRIDE, { id: 'el_nope', tier: 'HIGH', reason: 'x 评估' }), 'elderId');
    expect(await snapshot()).toEqual(before);
  });

  it('re-derives the tier when circumstances change, and closes the plan when the resident moves out', async () => {
    const r = await register({ ageBand: 'AGE_80_89', registeredAt: at('2026-02-01T08:00:00Z'), consentRecordedAt: at('2026-02-01T08:00:00Z') });
    expect(r.riskTier).toBe('GENERAL');
    const alone = await gql(sg.url, UPDATE, { input: { elderId: r.id, livingArrangement: 'LIVING_ALONE' } });
    expect(alone.data!.updateElderlyCircumstances).toMatchObject({ riskTier: 'HIGH', visitIntervalDays: 7, nextVisitDue: '2026-02-08T08:00:00.000Z' });
    const moved = await gql(sg.url, UPDATE, { input: { elderId: r.id, status: 'MOVED_OUT' } });
    expect(moved.data!.updateElderlyCircumstances).toMatchObject({ status: 'MOVED_OUT', nextVisitDue: null });
  });

  it.each([
    ['difficultyFlags', { ageBand: 'AGE_60_69', difficultyFlags: ['ADVANCED_AGE'] }],
    ['elderId', { elderId: 'el_nope' }],
    ['status', { status: 'DECEASED' }],
  ])('refuses bad %s with BAD_USER_INPUT and writes nothing', async (field, over) => {
    const r = await register();
    const before = await snapshot();
    expectBadInput(await gql(sg.url, UPDATE, { input: { elderId: r.id, ...over } }), field);
    expect(await snapshot()).toEqual(before);
  });
});

describe('personal data on the write paths', () => {
  const UPDATE = `mutation($input: UpdateElderlyCircumstancesInput!) { updateElderlyCircumstances(input: $input) { id } }`;
  const READ = `query($id: ID!) { elderlyResident(id: $id) { name phone emergencyContact { name relation phone } healthNotes } }`;
  const PERSONAL = { name: ' 王秀英 ', phone: '139 0000 1234', emergencyContact: { name: '王强', relation: '子女', phone: '025-84561234' }, healthNotes: '高血压，独自服药' };

  it('stores name, phone, emergency contact and health notes at registration (trimmed) and reads them back behind elderly:pii', async () => {
    const r = await register({ personal: PERSONAL });
    const civil = await authHeader('CIVIL_AFFAIRS');
    const read = await gql(sg.url, READ, { id: r.id }, civil);
    expect(read.errors).toBeUndefined();
    expect(read.data!.elderlyResident).toEqual({
      name: '王秀英', phone: '13900001234', emergencyContact: { name: '王强', relation: '子女', phone: '025-84561234' }, healthNotes: '高血压，独自服药',
    });
  });

  it('updates what is given, keeps what is left out and clears what is null', async () => {
    const r = await register({ personal: PERSONAL });
    const up = await gql(sg.url, UPDATE, { input: { elderId: r.id, personal: { phone: '13800002222', healthNotes: null } } });
    expect(up.errors).toBeUndefined();
    const doc = await m.Resident.findById(r.id).lean();
    expect([doc!.name, doc!.phone, doc!.healthNotes, doc!.emergencyContact?.phone]).toEqual(['王秀英', '13800002222', null, '025-84561234']);
  });

  it('records what a visitor found as sensitive data, read back by civil affairs only', async () => {
    const r = await register();
    const v = await gql(sg.url, `mutation($e: ID!) { recordHomeVisit(elderId: $e, mode: IN_PERSON, occasion: ROUTINE, outcome: OK, findings: "  血压偏高，已提醒复诊 ") { visit { id } } }`, { e: r.id });
    expect(v.errors).toBeUndefined();
    const q = `query($id: ID!) { homeVisits(filter: { elderId: $id }) { edges { node { findings } } } }`;
    const civil = await gql(sg.url, q, { id: r.id }, await authHeader('CIVIL_AFFAIRS'));
    expect(civil.data!.homeVisits.edges).toEqual([{ node: { findings: '血压偏高，已提醒复诊' } }]);
    const street = await gql(sg.url, q, { id: r.id }, await authHeader('STREET_STAFF', { communities: [DEMO.dongfang] }));
    expect([street.data!.homeVisits.edges, street.errors?.[0].extensions?.code]).toEqual([[{ node: { findings: null } }], 'FORBIDDEN']);
  });

  it.each([
    ['personal.phone', { phone: '12345' }],
    ['personal.phone', { phone: '1390000123x' }],
    ['personal.name', { name: '   ' }],
    ['personal.name', { name: '名'.repeat(51) }],
    ['personal.name', { name: '王\u0000某' }],
    ['personal.emergencyContact.phone', { emergencyContact: { name: '王强', relation: '子女', phone: 'call me' } }],
    ['personal.emergencyContact.relation', { emergencyContact: { name: '王强', relation: '', phone: '13900001111' } }],
    ['personal.healthNotes', { healthNotes: '注'.repeat(1001) }],
  ])('refuses bad %s at registration and on update with BAD_USER_INPUT, writing nothing (case %#)', async (field, personal) => {
    const r = await register();
    const before = await snapshot();
    expectBadInput(await gql(sg.url, REGISTER, { input: base({ personal }) }), field);
    expectBadInput(await gql(sg.url, UPDATE, { input: { elderId: r.id, personal } }), field);
    expect(await snapshot()).toEqual(before);
  });
});

describe('worklist, lists, statistics', () => {
  const C = DEMO.xinhai; // a 小区 used only by this block
  let ids: string[] = [];

  beforeAll(async () => {
    clock = new Date('2026-03-01T08:00:00.000Z');
    const reg = { communityId: C, registeredAt: at('2026-01-01T08:00:00Z'), consentRecordedAt: at('2026-01-01T08:00:00Z') };
    const rows = [
      { ageBand: 'AGE_80_89', livingArrangement: 'LIVING_ALONE' }, // HIGH
      { ageBand: 'AGE_90_PLUS', livingArrangement: 'LIVING_ALONE' }, // HIGH
      { ageBand: 'AGE_70_79', livingArrangement: 'LIVING_ALONE', difficultyFlags: ['EXTREME_POVERTY'] }, // KEY
      { ageBand: 'AGE_60_69', livingArrangement: 'EMPTY_NEST', difficultyFlags: ['DISABLED'] }, // KEY
      { ageBand: 'AGE_70_79', livingArrangement: 'WITH_FAMILY' }, // GENERAL
      { ageBand: 'AGE_60_69', livingArrangement: 'LIVING_ALONE' }, // GENERAL
    ];
    ids = [];
    for (const row of rows) ids.push((await register({ ...reg, ...row })).id);
    // Visits: HIGH #0 yesterday (due in 6 days), KEY #2 10 days ago (due in 20), GENERAL #4 40 days ago (due in 50 days).
    await visit({ elderId: ids[0], visitedAt: '2026-02-28T08:00:00Z' });
    await visit({ elderId: ids[2], visitedAt: '2026-02-19T08:00:00Z' });
    await visit({ elderId: ids[4], visitedAt: '2026-01-20T08:00:00Z', occasion: 'HOLIDAY' });
  });

  it('computes the 小区 statistics in the database: registered, living alone, difficulty, tiers, visited in 30 days, overdue', async () => {
    const res = await gql(sg.url, `{ _entities(representations: [{ __typename: "Community", id: "${C}" }, { __typename: "District", code: "320706" }]) {
      ... on Community { elderlyStats { registered livingAlone difficulty highRisk keyRisk visitedLast30d monthlyVisitRate overdueVisits holidayVisitsLast12m monthlyVisitRateTarget } }
      ... on District { elderlyStats { registered } } } }`);
    expect(res.errors).toBeUndefined();
    // Overdue now (2026-03-01): HIGH #1 (due 01-08), KEY #3 (due 01-31). visited in 30 days: #0, #2. Suppressed: 1-4.
    // Living alone: #0 #1 #2 #5 (4); difficulty flags: #2 #3 (2); HIGH #0 #1; KEY #2 #3; holiday visit: #4.
    // Without individual-level access every count of 1-4 (and the rate built on one) is null.
    expect(res.data!._entities[0].elderlyStats).toEqual({
      registered: 6, livingAlone: null, difficulty: null, highRisk: null, keyRisk: null, visitedLast30d: null, monthlyVisitRate: null,
      overdueVisits: null, holidayVisitsLast12m: null, monthlyVisitRateTarget: 1,
    });
    expect(res.data!._entities[1].elderlyStats.registered).toBeGreaterThanOrEqual(6);

    const server = await createElderlyServer(sg.conn, createLogger('elderly', 'silent'), { now: () => clock, individualAccess: () => true });
    const running = await server.listen(0);
    try {
      const open = await gql(running.url, `{ _entities(representations: [{ __typename: "Community", id: "${C}" }]) {
        ... on Community { elderlyStats { registered livingAlone difficulty highRisk keyRisk visitedLast30d monthlyVisitRate overdueVisits holidayVisitsLast12m } } } }`);
      expect(open.data!._entities[0].elderlyStats).toEqual({
        registered: 6, livingAlone: 4, difficulty: 2, highRisk: 2, keyRisk: 2, visitedLast30d: 2, monthlyVisitRate: 2 / 6, overdueVisits: 2, holidayVisitsLast12m: 1,
      });
    } finally {
      await running.close();
    }
  });

  it('answers the worklist soonest-due first with non-identifying fields only', async () => {
    const civil = await authHeader('CIVIL_AFFAIRS');
    const res = await gql(sg.url, `{ elderlyDue(communityId: "${C}", before: "2026-03-25T00:00:00Z") { id ageBand livingArrangement riskTier nextVisitDue } }`, {}, civil);
    expect(res.errors).toBeUndefined();
    expect(res.data!.elderlyDue).toEqual([
      { id: ids[1], ageBand: 'AGE_90_PLUS', livingArrangement: 'LIVING_ALONE', riskTier: 'HIGH', nextVisitDue: '2026-01-08T08:00:00.000Z' },
      { id: ids[3], ageBand: 'AGE_60_69', livingArrangement: 'EMPTY_NEST', riskTier: 'KEY', nextVisitDue: '2026-01-31T08:00:00.000Z' },
      { id: ids[0], ageBand: 'AGE_80_89', livingArrangement: 'LIVING_ALONE', riskTier: 'HIGH', nextVisitDue: '2026-03-07T08:00:00.000Z' },
      { id: ids[2], ageBand: 'AGE_70_79', livingArrangement: 'LIVING_ALONE', riskTier: 'KEY', nextVisitDue: '2026-03-21T08:00:00.000Z' },
    ]);
    const now = await gql(sg.url, `{ elderlyDue(communityId: "${C}", riskTier: [HIGH]) { id } }`, {}, civil);
    expect(now.data!.elderlyDue).toEqual([{ id: ids[1] }]);
    // Individual rows are behind elderly:pii (lib/auth, docs/access.md): anonymous callers get no worklist at all.
    const anonymous = await gql(sg.url, `{ elderlyDue(communityId: "${C}") { id ageBand } }`);
    expect([anonymous.errors?.[0].extensions?.code, anonymous.data ?? null]).toEqual(['UNAUTHENTICATED', null]);
    expectBadInput(await gql(sg.url, `{ elderlyDue(communityId: "${C}", first: 0) { id } }`, {}, civil), 'first');
  });

  it('pages the register by id with filters', async () => {
    const civil = await authHeader('CIVIL_AFFAIRS');
    const q = `query($f: ElderlyResidentFilter!, $a: String) { elderlyResidents(filter: $f, first: 2, after: $a) { totalCount edges { node { id riskTier } } pageInfo { hasNextPage endCursor } } }`;
    const p1 = (await gql(sg.url, q, { f: { communityId: C } }, civil)).data!.elderlyResidents;
    expect(p1.totalCount).toBe(6);
    expect(p1.pageInfo.hasNextPage).toBe(true);
    const seen = p1.edges.map((e: any) => e.node.id);
    let cursor = p1.pageInfo.endCursor;
    for (let i = 0; i < 3 && cursor; i++) {
      const p = (await gql(sg.url, q, { f: { communityId: C }, a: cursor }, civil)).data!.elderlyResidents;
      seen.push(...p.edges.map((e: any) => e.node.id));
      cursor = p.pageInfo.hasNextPage ? p.pageInfo.endCursor : null;
    }
    expect(seen).toEqual([...ids].sort());
    const key = (await gql(sg.url, q, { f: { communityId: C, riskTier: ['KEY'] } }, civil)).data!.elderlyResidents;
    expect(key.totalCount).toBe(2);
    const overdue = (await gql(sg.url, q, { f: { communityId: C, overdue: true } }, civil)).data!.elderlyResidents;
    expect(overdue.edges.map((e: any) => e.node.id).sort()).toEqual([ids[1], ids[3]].sort());
    expectBadInput(await gql(sg.url, q, { f: { communityId: C }, a: 'not-a-cursor!' }, civil), 'after');
  });

  it('pages home visits newest first with occasion and date filters', async () => {
    const civil = await authHeader('CIVIL_AFFAIRS');
    const q = `query($f: HomeVisitFilter!, $a: String) { homeVisits(filter: $f, first: 2, after: $a) { edges { node { visitedAt occasion elder { id } } } pageInfo { hasNextPage endCursor } } }`;
    const p1 = (await gql(sg.url, q, { f: { communityId: C } }, civil)).data!.homeVisits;
    expect(p1.edges.map((e: any) => e.node.visitedAt)).toEqual(['2026-02-28T08:00:00.000Z', '2026-02-19T08:00:00.000Z']);
    const p2 = (await gql(sg.url, q, { f: { communityId: C }, a: p1.pageInfo.endCursor }, civil)).data!.homeVisits;
    expect(p2.edges.map((e: any) => e.node.visitedAt)).toEqual(['2026-01-20T08:00:00.000Z']);
    expect(p2.pageInfo.hasNextPage).toBe(false);
    const holiday = (await gql(sg.url, q, { f: { communityId: C, occasion: ['HOLIDAY'] } }, civil)).data!.homeVisits;
    expect(holiday.edges).toEqual([{ node: { visitedAt: '2026-01-20T08:00:00.000Z', occasion: 'HOLIDAY', elder: { id: ids[4] } } }]);
    const feb = (await gql(sg.url, q, { f: { elderId: ids[0], from: '2026-02-01T00:00:00Z', to: '2026-03-01T00:00:00Z' } }, civil)).data!.homeVisits;
    expect(feb.edges).toHaveLength(1);
    expectBadInput(await gql(sg.url, q, { f: {} }, civil), 'filter.communityId');
    expectBadInput(await gql(sg.url, q, { f: { communityId: C, from: '2026-03-01T00:00:00Z', to: '2026-02-01T00:00:00Z' } }, civil), 'filter.to');
  });

  it('ranks 小区 of a district by monthly visit coverage below the 100% target, computed in the database', async () => {
    const q = `{ visitCoverage(districtCode: "320706") { totalCount edges { node { community { id } } } } }`;
    const res = await gql(sg.url, q, undefined, await authHeader('CIVIL_AFFAIRS'));
    expect(res.errors).toBeUndefined();
    const rows = res.data!.visitCoverage.edges.map((e: any) => e.node.community.id);
    expect(rows).toContain(C);
    // 2 of 6 visited: the rate is suppressed for an anonymous caller, so C is not ranked for it; the
    // anonymous ranking holds exactly the 小区 whose rate elderlyStats publishes to it.
    const anonymous = await gql(sg.url, q);
    const anonRows = anonymous.data!.visitCoverage.edges.map((e: any) => e.node.community.id);
    expect(anonRows).not.toContain(C);
    const rates = await anonymousRates(rows);
    expect([anonymous.data!.visitCoverage.totalCount, anonRows]).toEqual([anonRows.length, rows.filter((r: string) => rates.get(r) != null)]);
    expectBadInput(await gql(sg.url, `{ visitCoverage(cityCode: "320700", districtCode: "320706") { totalCount } }`), 'cityCode');
    expectBadInput(await gql(sg.url, `{ visitCoverage(cityCode: "320700", below: 1.5) { totalCount } }`), 'below');
  });
});

/** The monthly visit rate elderlyStats publishes to an anonymous caller, per 小区. */
async function anonymousRates(ids: readonly string[]): Promise<Map<string, number | null>> {
  const res = await gql(sg.url, `query($r: [_Any!]!) { _entities(representations: $r) { ... on Community { id elderlyStats { monthlyVisitRate } } } }`, {
    r: ids.map((id) => ({ __typename: 'Community', id })),
  });
  expect(res.errors).toBeUndefined();
  return new Map(res.data!._entities.map((e: any) => [e.id, e.elderlyStats.monthlyVisitRate]));
}

describe('visit coverage and small counts', () => {
  // A district of its own: 小区 A has 3 registered (1 visited), B 5 (none visited), D 6 (5 visited),
  // E 8 (2 visited), F 20 (8 visited), G 16 (10 visited).
  const DISTRICT = '320799';
  const rows = [['A', 3, 1], ['B', 5, 0], ['D', 6, 5], ['E', 8, 2], ['F', 20, 8], ['G', 16, 10]] as const;
  const id = (k: string) => `cm_${DISTRICT}_cov${k}`;
  beforeAll(async () => {
    clock = new Date('2026-03-01T08:00:00.000Z');
    const docs = rows.flatMap(([k, registered, visited]) =>
      Array.from({ length: registered }, (_v, i) => ({
        _id: `el_cov_${k}_${i}`, communityId: id(k), districtCode: DISTRICT, cityCode: '320700', status: 'ACTIVE',
        lastVisitedAt: i < visited ? new Date('2026-02-25T08:00:00Z') : null, nextVisitDue: new Date('2026-04-01T08:00:00Z'),
      })),
    );
    await m.Resident.collection.insertMany(docs as never[]);
    await rebuildStats(sg.conn); // rows written behind the write path: rebuild the rollups
  });
  const ranked = async (below: number, headers?: Record<string, string>) => {
    const res = await gql(sg.url, `{ visitCoverage(districtCode: "${DISTRICT}", below: ${below}) { totalCount edges { node { community { id } } } } }`, undefined, headers);
    expect(res.errors).toBeUndefined();
    return [res.data!.visitCoverage.totalCount, res.data!.visitCoverage.edges.map((e: any) => e.node.community.id)];
  };

  it('an anonymous caller cannot find a suppressed rate by moving the threshold: only rates elderlyStats publishes are ranked, never one built on 0-4 people', async () => {
    // A (1 of 3), B (0 of 5), E (2 of 8): a count of 0-4 in each, so never ranked; D's 1 not visited
    // is a small hidden complement.
    const rates = await anonymousRates(rows.map(([k]) => id(k)));
    const published = rows.map(([k]) => id(k)).filter((c) => rates.get(c) != null);
    expect(published.length).toBeGreaterThan(0);
    for (const small of ['A', 'B', 'E', 'D']) expect([small, rates.get(id(small))]).toEqual([small, null]);
    for (const below of [0.34, 0.333, 0.5, 1]) {
      const expected = published.filter((c) => rates.get(c)! < below).sort((x, y) => rates.get(x)! - rates.get(y)! || (x < y ? -1 : 1));
      expect([below, await ranked(below)]).toEqual([below, [expected.length, expected]]);
    }
  });

  it('civil affairs (individual-level access) ranks every 小区 by its real rate', async () => {
    const civil = await authHeader('CIVIL_AFFAIRS');
    expect(await ranked(0.34, civil)).toEqual([3, [id('B'), id('E'), id('A')]]);
    expect(await ranked(0.333, civil)).toEqual([2, [id('B'), id('E')]]);
    expect(await ranked(1, civil)).toEqual([6, [id('B'), id('E'), id('A'), id('F'), id('G'), id('D')]]);
  });

  it('a care team (area-limited, no individual-level access everywhere) is treated like the public', async () => {
    const team = await authHeader('CARE_TEAM', { team: 'ct_cov', communities: [id('A')] });
    expect(await ranked(1, team)).toEqual(await ranked(1));
    expect((await ranked(1, team))[1]).not.toContain(id('A'));
  });
});
