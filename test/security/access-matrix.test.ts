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
import { now as clockNow } from '../../lib/clock';
import { signLocalToken, type TokenRequest } from '../../lib/auth/token';
import { BUREAU_SUBGRAPHS } from '../../lib/auth/roles';
import { ACCESS_DOC, CALLER_ORDER, CALLERS, expectation, MATRIX, renderAccessDoc, type Caller } from './matrix';
import { mutationCalls, mutationDocs } from './sdl-mutations';
import { bearer, codes, q, type Resp } from './helpers';
import { schemaOf } from './sdl-mutations';
import { isEnumType } from 'graphql';

const firstEnum = (sg: string, name: string) => {
  const t = schemaOf(sg).getType(name);
  if (!isEnumType(t)) throw new Error(`${name} is not an enum of ${sg}`);
  return t.getValues()[0]!.name;
};

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
  /** A second resident of the same 小区, registered by another care team. */
  otherTeamsElder: 'el_matrix_0002',
  visit: 'hv_matrix_0001',
  visitedAt: clockNow(),
  ticket: '',
  report: '',
  project: '',
  committee: '',
  district: '',
  otherDistrict: '',
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
  D.district = district;
  D.otherDistrict = otherDistrict;
  const city = `${district.slice(0, 4)}00`;

  await conn('properties').collection('contracts').updateOne({ _id: contract._id }, { $set: { projectManager: { name: '项目经理甲', phone: '13600000001' } } });
  await conn('governance').collection('committees').updateOne(
    { _id: committee._id },
    { $set: { members: [{ name: '委员甲', phone: '13700000001', role: 'DIRECTOR', affiliation: 'OWNER', isPartyMember: true }], partyMemberRatio: 1 } },
  );
  await conn('properties').collection('companies').updateOne({ _id: D.company as never }, { $set: { generalManager: '总经理甲', legalRepresentative: '法代甲' } });
  await conn('governance').collection('communities').updateOne({ _id: D.community as never }, { $set: { liaisonCadre: { name: '社区干部甲', phone: '13400000001' } } });
  const ticket = await q(
    stack.gatewayUrl,
    `mutation { createServiceTicket(input: { communityId: "${D.community}", serviceCode: REPAIR, channel: HOTLINE_12345, description: "楼道灯不亮",
      addressString: "3栋2单元502", location: { lat: 32.0123456, long: 118.7654321 }, mediaUrls: ["https://example.org/matrix-media.jpg"],
      reporter: { firstName: "某", lastName: "张", phone: "13500000001" } }) { id } }`,
    bearer(await signLocalToken(auth, { role: 'CITY_ADMIN' })),
  );
  expect(ticket.errors).toBeUndefined();
  D.ticket = ticket.data.createServiceTicket.id;
  const note = await q(stack.gatewayUrl, `mutation { addTicketNote(id: "${D.ticket}", text: "已转物业处理") { id } }`, bearer(await signLocalToken(auth, { role: 'CITY_ADMIN' })));
  expect(note.errors).toBeUndefined();
  await conn('governance').collection('service_tickets').updateOne({ _id: D.ticket as never }, { $set: { companyUscc: D.company } });
  const report = await q(
    stack.gatewayUrl,
    `mutation { recordPatrolReport(input: { communityId: "${D.community}", issueType: ${firstEnum('governance', 'PatrolIssueType')}, photos: ["https://example.org/p.jpg"], description: "消防通道堵塞" }) { id } }`,
    bearer(await signLocalToken(auth, { role: 'CITY_ADMIN' })),
  );
  expect(report.errors).toBeUndefined();
  D.report = report.data.recordPatrolReport.id;
  const admin = bearer(await signLocalToken(auth, { role: 'CITY_ADMIN' }));
  const meeting = await q(
    stack.gatewayUrl,
    `mutation { recordJointMeeting(input: { communityId: "${D.community}", heldAt: "${new Date(clockNow().getTime() - 86_400_000).toISOString()}", participantOrgTypes: [STREET, NEIGHBORHOOD], topics: [${firstEnum('governance', 'CoGovernanceTopic')}], resolutions: ["3栋502室违建阳台限期拆除"] }) { id } }`,
    admin,
  );
  expect(meeting.errors).toBeUndefined();
  const facility = await q(
    stack.gatewayUrl,
    `mutation { upsertFacility(input: { communityId: "${D.community}", type: ${firstEnum('renovation', 'FacilityType')}, note: "由独居老人孙某家中改建" }) { id } }`,
    admin,
  );
  expect(facility.errors).toBeUndefined();
  await conn('governance').collection('patrol_reports').updateOne({ _id: D.report as never }, {
    $set: { companyUscc: D.company, rectifiedAt: clockNow(), rectificationPhotos: ['https://example.org/matrix-rectified.jpg'], rectificationNote: '整改完成' },
  });
  const project = await conn('renovation').collection('renovation_projects').findOne({ communityIds: D.community });
  D.project = project ? String(project._id) : 'rp_matrix_missing';

  const now = clockNow();
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
  await conn('elderly').collection('elderly_residents').insertOne({
    _id: D.otherTeamsElder as never,
    communityId: D.community,
    districtCode: district,
    cityCode: city,
    name: '陈某某',
    ageBand: 'AGE_70_79',
    livingArrangement: 'EMPTY_NEST',
    difficultyFlags: [],
    hasDifficulty: false,
    derivedRiskTier: 'GENERAL',
    riskTier: 'GENERAL',
    riskTierOverride: null,
    visitIntervalDays: 90,
    lastVisitedAt: null,
    nextVisitDue: new Date(now.getTime() - 86_400_000),
    status: 'ACTIVE',
    registeredAt: new Date(now.getTime() - 30 * 86_400_000),
    registeredByTeamId: 'ct_matrix_other',
    createdAt: now,
    updatedAt: now,
  });
  D.visitedAt = new Date(now.getTime() - 2 * 86_400_000);
  await conn('elderly').collection('home_visits').insertOne({
    _id: D.visit as never,
    elderId: D.elder,
    teamId: 'ct_matrix_in',
    communityId: D.community,
    districtCode: district,
    cityCode: city,
    visitedAt: D.visitedAt,
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
  'ElderlyResident (the row)': () => [`{ elderlyResident(id: "${D.elder}") { id riskTier livingArrangement } }`, ['elderlyResident', 'livingArrangement'], 'LIVING_ALONE'],
  // Visits up to a second after the test's own one: mutations of this file record newer visits.
  'HomeVisit (the row)': () => [
    `{ homeVisits(filter: { elderId: "${D.elder}", to: "${new Date(D.visitedAt.getTime() + 1000).toISOString()}" }) { edges { node { id mode } } } }`,
    ['homeVisits', 'edges', 0, 'node', 'mode'],
    'IN_PERSON',
  ],
  'ElderlyResident.name': () => [`{ elderlyResident(id: "${D.elder}") { id name } }`, ['elderlyResident', 'name'], '王某某'],
  'ElderlyResident.phone': () => [`{ elderlyResident(id: "${D.elder}") { id phone } }`, ['elderlyResident', 'phone'], '13900000001'],
  'ElderlyResident.emergencyContact': () => [
    `{ elderlyResident(id: "${D.elder}") { id emergencyContact { phone } } }`,
    ['elderlyResident', 'emergencyContact'],
    { phone: '13900000002' },
  ],
  'ElderlyResident.healthNotes': () => [`{ elderlyResident(id: "${D.elder}") { id healthNotes } }`, ['elderlyResident', 'healthNotes'], '高血压'],
  'HomeVisit.findings': () => [
    `{ homeVisits(filter: { elderId: "${D.elder}", to: "${new Date(D.visitedAt.getTime() + 1000).toISOString()}" }) { edges { node { id findings } } } }`,
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
  'ServiceTicket.text': () => [`{ serviceTicket(id: "${D.ticket}") { id text } }`, ['serviceTicket', 'text'], '楼道灯不亮'],
  'ServiceTicket.statusNotes': () => [`{ serviceTicket(id: "${D.ticket}") { id statusNotes } }`, ['serviceTicket', 'statusNotes'], '已转物业处理'],
  'ServiceTicket.addressString': () => [`{ serviceTicket(id: "${D.ticket}") { id addressString } }`, ['serviceTicket', 'addressString'], '3栋2单元502'],
  'ServiceTicket.location': () => [`{ serviceTicket(id: "${D.ticket}") { id location { lat lng } } }`, ['serviceTicket', 'location'], { lat: 32.0123456, lng: 118.7654321 }],
  'ServiceTicket.media': () => [`{ serviceTicket(id: "${D.ticket}") { id media } }`, ['serviceTicket', 'media'], ['https://example.org/matrix-media.jpg']],
  'TicketNote.text': () => [`{ serviceTicket(id: "${D.ticket}") { id notes { type text } } }`, ['serviceTicket', 'notes', 1, 'text'], '已转物业处理'],
  'Open311Request.description': () => [`{ serviceTicket(id: "${D.ticket}") { id open311 { description } } }`, ['serviceTicket', 'open311', 'description'], '楼道灯不亮'],
  'Open311Request.status_notes': () => [`{ serviceTicket(id: "${D.ticket}") { id open311 { status_notes } } }`, ['serviceTicket', 'open311', 'status_notes'], '已转物业处理'],
  'Open311Request.address': () => [`{ serviceTicket(id: "${D.ticket}") { id open311 { address } } }`, ['serviceTicket', 'open311', 'address'], '3栋2单元502'],
  'Open311Request.lat': () => [`{ serviceTicket(id: "${D.ticket}") { id open311 { lat } } }`, ['serviceTicket', 'open311', 'lat'], 32.0123456],
  'Open311Request.long': () => [`{ serviceTicket(id: "${D.ticket}") { id open311 { long } } }`, ['serviceTicket', 'open311', 'long'], 118.7654321],
  'Open311Request.media_url': () => [`{ serviceTicket(id: "${D.ticket}") { id open311 { media_url } } }`, ['serviceTicket', 'open311', 'media_url'], 'https://example.org/matrix-media.jpg'],
  // The test's report is the 小区's newest (mutations of this file record newer ones only after the reads).
  'PatrolReport.description': () => [`{ patrolReports(communityId: "${D.community}", range: ALL) { id description } }`, ['patrolReports', 0, 'description'], '消防通道堵塞'],
  'PatrolReport.photoUrls': () => [`{ patrolReports(communityId: "${D.community}", range: ALL) { id photoUrls } }`, ['patrolReports', 0, 'photoUrls'], ['https://example.org/p.jpg']],
  'PatrolReport.rectificationPhotoUrls': () => [
    `{ patrolReports(communityId: "${D.community}", range: ALL) { id rectificationPhotoUrls } }`,
    ['patrolReports', 0, 'rectificationPhotoUrls'],
    ['https://example.org/matrix-rectified.jpg'],
  ],
  'JointMeeting.resolutionTexts': () => [
    `{ community(id: "${D.community}") { id jointMeetings(range: ALL) { resolutionTexts } } }`,
    ['community', 'jointMeetings', 0, 'resolutionTexts'],
    ['[门牌已隐去]违建阳台限期拆除'],
  ],
  'Facility.note': () => [`{ community(id: "${D.community}") { id facilities { note } } }`, ['community', 'facilities', 0, 'note'], '由独居老人孙某家中改建'],
  'PatrolReport.rectificationNote': () => [`{ patrolReports(communityId: "${D.community}", range: ALL) { id rectificationNote } }`, ['patrolReports', 0, 'rectificationNote'], '整改完成'],
  'Committee.partyMemberRatio': () => [`{ committee(id: "${D.committee}") { id partyMemberRatio } }`, ['committee', 'partyMemberRatio'], 1],
  'PropertyCompany.generalManager': () => [`{ propertyCompany(uscc: "${D.company}") { uscc generalManager } }`, ['propertyCompany', 'generalManager'], '总经理甲'],
  'PropertyCompany.legalRepresentative': () => [`{ propertyCompany(uscc: "${D.company}") { uscc legalRepresentative } }`, ['propertyCompany', 'legalRepresentative'], '法代甲'],
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
        for (const secret of [
          '王某某', '1390000', '高血压', '血压偏高', '13500000001', '委员甲', '13600000001', '13400000001', 'LIVING_ALONE', 'IN_PERSON',
          '楼道灯不亮', '已转物业处理', '3栋2单元502', '32.0123', '118.7654', 'matrix-media', '消防通道堵塞', 'example.org/p.jpg', 'matrix-rectified', '整改完成',
          '总经理甲', '法代甲', 'partyMemberRatio":1', '违建阳台', '孙某',
        ]) {
          expect(JSON.stringify(r)).not.toContain(secret);
        }
        // An area-limited caller outside the row's area may get the answer of a missing row
        // (null, or an empty list, without an error); everyone else is told FORBIDDEN/UNAUTHENTICATED.
        const hiddenLikeMissing = caller.endsWith('_OUT') && !r.errors;
        expect([r.errors?.some((e) => DENIED.includes(e.extensions?.code)) || hiddenLikeMissing, describeResult(r)]).toEqual([true, expect.any(String)]);
      }
    });
  }
});

describe('mutations: caller × mutation (the target row lies in the *_IN callers’ area)', () => {
  for (const sg of BUREAU_SUBGRAPHS) {
    for (const name of mutationCalls(sg).map((c) => c.name)) {
      test.each(CALLER_ORDER)(`${sg}.${name} by %s`, async (caller) => {
        const targets = { Community: D.community, ServiceTicket: D.ticket, PatrolReport: D.report, ElderlyResident: D.elder, RenovationProject: D.project };
        const call = mutationCalls(sg, targets).find((c) => c.name === name)!;
        const r = await q(stack.gatewayUrl, call.query, headers[caller]);
        const denied = r.errors?.some((e) => DENIED.includes(e.extensions?.code)) ?? false;
        expect([denied, describeResult(r)]).toEqual([!expectation(`Mutation.${name}`, caller), expect.any(String)]);
      });
    }
  }

  test('the matrix has a row for every mutation of the bureau subgraphs, and none for a mutation that is gone', () => {
    const names = BUREAU_SUBGRAPHS.flatMap((sg) => mutationCalls(sg).map((c) => `Mutation.${c.name}`));
    expect(MATRIX.map((r) => r[0]).filter((item) => item.startsWith('Mutation.')).sort()).toEqual([...names].sort());
  });
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
    const r = await q(stack.gatewayUrl, `{ elderlyResident(id: "${D.elder}") { id phone } }`, { ...headers.TEAM_IN!, 'x-request-id': '0a1b2c3d-0000-4000-8000-000000000004' });
    expect(r.data.elderlyResident.phone).toBe('13900000001');
    const docs = await audit.find({ requestId: '0a1b2c3d-0000-4000-8000-000000000004' }).toArray();
    expect(docs).toHaveLength(1);
    expect(docs[0]).toMatchObject({ subgraph: 'elderly', subject: 'matrix:TEAM_IN', role: 'CARE_TEAM', reads: [{ type: 'ElderlyResident', id: D.elder, fields: ['id', 'phone'] }] });
    expect(await audit.countDocuments()).toBe(before + 1);

    const agg = await q(stack.gatewayUrl, `{ community(id: "${D.community}") { id elderlyStats { registered livingAlone } } }`, headers.TEAM_IN);
    expect(agg.errors).toBeUndefined();
    expect(await audit.countDocuments()).toBe(before + 1);

    const log = await q(stack.gatewayUrl, `{ elderlyAuditLog(recordId: "${D.elder}") { subject role requestId reads { type id fields } } }`, headers.ADMIN);
    expect(log.data.elderlyAuditLog[0]).toMatchObject({ subject: 'matrix:TEAM_IN', requestId: '0a1b2c3d-0000-4000-8000-000000000004', reads: [{ fields: ['id', 'phone'] }] });
  });

  test('small counts are suppressed for a care team but not for civil affairs', async () => {
    const query = `{ community(id: "${D.community}") { elderlyStats { registered } } }`;
    const team = await q(stack.gatewayUrl, query, headers.TEAM_IN);
    const civil = await q(stack.gatewayUrl, query, headers.CIVIL);
    expect(team.data.community.elderlyStats.registered).toBeNull();
    expect(civil.data.community.elderlyStats.registered).toBeGreaterThanOrEqual(1);
  });
});

describe('row-scoped lists count only what the caller may see', () => {
  const register = () => `{ elderlyResidents(filter: { communityId: "${D.community}" }, first: 1) { totalCount edges { node { id } } pageInfo { hasNextPage } } }`;
  const idsOf = (r: Resp) => (r.data?.elderlyResidents?.edges ?? []).map((e: { node: { id: string } }) => e.node.id);

  test('a care team that does not serve the 小区 sees only the residents it registered: page and totalCount alike', async () => {
    const auth = loadConfig().auth;
    const ownRowsOnly = bearer(await signLocalToken(auth, { role: 'CARE_TEAM', team: 'ct_matrix_in', communities: [D.otherCommunity] }));
    const r = await q(stack.gatewayUrl, register(), ownRowsOnly);
    expect([r.errors, r.data.elderlyResidents.totalCount, idsOf(r), r.data.elderlyResidents.pageInfo.hasNextPage]).toEqual([undefined, 1, [D.elder], false]);
    // The other team's resident stays invisible by id too, exactly like a missing one.
    const hidden = await q(stack.gatewayUrl, `{ elderlyResident(id: "${D.otherTeamsElder}") { id } }`, ownRowsOnly);
    const missing = await q(stack.gatewayUrl, `{ elderlyResident(id: "el_matrix_none") { id } }`, ownRowsOnly);
    expect(hidden).toEqual(missing);
  });

  test('the team serving the 小区 and civil affairs count every resident; a team elsewhere counts none', async () => {
    const civil = await q(stack.gatewayUrl, register(), headers.CIVIL);
    const team = await q(stack.gatewayUrl, register(), headers.TEAM_IN);
    const out = await q(stack.gatewayUrl, register(), headers.TEAM_OUT);
    expect(civil.data.elderlyResidents.totalCount).toBeGreaterThanOrEqual(2);
    expect(team.data.elderlyResidents.totalCount).toBe(civil.data.elderlyResidents.totalCount);
    expect([out.errors, out.data.elderlyResidents.totalCount, idsOf(out)]).toEqual([undefined, 0, []]);
  });

  test('the worklist and the visits of another area are empty, not refused row by row', async () => {
    const due = await q(stack.gatewayUrl, `{ elderlyDue(communityId: "${D.community}") { id } }`, headers.TEAM_OUT);
    const visits = await q(stack.gatewayUrl, `{ homeVisits(filter: { communityId: "${D.community}" }) { edges { node { id } } } }`, headers.STREET_OUT);
    expect([due.errors, due.data.elderlyDue]).toEqual([undefined, []]);
    expect([visits.errors, visits.data.homeVisits.edges]).toEqual([undefined, []]);
  });
});

describe('street staff whose token names only a street, reading and writing (governance reads the street from its 小区 register)', () => {
  test('a ticket in a 小区 of the street is accepted and its reporter readable; a 小区 of another street and its tickets are refused like a missing one', async () => {
    const reg = await conn('governance').collection('communities').findOne({ streetCode: { $ne: null } });
    // The demo register names the street of one 小区 only: give another 小区 a street of its own.
    const registerRows = conn('governance').collection('communities');
    const otherReg = await registerRows.findOne({ _id: { $ne: reg!._id } });
    const otherStreet = `${otherReg!.districtCode}901`;
    expect(otherStreet).not.toBe(reg!.streetCode);
    await registerRows.updateOne({ _id: otherReg!._id }, { $set: { streetCode: otherStreet } });
    const auth = loadConfig().auth;
    const street = bearer(await signLocalToken(auth, { role: 'STREET_STAFF', street: reg!.streetCode as string }));
    const create = (communityId: string) =>
      q(stack.gatewayUrl, `mutation { createServiceTicket(input: { communityId: "${communityId}", serviceCode: REPAIR, channel: HOTLINE_12345, description: "电梯故障" }) { id } }`, street);
    const mine = await create(String(reg!._id));
    expect([mine.errors, typeof mine.data?.createServiceTicket?.id]).toEqual([undefined, 'string']);

    const tickets = conn('governance').collection('service_tickets');
    const before = await tickets.countDocuments();
    const other = await create(String(otherReg!._id));
    const missing = await create('cm_999999_9999');
    expect([codes(other), codes(missing)]).toEqual([['FORBIDDEN'], ['FORBIDDEN']]);
    expect(await tickets.countDocuments()).toBe(before);

    // Notes on a ticket of the other street: refused too, and the ticket is unchanged.
    const foreign = await q(
      stack.gatewayUrl,
      `mutation { createServiceTicket(input: { communityId: "${otherReg!._id}", serviceCode: REPAIR, channel: HOTLINE_12345, description: "路灯不亮" }) { id } }`,
      headers.ADMIN,
    );
    const foreignId = foreign.data.createServiceTicket.id as string;
    const note = await q(stack.gatewayUrl, `mutation { addTicketNote(id: "${foreignId}", text: "越权备注") { id } }`, street);
    expect(codes(note)).toEqual(['FORBIDDEN']);
    expect(JSON.stringify(await tickets.findOne({ _id: foreignId as never }))).not.toContain('越权备注');
    const ownNote = await q(stack.gatewayUrl, `mutation { addTicketNote(id: "${mine.data.createServiceTicket.id}", text: "已联系物业") { id } }`, street);
    expect(ownNote.errors).toBeUndefined();

    // Reads follow the same register: the reporter of a ticket of the street, not of another street.
    const withReporter = (id: string) => q(stack.gatewayUrl, `{ serviceTicket(id: "${id}") { id reporter { phone } } }`, street);
    await tickets.updateOne({ _id: mine.data.createServiceTicket.id as never }, { $set: { reporter: { firstName: '某', lastName: '李', phone: '13500000009' } } });
    await tickets.updateOne({ _id: foreignId as never }, { $set: { reporter: { firstName: '某', lastName: '赵', phone: '13500000008' } } });
    const ownRead = await withReporter(mine.data.createServiceTicket.id);
    expect([ownRead.errors, ownRead.data.serviceTicket.reporter]).toEqual([undefined, { phone: '13500000009' }]);
    const foreignRead = await withReporter(foreignId);
    expect([codes(foreignRead), foreignRead.data.serviceTicket.reporter]).toEqual([['FORBIDDEN'], null]);
    expect(JSON.stringify(foreignRead)).not.toContain('13500000008');
  });
});

test('docs/access.md is generated from the matrix (npx tsx test/security/matrix.ts --write)', () => {
  expect(readFileSync(ACCESS_DOC, 'utf8')).toBe(renderAccessDoc(mutationDocs()));
});
