/**
 * The authorization matrix (test/security/matrix.ts), end-to-end through a real gateway over the
 * four bureau subgraphs on the embedded engine: every caller × every personal-data field and every
 * mutation. Plus the audit test over real data, and docs/access.md being up to date.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Connection } from 'mongoose';
import { startStack, type RunningStack } from '../../scripts/stack';
import { loadConfig } from '../../lib/config';
import { signLocalToken, type TokenRequest } from '../../lib/auth/token';
import { BUREAU_SUBGRAPHS } from '../../lib/auth/roles';
import { ACCESS_DOC, CALLER_ORDER, CALLERS, expectation, renderAccessDoc, type Caller } from './matrix';
import { mutationCalls, mutationsBySubgraph } from './sdl-mutations';
import { bearer, q, type Resp } from './helpers';

jest.setTimeout(180_000);

let stack: RunningStack;
const conn = (name: string): Connection => stack.subgraphs.find((s) => s.name === name)!.conn;
const headers: Partial<Record<Caller, Record<string, string>>> = {};

/** The data every personal-data row reads (inserted as test set-up, directly in each database). */
const D = {
  community: '',
  otherCommunity: '',
  company: '',
  elder: 'el_matrix_0001',
  visit: 'hv_matrix_0001',
  ticket: '',
  committee: '',
};

beforeAll(async () => {
  process.env.JWT_KEY_DIR = mkdtempSync(path.join(os.tmpdir(), 'ccg-matrix-keys-'));
  stack = await startStack({ seed: 'always', logLevel: 'silent' });
  const auth = loadConfig().auth;

  // A 小区 with a current contract and a committee.
  const contracts = await conn('properties').collection('contracts').find({ current: true }).toArray();
  const committees = await conn('governance').collection('committees').find({}).toArray();
  const contract = contracts.find((c) => committees.some((m) => m.communityId === c.communityId))!;
  D.community = contract.communityId as string;
  D.company = contract.companyUscc as string;
  const committee = committees.find((m) => m.communityId === D.community)!;
  D.committee = String(committee._id);
  const district = /^cm_(\d{6})_/.exec(D.community)![1]!;
  D.otherCommunity = district === '320706' ? 'cm_320104_0001' : 'cm_320706_0001';
  const otherDistrict = /^cm_(\d{6})_/.exec(D.otherCommunity)![1]!;
  const city = `${district.slice(0, 4)}00`;

  await conn('properties').collection('contracts').updateOne({ _id: contract._id }, { $set: { projectManager: { name: '项目经理甲', phone: '13600000001' } } });
  await conn('governance').collection('committees').updateOne(
    { _id: committee._id },
    { $set: { members: [{ name: '委员甲', phone: '13700000001', role: 'DIRECTOR', affiliation: 'OWNER', isPartyMember: true }] } },
  );
  await conn('governance').collection('communities').updateOne({ _id: D.community as never }, { $set: { liaisonCadre: { name: '社区干部甲', phone: '13400000001' } } });
  const ticket = await q(
    stack.gatewayUrl,
    `mutation { createServiceTicket(input: { communityId: "${D.community}", serviceCode: REPAIR, channel: HOTLINE_12345, description: "楼道灯不亮", reporter: { firstName: "某", lastName: "张", phone: "13500000001" } }) { id } }`,
    bearer(await signLocalToken(auth, { role: 'CITY_ADMIN' })),
  );
  expect(ticket.errors).toBeUndefined();
  D.ticket = ticket.data.createServiceTicket.id;
  await conn('governance').collection('service_tickets').updateOne({ _id: D.ticket as never }, { $set: { companyUscc: D.company } });

  const now = new Date();
  await conn('elderly').collection('elderly_residents').insertOne({
    _id: D.elder as never,
    communityId: D.community,
    districtCode: district,
    cityCode: city,
    name: '王某某',
    phone: '13900000001',
    emergencyContact: { name: '王小某', relation: '子女', phone: '13900000002' },
    healthNotes: '高血压',
    ageBand: 'AGE_80_89',
    livingArrangement: 'LIVING_ALONE',
    difficultyFlags: [],
    hasDifficulty: false,
    derivedRiskTier: 'HIGH',
    riskTier: 'HIGH',
    riskTierOverride: null,
    visitIntervalDays: 7,
    lastVisitedAt: null,
    nextVisitDue: new Date(now.getTime() - 86_400_000),
    status: 'ACTIVE',
    registeredAt: new Date(now.getTime() - 30 * 86_400_000),
    registeredByTeamId: 'ct_matrix_in',
    createdAt: now,
    updatedAt: now,
  });
  await conn('elderly').collection('home_visits').insertOne({
    _id: D.visit as never,
    elderId: D.elder,
    teamId: 'ct_matrix_in',
    communityId: D.community,
    districtCode: district,
    cityCode: city,
    visitedAt: new Date(now.getTime() - 2 * 86_400_000),
    mode: 'IN_PERSON',
    occasion: 'ROUTINE',
    outcome: 'OK',
    findings: '血压偏高',
    createdAt: now,
    updatedAt: now,
  });

  const claims: Record<Caller, Omit<TokenRequest, 'role'> | null> = {
    PUBLIC: null,
    ADMIN: {},
    HOUSING: {},
    CIVIL: {},
    RENOV: {},
    STREET_IN: { district, communities: [D.community] },
    STREET_OUT: { district: otherDistrict, communities: [D.otherCommunity] },
    TEAM_IN: { team: 'ct_matrix_in', communities: [D.community] },
    TEAM_OUT: { team: 'ct_matrix_out', communities: [D.otherCommunity] },
    CO_IN: { company: D.company },
    CO_OUT: { company: '91320000MATRIXOUT0' },
    PARTNER: { partner: 'meals' },
  };
  for (const c of CALLER_ORDER) {
    const cl = claims[c];
    headers[c] = cl ? bearer(await signLocalToken(auth, { role: CALLERS[c].role, subject: `matrix:${c}`, ...cl })) : {};
  }
});
afterAll(async () => stack?.stop());

/** Reads a personal-data item: [query, path to the value, expected value]. */
const READS: Record<string, () => [string, (string | number)[], unknown]> = {
  'ElderlyResident.name': () => [`{ elderlyResident(id: "${D.elder}") { id name } }`, ['elderlyResident', 'name'], '王某某'],
  'ElderlyResident.phone': () => [`{ elderlyResident(id: "${D.elder}") { id phone } }`, ['elderlyResident', 'phone'], '13900000001'],
  'ElderlyResident.emergencyContact': () => [
    `{ elderlyResident(id: "${D.elder}") { id emergencyContact { phone } } }`,
    ['elderlyResident', 'emergencyContact'],
    { phone: '13900000002' },
  ],
  'ElderlyResident.healthNotes': () => [`{ elderlyResident(id: "${D.elder}") { id healthNotes } }`, ['elderlyResident', 'healthNotes'], '高血压'],
  'HomeVisit.findings': () => [
    `{ homeVisits(filter: { elderId: "${D.elder}" }) { edges { node { id findings } } } }`,
    ['homeVisits', 'edges', 0, 'node', 'findings'],
    '血压偏高',
  ],
  'ServiceTicket.reporter': () => [`{ serviceTicket(id: "${D.ticket}") { id reporter { phone } } }`, ['serviceTicket', 'reporter'], { phone: '13500000001' }],
  'Committee.members': () => [`{ committee(id: "${D.committee}") { id members { name } } }`, ['committee', 'members'], [{ name: '委员甲' }]],
  'CommitteeMember.isPartyMember': () => [
    `{ committee(id: "${D.committee}") { id members { isPartyMember } } }`,
    ['committee', 'members', 0, 'isPartyMember'],
    true,
  ],
  'Community.liaisonCadre': () => [`{ community(id: "${D.community}") { id liaisonCadre { phone } } }`, ['community', 'liaisonCadre'], { phone: '13400000001' }],
  'ServiceContract.projectManager': () => [
    `{ community(id: "${D.community}") { id currentContract { id projectManager { phone } } } }`,
    ['community', 'currentContract', 'projectManager'],
    { phone: '13600000001' },
  ],
};

const at = (data: unknown, p: (string | number)[]) => p.reduce<any>((v, k) => (v == null ? v : v[k]), data);
const DENIED = ['UNAUTHENTICATED', 'FORBIDDEN'];

function describeResult(r: Resp) {
  return JSON.stringify({ data: r.data, errors: r.errors?.map((e) => [e.extensions?.code, e.path?.join('.'), e.message]) });
}

describe('personal data: caller × field', () => {
  for (const item of Object.keys(READS)) {
    test.each(CALLER_ORDER)(`${item} read by %s`, async (caller) => {
      const [query, p, expected] = READS[item]!();
      const r = await q(stack.gatewayUrl, query, headers[caller]);
      const value = at(r.data, p);
      if (expectation(item, caller)) {
        expect([value, describeResult(r)]).toEqual([expected, expect.any(String)]);
      } else {
        expect([value ?? null, describeResult(r)]).toEqual([null, expect.any(String)]);
        for (const secret of ['王某某', '1390000', '高血压', '血压偏高', '13500000001', '委员甲', '13600000001', '13400000001']) expect(JSON.stringify(r)).not.toContain(secret);
        expect(r.errors?.some((e) => DENIED.includes(e.extensions?.code))).toBe(true);
      }
    });
  }
});

describe('mutations: caller × mutation', () => {
  for (const sg of BUREAU_SUBGRAPHS) {
    const calls = mutationCalls(sg);
    for (const call of calls) {
      test.each(CALLER_ORDER)(`${sg}.${call.name} by %s`, async (caller) => {
        const r = await q(stack.gatewayUrl, call.query, headers[caller]);
        const denied = r.errors?.some((e) => DENIED.includes(e.extensions?.code)) ?? false;
        expect([denied, describeResult(r)]).toEqual([!expectation(`Mutation.* of ${sg}`, caller), expect.any(String)]);
      });
    }
  }
});

describe('audit log queries', () => {
  test.each(CALLER_ORDER)('every subgraph’s audit log read by %s', async (caller) => {
    for (const sg of BUREAU_SUBGRAPHS) {
      const r = await q(stack.gatewayUrl, `{ ${sg}AuditLog(first: 1) { id } }`, headers[caller]);
      const allowed = expectation('Query.<subgraph>AuditLog', caller);
      if (allowed) expect([r.errors, sg]).toEqual([undefined, sg]);
      else expect(r.errors?.[0]?.extensions?.code).toMatch(/UNAUTHENTICATED|FORBIDDEN/);
    }
  });
});

describe('audit on real data', () => {
  test('a care team reading an elder’s phone leaves exactly one audit record with the right fields; aggregates leave none', async () => {
    const audit = conn('elderly').collection('audit_log');
    const before = await audit.countDocuments();
    const r = await q(stack.gatewayUrl, `{ elderlyResident(id: "${D.elder}") { id phone } }`, { ...headers.TEAM_IN!, 'x-request-id': 'matrix-audit-1' });
    expect(r.data.elderlyResident.phone).toBe('13900000001');
    const docs = await audit.find({ requestId: 'matrix-audit-1' }).toArray();
    expect(docs).toHaveLength(1);
    expect(docs[0]).toMatchObject({ subgraph: 'elderly', subject: 'matrix:TEAM_IN', role: 'CARE_TEAM', reads: [{ type: 'ElderlyResident', id: D.elder, fields: ['phone'] }] });
    expect(await audit.countDocuments()).toBe(before + 1);

    const agg = await q(stack.gatewayUrl, `{ community(id: "${D.community}") { id elderlyStats { registered livingAlone } } }`, headers.TEAM_IN);
    expect(agg.errors).toBeUndefined();
    expect(await audit.countDocuments()).toBe(before + 1);

    const log = await q(stack.gatewayUrl, `{ elderlyAuditLog(recordId: "${D.elder}") { subject role requestId reads { type id fields } } }`, headers.ADMIN);
    expect(log.data.elderlyAuditLog[0]).toMatchObject({ subject: 'matrix:TEAM_IN', requestId: 'matrix-audit-1', reads: [{ fields: ['phone'] }] });
  });

  test('small counts are suppressed for a care team but not for civil affairs', async () => {
    const query = `{ community(id: "${D.community}") { elderlyStats { registered } } }`;
    const team = await q(stack.gatewayUrl, query, headers.TEAM_IN);
    const civil = await q(stack.gatewayUrl, query, headers.CIVIL);
    expect(team.data.community.elderlyStats.registered).toBeNull();
    expect(civil.data.community.elderlyStats.registered).toBeGreaterThanOrEqual(1);
  });
});

test('docs/access.md is generated from the matrix (npx tsx test/security/matrix.ts --write)', () => {
  expect(readFileSync(ACCESS_DOC, 'utf8')).toBe(renderAccessDoc(mutationsBySubgraph()));
});
