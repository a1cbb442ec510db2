/**
 * Subgraphs defend themselves (issue 17): the attacks of the adversarial review, each reproduced
 * against the real stack (four subgraphs from the shared factory and the real gateway) in
 * production mode, i.e. with GATEWAY_SECRET (and a previous secret, as during a rotation) set:
 * - a subgraph answers only the gateway: no header or a wrong one is refused (401) before parsing,
 *   the SDL included; the previous secret still works; /health and /ready stay open;
 * - the gateway's query limits hold at the subgraph even for a caller holding the secret: the
 *   100-alias `visitCoverage` flood, a cost flood within the alias limit, a selection 120 levels
 *   deep under `_entities`; while the gateway's own plans (depth 12 through an entity) pass;
 * - text inputs with control or bidirectional-override characters are refused with BAD_USER_INPUT
 *   naming the argument (top-level argument, nested input field, variable), nothing is written, and
 *   text is stored in NFC.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startStack, type RunningStack } from '../../scripts/stack';
import { loadConfig } from '../../lib/config';
import { createLogger } from '../../lib/logger';
import { createSubgraphServer } from '../../lib/subgraph-server';
import { assertGatewaySecretConfigured, gatewaySecretSettingsFromConfig } from '../../lib/auth/gateway-secret';
import { findTextProblem, textProblem } from '../../lib/input-hygiene';
import { hiveGatewayConfig } from '../../gateway/hive/gateway.config';
import { DEMO } from '../../subgraphs/governance/seed';
import { adminHeader } from '../helpers/subgraph';
import { codes, post, q } from './helpers';
import { buildSchema, parse } from 'graphql';
import { POOL_QUERY, W1_OPERATION, W2_OPERATIONS, seededRandom, type VariablePools } from '../bench/operations';
import { loadOperations } from '../../dashboard/operations';

jest.setTimeout(120_000);

const CURRENT = 'current-secret-0123456789abcdefghijklmnopqrstuvwxyz';
const PREVIOUS = 'previous-secret-0123456789abcdefghijklmnopqrstuvwxyz';
const WITH_CURRENT = { 'x-gateway-secret': CURRENT };

let stack: RunningStack;
let saved: Record<string, string | undefined>;
const url = (name: string) => stack.subgraphs.find((s) => s.name === name)!.url;

beforeAll(async () => {
  saved = { GATEWAY_SECRET: process.env.GATEWAY_SECRET, GATEWAY_SECRET_PREVIOUS: process.env.GATEWAY_SECRET_PREVIOUS, JWT_KEY_DIR: process.env.JWT_KEY_DIR };
  process.env.GATEWAY_SECRET = CURRENT;
  process.env.GATEWAY_SECRET_PREVIOUS = PREVIOUS;
  process.env.JWT_KEY_DIR = mkdtempSync(path.join(os.tmpdir(), 'ccg-defence-keys-'));
  stack = await startStack({ seed: 'always', logLevel: 'silent' });
});

afterAll(async () => {
  await stack?.stop();
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

describe('a subgraph answers only the gateway', () => {
  test('a request straight to a subgraph without the gateway secret is refused with 401 before parsing', async () => {
    // Not even valid GraphQL: refused before it is parsed.
    const r = await post(url('elderly'), { query: '{ not graphql (' });
    expect([r.status, codes(r)]).toEqual([401, ['UNAUTHENTICATED']]);
    expect(r.errors![0].message).toMatch(/answers only the gateway/);
  });

  test('a wrong secret is refused like a missing one', async () => {
    const r = await q(url('governance'), '{ __typename }', { 'x-gateway-secret': CURRENT.replace(/.$/, 'X') });
    expect([r.status, codes(r)]).toEqual([401, ['UNAUTHENTICATED']]);
  });

  test('the SDL (fields tagged internal included) is not readable without the secret', async () => {
    for (const s of stack.subgraphs) {
      const r = await q(s.url, '{ _service { sdl } }');
      expect([s.name, r.status, r.data]).toEqual([s.name, 401, undefined]);
    }
    const withSecret = await q(url('elderly'), '{ _service { sdl } }', WITH_CURRENT);
    expect(withSecret.data?._service.sdl).toContain('type Query');
  });

  test('during a rotation the previous secret is still accepted, and the current one is', async () => {
    for (const secret of [PREVIOUS, CURRENT]) {
      const r = await q(url('properties'), '{ __typename }', { 'x-gateway-secret': secret });
      expect([r.status, r.data]).toEqual([200, { __typename: 'Query' }]);
    }
  });

  test('health and readiness stay open without the secret', async () => {
    for (const s of stack.subgraphs) {
      const base = s.url.replace(/\/graphql$/, '');
      expect([s.name, (await fetch(`${base}/health`)).status, (await fetch(`${base}/ready`)).status]).toEqual([s.name, 200, 200]);
    }
  });

  test('the gateway sends its secret on every subgraph call: a query across all four subgraphs is answered', async () => {
    const r = await q(
      stack.gatewayUrl,
      `{ community(id: "${DEMO.ruijin}") { id name elderlyStats { registered } ticketStats(range: ALL) { opened } renovationProjects { id } } }`,
    );
    expect(r.errors).toBeUndefined();
    expect(r.data?.community).toMatchObject({ id: DEMO.ruijin, name: expect.any(String), elderlyStats: expect.any(Object), ticketStats: expect.any(Object) });
  });

  test('Open311 through the gateway reaches governance with the secret (the REST routes are behind it too)', async () => {
    const direct = await fetch(`${url('governance').replace(/\/graphql$/, '')}/open311/v2/services.json`);
    expect(direct.status).toBe(401);
    const viaGateway = await fetch(`${stack.gatewayUrl.replace(/\/graphql$/, '')}/open311/v2/services.json`);
    expect(viaGateway.status).toBe(200);
    expect(Array.isArray(await viaGateway.json())).toBe(true);
  });

  test('a subgraph in production without GATEWAY_SECRET refuses to start, naming the variable', async () => {
    const production = { NODE_ENV: 'production', JWKS_URL: 'https://idp.city.example/.well-known/jwks.json' } as NodeJS.ProcessEnv;
    const settings = gatewaySecretSettingsFromConfig(production);
    expect(settings).toEqual({ accepted: [], required: true });
    expect(() => assertGatewaySecretConfigured('elderly', settings)).toThrow(/GATEWAY_SECRET: required when NODE_ENV=production/);
    expect(gatewaySecretSettingsFromConfig({ ...production, GATEWAY_SECRET: CURRENT })).toEqual({ accepted: [CURRENT], required: true });
    // The factory itself refuses to listen.
    const sdlPath = path.join(mkdtempSync(path.join(os.tmpdir(), 'ccg-probe-')), 'probe.graphql');
    writeFileSync(sdlPath, 'type Query { hello: String }\n');
    const server = createSubgraphServer({
      name: 'probe',
      sdlPath,
      resolvers: {},
      connection: stack.subgraphs[0]!.conn,
      createContext: () => ({}),
      logger: createLogger('probe', 'silent'),
      gatewaySecret: settings,
    });
    await expect(server.listen(0)).rejects.toThrow(/GATEWAY_SECRET: required when NODE_ENV=production/);
    // A secret shorter than 32 characters is a configuration error.
    expect(() => loadConfig({ GATEWAY_SECRET: 'short' })).toThrow(/GATEWAY_SECRET: must be at least 32 characters/);
  });

  test('the Hive gateway config sends the configured secret and never passes on a caller\'s own header', () => {
    const base = { supergraphFile: 'x', subgraphUrls: {}, port: 0, host: '127.0.0.1', logLevel: 'error' as const };
    const request = new Request('http://127.0.0.1/graphql', { headers: { authorization: 'Bearer t', 'x-gateway-secret': 'forged-by-the-caller' } });
    expect(hiveGatewayConfig({ ...base, gatewaySecret: CURRENT }).propagateHeaders.fromClientToSubgraphs({ request })).toEqual({ authorization: 'Bearer t', 'x-gateway-secret': CURRENT });
    expect(hiveGatewayConfig(base).propagateHeaders.fromClientToSubgraphs({ request })).toEqual({ authorization: 'Bearer t' });
  });
});

describe('the gateway\'s query limits hold at every subgraph (even with the secret)', () => {
  const coverage = (n: number, first: number) =>
    `{ ${Array.from({ length: n }, (_, i) => `a${i}: visitCoverage(cityCode: "320100", first: ${first}) { totalCount }`).join(' ')} }`;

  test('the 100-alias visitCoverage flood straight at the elderly subgraph is refused before it runs', async () => {
    const r = await q(url('elderly'), coverage(100, 200), WITH_CURRENT);
    expect([r.status, [...new Set(codes(r))]]).toEqual([400, ['GRAPHQL_VALIDATION_FAILED']]);
    // Refused by the alias limit and, independently, by the cost limit (100 × 200 × 3.5 = 70 000).
    expect(r.errors!.map((e) => e.message).join(' ')).toMatch(/Aliases limit of 30 exceeded, found 100/);
    expect(r.errors!.map((e) => e.message).join(' ')).toMatch(/Cost limit of 40000 exceeded, found 70000/);
    expect(r.data).toBeUndefined();
  });

  test('a cost flood within the alias limit (20 aliases of first: 2000) is refused by the cost limit', async () => {
    const r = await q(url('elderly'), coverage(20, 2000), WITH_CURRENT);
    expect([r.status, codes(r)]).toEqual([400, ['GRAPHQL_VALIDATION_FAILED']]);
    expect(r.errors![0].message).toMatch(/Cost limit of \d+ exceeded/);
  });

  test('an over-long document (12 000 tokens) is refused before it is parsed', async () => {
    const r = await q(url('elderly'), `{ ${'__typename '.repeat(12_000)}}`, WITH_CURRENT);
    expect([r.status, codes(r)]).toEqual([400, ['BAD_USER_INPUT']]);
    expect(r.errors![0].message).toBe('query too large: more than 10000 tokens');
  });

  test('a selection 120 levels deep under _entities is refused at the subgraph', async () => {
    let sel = 'id';
    for (let i = 0; i < 60; i++) sel = `careTeams { communities { ${sel} } }`;
    const query = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Community { ${sel} } } }`;
    const r = await q(url('elderly'), query, WITH_CURRENT, { r: [{ __typename: 'Community', id: DEMO.ruijin }] });
    expect([r.status, [...new Set(codes(r))]]).toEqual([400, ['GRAPHQL_VALIDATION_FAILED']]);
    expect(r.errors!.map((e) => e.message).join(' ')).toMatch(/depth limit of 12 exceeded, found 122/i);
  });

  test('the gateway\'s own plan of a depth-12 query through an entity passes the subgraph\'s limits', async () => {
    // community (properties) -> careTeams -> communities -> ... (elderly, through _entities): 12 levels.
    let sel = 'id';
    for (let i = 0; i < 5; i++) sel = `careTeams { communities { ${sel} } }`;
    const query = `{ community(id: "${DEMO.ruijin}") { ${sel} } }`;
    const r = await q(stack.gatewayUrl, query);
    expect(r.errors).toBeUndefined();
    expect(r.data?.community).toHaveProperty('careTeams');
    // One level more is refused by the gateway itself.
    const deeper = await q(stack.gatewayUrl, query.replace('{ id }', '{ careTeams { id } }'));
    expect(codes(deeper)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    expect(deeper.errors![0].message).toMatch(/depth limit of 12 exceeded, found 13/i);
  });

  test('the dashboard\'s operations and the benchmark mix, as the city administrator, pass every subgraph\'s limits', async () => {
    const admin = await adminHeader();
    const city = (await q(stack.gatewayUrl, '{ cities { code } }', admin)).data!.cities[0].code;
    const r = await q(stack.gatewayUrl, POOL_QUERY, admin, { city });
    expect(r.errors).toBeUndefined();
    const nodes = r.data.communities.edges.map((e: { node: any }) => e.node);
    const period = (nodes.map((n: any) => n.feeHistory?.[0]?.period).filter(Boolean).sort().pop() as string | undefined) ?? '2026-01';
    const pools: VariablePools = {
      cities: r.data.cities.map((c: { code: string }) => c.code),
      districts: r.data.cities.flatMap((c: { districts: { code: string }[] }) => c.districts.map((d) => d.code)),
      communities: nodes.map((n: any) => n.id),
      companies: [...new Set(nodes.map((n: any) => n.currentContract?.company?.uscc).filter(Boolean))] as string[],
      period,
      year: Number(period.slice(0, 4)),
    };
    // A refusal by a limit, the secret check or validation (a slow subgraph under load is not one).
    const isRefusal = (e: { message: string; extensions?: Record<string, any> }) =>
      /limit of \d+ exceeded|answers only the gateway|query too large/.test(e.message) || ['GRAPHQL_VALIDATION_FAILED', 'BAD_USER_INPUT', 'UNAUTHENTICATED'].includes(e.extensions?.code);
    const refused: string[] = [];
    for (const op of [W1_OPERATION, ...W2_OPERATIONS]) {
      const res = await q(stack.gatewayUrl, op.query, admin, op.variables(pools, seededRandom(op.domain)));
      for (const e of res.errors ?? []) if (isRefusal(e)) refused.push(`${op.name}: ${e.message}`);
    }
    for (const op of loadOperations()) {
      // `code` is a city in CityOverview, a district in DistrictView/DistrictRanking; `id` a 小区.
      const code = op.name.startsWith('District') ? pools.districts[0] : pools.cities[0];
      const res = await post(stack.gatewayUrl, { query: op.body, variables: { code, id: DEMO.ruijin } }, admin);
      if (!res.data) refused.push(`${op.name}: no data`);
      for (const e of res.errors ?? []) if (isRefusal(e)) refused.push(`${op.name}: ${e.message}`);
    }
    expect(refused).toEqual([]);
  });
});

describe('text input hygiene', () => {
  const CREATE = `mutation($input: CreateServiceTicketInput!) { createServiceTicket(input: $input) { id notes { text } } }`;
  const input = (extra: Record<string, unknown> = {}) => ({ communityId: DEMO.ruijin, channel: 'ONSITE_12345_DESK', serviceCode: 'EBIKE_CHARGING', description: '电动车充电桩不够用', ...extra });
  const governance = async () => ({ ...(await adminHeader()), ...WITH_CURRENT });
  const ticketCount = async () => stack.subgraphs.find((s) => s.name === 'governance')!.conn.db!.collection('service_tickets').countDocuments();

  test.each([
    ['NUL', '\u0000'],
    ['right-to-left override', '\u202e'],
    ['NEL (C1)', '\u0085'],
  ])('a %s in a nested input field given as a variable is refused with BAD_USER_INPUT naming the field, and nothing is written', async (_name, ch) => {
    const before = await ticketCount();
    const r = await q(url('governance'), CREATE, await governance(), { input: input({ description: `充电桩${ch}不够` }) });
    expect(codes(r)).toEqual(['BAD_USER_INPUT']);
    expect(r.errors![0].message).toMatch(/^createServiceTicket\.input\.description: contains the (bidirectional )?control character U\+/);
    expect(r.errors![0].extensions?.field).toBe('createServiceTicket.input.description');
    expect(r.data ?? null).toBeNull();
    expect(await ticketCount()).toBe(before);
  });

  test('a control character in a top-level literal argument is refused, and an earlier field of the same mutation writes nothing', async () => {
    const { createServiceTicket: t } = (await q(url('governance'), CREATE, await governance(), { input: input() })).data!;
    const r = await q(
      url('governance'),
      `mutation { ok: addTicketNote(id: "${t.id}", text: "fine") { id } bad: addTicketNote(id: "${t.id}", text: "abc\\u202Edef") { id } }`,
      await governance(),
    );
    expect(codes(r)).toEqual(['BAD_USER_INPUT']);
    expect(r.errors![0].message).toMatch(/^addTicketNote\.text: contains the bidirectional control character U\+202E \(RIGHT-TO-LEFT OVERRIDE\)/);
    const after = await q(url('governance'), `{ serviceTicket(id: "${t.id}") { notes { text } } }`, await governance());
    expect(after.data?.serviceTicket.notes.map((n: { text: string | null }) => n.text)).not.toContain('fine');
  });

  test('through the gateway the refusal reaches the caller as BAD_USER_INPUT naming the field', async () => {
    const r = await q(stack.gatewayUrl, CREATE, await adminHeader(), { input: input({ addressString: 'a\u0000b' }) });
    expect(codes(r)).toEqual(['BAD_USER_INPUT']);
    expect(r.errors![0].message).toMatch(/createServiceTicket\.input\.addressString: contains the control character U\+0000/);
  });

  test('tab and newline are accepted, and text is stored in NFC (e + combining acute is stored as é)', async () => {
    const { createServiceTicket: t } = (await q(url('governance'), CREATE, await governance(), { input: input() })).data!;
    const r = await q(url('governance'), `mutation($text: String!) { addTicketNote(id: "${t.id}", text: $text) { notes { text } } }`, await governance(), { text: 'Cafe\u0301\tline1\nline2' });
    expect(r.errors).toBeUndefined();
    const texts = r.data!.addTicketNote.notes.map((n: { text: string | null }) => n.text);
    expect(texts).toContain('Caf\u00e9\tline1\nline2');
    expect(texts).not.toContain('Cafe\u0301\tline1\nline2');
  });

  test('the rules themselves: what is refused and what is allowed', () => {
    for (const bad of ['\u0000', '\u0007', '\r', '\u001b', '\u007f', '\u0085', '\u009f', '\u202a', '\u202e', '\u2066', '\u2069', 'a\ud800b']) expect([bad, textProblem(`x${bad}y`)]).toEqual([bad, expect.any(String)]);
    for (const ok of ['plain', 'tab\there', 'new\nline', '瑞金新村', 'emoji 😀', '\u200e\u200f\u061c marks', 'é']) expect([ok, textProblem(ok)]).toEqual([ok, undefined]);
  });

  test('list elements are named by index, and entity representations (_Any) are not inspected', () => {
    const schema = buildSchema(`scalar _Any input Row { name: String } type Query { rows(items: [Row!]!): Int _entities(representations: [_Any!]!): Int }`);
    const doc = parse(`query($i: [Row!]!) { rows(items: $i) }`);
    const op = doc.definitions[0] as Parameters<typeof findTextProblem>[2];
    expect(findTextProblem(schema, doc, op, { i: [{ name: 'ok' }, { name: 'x\u0000' }] })).toEqual({ path: 'rows.items[1].name', message: expect.stringMatching(/U\+0000/) });
    const reps = parse(`query($r: [_Any!]!) { _entities(representations: $r) }`);
    expect(findTextProblem(schema, reps, reps.definitions[0] as Parameters<typeof findTextProblem>[2], { r: [{ __typename: 'X', id: 'a\u0000' }] })).toBeUndefined();
  });
});
