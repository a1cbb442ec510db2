/**
 * Another engine, same supergraph: Hive Gateway, started exactly as `npm run start:hive` does
 * (gateway/hive/gateway.config.ts, through tsx) with `<NAME>_URL` pointing at the subgraphs of a
 * running stack, answers the representative operations (test/bench/operations.ts, W2) with the same
 * data as the project's gateway, and the access rules, audit and small-count suppression hold
 * through it exactly as through the project's gateway, because the subgraphs enforce them.
 *
 * The access cases are a representative subset of test/security/matrix.ts: nine personal-data
 * fields from all four bureaus (elderly register, 12345 tickets, committees, 小区 liaison, property
 * company managers, facility notes) and two area-checked mutations, each for all twelve callers.
 * The full matrix runs through the project's gateway in test/security/access-matrix.test.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Connection } from 'mongoose';
import { startStack, type RunningStack } from '../../scripts/stack';
import { findSubgraph } from '../../scripts/subgraphs';
import { loadConfig } from '../../lib/config';
import { now as clockNow } from '../../lib/clock';
import { signLocalToken, type TokenRequest } from '../../lib/auth/token';
import { CALLER_ORDER, CALLERS, expectation, type Caller } from '../security/matrix';
import { mutationCalls, schemaOf } from '../security/sdl-mutations';
import type { GraphQLEnumType } from 'graphql';
import { bearer, codes, q, type Resp } from '../security/helpers';
import { POOL_QUERY, W2_OPERATIONS, seededRandom, type VariablePools } from '../bench/operations';

jest.setTimeout(240_000);

const ROOT = path.join(__dirname, '../..');
let stack: RunningStack;
let hive: ChildProcess;
let hiveUrl = '';
let hiveOutput = '';
const conn = (name: string): Connection => stack.subgraphs.find((s) => s.name === name)!.conn;
const headers: Partial<Record<Caller, Record<string, string>>> = {};
const D = { community: '', otherCommunity: '', company: '', committee: '', ticket: '', elder: 'el_hive_0001' };

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** `npm run start:hive` (package.json) with the stack's subgraph URLs; nothing but loopback. */
async function startHive(): Promise<void> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {};
  for (const k of ['PATH', 'HOME', 'TMPDIR', 'LANG']) if (process.env[k]) env[k] = process.env[k];
  Object.assign(env, { PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', DO_NOT_TRACK: '1' });
  for (const s of stack.subgraphs) env[`${s.name.toUpperCase()}_URL`] = s.url;
  const bin = path.join(ROOT, 'node_modules/@graphql-hive/gateway/dist/bin.js');
  hive = spawn(process.execPath, ['--import', 'tsx', bin, 'supergraph', '--config-path', 'gateway/hive/gateway.config.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  hive.stdout!.on('data', (d: Buffer) => (hiveOutput = (hiveOutput + d.toString()).slice(-4000)));
  hive.stderr!.on('data', (d: Buffer) => (hiveOutput = (hiveOutput + d.toString()).slice(-4000)));
  hiveUrl = `http://127.0.0.1:${port}/graphql`;
  const deadline = performance.now() + 120_000;
  while (performance.now() < deadline) {
    if (hive.exitCode !== null) break;
    const ok = await fetch(`http://127.0.0.1:${port}/ready`).then((r) => r.ok, () => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`Hive Gateway did not become ready:\n${hiveOutput}`);
}

beforeAll(async () => {
  process.env.JWT_KEY_DIR = mkdtempSync(path.join(os.tmpdir(), 'ccg-hive-keys-'));
  stack = await startStack({ seed: 'always', logLevel: 'silent', demoCity: { communities: 24, seed: 42 } });
  await startHive();
  const auth = loadConfig().auth;
  const admin = bearer(await signLocalToken(auth, { role: 'CITY_ADMIN', subject: 'hive:setup' }));

  // The rows the personal-data reads look at (as in test/security/access-matrix.test.ts).
  const contracts = await conn('properties').collection('contracts').find({ current: true }).toArray();
  const committees = await conn('governance').collection('committees').find({}).toArray();
  // One of the article's 小区 (few elderly rows, so small counts are suppressed), not a synthetic one.
  const contract = contracts.find((c) => /_\d{4}$/.test(c.communityId) && committees.some((m) => m.communityId === c.communityId))!;
  D.community = contract.communityId as string;
  D.company = contract.companyUscc as string;
  const committee = committees.find((m) => m.communityId === D.community)!;
  D.committee = String(committee._id);
  const district = /^cm_(\d{6})_/.exec(D.community)![1]!;
  D.otherCommunity = district === '320706' ? 'cm_320104_0001' : 'cm_320706_0001';
  const otherDistrict = /^cm_(\d{6})_/.exec(D.otherCommunity)![1]!;
  await conn('governance').collection('committees').updateOne({ _id: committee._id }, { $set: { members: [{ name: '委员乙', phone: '13700000011', role: 'DIRECTOR', affiliation: 'OWNER', isPartyMember: true }] } });
  await conn('properties').collection('companies').updateOne({ _id: D.company as never }, { $set: { generalManager: '总经理乙' } });
  await conn('governance').collection('communities').updateOne({ _id: D.community as never }, { $set: { liaisonCadre: { name: '社区干部乙', phone: '13400000011' } } });
  const ticket = await q(
    stack.gatewayUrl,
    `mutation { createServiceTicket(input: { communityId: "${D.community}", serviceCode: REPAIR, channel: HOTLINE_12345, description: "单元门禁损坏",
      reporter: { firstName: "某", lastName: "钱", phone: "13500000011" } }) { id } }`,
    admin,
  );
  expect(ticket.errors).toBeUndefined();
  D.ticket = ticket.data.createServiceTicket.id;
  const facilityType = (schemaOf('renovation').getType('FacilityType') as GraphQLEnumType).getValues()[0]!.name;
  const facility = await q(stack.gatewayUrl, `mutation { upsertFacility(input: { communityId: "${D.community}", type: ${facilityType}, note: "由住户周某提出加装" }) { id } }`, admin);
  expect(facility.errors).toBeUndefined();
  const now = clockNow();
  await conn('elderly').collection('elderly_residents').insertOne({
    _id: D.elder as never,
    communityId: D.community,
    districtCode: district,
    cityCode: `${district.slice(0, 4)}00`,
    name: '李某某',
    phone: '13900000011',
    healthNotes: '糖尿病',
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
    registeredByTeamId: 'ct_hive_in',
    createdAt: now,
    updatedAt: now,
  });
  // Written beside the write path: bring the elderly statistics rollups up to date with the raw rows.
  await findSubgraph('elderly').rebuildStats?.(conn('elderly'));

  const claims: Record<Caller, Omit<TokenRequest, 'role'> | null> = {
    PUBLIC: null,
    ADMIN: {},
    HOUSING: {},
    CIVIL: {},
    RENOV: {},
    STREET_IN: { district, communities: [D.community] },
    STREET_OUT: { district: otherDistrict, communities: [D.otherCommunity] },
    TEAM_IN: { team: 'ct_hive_in', communities: [D.community] },
    TEAM_OUT: { team: 'ct_hive_out', communities: [D.otherCommunity] },
    CO_IN: { company: D.company },
    CO_OUT: { company: '91320000HIVEOUT000' },
    PARTNER: { partner: 'meals' },
  };
  for (const c of CALLER_ORDER) {
    const cl = claims[c];
    headers[c] = cl ? bearer(await signLocalToken(auth, { role: CALLERS[c].role, subject: `hive:${c}`, ...cl })) : {};
  }
});

afterAll(async () => {
  if (hive && hive.exitCode === null) {
    const exited = new Promise((r) => hive.once('exit', r));
    hive.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000).unref())]);
    if (hive.exitCode === null) hive.kill('SIGKILL');
  }
  await stack?.stop();
});

/** Data and error codes of an answer, for comparing two gateways (messages and paths may be worded differently). */
const outcome = (r: Resp) => ({ data: r.data ?? null, codes: codes(r).sort() });

describe('the representative operations (W2) answer the same data through Hive Gateway as through the project gateway', () => {
  let pools: VariablePools;
  beforeAll(async () => {
    const admin = headers.ADMIN!;
    const cities = await q(stack.gatewayUrl, '{ cities { code } }', admin);
    const city = cities.data.cities.map((c: { code: string }) => c.code).sort()[0] as string;
    const r = await q(stack.gatewayUrl, POOL_QUERY, admin, { city });
    expect(r.errors).toBeUndefined();
    const nodes = r.data.communities.edges.map((e: { node: any }) => e.node);
    const period = nodes.map((n: any) => n.feeHistory?.[0]?.period).filter(Boolean).sort().pop() as string;
    pools = {
      cities: r.data.cities.map((c: { code: string }) => c.code),
      districts: r.data.cities.flatMap((c: { districts: { code: string }[] }) => c.districts.map((d) => d.code)),
      communities: nodes.map((n: any) => n.id),
      companies: [...new Set(nodes.map((n: any) => n.currentContract?.company?.uscc).filter(Boolean))] as string[],
      period,
      year: Number(period.slice(0, 4)),
    };
  });

  test.each(W2_OPERATIONS.map((op) => [op.name, op] as const))('%s, three sets of variables, as the city administrator and as the public', async (_name, op) => {
    const rnd = seededRandom(op.domain);
    for (let i = 0; i < 3; i++) {
      const variables = op.variables(pools, rnd);
      for (const caller of ['ADMIN', 'PUBLIC'] as const) {
        const ours = await q(stack.gatewayUrl, op.query, headers[caller], variables);
        const theirs = await q(hiveUrl, op.query, headers[caller], variables);
        expect({ variables, caller, ...outcome(theirs) }).toEqual({ variables, caller, ...outcome(ours) });
        if (caller === 'ADMIN') expect([op.name, ours.errors]).toEqual([op.name, undefined]);
      }
    }
  });
});

/** Personal-data reads of the subset: [query, path to the value]. */
const READS: Record<string, () => [string, (string | number)[]]> = {
  'ElderlyResident.name': () => [`{ elderlyResident(id: "${D.elder}") { id name } }`, ['elderlyResident', 'name']],
  'ElderlyResident.phone': () => [`{ elderlyResident(id: "${D.elder}") { id phone } }`, ['elderlyResident', 'phone']],
  'ElderlyResident.healthNotes': () => [`{ elderlyResident(id: "${D.elder}") { id healthNotes } }`, ['elderlyResident', 'healthNotes']],
  'ServiceTicket.reporter': () => [`{ serviceTicket(id: "${D.ticket}") { id reporter { phone } } }`, ['serviceTicket', 'reporter']],
  'ServiceTicket.text': () => [`{ serviceTicket(id: "${D.ticket}") { id text } }`, ['serviceTicket', 'text']],
  'Committee.members': () => [`{ committee(id: "${D.committee}") { id members { name } } }`, ['committee', 'members']],
  'Community.liaisonCadre': () => [`{ community(id: "${D.community}") { id liaisonCadre { phone } } }`, ['community', 'liaisonCadre']],
  'PropertyCompany.generalManager': () => [`{ propertyCompany(uscc: "${D.company}") { uscc generalManager } }`, ['propertyCompany', 'generalManager']],
  'Facility.note': () => [`{ community(id: "${D.community}") { id facilities { note } } }`, ['community', 'facilities', 0, 'note']],
};
const at = (data: unknown, p: (string | number)[]) => p.reduce<any>((v, k) => (v == null ? v : v[k]), data);

describe('personal data: the same verdict through Hive Gateway as through the project gateway (subset of the matrix)', () => {
  for (const item of Object.keys(READS)) {
    test.each(CALLER_ORDER)(`${item} read by %s`, async (caller) => {
      const [query, p] = READS[item]!();
      const ours = await q(stack.gatewayUrl, query, headers[caller]);
      const theirs = await q(hiveUrl, query, headers[caller]);
      expect(outcome(theirs)).toEqual(outcome(ours));
      // And the verdict is the matrix's, not merely the same mistake twice.
      const visible = at(theirs.data, p) != null;
      expect([item, caller, visible]).toEqual([item, caller, expectation(item, caller)]);
    });
  }
});

describe('area-checked mutations: the same verdict through Hive Gateway', () => {
  for (const name of ['createServiceTicket', 'upsertFacility']) {
    test.each(CALLER_ORDER)(`${name} by %s`, async (caller) => {
      const sg = name === 'createServiceTicket' ? 'governance' : 'renovation';
      const call = mutationCalls(sg, { Community: D.community }).find((c) => c.name === name)!;
      const denied = (r: Resp) => codes(r).some((c) => c === 'FORBIDDEN' || c === 'UNAUTHENTICATED');
      const ours = await q(stack.gatewayUrl, call.query, headers[caller]);
      const theirs = await q(hiveUrl, call.query, headers[caller]);
      expect([denied(theirs), codes(theirs).sort()]).toEqual([denied(ours), codes(ours).sort()]);
      expect(denied(theirs)).toBe(!expectation(`Mutation.${name}`, caller));
    });
  }
});

describe('audit and suppression through Hive Gateway', () => {
  test('a care team reading an elder’s phone through Hive leaves exactly one audit record with its request id and subject', async () => {
    const audit = conn('elderly').collection('audit_log');
    const requestId = '0a1b2c3d-0000-4000-8000-00000000a11e';
    const r = await q(hiveUrl, `{ elderlyResident(id: "${D.elder}") { id phone } }`, { ...headers.TEAM_IN!, 'x-request-id': requestId });
    expect([r.errors, r.data?.elderlyResident?.phone]).toEqual([undefined, '13900000011']);
    const docs = await audit.find({ requestId }).toArray();
    expect(docs).toHaveLength(1);
    expect(docs[0]).toMatchObject({ subgraph: 'elderly', subject: 'hive:TEAM_IN', role: 'CARE_TEAM', reads: [{ type: 'ElderlyResident', id: D.elder, fields: ['id', 'phone'] }] });
  });

  test('small counts are suppressed for a care team and shown to civil affairs, through both gateways alike', async () => {
    const query = `{ community(id: "${D.community}") { elderlyStats { registered } } }`;
    for (const caller of ['TEAM_IN', 'CIVIL'] as const) {
      const ours = await q(stack.gatewayUrl, query, headers[caller]);
      const theirs = await q(hiveUrl, query, headers[caller]);
      expect(outcome(theirs)).toEqual(outcome(ours));
    }
    const team = await q(hiveUrl, query, headers.TEAM_IN);
    const civil = await q(hiveUrl, query, headers.CIVIL);
    expect(team.data.community.elderlyStats.registered).toBeNull();
    expect(civil.data.community.elderlyStats.registered).toBeGreaterThanOrEqual(1);
  });
});
