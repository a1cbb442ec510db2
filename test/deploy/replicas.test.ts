/**
 * Stateless replicas (docs/deployment.md): two replicas of the governance subgraph over one
 * database, two gateways, on the embedded engine over the wire protocol. A write through one gateway
 * and one replica is read back through the other gateway and the other replica; closing one
 * replica of each keeps every request answered, because a load balancer (here test/deploy/balancer.ts,
 * in a deployment a Kubernetes Service) sends the requests to the replicas that are left. With
 * RATE_LIMIT_STORE=mongodb the two gateways share one rate-limit budget; with `memory` each has its own.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { createGatewayServer } from '../../gateway/server';
import { createMongoRateLimiter, RATE_LIMIT_COLLECTION, RATE_LIMIT_DB } from '../../gateway/security';
import type { Listening } from '../../lib/http';
import { loadConfig } from '../../lib/config';
import { createLogger } from '../../lib/logger';
import { signLocalToken } from '../../lib/auth/token';
import { DEFAULT_SUPERGRAPH } from '../../scripts/stack';
import { SUBGRAPHS } from '../../scripts/subgraphs';
import { startSubgraph, startTestDatabase, uniqueDbName, type Engine, type RunningSubgraph } from '../helpers/subgraph';
import { startBalancer, type Balancer } from './balancer';

jest.setTimeout(120_000);

let engine: Engine;
let storeClient: MongoClient;
const others: Record<string, RunningSubgraph> = {};
let gov1: RunningSubgraph;
let gov2: RunningSubgraph;
/** Gateway A prefers governance replica 1, gateway B replica 2; each fails over to the other. */
let lbA: Balancer;
let lbB: Balancer;
let gwA: Listening;
let gwB: Listening;
let admin: Record<string, string>;
const closed = new Set<object>();

async function startGateway(governanceUrl: string, security: Record<string, unknown>): Promise<Listening> {
  const gw = createGatewayServer({
    supergraphPath: DEFAULT_SUPERGRAPH,
    watchSupergraph: false,
    subgraphUrls: { ...Object.fromEntries(Object.entries(others).map(([n, s]) => [n, s.url])), governance: governanceUrl },
    logger: createLogger('gateway', 'silent'),
    security: { auth: loadConfig().auth, ...security },
  });
  return gw.listen(0);
}

async function post(url: string, query: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query }) });
  const text = await res.text();
  let body: { data?: any; errors?: { message: string; extensions?: Record<string, unknown> }[] };
  try {
    body = JSON.parse(text);
  } catch {
    body = { errors: [{ message: `non-JSON answer (${res.status}): ${text.slice(0, 200)}` }] };
  }
  return { status: res.status, headers: res.headers, ...body };
}

beforeAll(async () => {
  process.env.JWT_KEY_DIR = mkdtempSync(path.join(os.tmpdir(), 'ccg-replicas-keys-'));
  engine = await startTestDatabase();
  storeClient = new MongoClient(engine.uri);
  for (const mod of SUBGRAPHS.filter((m) => m.name !== 'governance')) others[mod.name] = await startSubgraph(mod, engine.uri);
  const governance = SUBGRAPHS.find((m) => m.name === 'governance')!;
  const dbName = uniqueDbName('governance');
  gov1 = await startSubgraph(governance, engine.uri, { dbName });
  gov2 = await startSubgraph(governance, engine.uri, { dbName, seed: false });
  lbA = await startBalancer([gov1.url, gov2.url], 'ordered');
  lbB = await startBalancer([gov2.url, gov1.url], 'ordered');
  const shared = { rateLimitPerMinute: 100_000, rateLimitStore: 'mongodb', rateLimitMongoClient: storeClient };
  gwA = await startGateway(lbA.url, shared);
  gwB = await startGateway(lbB.url, shared);
  admin = { authorization: `Bearer ${await signLocalToken(loadConfig().auth, { role: 'CITY_ADMIN', subject: 'replicas:admin' })}` };
});

afterAll(async () => {
  for (const [thing, close] of [
    [gwA, () => gwA.close()],
    [gwB, () => gwB.close()],
    [lbA, () => lbA.close()],
    [lbB, () => lbB.close()],
    [gov1, () => gov1.close()],
    [gov2, () => gov2.close()],
  ] as const) {
    if (thing && !closed.has(thing)) await close().catch(() => undefined);
  }
  for (const s of Object.values(others)) await s.close();
  await storeClient?.close();
  await engine?.stop();
});

const createTicket = (description: string) =>
  `mutation { createServiceTicket(input: { communityId: "cm_320104_0001", serviceCode: REPAIR, channel: HOTLINE_12345, description: "${description}" }) { id } }`;
const readTicket = (id: string) => `{ serviceTicket(id: "${id}") { id text status community { name } } }`;

test('a ticket created through gateway A and governance replica 1 is read back through gateway B and governance replica 2', async () => {
  const before = { a1: lbA.hits.get(gov1.url)!, a2: lbA.hits.get(gov2.url)!, b1: lbB.hits.get(gov1.url)!, b2: lbB.hits.get(gov2.url)! };
  const created = await post(gwA.url, createTicket('二号楼电梯停运'), admin);
  expect([created.status, created.errors]).toEqual([200, undefined]);
  const id = created.data.createServiceTicket.id as string;

  const read = await post(gwB.url, readTicket(id), admin);
  expect([read.errors, read.data]).toEqual([undefined, { serviceTicket: { id, text: '二号楼电梯停运', status: expect.any(String), community: { name: '瑞金新村' } } }]);
  // The write went to replica 1 only, the read to replica 2 only: the data came through the database.
  expect(lbA.hits.get(gov1.url)! - before.a1).toBeGreaterThanOrEqual(1);
  expect(lbA.hits.get(gov2.url)! - before.a2).toBe(0);
  expect(lbB.hits.get(gov2.url)! - before.b2).toBeGreaterThanOrEqual(1);
  expect(lbB.hits.get(gov1.url)! - before.b1).toBe(0);
});

test('with gateway A and governance replica 2 closed, every request through the load balancers is answered with the same data', async () => {
  const front = await startBalancer([gwA.url, gwB.url], 'round-robin');
  try {
    const created = await post(gwA.url, createTicket('楼道照明损坏'), admin);
    const ticketId = created.data.createServiceTicket.id as string;
    const queries = [
      `{ community(id: "cm_320104_0001") { name committee { type } partyAlliance { model } ticketStats(range: LAST_30D) { opened } } }`,
      `{ city(code: "320100") { name communityCount committeeStats { withPMC } ticketStats(range: LAST_30D) { opened } } }`,
      readTicket(ticketId),
    ];
    const baseline = [];
    for (const q of queries) {
      const r = await post(front.url, q, admin);
      expect([r.status, r.errors]).toEqual([200, undefined]);
      baseline.push(r.data);
    }

    await gwA.close();
    closed.add(gwA);
    await gov2.close();
    closed.add(gov2);

    const answers = [];
    for (let round = 0; round < 3; round++) {
      for (const [i, q] of queries.entries()) {
        const r = await post(front.url, q, admin);
        answers.push([r.status, r.errors, r.data]);
        expect([r.status, r.errors, r.data]).toEqual([200, undefined, baseline[i]]);
      }
    }
    expect(answers).toHaveLength(9);
    // A write after the failures is taken too, by the remaining replicas, and read back.
    const later = await post(front.url, createTicket('消防栓漏水'), admin);
    expect([later.status, later.errors]).toEqual([200, undefined]);
    const back = await post(front.url, readTicket(later.data.createServiceTicket.id), admin);
    expect([back.errors, back.data.serviceTicket.text]).toEqual([undefined, '消防栓漏水']);
    // Both load balancers did have to route around a dead target.
    expect(front.refused).toBeGreaterThanOrEqual(1);
    expect(lbB.refused).toBeGreaterThanOrEqual(1);
  } finally {
    await front.close();
  }
});

describe('rate limits across two gateways (RATE_LIMIT_STORE)', () => {
  test.each([
    ['memory', [200, 200, 200, 200, 200, 200]],
    ['mongodb', [200, 200, 200, 200, 429, 429]],
  ] as const)('with %s, six requests of one token alternating over two gateways limited to 4 a minute answer %j', async (store, expected) => {
    const security = { rateLimitPerMinute: 4, rateLimitStore: store, rateLimitMongoClient: storeClient };
    const [one, two] = [await startGateway(gov1.url, security), await startGateway(gov1.url, security)];
    try {
      const subject = `replicas:rate:${store}`;
      const caller = { authorization: `Bearer ${await signLocalToken(loadConfig().auth, { role: 'HOUSING_BUREAU', subject })}` };
      const answers = [];
      for (let i = 0; i < 6; i++) answers.push(await post((i % 2 ? two : one).url, '{ __typename }', caller));
      expect(answers.map((a) => a.status)).toEqual(expected);
      for (const refused of answers.filter((a) => a.status === 429)) {
        expect(refused.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
        expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      }
      // The shared store holds one counter for this caller with every request of the mongodb case
      // (the gateways key it by a hash of the token's subject); the memory case writes none.
      const key = `sub:${createHash('sha256').update(subject).digest('base64url')}`;
      const counters = await storeClient.db(RATE_LIMIT_DB).collection(RATE_LIMIT_COLLECTION).find({ key: { $regex: `${key}$` } }).toArray();
      expect(counters.map((c) => c.points)).toEqual(store === 'mongodb' ? [6] : []);
    } finally {
      await one.close();
      await two.close();
    }
  });

  test('when the shared store does not answer, each gateway falls back to its own counters instead of failing requests', async () => {
    const dead = new MongoClient('mongodb://127.0.0.1:9/', { serverSelectionTimeoutMS: 200 });
    const limiter = createMongoRateLimiter(2, 60_000, { client: dead });
    try {
      const verdicts = [];
      for (let i = 0; i < 3; i++) verdicts.push((await limiter.hit('sub:fallback')).allowed);
      expect(verdicts).toEqual([true, true, false]);
    } finally {
      await limiter.close?.();
      await dead.close();
    }
  });
});
